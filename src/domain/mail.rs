//! Email as the domain sees it: which mail goes to whom, queued in the outbox in the
//! transaction of the change that causes it ([`queue`]). What a mail says, and how it is
//! sent, is the outbox's (`outbox::email`); a queued mail carries only what its template
//! needs, never a token's value (that is derived again when the mail is rendered:
//! [`super::email_tokens`]).
//!
//! May call: `db`.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{
    self, DbError,
    outbox::{NewMessage, Queue},
};

/// Email's settings: where links point and who sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// The web app's origin, which links in mails open (`PUBLIC_URL`).
    pub public_url: String,
    /// The sender (`EMAIL_FROM`).
    pub from: String,
    /// Most notification mails per user and hour (`EMAIL_NOTIFICATIONS_PER_HOUR`).
    pub notifications_per_hour: u32,
    /// How long after the first notification past the hourly limit its summary is sent
    /// (`EMAIL_NOTIFICATIONS_SUMMARY_DELAY_MS`, 1 h: the end of the hour window).
    pub summary_delay: std::time::Duration,
}

/// The article a notification mail names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleRef {
    /// Its slug (the link's path).
    pub slug: String,
    /// Its title.
    pub title: String,
}

/// A single-use link's token, as a mail carries it: the row and the key its value is
/// derived with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRef {
    /// The `email_tokens` row.
    pub id: Uuid,
    /// The server key's id.
    pub key_id: String,
}

/// A mail's template and what it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "template", rename_all = "snake_case")]
pub enum Mail {
    /// After registration: welcome, and confirm the address.
    Welcome {
        /// The new user's name.
        username: String,
        /// The verification link's token.
        token: TokenRef,
    },
    /// Confirm the address (asked for, or a new address after an email change).
    VerifyEmail {
        /// The user's name.
        username: String,
        /// The verification link's token.
        token: TokenRef,
    },
    /// To the old address after an email change.
    EmailChanged {
        /// The user's name.
        username: String,
    },
    /// A password-reset link (valid 30 minutes).
    PasswordReset {
        /// The user's name.
        username: String,
        /// The reset link's token.
        token: TokenRef,
    },
    /// A notification, by email (the recipient opted into its kind). Built in SQL by
    /// `db::notifications`, in the statement that writes the notification.
    Notification {
        /// The recipient (for the unsubscribe link).
        user_id: i64,
        /// The recipient's name.
        username: String,
        /// The notification's kind (a `db::notifications::kind` value).
        kind: String,
        /// Who acted (their username: never their address).
        actor: String,
        /// The article concerned, if any.
        article: Option<ArticleRef>,
        /// The start of the comment concerned, if any.
        comment: Option<String>,
    },
    /// The notifications past the hourly limit, coalesced: counted and listed when the
    /// mail is sent (those of the recipient's opted-in kinds since `since`).
    NotificationSummary {
        /// The recipient.
        user_id: i64,
        /// The recipient's name.
        username: String,
        /// The first notification it covers was written at this time.
        since: DateTime<Utc>,
    },
    /// A sign-in from a user agent none of the user's sessions had.
    NewSignIn {
        /// The user's name.
        username: String,
        /// When.
        at: DateTime<Utc>,
        /// The sign-in's User-Agent, if it sent one.
        user_agent: Option<String>,
        /// The client's address, when known.
        client_ip: Option<String>,
    },
    /// The account was deleted (sent after the user is gone: it names no row).
    AccountDeleted {
        /// The former user's name.
        username: String,
    },
}

impl Mail {
    /// The outbox `kind` of this mail: `email.<template>`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Welcome { .. } => "email.welcome",
            Self::VerifyEmail { .. } => "email.verify_email",
            Self::EmailChanged { .. } => "email.email_changed",
            Self::PasswordReset { .. } => "email.password_reset",
            Self::Notification { .. } => NOTIFICATION_KIND,
            Self::NotificationSummary { .. } => SUMMARY_KIND,
            Self::NewSignIn { .. } => "email.new_sign_in",
            Self::AccountDeleted { .. } => "email.account_deleted",
        }
    }
}

/// The outbox kind of a notification mail (counted against the hourly limit).
pub const NOTIFICATION_KIND: &str = "email.notification";

/// The outbox kind of a summary of the notifications past the hourly limit.
pub const SUMMARY_KIND: &str = "email.notification_summary";

/// A queued mail: the recipient's address and the mail (the outbox payload).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// The recipient's address.
    pub to: String,
    /// The mail.
    pub mail: Mail,
}

/// Queues `mail` to `to`, in the caller's transaction: sent once it commits, never if it
/// rolls back. Returns the message's id (its `Message-ID`).
pub async fn queue(conn: &mut AsyncPgConnection, to: &str, mail: Mail) -> Result<Uuid, DbError> {
    let kind = mail.kind();
    let envelope = Envelope {
        to: to.to_owned(),
        mail,
    };
    let payload = serde_json::to_string(&envelope).expect("a mail serializes");
    let id = Uuid::now_v7();
    let message = NewMessage {
        id,
        queue: Queue::Email,
        kind,
        ordering_key: None,
        payload: &payload,
    };
    db::outbox::enqueue(conn, &message).await?;
    Ok(id)
}
