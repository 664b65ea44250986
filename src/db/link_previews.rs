//! What a shared link to an article previews with (its Open Graph tags): one query on
//! `articles` and its author.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{
    DbError,
    schema::{articles, users},
};

/// An article's title, description, author and publication time.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ArticlePreviewRow {
    /// The article's title.
    pub title: String,
    /// Its description (the summary under the title).
    pub description: String,
    /// Its author's username.
    pub author: String,
    /// When it was published.
    pub created_at: DateTime<Utc>,
}

/// The preview of the article with this slug, if there is one.
pub async fn article(
    mut conn: &AsyncPgConnection,
    slug: &str,
) -> Result<Option<ArticlePreviewRow>, DbError> {
    Ok(articles::table
        .inner_join(users::table.on(users::id.eq(articles::author_id)))
        .filter(articles::slug.eq(slug))
        .select((
            articles::title,
            articles::description,
            users::username,
            articles::created_at,
        ))
        .first(&mut conn)
        .await
        .optional()?)
}
