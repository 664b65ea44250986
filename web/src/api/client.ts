// The app's urql client: Graphcache, the auth exchange (bearer token, refresh before
// expiry and on UNAUTHENTICATED), persisted documents in production, graphql-ws for
// subscriptions, fetch for the rest.
import { authExchange } from "@urql/exchange-auth";
import { Client, fetchExchange, subscriptionExchange } from "urql";
import { accessTokenExpiring, refreshSession } from "../session/refresh";
import { readRefreshToken } from "../session/storage";
import { getSession } from "../session/store";
import { createCacheExchange } from "./cache";
import { errorCode } from "./errors";
import { persistedExchanges } from "./persisted";
import { subscriptionPayload } from "./subscriptionPayload";
import { createSocket } from "./ws";

/** A client and how to let it go (its WebSocket). */
export interface ApiHandle {
  client: Client;
  dispose(): void;
}

const auth = authExchange(async (utils) => ({
  addAuthToOperation(operation) {
    const token = getSession().accessToken;
    return token ? utils.appendHeaders(operation, { Authorization: `Bearer ${token}` }) : operation;
  },
  willAuthError() {
    return getSession().status === "signedIn" && accessTokenExpiring();
  },
  didAuthError(error) {
    return errorCode(error) === "UNAUTHENTICATED" && getSession().accessToken !== null && readRefreshToken() !== null;
  },
  async refreshAuth() {
    await refreshSession();
  },
}));

/** Creates a client with an empty cache (one per signed-in user: see the session's epoch). */
export function createApi(): ApiHandle {
  const socket = createSocket();
  const client = new Client({
    url: "/graphql",
    exchanges: [
      createCacheExchange(),
      auth,
      ...persistedExchanges(),
      subscriptionExchange({
        forwardSubscription: (request, operation) => ({
          subscribe: (sink) => ({
            unsubscribe: socket.client.subscribe(subscriptionPayload(request, operation), sink),
          }),
        }),
      }),
      fetchExchange,
    ],
  });
  return { client, dispose: socket.dispose };
}
