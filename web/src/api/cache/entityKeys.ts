// Mutations name articles by slug and users by username, but the cache keys them by id:
// this index, filled as articles and users are written to the cache, maps one to the
// other so optimistic results and list updates can find their entity.
import type { Cache, UpdatesConfig } from "@urql/exchange-graphcache";

const articleBySlug = new Map<string, string>();
const userByName = new Map<string, string>();

/** Updaters that record each written article's slug and user's username. */
export const indexUpdates: UpdatesConfig = {
  Article: {
    slug(parent, _args, cache) {
      const key = typeof parent.id === "string" ? cache.keyOfEntity({ __typename: "Article", id: parent.id }) : null;
      if (key && typeof parent.slug === "string") articleBySlug.set(parent.slug, key);
    },
  },
  User: {
    username(parent, _args, cache) {
      const key = typeof parent.id === "string" ? cache.keyOfEntity({ __typename: "User", id: parent.id }) : null;
      if (key && typeof parent.username === "string") userByName.set(parent.username.toLowerCase(), key);
    },
  },
};

/** The cache key of the article with this slug, when it has been seen. */
export function articleKey(cache: Cache, slug: string): string | null {
  const key = articleBySlug.get(slug);
  return key && cache.resolve(key, "id") ? key : null;
}

/** The cache key of the user with this username, when they have been seen. */
export function userKey(cache: Cache, username: string): string | null {
  const key = userByName.get(username.toLowerCase());
  return key && cache.resolve(key, "id") ? key : null;
}
