//! The JSON bodies of webhook deliveries: `{"type", "timestamp", "data"}`, with the
//! global ids the API shows and public fields only (never an email, never an article's
//! body: receivers fetch what else they need through the API). The text built here is
//! stored in the outbox and is exactly the body signed and sent.
//!
//! May call: `db` (row types).

use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::WebhookEvent;
use crate::{
    db::{articles::ArticleRow, comments::CommentRow},
    domain::{ids::global_id, validation},
};

/// The largest body, in bytes: `comment.added` with a comment at its longest (4 bytes a
/// character), plus 8 KiB for the ids, the article's title and slug and the envelope
/// (every other event's body is smaller: an article's description and title at their
/// longest take 4,800 bytes).
pub const PAYLOAD_MAX_BYTES: usize = validation::utf8_bytes(validation::COMMENT_MAX) + 8 * 1024;

#[derive(Serialize)]
struct Body<'a> {
    r#type: &'a str,
    timestamp: String,
    data: Value,
}

/// The body of `event` carrying `data`, stamped now.
pub fn body(event: WebhookEvent, data: Value) -> String {
    let body = Body {
        r#type: event.type_name(),
        timestamp: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        data,
    };
    serde_json::to_string(&body).expect("a JSON value serializes")
}

fn user(id: i64) -> Value {
    json!({ "id": global_id("User", id) })
}

/// An article's public fields (not its body).
pub fn article(row: &ArticleRow) -> Value {
    json!({
        "id": global_id("Article", row.id),
        "slug": row.slug,
        "title": row.title,
        "description": row.description,
        "tags": row.tags.0,
        "createdAt": row.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "updatedAt": row.updated_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        "favoritesCount": row.favorites_count,
        "author": user(row.author_id),
    })
}

/// `article.published` and `article.updated`.
pub fn article_event(event: WebhookEvent, row: &ArticleRow) -> String {
    body(event, json!({ "article": article(row) }))
}

/// `article.deleted`: the article as it was.
pub fn article_deleted(row: &ArticleRow) -> String {
    let data = json!({
        "article": {
            "id": global_id("Article", row.id),
            "slug": row.slug,
            "title": row.title,
            "author": user(row.author_id),
        }
    });
    body(WebhookEvent::ArticleDeleted, data)
}

/// `article.favorited` by `user_id`.
pub fn article_favorited(row: &ArticleRow, user_id: i64) -> String {
    let data = json!({ "article": article(row), "user": user(user_id) });
    body(WebhookEvent::ArticleFavorited, data)
}

/// `comment.added` to `article`.
pub fn comment_added(article_row: &ArticleRow, comment: &CommentRow) -> String {
    let data = json!({
        "comment": {
            "id": global_id("Comment", comment.id),
            "body": comment.body,
            "createdAt": comment.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            "author": user(comment.author_id),
        },
        "article": {
            "id": global_id("Article", article_row.id),
            "slug": article_row.slug,
            "title": article_row.title,
        },
    });
    body(WebhookEvent::CommentAdded, data)
}

/// `user.followed`: `follower_id` followed `followee_id`.
pub fn user_followed(follower_id: i64, followee_id: i64) -> String {
    let data = json!({ "follower": user(follower_id), "user": user(followee_id) });
    body(WebhookEvent::NewFollower, data)
}

/// `ping`, for webhook `webhook_id`.
pub fn ping(webhook_id: i64) -> String {
    body(
        WebhookEvent::Ping,
        json!({ "webhook": { "id": global_id("Webhook", webhook_id) } }),
    )
}
