// The viewer's notifications, newest first, page by page: unread ones marked; opening
// one marks it read, and "Mark all as read" reads them all. New ones arrive live (the
// badge's notificationAdded subscription adds them to the cached list).
import { Link } from "react-router";
import { useMutation } from "urql";
import { graphql } from "../../gql";
import type { NotificationItemFragment } from "../../gql/graphql";
import { useSession } from "../../session/store";
import { Avatar } from "../../ui/Avatar";
import { Button } from "../../ui/Button";
import { ErrorNotice } from "../../ui/ErrorNotice";
import { Loading } from "../../ui/Loading";
import { usePagedQuery } from "../content/usePagedQuery";
import { AccountNav } from "./AccountNav";
import { SignInRequired } from "./SignInRequired";
import { timeAgo } from "./timeAgo";
import "./account.css";
import { useDocumentTitle } from "../../ui/useDocumentTitle";

const NotificationsQuery = graphql(`
  query Notifications($first: Int!, $after: String) {
    viewer {
      id
      unreadNotificationsCount
      notifications(first: $first, after: $after) {
        nodes {
          ...NotificationItem
        }
        pageInfo {
          hasNextPage
          endCursor
        }
      }
    }
  }
`);

const MarkNotificationsReadMutation = graphql(`
  mutation MarkNotificationsRead($ids: [ID!]) {
    markNotificationsRead(ids: $ids)
  }
`);

/** The notifications page. */
export default function Notifications() {
  const { user } = useSession();
  useDocumentTitle("Notifications");
  if (!user) return <SignInRequired title="Notifications" />;
  return <NotificationsPage />;
}

function NotificationsPage() {
  const list = usePagedQuery(NotificationsQuery, { first: 20 }, "notifications");
  const [marking, markRead] = useMutation(MarkNotificationsReadMutation);
  const viewer = list.data?.viewer;
  const page = viewer?.notifications;
  const unread = viewer?.unreadNotificationsCount ?? 0;

  return (
    <div className="container account-page">
      <h1>Notifications</h1>
      <p className="account-lead">Follows, favorites, comments and new articles from people you follow.</p>
      <div className="account-layout">
        <AccountNav />
        <div>
          <ErrorNotice error={list.error ?? marking.error} onRetry={list.retry} />
          {page ? (
            <>
              <div className="list-toolbar">
                <p className="muted" role="status">
                  {unread === 0 ? "You are all caught up." : `${unread} unread`}
                </p>
                <Button variant="outline" size="small" disabled={unread === 0 || marking.fetching} onClick={() => void markRead({ ids: null })}>
                  Mark all as read
                </Button>
              </div>
              {page.nodes.length === 0 ? (
                <div className="card empty-state">
                  <h2>Nothing yet</h2>
                  <p>When someone follows you, or favorites or comments on your articles, you will see it here.</p>
                </div>
              ) : (
                <ul className="item-list" aria-label="Notifications">
                  {page.nodes.map((notification) => (
                    <NotificationRow key={notification.id} notification={notification} onOpen={() => notification.readAt === null && void markRead({ ids: [notification.id] })} />
                  ))}
                </ul>
              )}
              {page.pageInfo.hasNextPage && page.pageInfo.endCursor && (
                <div className="load-more-row">
                  <Button variant="outline" disabled={list.fetching} onClick={() => list.loadMore(page.pageInfo.endCursor as string)}>
                    {list.fetching ? "Loading…" : "Show older"}
                  </Button>
                </div>
              )}
            </>
          ) : (
            !list.error && <Loading label="Loading your notifications…" />
          )}
        </div>
      </div>
    </div>
  );
}

function NotificationRow({ notification, onOpen }: { notification: NotificationItemFragment; onOpen: () => void }) {
  const unread = notification.readAt === null;
  return (
    <li className={`notification${unread ? " is-unread" : ""}`} data-testid="notification" data-unread={unread}>
      <span className={unread ? "unread-dot" : "read-dot"} aria-hidden="true" />
      <Avatar username={notification.actor.username} image={notification.actor.image} size="medium" />
      <div className="item-main">
        <p className="notification-text">
          {unread && <span className="visually-hidden">Unread: </span>}
          <Describe notification={notification} onOpen={onOpen} />
        </p>
        {notification.kind === "COMMENT_ADDED" && notification.comment && (
          <p className="notification-quote">“{notification.comment.body}”</p>
        )}
        <p className="item-meta">
          <time dateTime={notification.createdAt}>{timeAgo(notification.createdAt)}</time>
        </p>
      </div>
    </li>
  );
}

/** What happened, with links to who did it and what it is about. */
function Describe({ notification, onOpen }: { notification: NotificationItemFragment; onOpen: () => void }) {
  const { actor, article } = notification;
  const who = (
    <Link to={`/profile/${encodeURIComponent(actor.username)}`} onClick={onOpen}>
      {actor.username}
    </Link>
  );
  const what = article ? (
    <Link to={`/article/${encodeURIComponent(article.slug)}${notification.kind === "COMMENT_ADDED" ? "#comments-title" : ""}`} onClick={onOpen}>
      {article.title}
    </Link>
  ) : (
    <span className="muted">an article that was deleted</span>
  );
  switch (notification.kind) {
    case "NEW_FOLLOWER":
      return <>{who} started following you</>;
    case "ARTICLE_FAVORITED":
      return <>{who} favorited {what}</>;
    case "COMMENT_ADDED":
      return <>{who} commented on {what}</>;
    case "ARTICLE_PUBLISHED":
      return <>{who} published {what}</>;
    case "WEBHOOK_DISABLED":
      return <>One of your webhooks stopped delivering and was paused.</>;
  }
}
