// A client without the auth exchange or a cache, for refreshSession: it must go out
// without the Authorization header.
import { Client, fetchExchange } from "urql";
import { persistedExchanges } from "./persisted";

let client: Client | null = null;

/** The shared bare client. */
export function bareClient(): Client {
  client ??= new Client({
    url: "/graphql",
    exchanges: [...persistedExchanges(), fetchExchange],
    requestPolicy: "network-only",
  });
  return client;
}
