// Graphcache: schema-aware (the introspection codegen writes), keyed by `id`, with the
// content views' and the account views' resolvers, updates and optimistic results.
import { cacheExchange, type CacheExchangeOpts } from "@urql/exchange-graphcache";
import schema from "../../gql/introspection";
import * as account from "./account";
import * as content from "./content";

/** Types without an `id`: embedded in their parent (Tag by its unique name). */
const keys: CacheExchangeOpts["keys"] = {
  AuthPayload: () => null,
  PageInfo: () => null,
  Tag: (tag) => (typeof tag.name === "string" ? tag.name : null),
  ArticleConnection: () => null,
  ArticleEdge: () => null,
  CommentConnection: () => null,
  CommentEdge: () => null,
  NotificationConnection: () => null,
  NotificationEdge: () => null,
  SessionConnection: () => null,
  SessionEdge: () => null,
  UserConnection: () => null,
  UserEdge: () => null,
  WebhookConnection: () => null,
  WebhookEdge: () => null,
  WebhookDeliveryConnection: () => null,
  WebhookDeliveryEdge: () => null,
  WebhookAttempt: () => null,
  WebhookSecretPayload: () => null,
};

/** Merges two per-type configs, type by type. */
function merge<C extends Record<string, object | void>>(a: C, b: C): C {
  const out: Record<string, object | void> = { ...a };
  for (const [type, fields] of Object.entries(b)) out[type] = { ...(out[type] ?? {}), ...(fields ?? {}) };
  return out as C;
}

/** The app's Graphcache exchange (a new one, so a new cache, per client). */
export function createCacheExchange() {
  return cacheExchange({
    schema,
    keys,
    resolvers: merge(content.resolvers, account.resolvers),
    updates: merge(content.updates, account.updates),
    optimistic: { ...content.optimistic, ...account.optimistic },
  });
}
