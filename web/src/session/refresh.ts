// Refreshing the access token: one refresh in flight at a time in this tab (a shared
// promise) and across tabs (navigator.locks). Inside the lock the refresh token is
// re-read from storage, since another tab may have rotated it, and refreshSession goes
// out WITHOUT the Authorization header (a bare client with no auth exchange).
import { bareClient } from "../api/bareClient";
import { errorCode } from "../api/errors";
import { RefreshSessionMutation } from "./documents";
import { readRefreshToken } from "./storage";
import { applyPayload, clearSession, getSession } from "./store";

/** "ok": new tokens; "signedOut": the session is over; "failed": try again later. */
export type RefreshOutcome = "ok" | "signedOut" | "failed";

let inFlight: Promise<RefreshOutcome> | null = null;

/** Refreshes the session, joining a refresh already running in this tab. */
export function refreshSession(): Promise<RefreshOutcome> {
  inFlight ??= withRefreshLock(runRefresh).finally(() => {
    inFlight = null;
  });
  return inFlight;
}

function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  if (typeof navigator !== "undefined" && navigator.locks) {
    return navigator.locks.request("conduit-refresh", fn);
  }
  return fn();
}

async function runRefresh(): Promise<RefreshOutcome> {
  const refreshToken = readRefreshToken();
  if (!refreshToken) {
    clearSession();
    return "signedOut";
  }
  const result = await bareClient()
    .mutation(RefreshSessionMutation, { refreshToken }, { requestPolicy: "network-only" })
    .toPromise();
  const payload = result.data?.refreshSession;
  if (payload) {
    applyPayload(payload, false);
    return "ok";
  }
  if (errorCode(result.error) === "UNAUTHENTICATED") {
    clearSession();
    return "signedOut";
  }
  // Network trouble, rate limiting...: keep the refresh token for the next try.
  // A first refresh that failed so leaves the page anonymous, the token kept.
  if (getSession().status === "loading") clearSession({ keepRefreshToken: true });
  return "failed";
}

/** True when the access token is missing or expires within the next minute. */
export function accessTokenExpiring(): boolean {
  const { accessTokenExpiresAt } = getSession();
  return accessTokenExpiresAt === null || accessTokenExpiresAt - 60_000 < Date.now();
}
