// Graphcache config of the content views: paginated feeds and comments, the updates
// that keep lists right after a mutation or a live event, and optimistic favorite,
// follow and comment.
import type {
  Cache,
  Data,
  OptimisticMutationConfig,
  ResolverConfig,
  UpdatesConfig,
} from "@urql/exchange-graphcache";
import { relayPagination } from "@urql/exchange-graphcache/extras";
import { graphql } from "../../gql";
import { getSession } from "../../session/store";
import { articleKey, indexUpdates, userKey } from "./entityKeys";

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

/** The id of a comment not yet confirmed by the server. */
export const OPTIMISTIC_PREFIX = "optimistic-";
let optimisticSerial = 0;

const CommentsCountFragment = graphql(`
  fragment ArticleCommentsCount on Article {
    id
    commentsCount
  }
`);

/** Drops every cached page of these list fields of `entity`, so they are read again. */
function invalidateLists(cache: Cache, entity: string | null, fieldNames: readonly string[]): void {
  if (!entity) return;
  for (const field of cache.inspectFields(entity)) {
    if (fieldNames.includes(field.fieldName)) cache.invalidate(entity, field.fieldName, field.arguments);
  }
}

function viewerKey(cache: Cache): string | null {
  const user = getSession().user;
  return user ? cache.keyOfEntity({ __typename: "User", id: user.id }) : null;
}

/** Every cached page of `fieldName` of `entity` (the pages relayPagination merges). */
function pagesOf(cache: Cache, entity: string, fieldName: string): string[] {
  return cache
    .inspectFields(entity)
    .filter((field) => field.fieldName === fieldName)
    .map((field) => cache.resolve(entity, field.fieldKey))
    .filter((page): page is string => typeof page === "string");
}

function nodesOf(cache: Cache, page: string): string[] {
  const nodes = cache.resolve(page, "nodes");
  return Array.isArray(nodes) ? (nodes as string[]) : [];
}

function addToCommentsCount(cache: Cache, article: string, delta: number): void {
  const count = cache.resolve(article, "commentsCount");
  const id = cache.resolve(article, "id");
  if (typeof count === "number" && typeof id === "string") {
    cache.writeFragment(CommentsCountFragment, { __typename: "Article", id, commentsCount: count + delta });
  }
}

/** Appends a comment to its article's last loaded page of comments (oldest first), once:
 * the mutation's result and the live commentAdded event of one's own comment meet here.
 * The article's commentsCount comes with the comment (`article { commentsCount }`). */
function appendComment(cache: Cache, article: string | null, comment: Data): void {
  const commentKey = cache.keyOfEntity(comment);
  if (!article || !commentKey) return;
  const pages = pagesOf(cache, article, "comments");
  if (pages.some((page) => nodesOf(cache, page).includes(commentKey))) return;
  // A real write must not keep the optimistic comment it reads through its layer.
  const keep = (key: string) => isOptimistic(commentKey) || !isOptimistic(key);
  for (const page of pages) {
    const pageInfo = cache.resolve(page, "pageInfo");
    if (typeof pageInfo === "string" && cache.resolve(pageInfo, "hasNextPage")) continue;
    cache.link(page, "nodes", [...nodesOf(cache, page).filter(keep), commentKey]);
  }
}

function isOptimistic(commentKey: string): boolean {
  return commentKey.includes(OPTIMISTIC_PREFIX);
}

/** Takes a comment out of every cached page of its article's comments. */
function removeComment(cache: Cache, commentId: string): void {
  const commentKey = cache.keyOfEntity({ __typename: "Comment", id: commentId });
  if (!commentKey) return;
  const article = cache.resolve(commentKey, "article");
  if (typeof article === "string") {
    let removed = false;
    for (const page of pagesOf(cache, article, "comments")) {
      const nodes = nodesOf(cache, page);
      if (!nodes.includes(commentKey)) continue;
      removed = true;
      cache.link(page, "nodes", nodes.filter((key) => key !== commentKey));
    }
    if (removed) addToCommentsCount(cache, article, -1);
  }
  cache.invalidate(commentKey);
}

/** Lists that show articles: after a publish or a delete they are read again. */
function invalidateArticleLists(cache: Cache): void {
  invalidateLists(cache, "Query", ["articles", "feed", "popularTags"]);
  invalidateLists(cache, viewerKey(cache), ["articles", "favoriteArticles"]);
}

