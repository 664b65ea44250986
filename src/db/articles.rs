//! Queries on `articles` and `favorites`.

use chrono::{DateTime, Utc};
use diesel::{pg::Pg, prelude::*};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{
    DbError,
    keyset::{Page, PageQuery, Position, paginate},
    lower,
    schema::{article_total, articles, favorites, follows, tags, users},
};

/// Tag names as stored: never null (the column type allows null elements, the writes
/// never store one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagList(pub Vec<String>);

impl From<Vec<Option<String>>> for TagList {
    fn from(tags: Vec<Option<String>>) -> Self {
        Self(tags.into_iter().flatten().collect())
    }
}

/// A row of `articles`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = articles)]
pub struct ArticleRow {
    /// Primary key.
    pub id: i64,
    /// The author's user id.
    pub author_id: i64,
    /// Unique URL name, derived from the title.
    pub slug: String,
    /// Title.
    pub title: String,
    /// Short summary.
    pub description: String,
    /// Markdown body.
    pub body: String,
    /// Normalised tags, in the author's order.
    #[diesel(deserialize_as = Vec<Option<String>>)]
    pub tags: TagList,
    /// How many users have favorited it.
    pub favorites_count: i32,
    /// How many comments it has.
    pub comments_count: i32,
    /// When it was published.
    pub created_at: DateTime<Utc>,
    /// When its content last changed.
    pub updated_at: DateTime<Utc>,
    /// The body as sanitized HTML, rendered when it was written (`None`: written by an
    /// older build, or read without its body).
    pub body_html: Option<String>,
}

impl ArticleRow {
    /// The article's place in lists ordered newest first.
    pub fn position(&self) -> Position {
        Position {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

/// A new article, slug included.
#[derive(Debug, Insertable)]
#[diesel(table_name = articles)]
pub struct NewArticle<'a> {
    /// The author's user id.
    pub author_id: i64,
    /// A slug not yet in use (checked again by the unique index).
    pub slug: &'a str,
    /// Title.
    pub title: &'a str,
    /// Short summary.
    pub description: &'a str,
    /// Markdown body.
    pub body: &'a str,
    /// The body as sanitized HTML.
    pub body_html: &'a str,
    /// Normalised tags.
    pub tags: &'a [String],
}

/// Content changes; `None` leaves a column as it is.
#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = articles)]
pub struct ArticleChanges {
    /// New slug (with a new title).
    pub slug: Option<String>,
    /// New title.
    pub title: Option<String>,
    /// New summary.
    pub description: Option<String>,
    /// New body.
    pub body: Option<String>,
    /// The new body as sanitized HTML (always with a new body).
    pub body_html: Option<String>,
    /// New tags.
    pub tags: Option<Vec<String>>,
    /// The time of the edit.
    pub updated_at: Option<DateTime<Utc>>,
}

/// Which articles a list holds; the conditions combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ArticleFilter {
    /// Carrying this (normalised) tag.
    pub tag: Option<String>,
    /// Written by the user with this username (ignoring case).
    pub author: Option<String>,
    /// Written by this user id.
    pub author_id: Option<i64>,
    /// Favorited by the user with this username (ignoring case).
    pub favorited_by: Option<String>,
    /// Favorited by this user id.
    pub favorited_by_id: Option<i64>,
    /// Written by users this user id follows.
    pub feed_of: Option<i64>,
}

fn filtered(filter: &ArticleFilter) -> articles::BoxedQuery<'_, Pg> {
    let mut query = articles::table.into_boxed();
    if let Some(tag) = &filter.tag {
        query = query.filter(articles::tags.contains(vec![tag.as_str()]));
    }
    if let Some(username) = &filter.author {
        let author = users::table
            .filter(lower(users::username).eq(lower(username.as_str())))
            .select(users::id);
        query = query.filter(articles::author_id.eq_any(author));
    }
    if let Some(author_id) = filter.author_id {
        query = query.filter(articles::author_id.eq(author_id));
    }
    if let Some(username) = &filter.favorited_by {
        let favorited = favorites::table
            .inner_join(users::table)
            .filter(lower(users::username).eq(lower(username.as_str())))
            .select(favorites::article_id);
        query = query.filter(articles::id.eq_any(favorited));
    }
    if let Some(user_id) = filter.favorited_by_id {
        let favorited = favorites::table
            .filter(favorites::user_id.eq(user_id))
            .select(favorites::article_id);
        query = query.filter(articles::id.eq_any(favorited));
    }
    if let Some(user_id) = filter.feed_of {
        let followed = follows::table
            .filter(follows::follower_id.eq(user_id))
            .select(follows::followee_id);
        query = query.filter(articles::author_id.eq_any(followed));
    }
    query
}

