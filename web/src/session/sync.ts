// Tells other tabs about sign-in and sign-out (BroadcastChannel), and follows theirs.
import { refreshSession } from "./refresh";
import { clearSession, getSession, markLoading } from "./store";

type SessionMessage = { type: "signed-in"; userId: string } | { type: "signed-out" };

const channel: BroadcastChannel | null =
  typeof BroadcastChannel === "undefined" ? null : new BroadcastChannel("conduit-session");

/** Announces this tab's sign-in or sign-out to the other tabs. */
export function announce(message: SessionMessage): void {
  channel?.postMessage(message);
}

/** Follows the other tabs: their sign-out signs this tab out; their sign-in makes this
 * tab take the session too (a refresh with the token they stored). */
export function followOtherTabs(): void {
  if (!channel) return;
  channel.onmessage = (event: MessageEvent<SessionMessage>) => {
    const message = event.data;
    if (message.type === "signed-out") {
      if (getSession().status !== "anonymous") clearSession({ keepRefreshToken: true });
    } else if (getSession().user?.id !== message.userId) {
      markLoading();
      void refreshSession();
    }
  };
}
