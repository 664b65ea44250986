// The session store: who is signed in and the in-memory access token. React reads it
// with useSession; the urql client and the WebSocket read it directly.
import { useSyncExternalStore } from "react";
import type { SessionPayloadFragment } from "../gql/graphql";
import { writeRefreshToken } from "./storage";

/** The signed-in user as the header shows them. */
export type SessionUser = SessionPayloadFragment["user"];

/** The session as the app sees it. */
export interface SessionState {
  /** "loading" while the first refresh of a page load runs. */
  status: "loading" | "anonymous" | "signedIn";
  accessToken: string | null;
  /** Epoch milliseconds. */
  accessTokenExpiresAt: number | null;
  /** When this tab got the access token (performance.now()). */
  accessTokenReceivedAt: number | null;
  user: SessionUser | null;
  /** Bumped whenever the user changes (sign-in, sign-out): the urql client is recreated,
   * so nothing cached for the previous user survives. */
  epoch: number;
}

let state: SessionState = {
  status: "anonymous",
  accessToken: null,
  accessTokenExpiresAt: null,
  accessTokenReceivedAt: null,
  user: null,
  epoch: 0,
};
const listeners = new Set<() => void>();
const tokenListeners = new Set<() => void>();

function set(next: Partial<SessionState>): void {
  const tokenChanged = next.accessToken !== undefined && next.accessToken !== state.accessToken;
  state = { ...state, ...next };
  listeners.forEach((listener) => listener());
  if (tokenChanged) tokenListeners.forEach((listener) => listener());
}

/** The current session (outside React). */
export function getSession(): SessionState {
  return state;
}

/** Calls `listener` whenever the access token changes (the WebSocket reconnects on it). */
export function onAccessTokenChange(listener: () => void): () => void {
  tokenListeners.add(listener);
  return () => tokenListeners.delete(listener);
}

/** Marks the session as being restored (page load with a stored refresh token). */
export function markLoading(): void {
  set({ status: "loading" });
}

/** Takes a token pair. `newUser` recreates the client (a sign-in, not a refresh). */
export function applyPayload(payload: SessionPayloadFragment, newUser: boolean): void {
  writeRefreshToken(payload.refreshToken);
  const changedUser = newUser || state.user?.id !== payload.user.id;
  set({
    status: "signedIn",
    accessToken: payload.accessToken,
    accessTokenExpiresAt: Date.parse(payload.accessTokenExpiresAt),
    accessTokenReceivedAt: performance.now(),
    user: payload.user,
    epoch: changedUser ? state.epoch + 1 : state.epoch,
  });
}

/** Updates the signed-in user's name or avatar after an edit (settings). */
export function updateSessionUser(user: SessionUser): void {
  if (state.status === "signedIn") set({ user });
}

/** Forgets the session in this tab and (unless `keepRefreshToken`, after a refresh that
 * failed for a passing reason) its storage; recreates the client. */
export function clearSession(options: { keepRefreshToken?: boolean } = {}): void {
  if (!options.keepRefreshToken) writeRefreshToken(null);
  const wasSignedIn = state.user !== null;
  set({
    status: "anonymous",
    accessToken: null,
    accessTokenExpiresAt: null,
    accessTokenReceivedAt: null,
    user: null,
    epoch: wasSignedIn ? state.epoch + 1 : state.epoch,
  });
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The session, re-rendering on change. */
export function useSession(): SessionState {
  return useSyncExternalStore(subscribe, getSession, getSession);
}
