//! Notifications: who hears of what. Each is written in the transaction of its cause,
//! never for the actor's own actions, and never deleted by an undo (unfollow, unfavorite).
//! [`notice`] is the rule for a follow, favorite or comment, pure, so the seed reuses it.
//! Each announces itself ([`Event::NotificationAdded`], [`Event::ArticlePublished`]).
//! A follow or favorite repeated within [`NotificationConfig::dedup_window`] (a
//! follow/unfollow or favorite/unfavorite cycle) adds no notification and announces
//! nothing; the check is part of the insert, one statement.
//!
//! Each notification is also mailed, in the same statement, to a recipient who opted into
//! its kind and verified their address, at most [`MailLimits::per_hour`] an hour; past
//! that, one summary per recipient (`db::notifications`, `domain::mail::Mail`).
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
        notifications::{MailLimits, NewNotification, kind},
        users::UserRow,
    },
    error::AppError,
};

/// How notifications are written (`NOTIFICATION_DEDUP_WINDOW`) and mailed
/// (`EMAIL_NOTIFICATIONS_PER_HOUR`, `EMAIL_NOTIFICATIONS_SUMMARY_DELAY_MS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationConfig {
    /// A repeat of the same (recipient, kind, actor, article) within this adds no
    /// notification (zero: every one does).
    pub dedup_window: std::time::Duration,
    /// How many notification mails a recipient gets per hour, and when the summary of
    /// the rest goes out.
    pub mail: MailLimits,
}

/// Most ids `markNotificationsRead` takes at once.
pub const MARK_READ_MAX: usize = 100;

/// What happened, as far as a single notification is concerned: the parties of a follow, a
/// favorite or a comment. `T` stands for a row: an id here; the seed, which writes
/// notifications in bulk by the same rule, passes SQL columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause<T> {
    /// A follow.
    Follow {
        /// Who followed.
        follower: T,
        /// Who was followed.
        followee: T,
    },
    /// A favorite.
    Favorite {
        /// Who favorited.
        user: T,
        /// The article favorited.
        article: T,
        /// The article's author.
        author: T,
    },
    /// A comment added to an article.
    Comment {
        /// The comment.
        comment: T,
        /// Who wrote the comment.
        commenter: T,
        /// The article commented on.
        article: T,
        /// The article's author.
        author: T,
    },
}

/// The notification a [`Cause`] creates. It is written only when `recipient` is not
/// `actor`: nobody hears of their own actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice<T> {
    /// Who hears of it.
    pub recipient: T,
    /// One of the `db::notifications::kind` values.
    pub kind: &'static str,
    /// Whose action it was.
    pub actor: T,
    /// The article concerned, if any.
    pub article: Option<T>,
    /// The comment concerned, if any.
    pub comment: Option<T>,
}

/// Who hears of `cause`, as which kind: a follow tells the followee; a favorite and a
/// comment tell the article's author.
pub fn notice<T>(cause: Cause<T>) -> Notice<T> {
    let (recipient, kind, actor, article, comment) = match cause {
        Cause::Follow { follower, followee } => {
            (followee, kind::NEW_FOLLOWER, follower, None, None)
        }
        Cause::Favorite {
            user,
            article,
            author,
        } => (author, kind::ARTICLE_FAVORITED, user, Some(article), None),
        Cause::Comment {
            comment,
            commenter,
            article,
            author,
        } => (
            author,
            kind::COMMENT_ADDED,
            commenter,
            Some(article),
            Some(comment),
        ),
    };
    Notice {
        recipient,
        kind,
        actor,
        article,
        comment,
    }
}

/// `viewer` followed `followee` (a repeat within the window adds nothing).
pub async fn new_follower(
    tx: &mut AsyncPgConnection,
    events: &Events,
    rules: &NotificationConfig,
    viewer: &Viewer,
    followee: &UserRow,
) -> Result<(), AppError> {
    let (follower, followee) = (viewer.user_id, followee.id);
    let notice = notice(Cause::Follow { follower, followee });
    notify(tx, events, rules, notice, Some(rules.dedup_window)).await
}

/// `viewer` favorited `article` (a repeat within the window adds nothing).
pub async fn article_favorited(
    tx: &mut AsyncPgConnection,
    events: &Events,
    rules: &NotificationConfig,
    viewer: &Viewer,
    article: &ArticleRow,
) -> Result<(), AppError> {
    let cause = Cause::Favorite {
        user: viewer.user_id,
        article: article.id,
        author: article.author_id,
    };
    notify(tx, events, rules, notice(cause), Some(rules.dedup_window)).await
}

/// `comment` was added to `article`.
pub async fn comment_added(
    tx: &mut AsyncPgConnection,
    events: &Events,
    rules: &NotificationConfig,
    article: &ArticleRow,
    comment: &CommentRow,
) -> Result<(), AppError> {
    let cause = Cause::Comment {
        comment: comment.id,
        commenter: comment.author_id,
        article: article.id,
        author: article.author_id,
    };
    // Every comment is news: never a repeat.
    notify(tx, events, rules, notice(cause), None).await
}

/// `article` was published: every follower of its author hears of it, in one statement.
pub async fn article_published(
    tx: &mut AsyncPgConnection,
    events: &Events,
    rules: &NotificationConfig,
    article: &ArticleRow,
) -> Result<(), AppError> {
    let followers =
        db::notifications::fan_out_published(tx, article.author_id, article.id, &rules.mail)
            .await?;
    if followers > 0 {
        let event = Event::ArticlePublished {
            article: article.id,
        };
        events.publish(tx, &event).await?;
    }
    Ok(())
}

/// Writes `notice` (unless a repeat within `dedup_window`) and announces it.
async fn notify(
    tx: &mut AsyncPgConnection,
    events: &Events,
    rules: &NotificationConfig,
    notice: Notice<i64>,
    dedup_window: Option<std::time::Duration>,
) -> Result<(), AppError> {
    let Notice {
        recipient: recipient_id,
        kind,
        actor: actor_id,
        article: article_id,
        comment: comment_id,
    } = notice;
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
    let Some(notification) = db::notifications::insert(tx, new, dedup_window, &rules.mail).await?
    else {
        return Ok(());
    };
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
