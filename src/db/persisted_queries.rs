//! Queries on `persisted_queries`: documents stored by their SHA-256, shared by every
//! instance.

use diesel::{prelude::*, upsert::excluded};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{DbError, schema::persisted_queries};

/// A stored document.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = persisted_queries)]
pub struct PersistedRow {
    /// The document text.
    pub document: String,
    /// Loaded from a manifest: allowed in safelist mode.
    pub safelisted: bool,
}

/// The document stored under `hash` (lowercase hex), if any.
pub async fn find(
    conn: &mut AsyncPgConnection,
    hash: &str,
) -> Result<Option<PersistedRow>, DbError> {
    Ok(persisted_queries::table
        .find(hash)
        .select(PersistedRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Stores `document` under `hash` as a client registered it; a document already stored
/// is left as it is.
pub async fn register(
    conn: &mut AsyncPgConnection,
    hash: &str,
    document: &str,
) -> Result<(), DbError> {
    diesel::insert_into(persisted_queries::table)
        .values((
            persisted_queries::hash.eq(hash),
            persisted_queries::document.eq(document),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores every `(hash, document)` of a manifest as safelisted, a thousand per statement
/// (under PostgreSQL's limit on bind parameters); returns how many rows were written.
pub async fn safelist(
    conn: &mut AsyncPgConnection,
    entries: &[(String, String)],
) -> Result<usize, DbError> {
    let mut written = 0;
    for chunk in entries.chunks(1000) {
        written += safelist_chunk(conn, chunk).await?;
    }
    Ok(written)
}

async fn safelist_chunk(
    conn: &mut AsyncPgConnection,
    entries: &[(String, String)],
) -> Result<usize, DbError> {
    let rows: Vec<_> = entries
        .iter()
        .map(|(hash, document)| {
            (
                persisted_queries::hash.eq(hash),
                persisted_queries::document.eq(document),
                persisted_queries::safelisted.eq(true),
            )
        })
        .collect();
    Ok(diesel::insert_into(persisted_queries::table)
        .values(rows)
        .on_conflict(persisted_queries::hash)
        .do_update()
        .set(persisted_queries::safelisted.eq(excluded(persisted_queries::safelisted)))
        .execute(conn)
        .await?)
}
