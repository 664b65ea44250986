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
    schema::notifications,
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

/// How many notification mails a recipient gets (`EMAIL_NOTIFICATIONS_PER_HOUR`), and
/// when the summary of the rest goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailLimits {
    /// Most notification mails per recipient and rolling hour.
    pub per_hour: u32,
    /// How long after the first notification past the limit its summary is due.
    pub summary_delay: Duration,
}

/// The common table expressions that mail the notifications a statement's `n` CTE wrote
/// (`RETURNING id, recipient_id, kind, actor_id, article_id, comment_id, created_at`),
/// in the same statement: to each recipient who opted into that kind
/// (`users.email_notifications`) and whose address is verified, one `email.notification`
/// outbox row (the payload of `domain::mail::Mail::Notification`), while they had fewer
/// than `$limit` of them in the last hour and no summary is pending; past that, one
/// pending `email.notification_summary` row per recipient, due `$delay` ms later (the
/// unique index `outbox_pending_summary_idx` keeps it one). Both carry
/// `ordering_key = 'user:<recipient id>'`, which the hourly count scans by index.
fn mail_ctes(limit: &str, delay: &str) -> String {
    format!(
        "r AS ( \
           SELECT n.recipient_id, n.kind, n.actor_id, n.article_id, n.comment_id, n.created_at, \
             u.username, u.email, 'user:' || n.recipient_id AS okey, \
             (SELECT count(*) FROM outbox o WHERE o.ordering_key = 'user:' || n.recipient_id \
                AND o.kind = 'email.notification' \
                AND o.created_at > now() - interval '1 hour') AS sent, \
             EXISTS (SELECT 1 FROM outbox o WHERE o.ordering_key = 'user:' || n.recipient_id \
                AND o.kind = 'email.notification_summary' AND o.status = 'pending') AS pending \
           FROM n JOIN users u ON u.id = n.recipient_id \
           WHERE u.email_verified_at IS NOT NULL AND n.kind = ANY(u.email_notifications)), \
         mailed AS (INSERT INTO outbox (id, queue, kind, ordering_key, payload) \
           SELECT gen_random_uuid(), 'email', 'email.notification', r.okey, json_build_object( \
             'to', r.email, 'mail', json_build_object('template', 'notification', \
             'user_id', r.recipient_id, 'username', r.username, 'kind', r.kind, \
             'actor', a.username, 'article', CASE WHEN ar.id IS NULL THEN NULL \
               ELSE json_build_object('slug', ar.slug, 'title', ar.title) END, \
             'comment', left(c.body, 280)))::text \
           FROM r JOIN users a ON a.id = r.actor_id \
             LEFT JOIN articles ar ON ar.id = r.article_id \
             LEFT JOIN comments c ON c.id = r.comment_id \
           WHERE NOT r.pending AND r.sent < {limit} RETURNING 1), \
         summarized AS (INSERT INTO outbox (id, queue, kind, ordering_key, payload, next_attempt_at) \
           SELECT gen_random_uuid(), 'email', 'email.notification_summary', r.okey, \
             json_build_object('to', r.email, 'mail', json_build_object( \
               'template', 'notification_summary', 'user_id', r.recipient_id, \
               'username', r.username, 'since', r.created_at))::text, \
             now() + {delay} * interval '1 millisecond' \
           FROM r WHERE NOT r.pending AND r.sent >= {limit} \
           ON CONFLICT (ordering_key) \
             WHERE kind = 'email.notification_summary' AND status = 'pending' DO NOTHING \
           RETURNING 1)"
    )
}

/// What `n` returns for [`mail_ctes`].
const RETURNED: &str =
    "RETURNING id, recipient_id, kind, actor_id, article_id, comment_id, created_at";

fn delay_ms(limits: &MailLimits) -> i64 {
    i64::try_from(limits.summary_delay.as_millis()).unwrap_or(i64::MAX)
}

