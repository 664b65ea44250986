// Persisted documents in production builds: the app sends each operation's hash (from
// the generated manifest) instead of its text, so it runs under Conduit's safelist mode.
import { persistedExchange } from "@urql/exchange-persisted";
import type { Exchange } from "urql";

/** The hash GraphQL Code Generator's client preset put in the document (`sha256:<hex>`). */
export function documentHash(document: unknown): string | undefined {
  const meta = (document as { __meta__?: { hash?: unknown } } | null)?.__meta__;
  return typeof meta?.hash === "string" ? meta.hash : undefined;
}

/** The exchanges that make operations go by hash (none in development). */
export function persistedExchanges(): Exchange[] {
  if (!import.meta.env.PROD) return [];
  return [
    persistedExchange({
      enforcePersistedQueries: true,
      enableForMutation: true,
      preferGetForPersistedQueries: false,
      generateHash: (_, document) => Promise.resolve(documentHash(document)),
    }),
  ];
}
