//! Queries on `sessions` and `used_refresh_tokens`. Announces nothing: the domain
//! publishes the revocations these writes make, in the same transaction. Time-bound
//! rules (expiry, the absolute lifetime, pruning, the live sessions a user lists) are
//! judged at the caller's `now`, by one notion of a session that has ended
//! ([`has_ended`], [`SessionRow::has_ended`]).

mod list;

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

pub use self::list::{SessionRow, count_live, find_many, has_ended, owner, page};
use super::{
    DbError,
    schema::{sessions, used_refresh_tokens, users},
};

/// Where a session was signed in from, stored with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin<'a> {
    /// The request's User-Agent, already cut to its stored length (512 bytes).
    pub user_agent: Option<&'a str>,
    /// The client's address.
    pub client_ip: Option<IpAddr>,
}

/// The hashes and expiry times of a token pair to store.
#[derive(Debug, Clone, Copy)]
pub struct StoredPair<'a> {
    /// SHA-256 of the access token.
    pub access_hash: &'a [u8],
    /// When the access token expires.
    pub access_expires_at: DateTime<Utc>,
    /// SHA-256 of the refresh token.
    pub refresh_hash: &'a [u8],
    /// When the refresh token expires.
    pub refresh_expires_at: DateTime<Utc>,
}

/// A session's new token pair, as one `SET` list.
#[derive(AsChangeset)]
#[diesel(table_name = sessions)]
struct NewTokens<'a> {
    access_token_hash: &'a [u8],
    access_expires_at: DateTime<Utc>,
    refresh_token_hash: &'a [u8],
    refresh_expires_at: DateTime<Utc>,
    refreshed_at: DateTime<Utc>,
}

impl<'a> NewTokens<'a> {
    fn of(pair: StoredPair<'a>, now: DateTime<Utc>) -> Self {
        Self {
            access_token_hash: pair.access_hash,
            access_expires_at: pair.access_expires_at,
            refresh_token_hash: pair.refresh_hash,
            refresh_expires_at: pair.refresh_expires_at,
            refreshed_at: now,
        }
    }
}

