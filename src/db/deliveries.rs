//! Queries on webhook deliveries: the `outbox` rows of queue `webhook` tied to an
//! endpoint (`outbox.webhook_id`), and their attempts (`outbox_attempts`). The fan-out of
//! an event writes one delivery per subscribed endpoint in one statement.

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{
    DbError,
    keyset::{Page, PageQuery, paginate},
    outbox::Queue,
    schema::{outbox, outbox_attempts, webhooks},
};

/// A webhook delivery: its outbox row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct DeliveryRow {
    /// The idempotency key (`webhook-id`, through its global id).
    pub id: Uuid,
    /// The event (`domain::webhooks::WebhookEvent::as_db`).
    pub kind: String,
    /// The exact JSON body sent and signed.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: DateTime<Utc>,
    /// When the last attempt ran.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The endpoint's status on the last attempt.
    pub response_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// Its endpoint.
    pub webhook_id: Option<i64>,
    /// Its place among deliveries queued at the same instant.
    pub seq: i64,
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = outbox_attempts)]
pub struct AttemptRow {
    /// The delivery.
    pub message_id: Uuid,
    /// Its number, from 1.
    pub attempt: i32,
    /// When it started.
    pub at: DateTime<Utc>,
    /// The endpoint's status, when it answered.
    pub response_status: Option<i32>,
    /// Why it failed.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i32,
}

/// Queues `payload` (event `kind`) for every active webhook of `owner_id` subscribed to
/// `kind`: one `INSERT ... SELECT`, in the caller's transaction. Returns how many.
pub async fn fan_out(
    conn: &mut AsyncPgConnection,
    owner_id: i64,
    kind: &str,
    payload: &str,
) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "INSERT INTO outbox (id, queue, kind, ordering_key, payload, webhook_id) \
         SELECT gen_random_uuid(), $1, $2, 'webhook:' || w.id, $3, w.id FROM webhooks w \
         WHERE w.user_id = $4 AND w.active AND $2 = ANY (w.events)",
    )
    .bind::<Text, _>(Queue::Webhook.as_db())
    .bind::<Text, _>(kind)
    .bind::<Text, _>(payload)
    .bind::<BigInt, _>(owner_id)
    .execute(conn)
    .await?)
}

/// Queues `payload` (event `kind`) for webhook `webhook_id` alone, whatever it is
/// subscribed to (a ping).
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    webhook_id: i64,
    kind: &str,
    payload: &str,
) -> Result<DeliveryRow, DbError> {
    Ok(diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(Uuid::new_v4()),
            outbox::queue.eq(Queue::Webhook.as_db()),
            outbox::kind.eq(kind),
            outbox::ordering_key.eq(format!("webhook:{webhook_id}")),
            outbox::payload.eq(payload),
            outbox::webhook_id.eq(webhook_id),
        ))
        .returning(DeliveryRow::as_returning())
        .get_result(conn)
        .await?)
}

/// Delivery `id` with its webhook's owner, if it is a webhook delivery.
pub async fn find_with_owner(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<Option<(DeliveryRow, i64)>, DbError> {
    Ok(outbox::table
        .inner_join(webhooks::table)
        .filter(outbox::id.eq(id))
        .select((DeliveryRow::as_select(), webhooks::user_id))
        .first(conn)
        .await
        .optional()?)
}

/// The deliveries with these ids, each with its webhook's owner (one statement whatever
/// the count).
pub async fn find_many(
    mut conn: &AsyncPgConnection,
    ids: &[Uuid],
) -> Result<Vec<(DeliveryRow, i64)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(outbox::table
        .inner_join(webhooks::table)
        .filter(outbox::id.eq_any(ids))
        .select((DeliveryRow::as_select(), webhooks::user_id))
        .load(&mut conn)
        .await?)
}

fn of(webhook_id: i64, status: Option<&str>) -> outbox::BoxedQuery<'static, diesel::pg::Pg> {
    let query = outbox::table
        .filter(outbox::webhook_id.eq(webhook_id))
        .into_boxed();
    match status {
        Some(status) => query.filter(outbox::status.eq(status.to_owned())),
        None => query,
    }
}

/// One page of a webhook's deliveries (only those in `status`, when given), newest first.
pub async fn page(
    mut conn: &AsyncPgConnection,
    webhook_id: i64,
    status: Option<&str>,
    page: &PageQuery,
) -> Result<Page<DeliveryRow>, DbError> {
    let rows = paginate!(
        of(webhook_id, status),
        page,
        outbox::created_at,
        outbox::seq
    )
    .select(DeliveryRow::as_select())
    .load(&mut conn)
    .await?;
    Ok(page.finish(rows))
}

/// How many deliveries (in `status`, when given) a webhook has.
pub async fn count(
    mut conn: &AsyncPgConnection,
    webhook_id: i64,
    status: Option<&str>,
) -> Result<i64, DbError> {
    Ok(of(webhook_id, status).count().get_result(&mut conn).await?)
}

/// Every attempt of these deliveries, oldest first (one statement whatever the count).
pub async fn attempts(
    mut conn: &AsyncPgConnection,
    ids: &[Uuid],
) -> Result<Vec<AttemptRow>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(outbox_attempts::table
        .filter(outbox_attempts::message_id.eq_any(ids))
        .order((outbox_attempts::message_id, outbox_attempts::attempt))
        .select(AttemptRow::as_select())
        .load(&mut conn)
        .await?)
}
