//! What committed writes announce, and how: the domain decides which events a write
//! announces and publishes them with [`Events`], inside the write's transaction
//! (`pg_notify` through [`crate::db::notify`]), so they are heard only once it commits.
//! Payloads carry ids only, so a payload never carries data a listener might not be
//! allowed to see, and always fits `pg_notify`'s 8,000-byte limit.
//!
//! May call: `db` (the notify statement).

use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};

use crate::db::{self, DbError};

/// The one channel every instance LISTENs on.
pub const CHANNEL: &str = "conduit_events";

/// One committed change that live subscriptions may care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "e", rename_all = "snake_case")]
pub enum Event {
    /// A comment was added to an article.
    CommentAdded {
        /// The article.
        article: i64,
        /// The new comment.
        comment: i64,
    },
    /// A comment was deleted.
    CommentDeleted {
        /// Its article.
        article: i64,
        /// The deleted comment.
        comment: i64,
    },
    /// An article was edited, or its favorites count changed.
    ArticleUpdated {
        /// The article.
        article: i64,
    },
    /// An article was deleted (with its comments).
    ArticleDeleted {
        /// The article.
        article: i64,
    },
    /// One notification was written.
    NotificationAdded {
        /// Whose it is.
        recipient: i64,
        /// The notification.
        notification: i64,
    },
    /// An article was published: each follower of its author got an
    /// `ARTICLE_PUBLISHED` notification (one event, however many followers).
    ArticlePublished {
        /// The article.
        article: i64,
    },
    /// A session was revoked (sign-out, or a refresh token presented twice).
    SessionRevoked {
        /// The session.
        session: i64,
    },
    /// Every session of a user but one was revoked (a password change).
    SessionsRevoked {
        /// The user.
        user: i64,
        /// The session that stays.
        except: i64,
    },
    /// A user's role changed (`conduit user set-role`): their open sockets close, so that
    /// their subscriptions start again under the new role.
    RoleChanged {
        /// The user.
        user: i64,
    },
}

impl Event {
    /// The `pg_notify` payload.
    pub fn payload(&self) -> String {
        serde_json::to_string(self).expect("events serialize")
    }

    /// Reads a payload written by [`Event::payload`].
    pub fn parse(payload: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(payload)
    }

    /// True when this event ends sockets (sessions revoked, a role changed) rather than
    /// reaching subscriptions.
    pub fn revokes(&self) -> bool {
        matches!(
            self,
            Self::SessionRevoked { .. } | Self::SessionsRevoked { .. } | Self::RoleChanged { .. }
        )
    }
}

/// The announcer the domain's writes take: whoever holds it may publish events.
#[derive(Debug, Clone, Copy, Default)]
pub struct Events;

impl Events {
    /// Queues `event` for delivery on [`CHANNEL`] when the surrounding transaction
    /// commits (at once outside a transaction).
    pub async fn publish(
        &self,
        conn: &mut AsyncPgConnection,
        event: &Event,
    ) -> Result<(), DbError> {
        db::notify::notify(conn, CHANNEL, &event.payload()).await
    }

    /// [`Events::publish`] for each of `events`, in order, in one statement.
    pub async fn publish_all(
        &self,
        conn: &mut AsyncPgConnection,
        events: &[Event],
    ) -> Result<(), DbError> {
        let payloads: Vec<String> = events.iter().map(Event::payload).collect();
        db::notify::notify_all(conn, CHANNEL, &payloads).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_stay_small() {
        let event = Event::CommentAdded {
            article: i64::MAX,
            comment: i64::MAX,
        };
        let payload = event.payload();
        assert!(payload.len() < 100, "{payload}");
        assert_eq!(Event::parse(&payload).unwrap(), event);
        assert!(Event::parse(r#"{"e":"unknown"}"#).is_err());
    }
}