/// What an access token resolves to.
#[derive(Debug, Clone, Queryable)]
pub struct AccessLookup {
    /// The session's id.
    pub session_id: i64,
    /// Its user.
    pub user_id: i64,
    /// The user's role.
    pub role: String,
    /// When the access token expires.
    pub access_expires_at: DateTime<Utc>,
    /// When the session was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The session a refresh token belongs to.
#[derive(Debug, Clone, Queryable)]
struct RefreshLookup {
    session_id: i64,
    user_id: i64,
    refresh_expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

/// Starts a session for `user_id`, signed in from `origin`; returns its id.
pub async fn create(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    pair: StoredPair<'_>,
    origin: Origin<'_>,
) -> Result<i64, DbError> {
    let client_ip = origin.client_ip.map(|ip| ip.to_string());
    Ok(diesel::insert_into(sessions::table)
        .values((
            sessions::user_id.eq(user_id),
            sessions::access_token_hash.eq(pair.access_hash),
            sessions::access_expires_at.eq(pair.access_expires_at),
            sessions::refresh_token_hash.eq(pair.refresh_hash),
            sessions::refresh_expires_at.eq(pair.refresh_expires_at),
            sessions::user_agent.eq(origin.user_agent),
            sessions::client_ip.eq(client_ip),
        ))
        .returning(sessions::id)
        .get_result(conn)
        .await?)
}

/// Starts a session for `user_id` only if its password hash is still `verified_hash`, so a
/// sign-in racing a password change cannot outlive it: the user row is share-locked, so the
/// change either waits for this session (and then revokes it) or makes this check fail.
/// Returns the session's id, or `None` if the password changed.
pub async fn create_if_password(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    verified_hash: &str,
    pair: StoredPair<'_>,
    origin: Origin<'_>,
) -> Result<Option<i64>, DbError> {
    conn.transaction::<_, DbError, _>(async |conn| {
        let current: Option<String> = users::table
            .find(user_id)
            .select(users::password_hash)
            .for_share()
            .first(conn)
            .await
            .optional()?;
        if current.as_deref() != Some(verified_hash) {
            return Ok(None);
        }
        Ok(Some(create(conn, user_id, pair, origin).await?))
    })
    .await
}

/// Sets user `user_id`'s password hash. Changing a password also revokes the user's other
/// sessions and renews the current one's tokens ([`revoke_others`], [`replace_tokens`]):
/// the caller runs the three in one transaction.
pub async fn set_password_hash(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    new_hash: &str,
) -> Result<(), DbError> {
    diesel::update(users::table.find(user_id))
        .set(users::password_hash.eq(new_hash))
        .execute(conn)
        .await?;
    Ok(())
}

/// The session and user an access token belongs to, in one statement.
pub async fn find_by_access_hash(
    mut conn: &AsyncPgConnection,
    hash: &[u8],
) -> Result<Option<AccessLookup>, DbError> {
    Ok(sessions::table
        .inner_join(users::table)
        .filter(sessions::access_token_hash.eq(hash))
        .select((
            sessions::id,
            sessions::user_id,
            users::role,
            sessions::access_expires_at,
            sessions::revoked_at,
        ))
        .first(&mut conn)
        .await
        .optional()?)
}

/// How an attempt to exchange a refresh token ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was current: the session now has the new pair, whose expiry times
    /// were cut to `ends_at`.
    Rotated {
        /// The session's id.
        session_id: i64,
        /// Its user.
        user_id: i64,
        /// When the session ends, whatever refreshes come: its start plus its lifetime.
        ends_at: DateTime<Utc>,
    },
    /// The token had been exchanged before: the caller revokes the whole session.
    Reused {
        /// The session the token belonged to.
        session_id: i64,
    },
    /// The session is revoked, past its absolute lifetime, or the refresh token expired.
    Ended,
    /// No such token.
    Unknown,
}

/// Exchanges the refresh token with hash `old_hash` for `new_pair`: the old token is
/// recorded as used, and a token used before is reported ([`Rotation::Reused`]). A
/// session started `max_age` or longer before `now` has ended, and the new pair never
/// outlives the session's start plus `max_age`. Run it in a transaction: the session's
/// row stays locked until it ends.
pub async fn rotate(
    conn: &mut AsyncPgConnection,
    old_hash: &[u8],
    mut new_pair: StoredPair<'_>,
    now: DateTime<Utc>,
    max_age: chrono::Duration,
) -> Result<Rotation, DbError> {
    let current: Option<RefreshLookup> = sessions::table
        .filter(sessions::refresh_token_hash.eq(old_hash))
        .select((
            sessions::id,
            sessions::user_id,
            sessions::refresh_expires_at,
            sessions::revoked_at,
            sessions::created_at,
        ))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some(RefreshLookup {
        session_id,
        user_id,
        refresh_expires_at,
        revoked_at,
        created_at,
    }) = current
    else {
        let reused: Option<i64> = used_refresh_tokens::table
            .find(old_hash)
            .select(used_refresh_tokens::session_id)
            .first(conn)
            .await
            .optional()?;
        return Ok(
            reused.map_or(Rotation::Unknown, |session_id| Rotation::Reused {
                session_id,
            }),
        );
    };
    let ends_at = created_at + max_age;
    if revoked_at.is_some() || refresh_expires_at <= now || ends_at <= now {
        return Ok(Rotation::Ended);
    }
    new_pair.access_expires_at = new_pair.access_expires_at.min(ends_at);
    new_pair.refresh_expires_at = new_pair.refresh_expires_at.min(ends_at);
    diesel::insert_into(used_refresh_tokens::table)
        .values((
            used_refresh_tokens::token_hash.eq(old_hash),
            used_refresh_tokens::session_id.eq(session_id),
        ))
        .execute(conn)
        .await?;
    diesel::update(sessions::table.find(session_id))
        .set(NewTokens::of(new_pair, now))
        .execute(conn)
        .await?;
    Ok(Rotation::Rotated {
        session_id,
        user_id,
        ends_at,
    })
}

/// Gives session `session_id` a new token pair unless it is revoked; true if it did.
pub async fn replace_tokens(
    conn: &mut AsyncPgConnection,
    session_id: i64,
    pair: StoredPair<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let updated = diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(NewTokens::of(pair, now))
    .execute(conn)
    .await?;
    Ok(updated == 1)
}

/// Revokes session `session_id` (idempotent); returns how many sessions it revoked (0 or
/// 1).
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    session_id: i64,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)
    .await?)
}

