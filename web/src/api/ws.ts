// The graphql-ws client: authenticated in connection_init with the current access token,
// and restarted when the token changes (a refresh), so the socket carries the new one.
import { createClient, type Client as WsClient } from "graphql-ws";
import { accessTokenExpiring, refreshSession } from "../session/refresh";
import { getSession, onAccessTokenChange } from "../session/store";

/** A WebSocket client and how to let it go. */
export interface SocketHandle {
  client: WsClient;
  dispose(): void;
}

function socketUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === "https:" ? "wss:" : "ws:"}//${host}/graphql`;
}

/** Opens (lazily) the WebSocket used for subscriptions. */
export function createSocket(): SocketHandle {
  let socket: WebSocket | null = null;
  const client = createClient({
    url: socketUrl(),
    lazy: true,
    retryAttempts: 20,
    connectionParams: async () => {
      if (getSession().status === "signedIn" && accessTokenExpiring()) await refreshSession();
      const token = getSession().accessToken;
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    on: {
      opened: (opened) => {
        socket = opened as WebSocket;
      },
      closed: (event) => {
        socket = null;
        // 4403: the token was refused or the session ended: a refresh tells which (and
        // signs out when the session is over); the retry then uses the new token.
        if ((event as CloseEvent | undefined)?.code === 4403 && getSession().status === "signedIn") void refreshSession();
      },
    },
  });
  const stop = onAccessTokenChange(() => {
    // 4205 "Client Restart": graphql-ws reconnects and resubscribes with the new token.
    if (socket?.readyState === WebSocket.OPEN) socket.close(4205, "Client Restart");
  });
  return {
    client,
    dispose() {
      stop();
      void client.dispose();
    },
  };
}
