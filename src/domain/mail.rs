//! Email as the domain sees it: which mail goes to whom, queued in the outbox in the
//! transaction of the change that causes it ([`queue`]). What a mail says, and how it is
//! sent, is the outbox's (`outbox::email`); a queued mail carries only what its template
//! needs, never a token's value (that is derived again when the mail is rendered:
//! [`super::email_tokens`]).
//!
//! May call: `db`.

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
}

impl Mail {
    /// The outbox `kind` of this mail: `email.<template>`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Welcome { .. } => "email.welcome",
            Self::VerifyEmail { .. } => "email.verify_email",
            Self::EmailChanged { .. } => "email.email_changed",
            Self::PasswordReset { .. } => "email.password_reset",
        }
    }
}

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
