//! The email flows: confirming an address (a mail on registration, on request and after
//! an email change; [`verify`] redeems its token) and resetting a forgotten password
//! ([`request_reset`], [`reset_password`]). Every mail is queued in the transaction of the
//! change that causes it (`super::mail::queue`).
//!
//! May call: `db`.

use chrono::Utc;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use super::{
    devices::Origin,
    email_tokens::{self, Purpose},
    events::Events,
    keys::ServerKeys,
    mail::{self, Mail},
    password::Passwords,
    policy::Viewer,
    sessions::{self, AuthSession},
    tokens::{self, TokenPair},
    validation::{self, FieldErrors},
};
use crate::{
    db::{self, DbError, PgPool, email_tokens::ResetRequest, users::UserRow},
    error::AppError,
};

/// The one message for a verification or reset token that is used, expired or unknown.
pub const INVALID_TOKEN: &str = "This link is invalid or has expired. Ask for a new one.";

/// The error for a token that is used, expired or unknown: BAD_USER_INPUT with
/// [`INVALID_TOKEN`], and a field error on `token`.
fn invalid_token() -> AppError {
    AppError::BadUserInput {
        message: INVALID_TOKEN.into(),
        field_errors: vec![crate::error::FieldError {
            field: "token".into(),
            message: "is invalid or has expired".into(),
        }],
    }
}

/// Queues the verification mail for `user`'s current address (the welcome mail on
/// registration), in the caller's transaction.
pub async fn queue_verification(
    conn: &mut AsyncPgConnection,
    keys: &ServerKeys,
    user: &UserRow,
    welcome: bool,
) -> Result<(), DbError> {
    let now = Utc::now();
    let token =
        email_tokens::issue(conn, keys, Purpose::VerifyEmail, user.id, &user.email, now).await?;
    let username = user.username.clone();
    let mail = if welcome {
        Mail::Welcome { username, token }
    } else {
        Mail::VerifyEmail { username, token }
    };
    mail::queue(conn, &user.email, mail).await?;
    Ok(())
}

/// After an email change from `old_email`: the new address gets a verification mail,
/// the old one a notice, and reset links mailed before stop working (in the caller's
/// transaction).
pub async fn queue_email_change(
    conn: &mut AsyncPgConnection,
    keys: &ServerKeys,
    user: &UserRow,
    old_email: &str,
) -> Result<(), DbError> {
    queue_verification(conn, keys, user, false).await?;
    // Reset links mailed to the old address die with it.
    let purpose = Purpose::ResetPassword.as_db();
    db::email_tokens::expire_all(conn, user.id, purpose, Utc::now()).await?;
    let notice = Mail::EmailChanged {
        username: user.username.clone(),
    };
    mail::queue(conn, old_email, notice).await?;
    Ok(())
}

/// `requestEmailVerification`: mails the viewer a new verification link, unless the
/// address is verified already (then nothing is sent). True either way.
pub async fn request_verification(
    pool: &PgPool,
    keys: &ServerKeys,
    viewer: &Viewer,
) -> Result<bool, AppError> {
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let user = db::users::find(tx, viewer.user_id)
            .await?
            .ok_or_else(|| AppError::Unauthenticated("The account no longer exists.".into()))?;
        if user.email_verified_at.is_none() {
            queue_verification(tx, keys, &user, false).await?;
        }
        Ok(true)
    })
    .await
}

/// `verifyEmail`: redeems a verification token and marks its address verified, if it is
/// still the user's address. A used, expired or unknown token, or one for an address the
/// user has since changed, is BAD_USER_INPUT with [`INVALID_TOKEN`].
pub async fn verify(pool: &PgPool, token: &str) -> Result<UserRow, AppError> {
    let invalid = invalid_token;
    if !email_tokens::well_formed(Purpose::VerifyEmail, token) {
        return Err(invalid());
    }
    let hash = tokens::hash(token);
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let redeemed =
            db::email_tokens::redeem(tx, &hash, Purpose::VerifyEmail.as_db(), Utc::now())
                .await?
                .ok_or_else(invalid)?;
        db::users::mark_verified(tx, redeemed.user_id, &redeemed.email)
            .await?
            .ok_or_else(invalid)
    })
    .await
}

