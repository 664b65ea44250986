// Forwarding urql's subscriptions to graphql-ws. Subscriptions go with their text. In
// production builds that text is the manifest's own (the persisted-documents manifest,
// loaded as its own chunk when the first subscription starts): safelist mode runs a text
// whose hash is listed, and the text urql prints is not byte for byte the manifest's.
import type { Client as WsClient, ExecutionResult, Sink, SubscribePayload } from "graphql-ws";
import type { SubscriptionForwarder } from "urql";
import { listedText } from "./manifest";
import { documentHash } from "./persisted";

type Result = ExecutionResult<Record<string, unknown>, Record<string, unknown>>;

/** The forwarder for urql's subscriptionExchange over `socket`. */
export function forwardOver(socket: () => WsClient): SubscriptionForwarder {
  return (request, operation) => ({
    subscribe(sink) {
      const hash = import.meta.env.PROD ? documentHash(operation.query) : undefined;
      const payload: SubscribePayload = { ...request, query: request.query ?? "" };
      if (!hash) return { unsubscribe: socket().subscribe(payload, sink as Sink<Result>) };
      let stopped = false;
      let stop = () => {
        stopped = true;
      };
      void listedText(hash).then((text) => {
        if (stopped) return;
        stop = socket().subscribe({ ...payload, query: text ?? payload.query }, sink as Sink<Result>);
      });
      return { unsubscribe: () => stop() };
    },
  });
}
