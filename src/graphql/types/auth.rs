//! Sign-up, sign-in and session types.

use std::sync::Arc;

use async_graphql::{InputObject, MaybeUndefined, SimpleObject};

use super::{notification::NotificationKind, user::User};
use crate::{
    domain::{accounts::ProfileEdit, sessions::AuthSession},
    graphql::scalars::DateTime,
};

/// A new session: its tokens and its user.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`; valid for about 15 minutes.
    pub access_token: String,
    /// When the access token expires; refresh before then.
    pub access_token_expires_at: DateTime,
    /// Exchange with `refreshSession` for a new pair. One use only: clients must serialize
    /// refreshes.
    pub refresh_token: String,
    /// The signed-in user; the request counts as theirs, so email is visible here.
    pub user: User,
}

impl From<AuthSession> for AuthPayload {
    fn from(session: AuthSession) -> Self {
        Self {
            access_token: session.tokens.access.value,
            access_token_expires_at: session.tokens.access.expires_at.into(),
            refresh_token: session.tokens.refresh.value,
            user: User::seen_by(Arc::new(session.user), session.viewer),
        }
    }
}

/// A new account.
#[derive(InputObject)]
pub struct RegisterInput {
    /// 3–32 letters, digits, `_` or `-`; unique ignoring case.
    pub username: String,
    /// A valid address; unique ignoring case.
    pub email: String,
    /// 8–128 characters.
    pub password: String,
}

/// Email and password.
#[derive(InputObject)]
pub struct LoginInput {
    /// The account's email, in any case.
    pub email: String,
    /// The account's password.
    pub password: String,
}

/// Omitted fields stay as they are; bio and image may be set to null to clear them.
#[derive(InputObject)]
pub struct UpdateViewerInput {
    /// New username (same rules as at registration).
    pub username: Option<String>,
    /// New email (same rules as at registration).
    pub email: Option<String>,
    /// New bio; null clears it.
    pub bio: MaybeUndefined<String>,
    /// New avatar URL (http or https); null clears it.
    pub image: MaybeUndefined<String>,
    /// Changing the email needs the current password, and marks the new address unverified.
    pub current_password: Option<String>,
    /// Kinds of notification to receive by email too; [] for none. Mail goes only to a
    /// verified address.
    pub email_notifications: Option<Vec<NotificationKind>>,
}

fn optional(value: MaybeUndefined<String>) -> Option<Option<String>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

impl From<UpdateViewerInput> for ProfileEdit {
    fn from(input: UpdateViewerInput) -> Self {
        Self {
            username: input.username,
            email: input.email,
            bio: optional(input.bio),
            image: optional(input.image),
            current_password: input.current_password,
            email_notifications: input
                .email_notifications
                .map(|kinds| kinds.into_iter().map(NotificationKind::as_db).collect()),
        }
    }
}
