//! Queries on `email_tokens`: the single-use tokens of verification and password-reset
//! mails, stored as hashes only.

use chrono::{DateTime, Utc};
use diesel::{
    OptionalExtension, QueryableByName,
    sql_types::{BigInt, Bytea, Text, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::DbError;

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewToken<'a> {
    /// Its id (its value is derived from it).
    pub id: Uuid,
    /// Whose it is.
    pub user_id: i64,
    /// `verify_email` or `reset_password`.
    pub purpose: &'a str,
    /// The address it was mailed to.
    pub email: &'a str,
    /// SHA-256 of its value.
    pub hash: &'a [u8],
    /// The server key its value is derived with.
    pub key_id: &'a str,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// Stores `token`.
pub async fn insert(conn: &mut AsyncPgConnection, token: &NewToken<'_>) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO email_tokens (id, user_id, purpose, email, token_hash, key_id, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind::<SqlUuid, _>(token.id)
    .bind::<BigInt, _>(token.user_id)
    .bind::<Text, _>(token.purpose)
    .bind::<Text, _>(token.email)
    .bind::<Bytea, _>(token.hash)
    .bind::<Text, _>(token.key_id)
    .bind::<Timestamptz, _>(token.expires_at)
    .execute(conn)
    .await?;
    Ok(())
}

/// What a valid token names.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Redeemed {
    /// Whose it is.
    #[diesel(sql_type = BigInt)]
    pub user_id: i64,
    /// The address it was mailed to.
    #[diesel(sql_type = Text)]
    pub email: String,
}

/// Marks the unused, unexpired token with `hash` for `purpose` used, and says whose it
/// is; `None` for a used, expired or unknown token (one answer for all three).
pub async fn redeem(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<Option<Redeemed>, DbError> {
    Ok(diesel::sql_query(
        "UPDATE email_tokens SET used_at = $3 \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 \
         RETURNING user_id, email",
    )
    .bind::<Bytea, _>(hash)
    .bind::<Text, _>(purpose)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()?)
}

/// Whose the token with `hash` for `purpose` is, if it would redeem now (nothing
/// changes).
pub async fn peek(
    conn: &mut AsyncPgConnection,
    hash: &[u8],
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<Option<Redeemed>, DbError> {
    Ok(diesel::sql_query(
        "SELECT user_id, email FROM email_tokens \
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind::<Bytea, _>(hash)
    .bind::<Text, _>(purpose)
    .bind::<Timestamptz, _>(now)
    .get_result::<Redeemed>(conn)
    .await
    .optional()?)
}

/// Ends every unused token of `user_id` for `purpose` (a password was reset: the other
/// reset links die with it).
pub async fn expire_all(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "UPDATE email_tokens SET used_at = $3 WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind::<BigInt, _>(user_id)
    .bind::<Text, _>(purpose)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await?)
}

/// Deletes tokens used or expired before `before` (they can never redeem again); returns
/// how many.
pub async fn prune(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "DELETE FROM email_tokens WHERE id IN (SELECT id FROM email_tokens \
           WHERE coalesce(used_at, expires_at) < $1 LIMIT 5000)",
    )
    .bind::<Timestamptz, _>(before)
    .execute(conn)
    .await?)
}

/// A password-reset request, for whichever account has the address.
#[derive(Debug, Clone)]
pub struct ResetRequest<'a> {
    /// The address asked for (any case).
    pub email: &'a str,
    /// The token row's id.
    pub token_id: Uuid,
    /// SHA-256 of the token's value.
    pub hash: &'a [u8],
    /// The server key the value is derived with.
    pub key_id: &'a str,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// The mail's outbox id.
    pub message_id: Uuid,
}

/// In ONE statement, whether or not an account has `request.email` (so that both take
/// the same time): for the account that has it, stores the reset token and queues the
/// reset mail (`domain::mail::Mail::PasswordReset`'s payload, built here in SQL).
/// Returns whether an account had it (for the log; never for the client).
pub async fn request_reset(
    conn: &mut AsyncPgConnection,
    request: &ResetRequest<'_>,
) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Queued {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let queued: Queued = diesel::sql_query(
        "WITH u AS (SELECT id, username, email FROM users WHERE lower(email) = lower($1)), \
         t AS (INSERT INTO email_tokens (id, user_id, purpose, email, token_hash, key_id, expires_at) \
               SELECT $2, u.id, 'reset_password', u.email, $3, $4, $5 FROM u RETURNING user_id), \
         m AS (INSERT INTO outbox (id, queue, kind, payload) \
               SELECT $6, 'email', 'email.password_reset', json_build_object( \
                 'to', u.email, 'mail', json_build_object('template', 'password_reset', \
                 'username', u.username, 'token', json_build_object('id', $2, 'key_id', $4)))::text \
               FROM u JOIN t ON t.user_id = u.id RETURNING id) \
         SELECT count(*) AS n FROM m",
    )
    .bind::<Text, _>(request.email)
    .bind::<SqlUuid, _>(request.token_id)
    .bind::<Bytea, _>(request.hash)
    .bind::<Text, _>(request.key_id)
    .bind::<Timestamptz, _>(request.expires_at)
    .bind::<SqlUuid, _>(request.message_id)
    .get_result(conn)
    .await?;
    Ok(queued.n > 0)
}