/// `requestPasswordReset`: for the account with this address, if any, stores a reset
/// token and queues the mail, in one statement either way. The caller answers true
/// without waiting for it ([`spawn_reset`]), so that the answer takes the same time
/// whether or not the account exists (a write's commit waits for the WAL; a read's
/// does not).
pub async fn request_reset(pool: &PgPool, keys: &ServerKeys, email: &str) -> Result<(), AppError> {
    let email = email.trim();
    if validation::email(email).is_some() {
        // No account has such an address.
        return Ok(());
    }
    let (token, hash) = email_tokens::mint(keys, Purpose::ResetPassword);
    let request = ResetRequest {
        email,
        token_id: token.id,
        hash: &hash,
        key_id: &token.key_id,
        expires_at: Utc::now() + Purpose::ResetPassword.ttl(),
        message_id: Uuid::now_v7(),
    };
    let mut conn = db::connect(pool).await?;
    let queued = db::email_tokens::request_reset(&mut conn, &request).await?;
    tracing::debug!(queued, "password reset requested");
    Ok(())
}

/// Runs [`request_reset`] in the background; a failure is logged (the client was told
/// `true` already, as it is in every case).
pub fn spawn_reset(pool: PgPool, keys: ServerKeys, email: String) {
    tokio::spawn(async move {
        if let Err(err) = request_reset(&pool, &keys, &email).await {
            tracing::warn!(error = ?err, "could not queue a password reset");
        }
    });
}

/// `resetPassword`: redeems a reset token, sets the new password, revokes every session
/// of the user, and signs in with a new one (from `origin`), all in one transaction. The user's other
/// reset links die with it; the address is verified (the mail reached it).
pub async fn reset_password(
    pool: &PgPool,
    passwords: &Passwords,
    events: &Events,
    token: &str,
    new_password: String,
    origin: &Origin,
) -> Result<AuthSession, AppError> {
    let mut errors = FieldErrors::default();
    errors.check("newPassword", validation::password(&new_password));
    errors.into_result()?;
    let invalid = invalid_token;
    if !email_tokens::well_formed(Purpose::ResetPassword, token) {
        return Err(invalid());
    }
    let hash = tokens::hash(token);
    let purpose = Purpose::ResetPassword.as_db();
    let owner = {
        // Refuse a bad token before spending a password hash on it.
        let mut conn = db::connect(pool).await?;
        db::email_tokens::peek(&mut conn, &hash, purpose, Utc::now())
            .await?
            .ok_or_else(invalid)?
    };
    let new_hash = passwords.hash(new_password).await?;
    let now = Utc::now();
    let tokens = TokenPair::generate(now);
    let mut conn = db::connect(pool).await?;
    let (user, session_id) = conn
        .transaction::<_, AppError, _>(async |tx| {
            // The user's row first: two resets of one user (with two tokens) queue here
            // instead of deadlocking on each other's tokens.
            db::users::lock(tx, owner.user_id).await?;
            let redeemed = db::email_tokens::redeem(tx, &hash, purpose, now)
                .await?
                .ok_or_else(invalid)?;
            let user_id = redeemed.user_id;
            let user = db::users::find(tx, user_id).await?.ok_or_else(invalid)?;
            if !user.email.eq_ignore_ascii_case(&redeemed.email) {
                // Mailed to an address the account no longer has.
                return Err(invalid());
            }
            db::sessions::set_password_hash(tx, user_id, &new_hash).await?;
            db::email_tokens::expire_all(tx, user_id, purpose, now).await?;
            sessions::revoke_all(tx, events, user_id, now).await?;
            let user = db::users::mark_verified(tx, user_id, &redeemed.email)
                .await?
                .ok_or_else(invalid)?;
            let session_id = db::sessions::create_if_password(
                tx,
                user_id,
                &new_hash,
                sessions::stored_pair(&tokens),
                origin.stored(),
            )
            .await?
            .ok_or_else(invalid)?;
            Ok((user, session_id))
        })
        .await?;
    Ok(sessions::new_session(user, session_id, tokens))
}
