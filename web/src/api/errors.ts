// Reading Conduit's errors: every error carries `extensions.code`.
import type { CombinedError } from "urql";

/** The codes the UI treats specially; anything else is shown as a plain message. */
export type ErrorCode =
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "BAD_USER_INPUT"
  | "RATE_LIMITED"
  | "SERVICE_UNAVAILABLE"
  | (string & {});

/** The first GraphQL error's code, or "NETWORK" when the request did not get through. */
export function errorCode(error: CombinedError | undefined): ErrorCode | undefined {
  if (!error) return undefined;
  const code = error.graphQLErrors.find((e) => typeof e.extensions?.code === "string")
    ?.extensions.code as string | undefined;
  if (code) return code;
  return error.networkError ? "NETWORK" : undefined;
}

/** `extensions.retryAfter` (seconds) of a RATE_LIMITED or SERVICE_UNAVAILABLE error. */
export function retryAfter(error: CombinedError | undefined): number | undefined {
  const value = error?.graphQLErrors.find((e) => e.extensions?.retryAfter !== undefined)
    ?.extensions.retryAfter;
  return typeof value === "number" ? value : undefined;
}

/** BAD_USER_INPUT's `extensions.fieldErrors` ([{field, message}]) as field → message. */
export function fieldErrors(error: CombinedError | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of error?.graphQLErrors ?? []) {
    const list = e.extensions?.fieldErrors;
    if (!Array.isArray(list)) continue;
    for (const item of list as Array<{ field?: unknown; message?: unknown }>) {
      if (typeof item.field === "string" && typeof item.message === "string") {
        out[item.field] ??= item.message;
      }
    }
  }
  return out;
}

/** The first error's message without urql's "[GraphQL] " prefix. */
export function errorMessage(error: CombinedError): string {
  return error.graphQLErrors[0]?.message ?? "Could not reach Conduit. Check your connection.";
}
