//! The sessions a user lists (`User.sessions`, `node`): the live ones by keyset, newest
//! first, and the one notion of a session that has ended ([`has_ended`]), which pruning
//! uses too.

use chrono::{DateTime, Utc};
use diesel::{dsl::not, pg::Pg, prelude::*, sql_types::Bool};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::{
    DbError,
    keyset::{Page, PageQuery, paginate},
    schema::sessions,
};

/// A session as its user lists it (no token hashes).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    /// Primary key.
    pub id: i64,
    /// Whose it is.
    pub user_id: i64,
    /// When it was signed in.
    pub created_at: DateTime<Utc>,
    /// When its tokens were last renewed (sign-in, refresh, password change).
    pub refreshed_at: DateTime<Utc>,
    /// The User-Agent of the request that signed in.
    pub user_agent: Option<String>,
    /// The client IP of the request that signed in.
    pub client_ip: Option<String>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// When its refresh token expires.
    pub refresh_expires_at: DateTime<Utc>,
}

impl SessionRow {
    /// [`has_ended`] for this row: revoked, its refresh token expired, or started
    /// `max_age` or longer before `now`.
    pub fn has_ended(&self, now: DateTime<Utc>, max_age: chrono::Duration) -> bool {
        self.revoked_at.is_some()
            || self.refresh_expires_at <= now
            || self.created_at <= now - max_age
    }
}

/// The condition of a session that has ended at `now`: revoked, its refresh token
/// expired, or started `max_age` or longer before. Pruning deletes these; the sessions
/// list shows the others.
pub fn has_ended(
    now: DateTime<Utc>,
    max_age: chrono::Duration,
) -> Box<dyn BoxableExpression<sessions::table, Pg, SqlType = Bool>> {
    Box::new(
        sessions::revoked_at
            .is_not_null()
            .or(sessions::refresh_expires_at.le(now))
            .or(sessions::created_at.le(now - max_age)),
    )
}

/// The user of session `session_id`, if there is such a session (ended or not).
pub async fn owner(conn: &mut AsyncPgConnection, session_id: i64) -> Result<Option<i64>, DbError> {
    Ok(sessions::table
        .find(session_id)
        .select(sessions::user_id)
        .first(conn)
        .await
        .optional()?)
}

/// The sessions with these ids, in any order, ended or not (one statement whatever the
/// count).
pub async fn find_many(
    mut conn: &AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<SessionRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sessions::table
        .filter(sessions::id.eq_any(ids))
        .select(SessionRow::as_select())
        .load(&mut conn)
        .await?)
}

/// `user_id`'s sessions that have not ended at `now` ([`has_ended`]).
fn live_of(
    user_id: i64,
    now: DateTime<Utc>,
    max_age: chrono::Duration,
) -> sessions::BoxedQuery<'static, Pg> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(not(has_ended(now, max_age)))
        .into_boxed()
}

/// One page of `user_id`'s live sessions at `now`, newest first.
pub async fn page(
    mut conn: &AsyncPgConnection,
    user_id: i64,
    now: DateTime<Utc>,
    max_age: chrono::Duration,
    page: &PageQuery,
) -> Result<Page<SessionRow>, DbError> {
    let rows = paginate!(
        live_of(user_id, now, max_age),
        page,
        sessions::created_at,
        sessions::id
    )
    .select(SessionRow::as_select())
    .load(&mut conn)
    .await?;
    Ok(page.finish(rows))
}

/// How many live sessions `user_id` has at `now`.
pub async fn count_live(
    mut conn: &AsyncPgConnection,
    user_id: i64,
    now: DateTime<Utc>,
    max_age: chrono::Duration,
) -> Result<i64, DbError> {
    Ok(live_of(user_id, now, max_age)
        .count()
        .get_result(&mut conn)
        .await?)
}
