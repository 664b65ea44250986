// Graphcache config of the content views: paginated feeds and comments, the updates
// that keep lists right after a mutation, and optimistic favorite/follow/comment.
import type { OptimisticMutationConfig, ResolverConfig, UpdatesConfig } from "@urql/exchange-graphcache";
import { relayPagination } from "@urql/exchange-graphcache/extras";

/** Paginated content lists. */
export const resolvers: ResolverConfig = {
  Query: {
    articles: relayPagination(),
    feed: relayPagination(),
  },
  User: {
    articles: relayPagination(),
    favoriteArticles: relayPagination(),
  },
  Article: {
    comments: relayPagination(),
  },
};

/** Cache updates after content mutations (filled in with the views). */
export const updates: UpdatesConfig = {};

/** Optimistic results of content mutations (filled in with the views). */
export const optimistic: OptimisticMutationConfig = {};
