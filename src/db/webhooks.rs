//! Queries on `webhooks`: a user's endpoints, their sealed signing secrets, and the
//! failure count that disables them.

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Integer, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{
    DbError,
    articles::TagList,
    keyset::{Page, PageQuery, paginate},
    schema::{users, webhooks},
};

/// A row of `webhooks`.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = webhooks)]
pub struct WebhookRow {
    /// Primary key.
    pub id: i64,
    /// The owner.
    pub user_id: i64,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The events subscribed to (`domain::webhooks::WebhookEvent::as_db` values).
    #[diesel(deserialize_as = Vec<Option<String>>)]
    pub events: TagList,
    /// False when paused by the owner or disabled by delivery failures.
    pub active: bool,
    /// Why delivery stopped, when it did.
    pub disabled_reason: Option<String>,
    /// The sealed signing secret.
    pub secret_ciphertext: Vec<u8>,
    /// Its nonce.
    pub secret_nonce: Vec<u8>,
    /// The server key it is sealed under.
    pub secret_key_id: String,
    /// The secret before the latest rotation, sealed.
    pub previous_ciphertext: Option<Vec<u8>>,
    /// Its nonce.
    pub previous_nonce: Option<Vec<u8>>,
    /// Its server key.
    pub previous_key_id: Option<String>,
    /// Until when the previous secret still signs.
    pub previous_expires_at: Option<DateTime<Utc>>,
    /// Failed attempts in a row.
    pub consecutive_failures: i32,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// A sealed secret's three columns.
#[derive(Debug, Clone, Copy)]
pub struct SealedColumns<'a> {
    /// The ciphertext.
    pub ciphertext: &'a [u8],
    /// The nonce.
    pub nonce: &'a [u8],
    /// The server key's id.
    pub key_id: &'a str,
}

/// A new webhook.
#[derive(Debug, Clone, Copy)]
pub struct NewWebhook<'a> {
    /// The owner.
    pub user_id: i64,
    /// The endpoint.
    pub url: &'a str,
    /// The events.
    pub events: &'a [String],
    /// Its sealed secret.
    pub secret: SealedColumns<'a>,
}

/// Writes `new` unless its owner has `max` webhooks already (`None` then). The owner's
/// row is locked first, so that concurrent registrations count each other.
pub async fn insert(
    conn: &mut AsyncPgConnection,
    new: NewWebhook<'_>,
    max: i64,
) -> Result<Option<WebhookRow>, DbError> {
    users::table
        .find(new.user_id)
        .select(users::id)
        .for_no_key_update()
        .first::<i64>(conn)
        .await?;
    let existing: i64 = webhooks::table
        .filter(webhooks::user_id.eq(new.user_id))
        .count()
        .get_result(conn)
        .await?;
    if existing >= max {
        return Ok(None);
    }
    Ok(Some(
        diesel::insert_into(webhooks::table)
            .values((
                webhooks::user_id.eq(new.user_id),
                webhooks::url.eq(new.url),
                webhooks::events.eq(new.events),
                webhooks::secret_ciphertext.eq(new.secret.ciphertext),
                webhooks::secret_nonce.eq(new.secret.nonce),
                webhooks::secret_key_id.eq(new.secret.key_id),
            ))
            .returning(WebhookRow::as_returning())
            .get_result(conn)
            .await?,
    ))
}