/// Which columns a list reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// Every column.
    All,
    /// Every column but `body` (up to 400 kB a row), which reads as `""`, and
    /// `body_html`, which reads as `None`.
    WithoutBody,
}

/// One page of the articles matching `filter`, newest first, with the `columns` asked
/// for: one statement either way.
pub async fn page(
    mut conn: &AsyncPgConnection,
    filter: &ArticleFilter,
    page: &PageQuery,
    columns: Columns,
) -> Result<Page<ArticleRow>, DbError> {
    let query = paginate!(filtered(filter), page, articles::created_at, articles::id);
    let rows = match columns {
        Columns::All => {
            query
                .select(ArticleRow::as_select())
                .load(&mut conn)
                .await?
        }
        Columns::WithoutBody => {
            query
                .select((
                    articles::id,
                    articles::author_id,
                    articles::slug,
                    articles::title,
                    articles::description,
                    diesel::dsl::sql::<diesel::sql_types::Text>("''"),
                    articles::tags,
                    articles::favorites_count,
                    articles::comments_count,
                    articles::created_at,
                    articles::updated_at,
                    diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
                        "NULL",
                    ),
                ))
                .load::<ArticleRow>(&mut conn)
                .await?
        }
    };
    Ok(page.finish(rows))
}

/// Up to `limit` articles with ids above `after` without a stored `body_html` (written by
/// an older build, or by the seed): id, body, and the `updated_at` the rendering is for.
pub async fn missing_body_html(
    conn: &mut AsyncPgConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String, DateTime<Utc>)>, DbError> {
    Ok(articles::table
        .filter(articles::body_html.is_null())
        .filter(articles::id.gt(after))
        .order(articles::id)
        .limit(limit)
        .select((articles::id, articles::body, articles::updated_at))
        .load(conn)
        .await?)
}

/// Stores `html` as article `id`'s `body_html`, unless it was edited since `updated_at`
/// (its body may be another) or has one already; true when stored.
pub async fn store_body_html(
    conn: &mut AsyncPgConnection,
    id: i64,
    updated_at: DateTime<Utc>,
    html: &str,
) -> Result<bool, DbError> {
    let stored = diesel::update(
        articles::table
            .find(id)
            .filter(articles::updated_at.eq(updated_at))
            .filter(articles::body_html.is_null()),
    )
    .set(articles::body_html.eq(html))
    .execute(conn)
    .await?;
    Ok(stored > 0)
}

/// How many articles match `filter`, in one statement. The two common lists read a
/// maintained counter instead of counting rows: all articles (`article_total`, kept by
/// triggers) and one tag's (`tags.articles_count`, kept with each article's tags).
pub async fn count(mut conn: &AsyncPgConnection, filter: &ArticleFilter) -> Result<i64, DbError> {
    let only_tag = ArticleFilter {
        tag: None,
        ..filter.clone()
    } == ArticleFilter::default();
    match &filter.tag {
        None if only_tag => Ok(article_total::table
            .select(article_total::articles)
            .get_result(&mut conn)
            .await?),
        Some(tag) if only_tag => Ok(tags::table
            .find(tag)
            .select(tags::articles_count)
            .get_result::<i32>(&mut conn)
            .await
            .optional()?
            .map_or(0, i64::from)),
        _ => Ok(filtered(filter).count().get_result(&mut conn).await?),
    }
}

/// The articles with these ids, in any order (one statement whatever the count).
pub async fn find_many(
    mut conn: &AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<ArticleRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(articles::table
        .filter(articles::id.eq_any(ids))
        .select(ArticleRow::as_select())
        .load(&mut conn)
        .await?)
}

/// The article with this slug.
pub async fn find_by_slug(
    mut conn: &AsyncPgConnection,
    slug: &str,
) -> Result<Option<ArticleRow>, DbError> {
    Ok(articles::table
        .filter(articles::slug.eq(slug))
        .select(ArticleRow::as_select())
        .first(&mut conn)
        .await
        .optional()?)
}

/// The article with this slug, locked against deletion and concurrent edits until the
/// transaction ends: `FOR UPDATE` to edit or delete it, `FOR NO KEY UPDATE` to change
/// only its counters (comments, favorites) and rows that point at it.
pub async fn lock_by_slug(
    conn: &mut AsyncPgConnection,
    slug: &str,
    lock: Lock,
) -> Result<Option<ArticleRow>, DbError> {
    let query = articles::table
        .filter(articles::slug.eq(slug))
        .select(ArticleRow::as_select());
    let found = match lock {
        Lock::Update => query.for_update().first(conn).await,
        Lock::NoKeyUpdate => query.for_no_key_update().first(conn).await,
    };
    Ok(found.optional()?)
}