/// Writes one notification unless the same recipient already has one of the same kind,
/// actor and article written less than `dedup_window` ago (`None`, or zero: always
/// writes), and mails it as `limits` allow ([`mail_ctes`]); one statement either way.
/// Returns its id, or `None` when it was a repeat.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: NewNotification<'_>,
    dedup_window: Option<Duration>,
    limits: &MailLimits,
) -> Result<Option<i64>, DbError> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let Some(window) = dedup_window.filter(|w| !w.is_zero()) else {
        let sql = format!(
            "WITH n AS (INSERT INTO notifications (recipient_id, kind, actor_id, article_id, \
               comment_id) VALUES ($1, $2, $3, $4, $5) {RETURNED}), {} SELECT id FROM n",
            mail_ctes("$6", "$7")
        );
        let written: Id = diesel::sql_query(sql)
            .bind::<BigInt, _>(new.recipient_id)
            .bind::<Text, _>(new.kind)
            .bind::<BigInt, _>(new.actor_id)
            .bind::<Nullable<BigInt>, _>(new.article_id)
            .bind::<Nullable<BigInt>, _>(new.comment_id)
            .bind::<BigInt, _>(i64::from(limits.per_hour))
            .bind::<BigInt, _>(delay_ms(limits))
            .get_result(conn)
            .await?;
        return Ok(Some(written.id));
    };
    let sql = format!(
        "WITH n AS (INSERT INTO notifications (recipient_id, kind, actor_id, article_id, comment_id) \
         SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (\
             SELECT 1 FROM notifications \
             WHERE recipient_id = $1 AND actor_id = $3 AND kind = $2 \
               AND article_id IS NOT DISTINCT FROM $4 \
               AND created_at > now() - make_interval(secs => $6)) \
         {RETURNED}), {} SELECT id FROM n",
        mail_ctes("$7", "$8")
    );
    let written: Option<Id> = diesel::sql_query(sql)
        .bind::<BigInt, _>(new.recipient_id)
        .bind::<Text, _>(new.kind)
        .bind::<BigInt, _>(new.actor_id)
        .bind::<Nullable<BigInt>, _>(new.article_id)
        .bind::<Nullable<BigInt>, _>(new.comment_id)
        .bind::<Double, _>(window.as_secs_f64())
        .bind::<BigInt, _>(i64::from(limits.per_hour))
        .bind::<BigInt, _>(delay_ms(limits))
        .get_result(conn)
        .await
        .optional()?;
    Ok(written.map(|row| row.id))
}

/// Notifies every follower of `author_id` that they published `article_id`, and mails
/// those who opted in as `limits` allow ([`mail_ctes`]): one `INSERT ... SELECT`,
/// however many followers there are. Returns how many were notified.
pub async fn fan_out_published(
    conn: &mut AsyncPgConnection,
    author_id: i64,
    article_id: i64,
    limits: &MailLimits,
) -> Result<usize, DbError> {
    #[derive(QueryableByName)]
    struct Written {
        #[diesel(sql_type = BigInt)]
        written: i64,
    }
    let sql = format!(
        "WITH n AS (INSERT INTO notifications (recipient_id, kind, actor_id, article_id) \
           SELECT follower_id, '{}', $1, $2 FROM follows WHERE followee_id = $1 {RETURNED}), \
         {} SELECT count(*) AS written FROM n",
        kind::ARTICLE_PUBLISHED,
        mail_ctes("$3", "$4")
    );
    let written: Written = diesel::sql_query(sql)
        .bind::<BigInt, _>(author_id)
        .bind::<BigInt, _>(article_id)
        .bind::<BigInt, _>(i64::from(limits.per_hour))
        .bind::<BigInt, _>(delay_ms(limits))
        .get_result(conn)
        .await?;
    Ok(usize::try_from(written.written).unwrap_or(0))
}

/// One notification a summary mail lists.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Summarized {
    /// How many the summary covers in all (the same on every row).
    #[diesel(sql_type = BigInt)]
    pub total: i64,
    /// One of the [`kind`] values.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// Who acted (their username).
    #[diesel(sql_type = Text)]
    pub actor: String,
    /// The article's slug, if any.
    #[diesel(sql_type = Nullable<Text>)]
    pub slug: Option<String>,
    /// The article's title, if any.
    #[diesel(sql_type = Nullable<Text>)]
    pub title: Option<String>,
}

/// The notifications of `recipient_id` written since `since` whose kind they still get
/// by email (a verified address), newest first: at most `limit` rows, each with the
/// total. Empty when there are none (or the user is gone).
pub async fn summarize(
    conn: &mut AsyncPgConnection,
    recipient_id: i64,
    since: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Summarized>, DbError> {
    Ok(diesel::sql_query(
        "SELECT count(*) OVER () AS total, n.kind, a.username AS actor, ar.slug, ar.title \
         FROM notifications n JOIN users u ON u.id = n.recipient_id \
           JOIN users a ON a.id = n.actor_id LEFT JOIN articles ar ON ar.id = n.article_id \
         WHERE n.recipient_id = $1 AND n.created_at >= $2 \
           AND u.email_verified_at IS NOT NULL AND n.kind = ANY(u.email_notifications) \
         ORDER BY n.created_at DESC, n.id DESC LIMIT $3",
    )
    .bind::<BigInt, _>(recipient_id)
    .bind::<diesel::sql_types::Timestamptz, _>(since)
    .bind::<BigInt, _>(limit)
    .load(conn)
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