/// Webhook `id` if `user_id` owns it, locked for a change.
pub async fn lock_owned(
    conn: &mut AsyncPgConnection,
    id: i64,
    user_id: i64,
) -> Result<Option<WebhookRow>, DbError> {
    Ok(webhooks::table
        .find(id)
        .filter(webhooks::user_id.eq(user_id))
        .select(WebhookRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

/// Webhook `id`.
pub async fn find(conn: &mut AsyncPgConnection, id: i64) -> Result<Option<WebhookRow>, DbError> {
    Ok(webhooks::table
        .find(id)
        .select(WebhookRow::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// The webhooks with these ids, in any order (one statement whatever the count).
pub async fn find_many(
    mut conn: &AsyncPgConnection,
    ids: &[i64],
) -> Result<Vec<WebhookRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(webhooks::table
        .filter(webhooks::id.eq_any(ids))
        .select(WebhookRow::as_select())
        .load(&mut conn)
        .await?)
}

/// Changes to a webhook: `None` leaves a column as it is.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = webhooks)]
pub struct WebhookChanges {
    /// New endpoint.
    pub url: Option<String>,
    /// New events.
    pub events: Option<Vec<String>>,
    /// Paused or resumed.
    pub active: Option<bool>,
    /// Why it stopped (`Some(None)` clears it).
    pub disabled_reason: Option<Option<String>>,
    /// Failed attempts in a row (reset on resuming).
    pub consecutive_failures: Option<i32>,
}

/// Applies `changes` to webhook `id`.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: i64,
    changes: &WebhookChanges,
) -> Result<WebhookRow, DbError> {
    Ok(diesel::update(webhooks::table.find(id))
        .set(changes)
        .returning(WebhookRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Seals a new current secret for webhook `id`; the current one becomes the previous,
/// signing until `previous_expires_at`.
pub async fn rotate(
    conn: &mut AsyncPgConnection,
    id: i64,
    secret: SealedColumns<'_>,
    previous_expires_at: DateTime<Utc>,
) -> Result<WebhookRow, DbError> {
    Ok(diesel::update(webhooks::table.find(id))
        .set((
            webhooks::previous_ciphertext.eq(webhooks::secret_ciphertext.nullable()),
            webhooks::previous_nonce.eq(webhooks::secret_nonce.nullable()),
            webhooks::previous_key_id.eq(webhooks::secret_key_id.nullable()),
            webhooks::previous_expires_at.eq(previous_expires_at),
            webhooks::secret_ciphertext.eq(secret.ciphertext),
            webhooks::secret_nonce.eq(secret.nonce),
            webhooks::secret_key_id.eq(secret.key_id),
        ))
        .returning(WebhookRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Deletes webhook `id` (its deliveries go with it).
pub async fn delete(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    diesel::delete(webhooks::table.find(id))
        .execute(conn)
        .await?;
    Ok(())
}

/// One page of a user's webhooks, newest first.
pub async fn page(
    mut conn: &AsyncPgConnection,
    user_id: i64,
    page: &PageQuery,
) -> Result<Page<WebhookRow>, DbError> {
    let query = webhooks::table
        .filter(webhooks::user_id.eq(user_id))
        .into_boxed();
    let rows = paginate!(query, page, webhooks::created_at, webhooks::id)
        .select(WebhookRow::as_select())
        .load(&mut conn)
        .await?;
    Ok(page.finish(rows))
}

/// How many webhooks a user has.
pub async fn count(mut conn: &AsyncPgConnection, user_id: i64) -> Result<i64, DbError> {
    Ok(webhooks::table
        .filter(webhooks::user_id.eq(user_id))
        .count()
        .get_result(&mut conn)
        .await?)
}

/// A delivery succeeded: the failure count starts again (written only when it was not 0).
pub async fn record_delivered(conn: &mut AsyncPgConnection, id: i64) -> Result<(), DbError> {
    diesel::update(
        webhooks::table
            .find(id)
            .filter(webhooks::consecutive_failures.ne(0)),
    )
    .set(webhooks::consecutive_failures.eq(0))
    .execute(conn)
    .await?;
    Ok(())
}

/// Who owns a webhook that a write just disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, QueryableByName)]
pub struct Disabled {
    /// The owner.
    #[diesel(sql_type = BigInt)]
    pub user_id: i64,
    /// True when this write disabled it (it was active before).
    #[diesel(sql_type = Bool)]
    pub now_disabled: bool,
}

/// Counts a failed attempt of webhook `id`; the `max`-th in a row disables it with
/// `reason`. Returns its owner, and whether this write disabled it.
pub async fn record_failure(
    conn: &mut AsyncPgConnection,
    id: i64,
    max: i32,
    reason: &str,
) -> Result<Option<Disabled>, DbError> {
    Ok(diesel::sql_query(
        "WITH old AS (SELECT id, active FROM webhooks WHERE id = $1 FOR UPDATE) \
         UPDATE webhooks w SET consecutive_failures = w.consecutive_failures + 1, \
           active = w.active AND w.consecutive_failures + 1 < $2, \
           disabled_reason = CASE WHEN w.active AND w.consecutive_failures + 1 >= $2 \
             THEN $3 ELSE w.disabled_reason END \
         FROM old WHERE w.id = old.id \
         RETURNING w.user_id, (old.active AND NOT w.active) AS now_disabled",
    )
    .bind::<BigInt, _>(id)
    .bind::<Integer, _>(max)
    .bind::<Text, _>(reason)
    .get_result(conn)
    .await
    .optional()?)
}

/// Disables webhook `id` with `reason` (a 410 Gone). Returns its owner, and whether this
/// write disabled it.
pub async fn disable(
    conn: &mut AsyncPgConnection,
    id: i64,
    reason: &str,
) -> Result<Option<Disabled>, DbError> {
    Ok(diesel::sql_query(
        "WITH old AS (SELECT id, active FROM webhooks WHERE id = $1 FOR UPDATE) \
         UPDATE webhooks w SET active = false, \
           disabled_reason = CASE WHEN w.active THEN $2 ELSE w.disabled_reason END \
         FROM old WHERE w.id = old.id \
         RETURNING w.user_id, old.active AS now_disabled",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(reason)
    .get_result(conn)
    .await
    .optional()?)
}
