//! Comments: adding and deleting, each in one transaction with its counter and
//! notification and the event it announces.
//!
//! May call: `db`.

use diesel_async::AsyncConnection;

use super::{
    articles,
    events::{Event, Events},
    notifications,
    policy::{self, Viewer},
    validation::{self, FieldErrors},
    webhooks,
};
use crate::{
    db::{self, PgPool, articles::Lock, comments::CommentRow},
    error::AppError,
};

/// `viewer` comments `body` on the article `slug`.
pub async fn add(
    pool: &PgPool,
    events: &Events,
    rules: &notifications::NotificationConfig,
    viewer: &Viewer,
    slug: &str,
    body: &str,
) -> Result<CommentRow, AppError> {
    let mut errors = FieldErrors::default();
    errors.check("body", validation::comment(body));
    errors.into_result()?;

    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let article = articles::find_for_write(tx, slug, Lock::NoKeyUpdate).await?;
        let comment = db::comments::insert(tx, article.id, viewer.user_id, body).await?;
        notifications::comment_added(tx, events, rules, &article, &comment).await?;
        webhooks::events::comment_added(tx, &article, &comment).await?;
        let event = Event::CommentAdded {
            article: article.id,
            comment: comment.id,
        };
        events.publish(tx, &event).await?;
        Ok(comment)
    })
    .await
}

/// Deletes comment `id`: its author or an admin. Returns the comment's article id.
pub async fn delete(
    pool: &PgPool,
    events: &Events,
    viewer: &Viewer,
    id: i64,
) -> Result<i64, AppError> {
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let not_found = || AppError::NotFound("No such comment.".into());
        // The article first, then the comment: the order deleteArticle locks them in
        // (its cascade reaches the comments), so the two cannot deadlock.
        let article_id = db::comments::article_of(tx, id)
            .await?
            .ok_or_else(not_found)?;
        db::articles::lock_counters(tx, article_id).await?;
        let comment = db::comments::lock(tx, id).await?.ok_or_else(not_found)?;
        if !policy::can_delete_comment(Some(viewer), comment.author_id) {
            return Err(AppError::Forbidden(
                "Only the comment's author or an admin may delete it.".into(),
            ));
        }
        db::comments::delete(tx, &comment).await?;
        let event = Event::CommentDeleted {
            article: comment.article_id,
            comment: comment.id,
        };
        events.publish(tx, &event).await?;
        Ok(comment.article_id)
    })
    .await
}
