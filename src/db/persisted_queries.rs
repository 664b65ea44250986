//! Queries on `persisted_queries`: documents clients registered (automatic persisted
//! queries), by their SHA-256, shared by every instance. The table is bounded: rows
//! expire, and registration stops at a row cap. Expiry is judged at the caller's `now`
//! (its clock), never the database's.

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Double, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{DbError, schema::persisted_queries};

/// The document stored under `hash` (lowercase hex) and when it was stored, unless it
/// was stored `ttl` or longer before `now`: an expired row never answers, even before
/// the next registration deletes it.
pub async fn find(
    mut conn: &AsyncPgConnection,
    hash: &str,
    now: DateTime<Utc>,
    ttl: chrono::Duration,
) -> Result<Option<(String, DateTime<Utc>)>, DbError> {
    Ok(persisted_queries::table
        .find(hash)
        .filter(persisted_queries::created_at.gt(now - ttl))
        .select((persisted_queries::document, persisted_queries::created_at))
        .first(&mut conn)
        .await
        .optional()?)
}

/// Stores `document` under `hash` as of `now`, in one statement that also deletes the
/// rows expired at `now`; stores nothing when `max_rows` are already there (a document
/// already stored is left as it is, unless expired: then it starts again). Returns
/// whether a row was written.
pub async fn register(
    mut conn: &AsyncPgConnection,
    hash: &str,
    document: &str,
    max_rows: i64,
    ttl_secs: f64,
    now: DateTime<Utc>,
) -> Result<bool, DbError> {
    let written = diesel::sql_query(
        "WITH expired AS (\
             DELETE FROM persisted_queries \
             WHERE created_at <= $5 - make_interval(secs => $4) AND hash <> $1) \
         INSERT INTO persisted_queries (hash, document, created_at) \
         SELECT $1, $2, $5 WHERE (SELECT count(*) FROM persisted_queries) < $3 \
         ON CONFLICT (hash) DO UPDATE SET created_at = EXCLUDED.created_at \
         WHERE persisted_queries.created_at <= $5 - make_interval(secs => $4)",
    )
    .bind::<Text, _>(hash)
    .bind::<Text, _>(document)
    .bind::<BigInt, _>(max_rows)
    .bind::<Double, _>(ttl_secs)
    .bind::<Timestamptz, _>(now)
    .execute(&mut conn)
    .await?;
    Ok(written == 1)
}
