//! Notifications: who hears of what. Each is written in the transaction of its cause,
//! never for the actor's own actions, and never deleted by an undo (unfollow, unfavorite).
//! Each announces itself ([`Event::NotificationAdded`], [`Event::ArticlePublished`]).
//!
//! May call: `db`.

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::{
    events::{Event, Events},
    policy::Viewer,
    validation::FieldErrors,
};
use crate::{
    db::{
        self, PgPool,
        articles::ArticleRow,
        comments::CommentRow,
        notifications::{NewNotification, kind},
        users::UserRow,
    },
    error::AppError,
};

/// Most ids `markNotificationsRead` takes at once.
pub const MARK_READ_MAX: usize = 100;

/// `viewer` followed `followee`.
pub async fn new_follower(
    tx: &mut AsyncPgConnection,
    events: &Events,
    viewer: &Viewer,
    followee: &UserRow,
) -> Result<(), AppError> {
    notify(
        tx,
        events,
        followee.id,
        kind::NEW_FOLLOWER,
        viewer.user_id,
        None,
        None,
    )
    .await
}

/// `viewer` favorited `article`.
pub async fn article_favorited(
    tx: &mut AsyncPgConnection,
    events: &Events,
    viewer: &Viewer,
    article: &ArticleRow,
) -> Result<(), AppError> {
    let article_id = Some(article.id);
    notify(
        tx,
        events,
        article.author_id,
        kind::ARTICLE_FAVORITED,
        viewer.user_id,
        article_id,
        None,
    )
    .await
}

/// `comment` was added to `article`.
pub async fn comment_added(
    tx: &mut AsyncPgConnection,
    events: &Events,
    article: &ArticleRow,
    comment: &CommentRow,
) -> Result<(), AppError> {
    let (article_id, comment_id) = (Some(article.id), Some(comment.id));
    notify(
        tx,
        events,
        article.author_id,
        kind::COMMENT_ADDED,
        comment.author_id,
        article_id,
        comment_id,
    )
    .await
}

/// `article` was published: every follower of its author hears of it, in one statement.
pub async fn article_published(
    tx: &mut AsyncPgConnection,
    events: &Events,
    article: &ArticleRow,
) -> Result<(), AppError> {
    let followers = db::notifications::fan_out_published(tx, article.author_id, article.id).await?;
    if followers > 0 {
        let event = Event::ArticlePublished {
            article: article.id,
        };
        events.publish(tx, &event).await?;
    }
    Ok(())
}

async fn notify(
    tx: &mut AsyncPgConnection,
    events: &Events,
    recipient_id: i64,
    kind: &str,
    actor_id: i64,
    article_id: Option<i64>,
    comment_id: Option<i64>,
) -> Result<(), AppError> {
    if recipient_id == actor_id {
        return Ok(());
    }
    let new = NewNotification {
        recipient_id,
        kind,
        actor_id,
        article_id,
        comment_id,
    };
    let notification = db::notifications::insert(tx, new).await?;
    let event = Event::NotificationAdded {
        recipient: recipient_id,
        notification,
    };
    Ok(events.publish(tx, &event).await?)
}

/// Marks `viewer`'s notifications `ids` (all when `None`) read; returns how many changed.
/// Ids of other users' notifications change nothing.
pub async fn mark_read(
    pool: &PgPool,
    viewer: &Viewer,
    ids: Option<Vec<i64>>,
) -> Result<usize, AppError> {
    if ids.as_ref().is_some_and(|ids| ids.len() > MARK_READ_MAX) {
        let mut errors = FieldErrors::default();
        errors.check("ids", Some(format!("at most {MARK_READ_MAX} IDs")));
        errors.into_result()?;
    }
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        Ok(db::notifications::mark_read(tx, viewer.user_id, ids.as_deref()).await?)
    })
    .await
}
