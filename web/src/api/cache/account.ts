// Graphcache config of the account views (settings, notifications, sessions): the
// paginated lists, and the updates that keep them and the unread count right after a
// mutation or a live notification.
import type {
  Cache,
  Data,
  OptimisticMutationConfig,
  ResolverConfig,
  UpdatesConfig,
  Variables,
} from "@urql/exchange-graphcache";
import { relayPagination } from "@urql/exchange-graphcache/extras";
import { graphql } from "../../gql";
import { getSession } from "../../session/store";

/** Paginated account lists. */
export const resolvers: ResolverConfig = {
  User: {
    notifications: relayPagination(),
    sessions: relayPagination(),
  },
};

const UnreadCountFragment = graphql(`
  fragment ViewerUnreadCount on User {
    id
    unreadNotificationsCount
  }
`);

const NotificationReadAtFragment = graphql(`
  fragment NotificationReadAt on Notification {
    id
    readAt
  }
`);

function viewerKey(cache: Cache): string | null {
  const user = getSession().user;
  return user ? cache.keyOfEntity({ __typename: "User", id: user.id }) : null;
}

/** The cached pages of the viewer's `fieldName` list; `firstOnly`: only the pages read
 * from the start (no `after`), where something new goes. */
function pagesOf(cache: Cache, entity: string, fieldName: string, firstOnly = false): string[] {
  return cache
    .inspectFields(entity)
    .filter((field) => field.fieldName === fieldName && (!firstOnly || field.arguments?.after == null))
    .map((field) => cache.resolve(entity, field.fieldKey))
    .filter((page): page is string => typeof page === "string");
}

function nodesOf(cache: Cache, page: string): string[] {
  const nodes = cache.resolve(page, "nodes");
  return Array.isArray(nodes) ? nodes.filter((node): node is string => typeof node === "string") : [];
}

function setUnreadCount(cache: Cache, viewer: string, next: (count: number) => number): void {
  const count = cache.resolve(viewer, "unreadNotificationsCount");
  const id = cache.resolve(viewer, "id");
  if (typeof count === "number" && typeof id === "string") {
    cache.writeFragment(UnreadCountFragment, { __typename: "User", id, unreadNotificationsCount: Math.max(0, next(count)) });
  }
}

/** Drops the cached pages of `fieldName` of `entity` (those whose arguments `which` picks). */
function invalidateLists(cache: Cache, entity: string, fieldName: string, which: (args: Variables | null) => boolean = () => true): void {
  for (const field of cache.inspectFields(entity)) {
    if (field.fieldName === fieldName && which(field.arguments)) cache.invalidate(entity, field.fieldName, field.arguments);
  }
}

/** Marks cached notifications read (the given keys, or every cached one of the viewer). */
function markRead(cache: Cache, viewer: string, keys: string[] | null): void {
  const readAt = new Date().toISOString();
  const targets = keys ?? pagesOf(cache, viewer, "notifications").flatMap((page) => nodesOf(cache, page));
  for (const key of new Set(targets)) {
    const id = cache.resolve(key, "id");
    if (typeof id === "string" && cache.resolve(key, "readAt") === null) {
      cache.writeFragment(NotificationReadAtFragment, { __typename: "Notification", id, readAt });
    }
  }
}

/** Cache updates after account mutations and subscription events. */
export const updates: UpdatesConfig = {
  Mutation: {
    markNotificationsRead(result, args, cache) {
      const viewer = viewerKey(cache);
      if (!viewer) return;
      const ids = Array.isArray(args.ids) ? args.ids.map(String) : null;
      const keys = ids?.map((id) => cache.keyOfEntity({ __typename: "Notification", id })).filter((key): key is string => key !== null) ?? null;
      markRead(cache, viewer, keys);
      const changed = typeof result.markNotificationsRead === "number" ? result.markNotificationsRead : 0;
      setUnreadCount(cache, viewer, (count) => (ids ? count - changed : 0));
      // "Unread only" lists lose their read items: read them again.
      invalidateLists(cache, viewer, "notifications", (args) => Boolean(args?.unreadOnly));
    },
    revokeSession(result, _args, cache) {
      const viewer = viewerKey(cache);
      const session = typeof result.revokeSession === "string" ? cache.keyOfEntity({ __typename: "Session", id: result.revokeSession }) : null;
      if (!viewer || !session) return;
      for (const page of pagesOf(cache, viewer, "sessions")) {
        cache.link(page, "nodes", nodesOf(cache, page).filter((key) => key !== session));
      }
    },
    changePassword(_result, _args, cache) {
      // Every other session was revoked: the sessions list is read again.
      const viewer = viewerKey(cache);
      if (viewer) invalidateLists(cache, viewer, "sessions");
    },
    verifyEmail(result, _args, cache) {
      const user = cache.keyOfEntity(result.verifyEmail as Data);
      if (user) cache.invalidate(user, "emailVerified");
    },
  },
  Subscription: {
    notificationAdded(result, _args, cache) {
      const viewer = viewerKey(cache);
      const notification = cache.keyOfEntity(result.notificationAdded as Data);
      if (!viewer || !notification) return;
      const pages = pagesOf(cache, viewer, "notifications", true);
      if (pages.some((page) => nodesOf(cache, page).includes(notification))) return;
      for (const page of pages) cache.link(page, "nodes", [notification, ...nodesOf(cache, page)]);
      setUnreadCount(cache, viewer, (count) => count + 1);
    },
  },
};

/** Optimistic results of account mutations (none: each waits for the server). */
export const optimistic: OptimisticMutationConfig = {};
