//! Follows between users, each in one transaction with the counters it moves.

use diesel_async::AsyncConnection;

use super::{
    notifications,
    policy::{self, Viewer},
    validation::FieldErrors,
};
use crate::{
    db::{self, users::UserRow},
    error::AppError,
    state::AppState,
};

/// `viewer` follows the user named `username`; idempotent. Returns that user.
pub async fn follow(
    state: &AppState,
    viewer: &Viewer,
    username: &str,
) -> Result<UserRow, AppError> {
    change(state, viewer, username, true).await
}

/// `viewer` stops following the user named `username`; idempotent. Returns that user.
pub async fn unfollow(
    state: &AppState,
    viewer: &Viewer,
    username: &str,
) -> Result<UserRow, AppError> {
    change(state, viewer, username, false).await
}

async fn change(
    state: &AppState,
    viewer: &Viewer,
    username: &str,
    follow: bool,
) -> Result<UserRow, AppError> {
    let mut conn = db::connect(&state.pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let target = db::users::find_by_username(tx, username)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("No user is named {username:?}.")))?;
        if !policy::can_follow(Some(viewer), target.id) {
            let mut errors = FieldErrors::default();
            errors.check("username", Some("you cannot follow yourself".into()));
            errors.into_result()?;
        }
        if !follow {
            return Ok(db::follows::unfollow(tx, viewer.user_id, target.id).await?);
        }
        let (row, added) = db::follows::follow(tx, viewer.user_id, target.id).await?;
        if added {
            notifications::new_follower(tx, viewer, &row).await?;
        }
        Ok(row)
    })
    .await
}
