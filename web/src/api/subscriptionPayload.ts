// What a subscription sends over the WebSocket. Production builds run under Conduit's
// safelist, which takes a listed subscription by its hash alone (over WebSocket, APQ's
// extension with an empty `query`; the text urql prints is not byte for byte the
// manifest's, so it would be refused); development sends the text.
import type { SubscribePayload } from "graphql-ws";
import type { Operation, SubscriptionOperation } from "urql";
import { documentHash } from "./persisted";

/** The graphql-ws subscribe payload of an operation. */
export function subscriptionPayload(request: SubscriptionOperation, operation: Operation): SubscribePayload {
  const hash = import.meta.env.PROD ? documentHash(operation.query) : undefined;
  if (!hash) return { ...request, query: request.query ?? "" };
  // graphql-ws requires a string `query`; Conduit reads an empty one as none.
  return {
    ...request,
    query: "",
    extensions: { ...request.extensions, persistedQuery: { version: 1, sha256Hash: hash } },
  };
}
