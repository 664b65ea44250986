// The fragments the account views share with the cache updates of their live events.
import { graphql } from "../../gql";

/** What a notification row shows (also what notificationAdded selects, so a live
 * notification can join the cached list complete). */
export const NotificationItemFragment = graphql(`
  fragment NotificationItem on Notification {
    id
    kind
    createdAt
    readAt
    actor {
      id
      username
      image
    }
    article {
      id
      slug
      title
    }
    comment {
      id
      body
    }
  }
`);

/** What a row of the sessions list shows. */
export const SessionItemFragment = graphql(`
  fragment SessionItem on Session {
    id
    createdAt
    lastUsedAt
    userAgent
    clientIp
    isCurrent
  }
`);

/** The viewer's settings, as the settings page shows them and updateViewer returns them. */
export const ViewerSettingsFragment = graphql(`
  fragment ViewerSettings on User {
    id
    username
    email
    emailVerified
    bio
    image
    emailNotifications
  }
`);
