// A query read page by page: `after` grows with "Load more", relayPagination merges the
// pages in the cache, and the last data stays on screen while the next page loads.
import { useCallback, useRef, useState } from "react";
import { createRequest, useQuery, type AnyVariables, type TypedDocumentNode } from "urql";

/** Cards per page in the article lists. */
export const PAGE_SIZE = 10;

/** Runs `query` with `variables` plus `after`; `resetKey` (e.g. the feed) starts over. */
export function usePagedQuery<Data, Variables extends AnyVariables & { after?: string | null }>(
  query: TypedDocumentNode<Data, Variables>,
  variables: Omit<Variables, "after">,
  resetKey: string,
  pause = false,
) {
  const [cursor, setCursor] = useState<{ key: string; after: string | null }>({ key: resetKey, after: null });
  const after = cursor.key === resetKey ? cursor.after : null;
  const allVariables = { ...variables, after } as unknown as Variables;
  const [result, reexecute] = useQuery<Data, Variables>({ query, variables: allVariables, pause });
  // urql may still hold an earlier request's result (another feed): use only this one's,
  // or, while the next page loads, the last one of the same list.
  const fresh = result.operation?.key === createRequest(query, allVariables).key;
  const last = useRef<{ key: string; data: Data } | null>(null);
  if (fresh && result.data) last.current = { key: resetKey, data: result.data };
  const data = (fresh ? result.data : undefined) ?? (last.current?.key === resetKey ? last.current.data : undefined);
  const loadMore = useCallback((next: string) => setCursor({ key: resetKey, after: next }), [resetKey]);
  const retry = useCallback(() => reexecute({ requestPolicy: "network-only" }), [reexecute]);
  return { data, fetching: result.fetching, error: result.error, loadMore, retry };
}
