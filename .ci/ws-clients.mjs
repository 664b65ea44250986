// Drives the server with the real JavaScript GraphQL-over-WebSocket clients, for
// tests/api/js_clients.rs:
//
//     node .ci/ws-clients.mjs <ws-url> <json-args>
//
// <json-args> is an object:
//   client            "graphql-ws" (the graphql-transport-ws protocol, as Apollo Client,
//                     urql and GraphiQL use it) or "subscriptions-transport-ws" (the legacy
//                     graphql-ws protocol);
//   connectionParams  the connection_init payload;
//   timeoutMs         the whole run's limit (default 10000);
//   cleanClose        when true, the close handshake the client starts at the end must
//                     complete cleanly (the server answers its close frame: 1000, wasClean);
//   operations        [{ name, query, variables, results, completes }]: `results` is how many
//                     results the operation must give; with `completes` the server must then
//                     complete it (a query; graphql-ws reads it with `client.iterate`),
//                     otherwise it is a subscription, read with `client.subscribe` (graphql-ws)
//                     or `client.request` (subscriptions-transport-ws) and disposed of by the
//                     script once it has its results.
//
// Stdout: one line `READY` once the connection is acknowledged and every operation has been
// issued, then, as they come (a query's lines may come before READY), one JSON line per
// event: {"op": name, "result": <ExecutionResult>} and {"op": name, "complete": true}.
// Exit 0 once every operation has all its results (and completed, where it must). Any
// error, early completion, close or the timeout: exit 1 with the reason and the frames
// exchanged on stderr. With WS_CLIENTS_TRACE=1 in the environment, the frames are shown on
// stderr on success too.

import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import transportWs from 'subscriptions-transport-ws';

const [url, rawArgs] = process.argv.slice(2);
if (!url || !rawArgs) {
  console.error('usage: node .ci/ws-clients.mjs <ws-url> <json-args>');
  process.exit(2);
}
const args = JSON.parse(rawArgs);
const operations = args.operations ?? [];

// Every frame in both directions, shown when the run fails.
const trace = [];
let socket = null;
class TracingWebSocket extends WebSocket {
  constructor(...params) {
    super(...params);
    socket = this;
    this.addEventListener('open', () => trace.push(`open (subprotocol "${this.protocol}")`));
    this.addEventListener('message', (event) => trace.push(`<- ${event.data}`));
    this.addEventListener('close', (event) =>
      trace.push(`closed ${event.code} ${JSON.stringify(event.reason)}`),
    );
  }

  send(data, ...rest) {
    trace.push(`-> ${data}`);
    return super.send(data, ...rest);
  }

  close(code, reason) {
    // (ws calls it again itself, when the peer's close frame comes.)
    if (this.readyState === WebSocket.OPEN) {
      trace.push(`-> close ${code ?? ''} ${JSON.stringify(String(reason ?? ''))}`);
    }
    return super.close(code, reason);
  }
}

let finished = false;
let dispose = () => {};

function fail(reason) {
  if (finished) return;
  finished = true;
  try {
    dispose();
  } catch {
    // Failing anyway.
  }
  abort(reason);
}

function abort(reason) {
  console.error(`ws-clients (${args.client}): ${reason}`);
  console.error(`frames:\n  ${trace.join('\n  ')}`);
  process.exit(1);
}

function describe(error) {
  if (error instanceof Error) return error.stack ?? String(error);
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    return `close event ${error.code} ${JSON.stringify(error.reason)}`;
  }
  return JSON.stringify(error);
}

const timer = setTimeout(
  () => fail(`timed out after ${args.timeoutMs ?? 10000} ms`),
  args.timeoutMs ?? 10000,
);

function emit(event) {
  if (!finished) process.stdout.write(`${JSON.stringify(event)}\n`);
}

// How many results each operation got, and whether it is done.
const state = new Map(operations.map((op) => [op.name, { got: 0, done: false }]));

