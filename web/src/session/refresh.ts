// Refreshing the access token: one refresh in flight at a time in this tab (a shared
// promise) and across tabs (navigator.locks). Inside the lock the refresh token is
// re-read from storage, since another tab may have rotated it (and handed this tab the
// new access token meanwhile: then there is nothing left to do), and refreshSession goes
// out WITHOUT the Authorization header (a bare client with no auth exchange).
import { bareClient } from "../api/bareClient";
import { errorCode } from "../api/errors";
import { RefreshSessionMutation } from "./documents";
import { readRefreshToken } from "./storage";
import { applyPayload, clearSession, getSession } from "./store";
import { announce } from "./sync";

/** "ok": new tokens; "signedOut": the session is over; "failed": try again later. */
export type RefreshOutcome = "ok" | "signedOut" | "failed";

/** A token younger than this is not refreshed ahead of its expiry (guards against a
 * client clock far from the server's); an UNAUTHENTICATED answer still refreshes it. */
const MIN_TOKEN_AGE_MS = 30_000;

let inFlight: Promise<RefreshOutcome> | null = null;

/** Refreshes the session, joining a refresh already running in this tab. `stale` is the
 * access token found wanting (failed or expiring; by default the current one): when
 * this tab already holds another one, e.g. handed over by the tab that refreshed, that
 * one is used and nothing is rotated. */
export function refreshSession(stale: string | null = getSession().accessToken): Promise<RefreshOutcome> {
  inFlight ??= withRefreshLock(() => runRefresh(stale)).finally(() => {
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

async function runRefresh(stale: string | null): Promise<RefreshOutcome> {
  const current = getSession().accessToken;
  if (current !== null && current !== stale) return "ok"; // another tab refreshed for us
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
    announce({ type: "tokens", payload });
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
  const { accessTokenExpiresAt, accessTokenReceivedAt } = getSession();
  if (accessTokenExpiresAt === null) return true;
  if (accessTokenReceivedAt !== null && performance.now() - accessTokenReceivedAt < MIN_TOKEN_AGE_MS) return false;
  return accessTokenExpiresAt - 60_000 < Date.now();
}