/** Cache updates after content mutations and live events. */
export const updates: UpdatesConfig = {
  ...indexUpdates,
  Mutation: {
    createArticle(_result, _args, cache) {
      invalidateArticleLists(cache);
    },
    updateArticle(_result, _args, cache) {
      // Tags may have changed: the tag counts and tag feeds.
      invalidateLists(cache, "Query", ["popularTags", "articles"]);
    },
    deleteArticle(result, _args, cache) {
      if (typeof result.deleteArticle === "string") {
        cache.invalidate({ __typename: "Article", id: result.deleteArticle });
      }
      invalidateArticleLists(cache);
    },
    favoriteArticle(_result, _args, cache) {
      // The viewer's favorites are ordered by article, not by when: read them again.
      invalidateLists(cache, viewerKey(cache), ["favoriteArticles"]);
    },
    unfavoriteArticle(result, _args, cache) {
      const article = cache.keyOfEntity(result.unfavoriteArticle as Data);
      const viewer = viewerKey(cache);
      if (!article || !viewer) return;
      for (const page of pagesOf(cache, viewer, "favoriteArticles")) {
        cache.link(page, "nodes", nodesOf(cache, page).filter((key) => key !== article));
      }
    },
    followUser(_result, _args, cache) {
      invalidateLists(cache, "Query", ["feed"]);
    },
    unfollowUser(_result, _args, cache) {
      invalidateLists(cache, "Query", ["feed"]);
    },
    addComment(result, args, cache) {
      appendComment(cache, articleKey(cache, String(args.articleSlug)), result.addComment as Data);
    },
    deleteComment(_result, args, cache) {
      removeComment(cache, String(args.id));
    },
  },
  Subscription: {
    commentAdded(result, args, cache) {
      appendComment(cache, articleKey(cache, String(args.articleSlug)), result.commentAdded as Data);
    },
    commentDeleted(result, _args, cache) {
      if (typeof result.commentDeleted === "string") removeComment(cache, result.commentDeleted);
    },
  },
};

function optimisticFavorite(favorited: boolean): OptimisticMutationConfig[string] {
  return (args, cache) => {
    const key = articleKey(cache, String(args.slug));
    if (!key) return null;
    const count = cache.resolve(key, "favoritesCount");
    const was = cache.resolve(key, "viewerHasFavorited") === true;
    return {
      __typename: "Article",
      id: cache.resolve(key, "id"),
      viewerHasFavorited: favorited,
      favoritesCount: typeof count === "number" ? count + (was === favorited ? 0 : favorited ? 1 : -1) : 0,
    };
  };
}

function optimisticFollow(following: boolean): OptimisticMutationConfig[string] {
  return (args, cache) => {
    const key = userKey(cache, String(args.username));
    if (!key) return null;
    const count = cache.resolve(key, "followersCount");
    const was = cache.resolve(key, "viewerIsFollowing") === true;
    return {
      __typename: "User",
      id: cache.resolve(key, "id"),
      viewerIsFollowing: following,
      followersCount: typeof count === "number" ? count + (was === following ? 0 : following ? 1 : -1) : 0,
    };
  };
}

/** Optimistic results: favorite, follow and comment show at once. */
export const optimistic: OptimisticMutationConfig = {
  favoriteArticle: optimisticFavorite(true),
  unfavoriteArticle: optimisticFavorite(false),
  followUser: optimisticFollow(true),
  unfollowUser: optimisticFollow(false),
  addComment(args, cache) {
    const user = getSession().user;
    const article = articleKey(cache, String(args.articleSlug));
    if (!user || !article) return null;
    const now = new Date().toISOString();
    const count = cache.resolve(article, "commentsCount");
    const commentsCount = typeof count === "number" ? count : 0;
    return {
      __typename: "Comment",
      id: `${OPTIMISTIC_PREFIX}${now}-${(optimisticSerial += 1)}`,
      body: String(args.body),
      createdAt: now,
      viewerCanDelete: false,
      author: { __typename: "User", id: user.id, username: user.username, image: user.image ?? null },
      article: { __typename: "Article", id: cache.resolve(article, "id"), commentsCount: commentsCount + 1 },
    };
  },
};