function checkDone() {
  if (finished || ![...state.values()].every((s) => s.done)) return;
  finished = true;
  clearTimeout(timer);
  const exit = (event) => {
    if (args.cleanClose && !(event?.wasClean && event.code === 1000)) {
      abort(
        event
          ? `the close handshake was not clean: closed ${event.code} ${JSON.stringify(event.reason)} (wasClean ${event.wasClean})`
          : 'the socket did not close within 1 s',
      );
    }
    if (process.env.WS_CLIENTS_TRACE === '1') console.error(`frames:\n  ${trace.join('\n  ')}`);
    process.exit(0);
  };
  // Let the client's close handshake finish (1 s at most).
  socket?.addEventListener('close', exit);
  setTimeout(exit, 1000);
  dispose();
}

function onResult(op, result, stop) {
  const s = state.get(op.name);
  s.got += 1;
  emit({ op: op.name, result });
  if (s.got > op.results) fail(`${op.name}: more than ${op.results} result(s)`);
  if (!op.completes && s.got === op.results) {
    s.done = true; // Before `stop`, which may call the sink's `complete`.
    stop();
    checkDone();
  }
}

function onComplete(op) {
  const s = state.get(op.name);
  emit({ op: op.name, complete: true });
  if (!op.completes) fail(`${op.name}: the server completed a subscription`);
  if (s.got !== op.results) fail(`${op.name}: completed after ${s.got} of ${op.results} result(s)`);
  s.done = true;
  checkDone();
}

function payload(op) {
  return { query: op.query, variables: op.variables ?? {} };
}

async function runGraphqlWs() {
  let connected;
  const ready = new Promise((resolve) => {
    connected = resolve;
  });
  const client = createClient({
    url,
    webSocketImpl: TracingWebSocket,
    connectionParams: args.connectionParams ?? {},
    lazy: false,
    retryAttempts: 0,
    on: {
      connected: () => connected(),
      closed: (event) => fail(`the connection closed: ${describe(event)}`),
      error: (error) => fail(`connection error: ${describe(error)}`),
    },
  });
  dispose = () => client.dispose();
  await ready;

  for (const op of operations) {
    if (op.completes) {
      // The AsyncIterator API: must end by itself, after its results.
      (async () => {
        const results = client.iterate(payload(op));
        try {
          for await (const result of results) onResult(op, result, () => {});
          onComplete(op);
        } catch (error) {
          fail(`${op.name}: ${describe(error)}`);
        }
      })();
    } else {
      // The sink API, as Apollo Client's GraphQLWsLink and urql use it.
      const unsubscribe = client.subscribe(payload(op), {
        next: (result) => onResult(op, result, () => unsubscribe()),
        error: (error) => fail(`${op.name}: ${describe(error)}`),
        complete: () => {
          if (!state.get(op.name).done) onComplete(op);
        },
      });
    }
  }
  process.stdout.write('READY\n');
}

async function runTransportWs() {
  const { SubscriptionClient } = transportWs;
  let connected;
  const ready = new Promise((resolve) => {
    connected = resolve;
  });
  const client = new SubscriptionClient(
    url,
    {
      connectionParams: args.connectionParams ?? {},
      reconnect: false,
      lazy: false,
      connectionCallback: (error) => {
        if (error) fail(`connection_error: ${describe(error)}`);
        else connected();
      },
    },
    TracingWebSocket,
  );
  dispose = () => client.close();
  client.onDisconnected(() => fail('the connection closed'));
  client.onError((error) => fail(`connection error: ${describe(error)}`));
  await ready;

  for (const op of operations) {
    const subscription = client.request(payload(op)).subscribe({
      next: (result) => onResult(op, result, () => subscription.unsubscribe()),
      error: (error) => fail(`${op.name}: ${describe(error)}`),
      complete: () => {
        if (!state.get(op.name).done) onComplete(op);
      },
    });
  }
  process.stdout.write('READY\n');
}

const run = {
  'graphql-ws': runGraphqlWs,
  'subscriptions-transport-ws': runTransportWs,
}[args.client];
if (!run) fail(`unknown client ${JSON.stringify(args.client)}`);
else run().catch((error) => fail(describe(error)));
