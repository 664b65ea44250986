//! Queries on `persisted_queries`: documents clients registered (automatic persisted
//! queries), by their SHA-256, shared by every instance. The table is bounded: rows
//! expire, and registration stops at a row cap.

use diesel::{
    prelude::*,
    sql_types::{BigInt, Double, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{DbError, schema::persisted_queries};

/// The document stored under `hash` (lowercase hex), if any. (Expired rows are deleted
/// by the next registration; until then they still answer.)
pub async fn find(mut conn: &AsyncPgConnection, hash: &str) -> Result<Option<String>, DbError> {
    Ok(persisted_queries::table
        .find(hash)
        .select(persisted_queries::document)
        .first(&mut conn)
        .await
        .optional()?)
}

/// Stores `document` under `hash`, in one statement that also deletes the expired rows;
/// stores nothing when `max_rows` are already there (a document already stored is left
/// as it is). Returns whether a row was written.
pub async fn register(
    mut conn: &AsyncPgConnection,
    hash: &str,
    document: &str,
    max_rows: i64,
    ttl_secs: f64,
) -> Result<bool, DbError> {
    let written = diesel::sql_query(
        "WITH expired AS (\
             DELETE FROM persisted_queries \
             WHERE created_at <= now() - make_interval(secs => $4)) \
         INSERT INTO persisted_queries (hash, document) \
         SELECT $1, $2 WHERE (SELECT count(*) FROM persisted_queries) < $3 \
         ON CONFLICT (hash) DO NOTHING",
    )
    .bind::<Text, _>(hash)
    .bind::<Text, _>(document)
    .bind::<BigInt, _>(max_rows)
    .bind::<Double, _>(ttl_secs)
    .execute(&mut conn)
    .await?;
    Ok(written == 1)
}
