//! Queries on `comments`, and the comment counter on `articles` kept with them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{
    DbError,
    keyset::{Page, PageQuery, Position},
    schema::{articles, comments},
};

/// A row of `comments`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    /// Primary key.
    pub id: i64,
    /// The article commented on.
    pub article_id: i64,
    /// The commenter.
    pub author_id: i64,
    /// The text.
    pub body: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl CommentRow {
    /// The comment's place in its article's list.
    pub fn position(&self) -> Position {
        Position {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

/// Inserts a comment by `author_id` on `article_id` and counts it.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    article_id: i64,
    author_id: i64,
    body: &str,
) -> Result<CommentRow, DbError> {
    let row = diesel::insert_into(comments::table)
        .values((
            comments::article_id.eq(article_id),
            comments::author_id.eq(author_id),
            comments::body.eq(body),
        ))
        .returning(CommentRow::as_returning())
        .get_result(conn)
        .await?;
    adjust_count(conn, article_id, 1).await?;
    Ok(row)
}

/// The article comment `id` is on.
pub async fn article_of(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<i64>, DbError> {
    Ok(comments::table
        .find(id)
        .select(comments::article_id)
        .first(conn)
        .await
        .optional()?)
}

/// The comment `id`, locked until the transaction ends.
pub async fn lock(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<CommentRow>, DbError> {
    Ok(comments::table
        .find(id)
        .select(CommentRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

/// Deletes a comment and counts it.
pub async fn delete(conn: &mut AsyncPgConnection, comment: &CommentRow) -> Result<(), DbError> {
    diesel::delete(comments::table.find(comment.id))
        .execute(conn)
        .await?;
    adjust_count(conn, comment.article_id, -1).await
}

async fn adjust_count(
    conn: &mut AsyncPgConnection,
    article_id: i64,
    by: i32,
) -> Result<(), DbError> {
    diesel::update(articles::table.find(article_id))
        .set(articles::comments_count.eq(articles::comments_count + by))
        .execute(conn)
        .await?;
    Ok(())
}

/// The comments with these ids, in any order (one statement whatever the count).
pub async fn find_many(
    mut conn: &AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<CommentRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(comments::table
        .filter(comments::id.eq_any(ids))
        .select(CommentRow::as_select())
        .load(&mut conn)
        .await?)
}

/// The same page of comments on each of `article_ids`, in one statement (a LATERAL
/// join: one index range per article).
pub async fn pages(
    mut conn: &AsyncPgConnection,
    article_ids: &[i64],
    page: &PageQuery,
) -> Result<Vec<(i64, Page<CommentRow>)>, DbError> {
    if article_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (cmp, dir) = page.sql_order();
    let keyset = match page.from {
        Some(_) => format!("AND (c.created_at, c.id) {cmp} ($3, $4)"),
        None => String::new(),
    };
    let sql = format!(
        "SELECT c.id, c.article_id, c.author_id, c.body, c.created_at, c.updated_at \
         FROM unnest($1::bigint[]) AS a(id) CROSS JOIN LATERAL ( \
           SELECT * FROM comments c WHERE c.article_id = a.id {keyset} \
           ORDER BY c.created_at {dir}, c.id {dir} LIMIT $2) c"
    );
    let query = diesel::sql_query(sql)
        .bind::<Array<BigInt>, _>(article_ids)
        .bind::<BigInt, _>(page.fetch_limit());
    let rows: Vec<CommentRow> = match page.from {
        Some(from) => {
            query
                .bind::<Timestamptz, _>(from.created_at)
                .bind::<BigInt, _>(from.id)
                .load(&mut conn)
                .await?
        }
        None => query.load(&mut conn).await?,
    };
    let mut grouped: HashMap<i64, Vec<CommentRow>> = HashMap::new();
    for row in rows {
        grouped.entry(row.article_id).or_default().push(row);
    }
    Ok(article_ids
        .iter()
        .map(|id| (*id, page.finish(grouped.remove(id).unwrap_or_default())))
        .collect())
}

/// How many comments an article has (from its counter).
pub async fn count(mut conn: &AsyncPgConnection, article_id: i64) -> Result<i64, DbError> {
    let count: Option<i32> = articles::table
        .find(article_id)
        .select(articles::comments_count)
        .first(&mut conn)
        .await
        .optional()?;
    Ok(i64::from(count.unwrap_or(0)))
}