/// The article `id`, locked `FOR NO KEY UPDATE` until the transaction ends.
pub async fn lock_counters(
    conn: &mut AsyncPgConnection,
    id: i64,
) -> Result<Option<ArticleRow>, DbError> {
    Ok(articles::table
        .find(id)
        .select(ArticleRow::as_select())
        .for_no_key_update()
        .first(conn)
        .await
        .optional()?)
}

/// How firmly to lock an article row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// To edit or delete it.
    Update,
    /// To change its counters, or add rows that point at it.
    NoKeyUpdate,
}

/// The slugs in use that are `base` or `base-<anything>`.
pub async fn slugs_like(conn: &mut AsyncPgConnection, base: &str) -> Result<Vec<String>, DbError> {
    let pattern = format!("{}-%", escape_like(base));
    Ok(articles::table
        .filter(articles::slug.eq(base).or(articles::slug.like(pattern)))
        .select(articles::slug)
        .load(conn)
        .await?)
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Inserts an article; `None` when its slug was taken meanwhile.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: &NewArticle<'_>,
) -> Result<Option<ArticleRow>, DbError> {
    Ok(diesel::insert_into(articles::table)
        .values(new)
        .on_conflict(articles::slug)
        .do_nothing()
        .returning(ArticleRow::as_returning())
        .get_result(conn)
        .await
        .optional()?)
}

/// Applies `changes` to article `id`; `None` when a new slug was taken meanwhile.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    changes: &ArticleChanges,
) -> Result<Option<ArticleRow>, DbError> {
    use diesel::result::{DatabaseErrorKind, Error};
    let result = diesel::update(articles::table.find(id))
        .set(changes)
        .returning(ArticleRow::as_returning())
        .get_result(conn)
        .await;
    match result {
        Ok(row) => Ok(Some(row)),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
            if info.constraint_name() == Some("articles_slug_key") =>
        {
            Ok(None)
        }
        Err(err) => Err(err.into()),
    }
}

/// Deletes article `id` (its favorites go with it).
pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    diesel::delete(articles::table.find(id))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records that `user_id` favorites `article_id` and counts it; idempotent. Returns the
/// article as it is now, and whether this call changed anything.
pub async fn favorite(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    article_id: i64,
) -> Result<(ArticleRow, bool), DbError> {
    let inserted = diesel::insert_into(favorites::table)
        .values((
            favorites::user_id.eq(user_id),
            favorites::article_id.eq(article_id),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    let row = adjust_favorites(conn, article_id, inserted as i32).await?;
    Ok((row, inserted > 0))
}

/// Removes `user_id`'s favorite of `article_id` and counts it; idempotent. Returns the
/// article as it is now, and whether this call changed anything.
pub async fn unfavorite(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    article_id: i64,
) -> Result<(ArticleRow, bool), DbError> {
    let deleted = diesel::delete(favorites::table.find((user_id, article_id)))
        .execute(conn)
        .await?;
    let row = adjust_favorites(conn, article_id, -(deleted as i32)).await?;
    Ok((row, deleted > 0))
}

async fn adjust_favorites(
    conn: &mut AsyncPgConnection,
    article_id: i64,
    by: i32,
) -> Result<ArticleRow, DbError> {
    let article = articles::table.find(article_id);
    if by == 0 {
        return Ok(article
            .select(ArticleRow::as_select())
            .get_result(conn)
            .await?);
    }
    Ok(diesel::update(article)
        .set(articles::favorites_count.eq(articles::favorites_count + by))
        .returning(ArticleRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Which of the (user, article) `pairs` are favorites: one statement, however many pairs
/// and however many distinct users.
pub async fn favorited_pairs(
    mut conn: &AsyncPgConnection,
    pairs: &[(i64, i64)],
) -> Result<Vec<(i64, i64)>, DbError> {
    if pairs.is_empty() {
        return Ok(Vec::new());
    }
    let (users, articles): (Vec<i64>, Vec<i64>) = pairs.iter().copied().unzip();
    let rows: Vec<super::IdPair> = diesel::sql_query(
        "SELECT f.user_id AS a, f.article_id AS b FROM favorites f \
         JOIN unnest($1::int8[], $2::int8[]) AS k(a, b) \
         ON f.user_id = k.a AND f.article_id = k.b",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(users)
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(articles)
    .load(&mut conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.a, r.b)).collect())
}

/// Which of the articles `ids` exist (one statement).
pub async fn existing_among(
    mut conn: &AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<i64>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(articles::table
        .filter(articles::id.eq_any(ids))
        .select(articles::id)
        .load(&mut conn)
        .await?)
}
