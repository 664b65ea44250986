// Signing in and out, as the views call them.
import type { Client } from "urql";
import type { SessionPayloadFragment } from "../gql/graphql";
import { LogoutMutation } from "./documents";
import { refreshSession } from "./refresh";
import { readRefreshToken } from "./storage";
import { applyPayload, clearSession, getSession, markLoading } from "./store";
import { announce, followOtherTabs } from "./sync";

/** Starts the session on page load: with a stored refresh token, refresh first. */
export function bootstrapSession(): Promise<unknown> {
  followOtherTabs();
  if (!readRefreshToken()) return Promise.resolve();
  markLoading();
  return refreshSession();
}

/** Takes the token pair of a sign-in (login, register, password reset). */
export function signIn(payload: SessionPayloadFragment): void {
  applyPayload(payload, true);
  announce({ type: "tokens", payload });
}

/** Takes a new token pair for the same user (e.g. changePassword's). */
export function replaceTokens(payload: SessionPayloadFragment): void {
  applyPayload(payload, false);
  announce({ type: "tokens", payload });
}

/** Revokes the session server side (best effort), then forgets it here and in every tab;
 * the client is recreated, so the cache is gone. */
export async function signOut(client: Client): Promise<void> {
  if (getSession().status === "signedIn") {
    await client.mutation(LogoutMutation, {}).toPromise();
  }
  clearSession();
  announce({ type: "signed-out" });
}
