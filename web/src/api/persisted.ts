// Persisted documents in production builds: the app sends each operation's hash (from
// the generated manifest) instead of its text, so it runs under Conduit's safelist mode.
// Under automatic persisted queries (the development server's default) an unknown hash
// answers PersistedQueryNotFound: the operation is then sent once more with the
// manifest's text for that hash, which registers it (urql's own retry would send the
// text urql prints, whose SHA-256 is not the manifest's hash).
import { persistedExchange } from "@urql/exchange-persisted";
import { makeErrorResult, makeResult, type Exchange, type Operation, type OperationResult } from "urql";
import { fromPromise, fromValue, mergeMap, pipe } from "wonka";
import { listedText } from "./manifest";

/** The hash GraphQL Code Generator's client preset put in the document (`sha256:<hex>`). */
export function documentHash(document: unknown): string | undefined {
  const meta = (document as { __meta__?: { hash?: unknown } } | null)?.__meta__;
  return typeof meta?.hash === "string" ? meta.hash : undefined;
}

function isMiss(result: OperationResult): boolean {
  return result.error?.graphQLErrors.some((error) => error.message === "PersistedQueryNotFound") ?? false;
}

/** Sends `operation` with its listed text and hash (registering it under APQ). */
async function sendWithText(operation: Operation, miss: OperationResult): Promise<OperationResult> {
  const hash = documentHash(operation.query);
  const text = hash ? await listedText(hash) : undefined;
  if (!hash || !text) return miss;
  const options = typeof operation.context.fetchOptions === "function" ? operation.context.fetchOptions() : operation.context.fetchOptions;
  try {
    const response = await fetch(operation.context.url, {
      ...options,
      method: "POST",
      headers: { ...(options?.headers as Record<string, string> | undefined), "content-type": "application/json", accept: "application/graphql-response+json, application/json" },
      body: JSON.stringify({
        query: text,
        operationName: operation.query.definitions.find((d) => d.kind === "OperationDefinition")?.name?.value,
        variables: operation.variables,
        extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
      }),
    });
    return makeResult(operation, await response.json(), response);
  } catch (error) {
    return makeErrorResult(operation, error as Error);
  }
}

/** Answers a PersistedQueryNotFound by sending the operation's listed text. */
const registerOnMiss: Exchange = ({ forward }) => (operations) =>
  pipe(
    forward(operations),
    mergeMap((result) => (isMiss(result) ? fromPromise(sendWithText(result.operation, result)) : fromValue(result))),
  );

/** The exchanges that make operations go by hash (none in development). */
export function persistedExchanges(): Exchange[] {
  if (!import.meta.env.PROD) return [];
  return [
    registerOnMiss,
    persistedExchange({
      enforcePersistedQueries: true,
      enableForMutation: true,
      preferGetForPersistedQueries: false,
      generateHash: (_, document) => Promise.resolve(documentHash(document)),
    }),
  ];
}
