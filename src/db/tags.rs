//! Queries on `tags`: how many articles carry each tag, kept by the article writes.

use diesel::{prelude::*, upsert::excluded};
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

/// Counts one more article for each of `names`.
pub async fn add(conn: &mut AsyncPgConnection, names: &[String]) -> Result<(), DbError> {
    if names.is_empty() {
        return Ok(());
    }
    // Sorted, so concurrent writers lock the rows in the same order.
    let mut names = names.to_vec();
    names.sort_unstable();
    let rows: Vec<_> = names
        .iter()
        .map(|name| (tags::name.eq(name), tags::articles_count.eq(1)))
        .collect();
    diesel::insert_into(tags::table)
        .values(rows)
        .on_conflict(tags::name)
        .do_update()
        .set(tags::articles_count.eq(tags::articles_count + excluded(tags::articles_count)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Counts one article less for each of `names`, forgetting tags no article carries.
pub async fn remove(conn: &mut AsyncPgConnection, names: &[String]) -> Result<(), DbError> {
    if names.is_empty() {
        return Ok(());
    }
    let mut names = names.to_vec();
    names.sort_unstable();
    diesel::update(tags::table.filter(tags::name.eq_any(&names)))
        .set(tags::articles_count.eq(tags::articles_count - 1))
        .execute(conn)
        .await?;
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
