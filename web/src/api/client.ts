// The app's urql client: Graphcache, the auth exchange (bearer token, refresh before
// expiry and on UNAUTHENTICATED), persisted documents in production, graphql-ws for
// subscriptions, fetch for the rest.
import { authExchange } from "@urql/exchange-auth";
import { Client, fetchExchange, subscriptionExchange, type Operation } from "urql";
import { accessTokenExpiring, refreshSession } from "../session/refresh";
import { readRefreshToken } from "../session/storage";
import { getSession } from "../session/store";
import { createCacheExchange } from "./cache";
import { errorCode } from "./errors";
import { persistedExchanges } from "./persisted";
import { forwardOver } from "./subscriptions";
import { createSocket } from "./ws";

/** A client and how to let it go (its WebSocket). */
export interface ApiHandle {
  client: Client;
  dispose(): void;
}

/** The bearer token an operation went out with. */
function bearerOf(operation: Operation): string | null {
  const options = operation.context.fetchOptions;
  const headers = (typeof options === "function" ? options() : options)?.headers as Record<string, string> | undefined;
  return headers?.Authorization?.replace(/^Bearer /, "") ?? null;
}

const auth = authExchange(async (utils) => {
  // The token found wanting, for refreshAuth (which urql calls without arguments).
  let stale: string | null = null;
  return {
    addAuthToOperation(operation) {
      const token = getSession().accessToken;
      return token ? utils.appendHeaders(operation, { Authorization: `Bearer ${token}` }) : operation;
    },
    willAuthError() {
      if (getSession().status !== "signedIn" || !accessTokenExpiring()) return false;
      stale = getSession().accessToken;
      return true;
    },
    didAuthError(error, operation) {
      const failed = bearerOf(operation);
      if (errorCode(error) !== "UNAUTHENTICATED" || failed === null || readRefreshToken() === null) return false;
      stale = failed;
      return true;
    },
    async refreshAuth() {
      await refreshSession(stale);
      stale = null;
    },
  };
});

/** Creates a client with an empty cache (one per signed-in user: see the session's epoch). */
export function createApi(): ApiHandle {
  const socket = createSocket();
  const client = new Client({
    url: "/graphql",
    exchanges: [
      createCacheExchange(),
      auth,
      ...persistedExchanges(),
      subscriptionExchange({ forwardSubscription: forwardOver(() => socket.client) }),
      fetchExchange,
    ],
  });
  return { client, dispose: socket.dispose };
}
