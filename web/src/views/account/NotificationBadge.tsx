// The unread-notifications badge in the header: the viewer's unread count, kept live by
// the notificationAdded subscription while signed in (the cache update adds each event
// to the count and to the cached list; reading marks it down).
import { useQuery, useSubscription } from "urql";
import { graphql } from "../../gql";
import { useSession } from "../../session/store";

const UnreadCountQuery = graphql(`
  query UnreadCount {
    viewer {
      id
      unreadNotificationsCount
    }
  }
`);

const NotificationAddedSubscription = graphql(`
  subscription NotificationAdded {
    notificationAdded {
      ...NotificationItem
    }
  }
`);

/** The badge (nothing while signed out or with nothing unread). */
export function NotificationBadge() {
  const { user } = useSession();
  return user ? <LiveBadge /> : null;
}

function LiveBadge() {
  const [{ data }] = useQuery({ query: UnreadCountQuery });
  useSubscription({ query: NotificationAddedSubscription });
  const count = data?.viewer?.unreadNotificationsCount ?? 0;
  if (count <= 0) return null;
  return (
    <>
      <span className="badge" data-testid="unread-badge">
        {count > 99 ? "99+" : count}
      </span>
      <span className="visually-hidden"> unread</span>
    </>
  );
}
