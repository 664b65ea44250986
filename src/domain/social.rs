//! Follows between users, each in one transaction with the counters it moves.
//!
//! May call: `db`.

use diesel_async::AsyncConnection;

use super::{
    events::Events,
    notifications::{self, NotificationConfig},
    policy::{self, Viewer},
    validation::{self, FieldErrors},
    webhooks,
};
use crate::{
    db::{self, PgPool, users::UserRow},
    error::AppError,
};

/// `viewer` follows the user named `username`; idempotent. Returns that user. The
/// followee is notified, unless `rules` make it a repeat.
pub async fn follow(
    pool: &PgPool,
    events: &Events,
    rules: &NotificationConfig,
    viewer: &Viewer,
    username: &str,
) -> Result<UserRow, AppError> {
    change(pool, events, viewer, username, Some(rules)).await
}

/// `viewer` stops following the user named `username`; idempotent. Returns that user.
pub async fn unfollow(
    pool: &PgPool,
    events: &Events,
    viewer: &Viewer,
    username: &str,
) -> Result<UserRow, AppError> {
    change(pool, events, viewer, username, None).await
}

async fn change(
    pool: &PgPool,
    events: &Events,
    viewer: &Viewer,
    username: &str,
    follow: Option<&NotificationConfig>,
) -> Result<UserRow, AppError> {
    if username.len() > validation::utf8_bytes(validation::USERNAME_MAX) {
        // No username is that long: refused without a round trip, and not echoed.
        return Err(AppError::NotFound(format!(
            "No user is named that (usernames have at most {} characters).",
            validation::USERNAME_MAX
        )));
    }
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let target = db::users::find_by_username(tx, username)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("No user is named {username:?}.")))?;
        if !policy::can_follow(Some(viewer), target.id) {
            let mut errors = FieldErrors::default();
            errors.check("username", Some("you cannot follow yourself".into()));
            errors.into_result()?;
        }
        let Some(rules) = follow else {
            return Ok(db::follows::unfollow(tx, viewer.user_id, target.id).await?);
        };
        let (row, added) = db::follows::follow(tx, viewer.user_id, target.id).await?;
        if added {
            notifications::new_follower(tx, events, rules, viewer, &row).await?;
            webhooks::events::new_follower(tx, viewer.user_id, row.id).await?;
        }
        Ok(row)
    })
    .await
}
