// Tabs share one session: the server keeps one valid access token per session, so a
// refresh in one tab would end the others' tokens. Every new token pair (sign-in,
// refresh) is therefore handed to the other tabs over a BroadcastChannel (memory to
// memory, never storage), and a sign-out signs every tab out.
import type { SessionPayloadFragment } from "../gql/graphql";
import { applyPayload, clearSession, getSession } from "./store";

/** What one tab tells the others. */
export type SessionMessage =
  | { type: "tokens"; payload: SessionPayloadFragment }
  | { type: "signed-out" };

const channel: BroadcastChannel | null =
  typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("conduit-session");

/** Tells the other tabs: a new token pair to take, or that the user signed out. */
export function announce(message: SessionMessage): void {
  channel?.postMessage(message);
}

/** Follows the other tabs: their tokens become this tab's, their sign-out signs it out. */
export function followOtherTabs(): void {
  if (!channel) return;
  channel.onmessage = (event: MessageEvent<SessionMessage>) => {
    const message = event.data;
    if (message.type === "tokens") applyPayload(message.payload, false);
    else if (getSession().status !== "anonymous") clearSession({ keepRefreshToken: true });
  };
}
