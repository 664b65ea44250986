// The tab's title: "<page> — Conduit", or "Conduit" alone for the home page.
import { useEffect } from "react";

/** Sets the document's title to `page` — Conduit ("" for just "Conduit"); leaves it as it
 * is while `page` is undefined (its data is still loading). */
export function useDocumentTitle(page: string | undefined): void {
  useEffect(() => {
    if (page !== undefined) document.title = page ? `${page} — Conduit` : "Conduit";
  }, [page]);
}
