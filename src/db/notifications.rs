//! Queries on `notifications`: written in the transaction of the action that causes them,
//! a repeat within the duplicate window skipped in the same statement.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::{
    dsl::now,
    prelude::*,
    sql_types::{BigInt, Double, Nullable, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{
    DbError,
    keyset::{Page, PageQuery, paginate},
    schema::{follows, notifications},
};

/// The value stored in `notifications.kind`.
pub mod kind {
    /// Someone followed the recipient.
    pub const NEW_FOLLOWER: &str = "new_follower";
    /// Someone favorited the recipient's article.
    pub const ARTICLE_FAVORITED: &str = "article_favorited";
    /// Someone commented on the recipient's article.
    pub const COMMENT_ADDED: &str = "comment_added";
    /// Someone the recipient follows published an article.
    pub const ARTICLE_PUBLISHED: &str = "article_published";
    /// One of the recipient's webhooks stopped delivering (the recipient is the actor).
    pub const WEBHOOK_DISABLED: &str = "webhook_disabled";
}

/// A row of `notifications`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    /// Primary key.
    pub id: i64,
    /// Who is notified.
    pub recipient_id: i64,
    /// One of the [`kind`] values.
    pub kind: String,
    /// Who acted.
    pub actor_id: i64,
    /// The article concerned, if any.
    pub article_id: Option<i64>,
    /// The comment concerned, if any.
    pub comment_id: Option<i64>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// When the recipient marked it read.
    pub read_at: Option<DateTime<Utc>>,
}

/// A notification to write.
#[derive(Debug, Clone, Copy, Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification<'a> {
    /// Who is notified (never the actor).
    pub recipient_id: i64,
    /// One of the [`kind`] values.
    pub kind: &'a str,
    /// Who acted.
    pub actor_id: i64,
    /// The article concerned, if any.
    pub article_id: Option<i64>,
    /// The comment concerned, if any.
    pub comment_id: Option<i64>,
}

/// Writes one notification unless the same recipient already has one of the same kind,
/// actor and article written less than `dedup_window` ago (`None`, or zero: always
/// writes); one statement either way. Returns its id, or `None` when it was a repeat.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: NewNotification<'_>,
    dedup_window: Option<Duration>,
) -> Result<Option<i64>, DbError> {
    let Some(window) = dedup_window.filter(|w| !w.is_zero()) else {
        return Ok(Some(
            diesel::insert_into(notifications::table)
                .values(new)
                .returning(notifications::id)
                .get_result(conn)
                .await?,
        ));
    };
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let written: Option<Id> = diesel::sql_query(
        "INSERT INTO notifications (recipient_id, kind, actor_id, article_id, comment_id) \
         SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (\
             SELECT 1 FROM notifications \
             WHERE recipient_id = $1 AND actor_id = $3 AND kind = $2 \
               AND article_id IS NOT DISTINCT FROM $4 \
               AND created_at > now() - make_interval(secs => $6)) \
         RETURNING id",
    )
    .bind::<BigInt, _>(new.recipient_id)
    .bind::<Text, _>(new.kind)
    .bind::<BigInt, _>(new.actor_id)
    .bind::<Nullable<BigInt>, _>(new.article_id)
    .bind::<Nullable<BigInt>, _>(new.comment_id)
    .bind::<Double, _>(window.as_secs_f64())
    .get_result(conn)
    .await
    .optional()?;
    Ok(written.map(|row| row.id))
}

/// Notifies every follower of `author_id` that they published `article_id`: one
/// `INSERT ... SELECT`, however many followers there are. Returns how many.
pub async fn fan_out_published(
    conn: &mut AsyncPgConnection,
    author_id: i64,
    article_id: i64,
) -> Result<usize, DbError> {
    let rows = follows::table
        .filter(follows::followee_id.eq(author_id))
        .select((
            follows::follower_id,
            kind::ARTICLE_PUBLISHED.into_sql::<Text>(),
            author_id.into_sql::<BigInt>(),
            Some(article_id).into_sql::<Nullable<BigInt>>(),
        ));
    Ok(diesel::insert_into(notifications::table)
        .values(rows)
        .into_columns((
            notifications::recipient_id,
            notifications::kind,
            notifications::actor_id,
            notifications::article_id,
        ))
        .execute(conn)
        .await?)
}

/// Marks `recipient_id`'s unread notifications read: those in `ids`, or all of them.
/// Returns how many changed.
pub async fn mark_read(
    conn: &mut AsyncPgConnection,
    recipient_id: i64,
    ids: Option<&[i64]>,
) -> Result<usize, DbError> {
    let unread = notifications::table
        .filter(notifications::recipient_id.eq(recipient_id))
        .filter(notifications::read_at.is_null());
    let changed = match ids {
        Some(ids) => {
            diesel::update(unread.filter(notifications::id.eq_any(ids)))
                .set(notifications::read_at.eq(now))
                .execute(conn)
                .await?
        }
        None => {
            diesel::update(unread)
                .set(notifications::read_at.eq(now))
                .execute(conn)
                .await?
        }
    };
    Ok(changed)
}

/// The notifications with these ids, in any order (one statement whatever the count).
pub async fn find_many(
    mut conn: &AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<NotificationRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(notifications::table
        .filter(notifications::id.eq_any(ids))
        .select(NotificationRow::as_select())
        .load(&mut conn)
        .await?)
}

fn of(recipient_id: i64, unread_only: bool) -> notifications::BoxedQuery<'static, diesel::pg::Pg> {
    let query = notifications::table
        .filter(notifications::recipient_id.eq(recipient_id))
        .into_boxed();
    if unread_only {
        query.filter(notifications::read_at.is_null())
    } else {
        query
    }
}

/// One page of a user's notifications, newest first.
pub async fn page(
    mut conn: &AsyncPgConnection,
    recipient_id: i64,
    unread_only: bool,
    page: &PageQuery,
) -> Result<Page<NotificationRow>, DbError> {
    let rows = paginate!(
        of(recipient_id, unread_only),
        page,
        notifications::created_at,
        notifications::id
    )
    .select(NotificationRow::as_select())
    .load(&mut conn)
    .await?;
    Ok(page.finish(rows))
}

/// How many notifications (or unread ones) a user has.
pub async fn count(
    mut conn: &AsyncPgConnection,
    recipient_id: i64,
    unread_only: bool,
) -> Result<i64, DbError> {
    Ok(of(recipient_id, unread_only)
        .count()
        .get_result(&mut conn)
        .await?)
}

/// The `ARTICLE_PUBLISHED` notifications of `article_id` among `recipient_ids` (one
/// statement whatever the count).
pub async fn published_for(
    mut conn: &AsyncPgConnection,
    article_id: i64,
    recipient_ids: &[i64],
) -> Result<Vec<NotificationRow>, DbError> {
    if recipient_ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(notifications::table
        .filter(notifications::article_id.eq(article_id))
        .filter(notifications::kind.eq(kind::ARTICLE_PUBLISHED))
        .filter(notifications::recipient_id.eq_any(recipient_ids))
        .select(NotificationRow::as_select())
        .load(&mut conn)
        .await?)
}
