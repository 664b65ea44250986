// Provides the urql client, recreated (with an empty cache) whenever the user changes.
import { useEffect, useMemo, type ReactNode } from "react";
import { Provider } from "urql";
import { useSession } from "../session/store";
import { createApi } from "./client";

/** Wraps the app in the current user's client; while a stored session is being restored
 * (the first refresh of a page load), shows `fallback` instead. */
export function ApiProvider({ children, fallback }: { children: ReactNode; fallback: ReactNode }) {
  const { epoch, status } = useSession();
  const api = useMemo(() => createApi(), [epoch]);
  useEffect(() => () => api.dispose(), [api]);
  if (status === "loading") return fallback;
  return <Provider value={api.client}>{children}</Provider>;
}
