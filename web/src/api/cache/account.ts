// Graphcache config of the account views (settings, notifications, sessions): W2's.
import type { OptimisticMutationConfig, ResolverConfig, UpdatesConfig } from "@urql/exchange-graphcache";
import { relayPagination } from "@urql/exchange-graphcache/extras";

/** Paginated account lists. */
export const resolvers: ResolverConfig = {
  User: {
    notifications: relayPagination(),
    sessions: relayPagination(),
  },
};

/** Cache updates after account mutations and subscription events. */
export const updates: UpdatesConfig = {};

/** Optimistic results of account mutations. */
export const optimistic: OptimisticMutationConfig = {};
