// How the app names each kind of notification (every kind of the schema's enum).
import type { NotificationKind } from "../../gql/graphql";

/** Each kind as the email-notification settings describe it. */
export const KIND_DESCRIPTIONS: Record<NotificationKind, { title: string; detail: string }> = {
  NEW_FOLLOWER: { title: "New followers", detail: "Someone starts following you." },
  ARTICLE_FAVORITED: { title: "Favorites", detail: "Someone favorites one of your articles." },
  COMMENT_ADDED: { title: "Comments", detail: "Someone comments on one of your articles." },
  ARTICLE_PUBLISHED: { title: "New articles", detail: "Someone you follow publishes an article." },
  WEBHOOK_DISABLED: { title: "Webhook problems", detail: "One of your webhooks stops delivering." },
};
