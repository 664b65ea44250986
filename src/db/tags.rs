//! Queries on `tags`: how many articles carry each tag, kept by the article writes.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{DbError, schema::tags};

/// A tag and how many articles carry it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = tags)]
pub struct TagRow {
    /// The normalised name.
    pub name: String,
    /// How many articles carry it.
    pub articles_count: i32,
}

/// Counts one more article for each of `added` and one less for each of `removed`,
/// forgetting tags no article carries.
///
/// Every row is locked first, in name order, by one upsert: concurrent writers touching
/// the same tags (`[x]→[y]` against `[y]→[x]`) queue instead of deadlocking.
pub async fn adjust(
    conn: &mut AsyncPgConnection,
    added: &[String],
    removed: &[String],
) -> Result<(), DbError> {
    let mut names: Vec<&String> = added.iter().chain(removed).collect();
    if names.is_empty() {
        return Ok(());
    }
    names.sort_unstable();
    names.dedup();
    let rows: Vec<_> = names
        .iter()
        .map(|name| (tags::name.eq(*name), tags::articles_count.eq(0)))
        .collect();
    diesel::insert_into(tags::table)
        .values(rows)
        .on_conflict(tags::name)
        .do_update()
        .set(tags::articles_count.eq(tags::articles_count))
        .execute(conn)
        .await?;
    if !added.is_empty() {
        diesel::update(tags::table.filter(tags::name.eq_any(added)))
            .set(tags::articles_count.eq(tags::articles_count + 1))
            .execute(conn)
            .await?;
    }
    if !removed.is_empty() {
        diesel::update(tags::table.filter(tags::name.eq_any(removed)))
            .set(tags::articles_count.eq(tags::articles_count - 1))
            .execute(conn)
            .await?;
    }
    diesel::delete(
        tags::table
            .filter(tags::name.eq_any(&names))
            .filter(tags::articles_count.le(0)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The `limit` most used tags, ties broken by name.
pub async fn popular(mut conn: &AsyncPgConnection, limit: i64) -> Result<Vec<TagRow>, DbError> {
    Ok(tags::table
        .order((tags::articles_count.desc(), tags::name.asc()))
        .limit(limit)
        .select(TagRow::as_select())
        .load(&mut conn)
        .await?)
}
