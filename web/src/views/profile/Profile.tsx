// A profile: who they are, follow/unfollow, and their articles or favorites (the two
// routes are the tabs), page by page.
import { Link, NavLink, useParams } from "react-router";
import { useQuery } from "urql";
import { graphql } from "../../gql";
import { Avatar } from "../../ui/Avatar";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Loading } from "../../ui/Loading";
import { ArticleList } from "../content/ArticleList";
import { FollowButton } from "../content/FollowButton";
import { PAGE_SIZE, usePagedQuery } from "../content/usePagedQuery";
import { NotFound } from "../NotFound";
import "../content/content.css";
import "./profile.css";
import { useDocumentTitle } from "../../ui/useDocumentTitle";

const ProfileQuery = graphql(`
  query Profile($username: String!) {
    user(username: $username) {
      id
      username
      bio
      image
      isViewer
      viewerIsFollowing
      followersCount
      followingCount
    }
  }
`);

const ProfileArticlesQuery = graphql(`
  query ProfileArticles($username: String!, $first: Int!, $after: String) {
    user(username: $username) {
      id
      articles(first: $first, after: $after) {
        ...ArticlePage
      }
    }
  }
`);

const ProfileFavoritesQuery = graphql(`
  query ProfileFavorites($username: String!, $first: Int!, $after: String) {
    user(username: $username) {
      id
      favoriteArticles(first: $first, after: $after) {
        ...ArticlePage
      }
    }
  }
`);

type Tab = "articles" | "favorites";

/** The profile page on one of its tabs. */
export default function Profile({ tab }: { tab: Tab }) {
  const { username = "" } = useParams();
  const [{ data, error }, reexecute] = useQuery({ query: ProfileQuery, variables: { username } });
  const user = data?.user;
  useDocumentTitle(user?.username);

  if (!data) {
    return <div className="container">{error ? <ErrorNotice error={error} onRetry={() => reexecute({ requestPolicy: "network-only" })} /> : <Loading label="Loading the profile…" />}</div>;
  }
  if (!user) return <NotFound what="profile" />;

  const base = `/profile/${encodeURIComponent(user.username)}`;
  return (
    <>
      <section className="profile-banner">
        <div className="container profile-head">
          <Avatar username={user.username} image={user.image} size="large" />
          <h1>{user.username}</h1>
          {user.bio && <p className="profile-bio">{user.bio}</p>}
          <p className="profile-counts">
            <span>
              <strong>{user.followersCount}</strong> followers
            </span>
            <span>
              <strong>{user.followingCount}</strong> following
            </span>
          </p>
          <div className="profile-actions">
            {user.isViewer ? (
              <Link to="/settings" className="btn btn-outline btn-small">
                Edit profile settings
              </Link>
            ) : (
              <FollowButton username={user.username} following={user.viewerIsFollowing} />
            )}
          </div>
        </div>
      </section>
      <div className="container profile-content">
        <nav className="tabs" aria-label="Profile lists">
          <NavLink to={base} end className={({ isActive }) => (isActive ? "tab is-active" : "tab")}>
            {user.isViewer ? "My articles" : "Articles"}
          </NavLink>
          <NavLink to={`${base}/favorites`} className={({ isActive }) => (isActive ? "tab is-active" : "tab")}>
            Favorited articles
          </NavLink>
        </nav>
        {tab === "articles" ? <AuthoredList username={user.username} /> : <FavoritesList username={user.username} />}
      </div>
    </>
  );
}

function AuthoredList({ username }: { username: string }) {
  const list = usePagedQuery(ProfileArticlesQuery, { username, first: PAGE_SIZE }, `articles:${username}`);
  return <ArticleList page={list.data?.user?.articles} fetching={list.fetching} error={list.error} onLoadMore={list.loadMore} onRetry={list.retry} empty={`${username} has not published anything yet.`} />;
}

function FavoritesList({ username }: { username: string }) {
  const list = usePagedQuery(ProfileFavoritesQuery, { username, first: PAGE_SIZE }, `favorites:${username}`);
  return <ArticleList page={list.data?.user?.favoriteArticles} fetching={list.fetching} error={list.error} onLoadMore={list.loadMore} onRetry={list.retry} empty={`${username} has not favorited any article yet.`} />;
}
