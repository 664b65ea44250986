// A paginated list of article cards with "Load more" (pages merged by relayPagination).
import type { CombinedError } from "urql";
import type { ArticlePageFragment } from "../../gql/graphql";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Loading } from "../../ui/Loading";
import { ArticlePreview } from "./ArticlePreview";

interface Props {
  page: ArticlePageFragment | null | undefined;
  fetching: boolean;
  error: CombinedError | undefined;
  /** Asks for the page after this cursor. */
  onLoadMore: (after: string) => void;
  onRetry: () => void;
  empty: string;
}

/** The cards, the load-more button and the states around them. */
export function ArticleList({ page, fetching, error, onLoadMore, onRetry, empty }: Props) {
  if (!page) {
    if (error) return <ErrorNotice error={error} onRetry={onRetry} />;
    return <Loading label="Loading articles…" />;
  }
  const { nodes, pageInfo } = page;
  return (
    <div className="article-list">
      {nodes.length === 0 && <p className="empty-list">{empty}</p>}
      {nodes.map((article) => (
        <ArticlePreview key={article.id} article={article} />
      ))}
      <ErrorNotice error={error} onRetry={onRetry} />
      {pageInfo.hasNextPage && pageInfo.endCursor && (
        <div className="load-more">
          <Button variant="outline" disabled={fetching} onClick={() => onLoadMore(pageInfo.endCursor ?? "")}>
            {fetching ? "Loading…" : "Load more articles"}
          </Button>
        </div>
      )}
    </div>
  );
}
