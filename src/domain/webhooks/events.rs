//! The deliveries a write queues, in its own transaction: one `INSERT ... SELECT` per
//! event (one statement whether the owner has no webhooks or twenty), for the active
//! webhooks of the content's owner subscribed to it. Nobody's webhook hears of their own
//! favorite or comment (as with notifications).
//!
//! May call: `db`.

use diesel_async::AsyncPgConnection;

use super::{WebhookEvent, payload};
use crate::db::{self, DbError, articles::ArticleRow, comments::CommentRow};

async fn queue(
    tx: &mut AsyncPgConnection,
    owner: i64,
    event: WebhookEvent,
    body: &str,
) -> Result<(), DbError> {
    db::deliveries::fan_out(tx, owner, event.as_db(), body).await?;
    Ok(())
}

/// `article` was published.
pub async fn article_published(
    tx: &mut AsyncPgConnection,
    article: &ArticleRow,
) -> Result<(), DbError> {
    let event = WebhookEvent::ArticlePublished;
    let body = payload::article_event(event, article);
    queue(tx, article.author_id, event, &body).await
}

/// `article` was edited.
pub async fn article_updated(
    tx: &mut AsyncPgConnection,
    article: &ArticleRow,
) -> Result<(), DbError> {
    let event = WebhookEvent::ArticleUpdated;
    let body = payload::article_event(event, article);
    queue(tx, article.author_id, event, &body).await
}

/// `article` was deleted (by its author or an admin).
pub async fn article_deleted(
    tx: &mut AsyncPgConnection,
    article: &ArticleRow,
) -> Result<(), DbError> {
    let body = payload::article_deleted(article);
    queue(tx, article.author_id, WebhookEvent::ArticleDeleted, &body).await
}

/// `user_id` favorited `article`.
pub async fn article_favorited(
    tx: &mut AsyncPgConnection,
    user_id: i64,
    article: &ArticleRow,
) -> Result<(), DbError> {
    if user_id == article.author_id {
        return Ok(());
    }
    let body = payload::article_favorited(article, user_id);
    queue(tx, article.author_id, WebhookEvent::ArticleFavorited, &body).await
}

/// `comment` was added to `article`.
pub async fn comment_added(
    tx: &mut AsyncPgConnection,
    article: &ArticleRow,
    comment: &CommentRow,
) -> Result<(), DbError> {
    if comment.author_id == article.author_id {
        return Ok(());
    }
    let body = payload::comment_added(article, comment);
    queue(tx, article.author_id, WebhookEvent::CommentAdded, &body).await
}

/// `follower_id` followed `followee_id`.
pub async fn new_follower(
    tx: &mut AsyncPgConnection,
    follower_id: i64,
    followee_id: i64,
) -> Result<(), DbError> {
    let body = payload::user_followed(follower_id, followee_id);
    queue(tx, followee_id, WebhookEvent::NewFollower, &body).await
}
