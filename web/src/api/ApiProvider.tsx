// Provides the urql client, recreated (with an empty cache) whenever the user changes.
import { useEffect, useMemo, useRef, type ReactNode } from "react";
import { Provider } from "urql";
import { useSession } from "../session/store";
import { createApi, type ApiHandle } from "./client";

/** Wraps the app in the current user's client; while a stored session is being restored
 * (the first refresh of a page load), shows `fallback` instead. */
export function ApiProvider({ children, fallback }: { children: ReactNode; fallback: ReactNode }) {
  const { epoch, status } = useSession();
  const api = useMemo(() => createApi(), [epoch]);
  // The previous user's client is let go once the new one is in place (not in an effect
  // cleanup: StrictMode runs those on a live client too).
  const previous = useRef<ApiHandle | null>(null);
  useEffect(() => {
    if (previous.current && previous.current !== api) previous.current.dispose();
    previous.current = api;
  }, [api]);
  if (status === "loading") return fallback;
  return <Provider value={api.client}>{children}</Provider>;
}
