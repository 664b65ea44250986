// The fragments the account views share (spread by name in their documents; the views
// use the generated NotificationItemFragment, SessionItemFragment and
// ViewerSettingsFragment types).
import { graphql } from "../../gql";

// What a notification row shows (also what notificationAdded selects, so a live
// notification joins the cached list complete).
graphql(`
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

// What a row of the sessions list shows.
graphql(`
  fragment SessionItem on Session {
    id
    createdAt
    lastUsedAt
    userAgent
    clientIp
    isCurrent
  }
`);

// The viewer's settings, as the settings page shows them and updateViewer returns them.
graphql(`
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
