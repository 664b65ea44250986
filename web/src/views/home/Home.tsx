// The home page: a banner, the feed tabs (your feed, global, a tag), the cards with
// "Load more", and the popular tags.
import { Link, useSearchParams } from "react-router";
import { graphql } from "../../gql";
import { useSession } from "../../session/store";
import { ArticleList } from "../content/ArticleList";
import { PAGE_SIZE, usePagedQuery } from "../content/usePagedQuery";
import { PopularTags } from "./PopularTags";
import "../content/content.css";
import "./home.css";
import { useDocumentTitle } from "../../ui/useDocumentTitle";

const GlobalFeedQuery = graphql(`
  query GlobalFeed($first: Int!, $after: String, $tag: String) {
    articles(first: $first, after: $after, tag: $tag) {
      ...ArticlePage
    }
  }
`);

const YourFeedQuery = graphql(`
  query YourFeed($first: Int!, $after: String) {
    feed(first: $first, after: $after) {
      ...ArticlePage
    }
  }
`);

function tabClass(active: boolean): string {
  return active ? "tab is-active" : "tab";
}

/** The home page. */
export function Home() {
  const { user } = useSession();
  const [params] = useSearchParams();
  const tag = params.get("tag");
  const following = params.get("feed") === "following" && user !== null && !tag;
  useDocumentTitle(tag ? `#${tag}` : "");

  const global = usePagedQuery(GlobalFeedQuery, { first: PAGE_SIZE, tag }, `global:${tag ?? ""}`, following);
  const yours = usePagedQuery(YourFeedQuery, { first: PAGE_SIZE }, "feed", !following);
  const list = following
    ? { ...yours, page: yours.data?.feed }
    : { ...global, page: global.data?.articles };

  return (
    <>
      {!user && (
        <section className="banner" aria-labelledby="banner-title">
          <div className="container">
            <h1 id="banner-title">conduit</h1>
            <p>A place to share your knowledge.</p>
          </div>
        </section>
      )}
      <div className="container home-grid">
        <section className="feed" aria-label="Articles">
          <nav className="tabs" aria-label="Feeds">
            {user && (
              <Link to="/?feed=following" className={tabClass(following)} aria-current={following ? "page" : undefined}>
                Your feed
              </Link>
            )}
            <Link to="/" className={tabClass(!following && !tag)} aria-current={!following && !tag ? "page" : undefined}>
              Global feed
            </Link>
            {tag && (
              <span className={tabClass(true)} aria-current="page">
                # {tag}
              </span>
            )}
          </nav>
          <ArticleList
            page={list.page}
            fetching={list.fetching}
            error={list.error}
            onLoadMore={list.loadMore}
            onRetry={list.retry}
            empty={following ? "Nothing in your feed yet: follow some authors to see their articles here." : "No articles here yet."}
          />
        </section>
        <aside className="sidebar" aria-label="Popular tags">
          <PopularTags active={tag} />
        </aside>
      </div>
    </>
  );
}