/// Revokes every session of `user_id` except `keep`; returns how many.
pub async fn revoke_others(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    keep: i64,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    Ok(diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(keep))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(now))
    .execute(conn)
    .await?)
}

/// Which of the sessions `ids` are not revoked (one statement).
pub async fn live_among(mut conn: &AsyncPgConnection, ids: &[i64]) -> Result<Vec<i64>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sessions::table
        .filter(sessions::id.eq_any(ids))
        .filter(sessions::revoked_at.is_null())
        .select(sessions::id)
        .load(&mut conn)
        .await?)
}

/// The advisory lock that lets one instance at a time prune sessions.
pub const PRUNE_LOCK_KEY: i64 = 0x636f_6e64_7569_7401;

/// What one pruning removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    /// Sessions deleted: revoked, their refresh token expired, or older than `max_age`.
    pub sessions: usize,
    /// Their used refresh tokens deleted with them.
    pub used_refresh_tokens: usize,
}

/// Sessions deleted per transaction by [`prune`]: each batch stays far under
/// `statement_timeout` however large the backlog, and locks few rows at a time.
const PRUNE_BATCH: i64 = 5_000;

/// Deletes the sessions that have ended at `now` (revoked, refresh token expired, or
/// started `max_age` or longer before) and their used refresh tokens, in transactions of
/// at most [`PRUNE_BATCH`] sessions, each holding an advisory lock; `None` when another
/// connection holds that lock at the first batch (another instance is pruning), and
/// nothing is deleted. Stops early, keeping what it deleted, if the lock is taken between
/// batches.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    max_age: chrono::Duration,
) -> Result<Option<Pruned>, DbError> {
    let mut total = Pruned {
        sessions: 0,
        used_refresh_tokens: 0,
    };
    for first in std::iter::once(true).chain(std::iter::repeat(false)) {
        let Some(batch) = prune_batch(conn, now, max_age).await? else {
            return Ok((!first).then_some(total));
        };
        total.sessions += batch.sessions;
        total.used_refresh_tokens += batch.used_refresh_tokens;
        if batch.sessions < PRUNE_BATCH as usize {
            break;
        }
    }
    Ok(Some(total))
}

/// One batch of [`prune`], in one transaction under the advisory lock.
async fn prune_batch(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    max_age: chrono::Duration,
) -> Result<Option<Pruned>, DbError> {
    use diesel::{dsl::sql, sql_types::Bool};
    conn.transaction::<_, DbError, _>(async |tx| {
        let locked: bool = diesel::select(sql::<Bool>(&format!(
            "pg_try_advisory_xact_lock({PRUNE_LOCK_KEY})"
        )))
        .get_result(tx)
        .await?;
        if !locked {
            return Ok(None);
        }
        let ended: Vec<i64> = sessions::table
            .filter(has_ended(now, max_age))
            .select(sessions::id)
            .limit(PRUNE_BATCH)
            .load(tx)
            .await?;
        if ended.is_empty() {
            return Ok(Some(Pruned {
                sessions: 0,
                used_refresh_tokens: 0,
            }));
        }
        let tokens = diesel::delete(
            used_refresh_tokens::table.filter(used_refresh_tokens::session_id.eq_any(&ended)),
        )
        .execute(tx)
        .await?;
        let deleted = diesel::delete(sessions::table.filter(sessions::id.eq_any(&ended)))
            .execute(tx)
            .await?;
        Ok(Some(Pruned {
            sessions: deleted,
            used_refresh_tokens: tokens,
        }))
    })
    .await
}
