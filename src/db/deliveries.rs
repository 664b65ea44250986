//! Queries on webhook deliveries: the `outbox` rows of queue `webhook` tied to an
//! endpoint (`outbox.webhook_id`), and their attempts (`outbox_attempts`). The fan-out of
//! an event writes one delivery per subscribed endpoint in one statement.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::{
    prelude::*,
    sql_types::{Array, BigInt, Nullable, Text, Timestamptz},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::{
    DbError,
    keyset::{Page, PageQuery},
    outbox::Queue,
    schema::{outbox, outbox_attempts, webhooks},
};

/// A webhook delivery: its outbox row.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, QueryableByName, Selectable)]
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

/// The same page of deliveries (only those in `status`, when given) of each of
/// `webhook_ids`, in one statement (a LATERAL join: one index range per webhook).
pub async fn pages(
    mut conn: &AsyncPgConnection,
    webhook_ids: &[i64],
    status: Option<&str>,
    page: &PageQuery,
) -> Result<Vec<(i64, Page<DeliveryRow>)>, DbError> {
    if webhook_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (cmp, dir) = page.sql_order();
    let keyset = match page.from {
        Some(_) => format!("AND (o.created_at, o.seq) {cmp} ($4, $5)"),
        None => String::new(),
    };
    let sql = format!(
        "SELECT o.id, o.kind, o.payload, o.status, o.attempts, o.next_attempt_at, \
           o.last_attempt_at, o.response_status, o.last_error, o.created_at, o.webhook_id, \
           o.seq \
         FROM unnest($1::bigint[]) AS w(id) CROSS JOIN LATERAL ( \
           SELECT * FROM outbox o WHERE o.webhook_id = w.id \
             AND ($3::text IS NULL OR o.status = $3) {keyset} \
           ORDER BY o.created_at {dir}, o.seq {dir} LIMIT $2) o"
    );
    let query = diesel::sql_query(sql)
        .bind::<Array<BigInt>, _>(webhook_ids)
        .bind::<BigInt, _>(page.fetch_limit())
        .bind::<Nullable<Text>, _>(status);
    let rows: Vec<DeliveryRow> = match page.from {
        Some(from) => {
            query
                .bind::<Timestamptz, _>(from.created_at)
                .bind::<BigInt, _>(from.id)
                .load(&mut conn)
                .await?
        }
        None => query.load(&mut conn).await?,
    };
    let mut grouped: HashMap<i64, Vec<DeliveryRow>> = HashMap::new();
    for row in rows {
        let webhook = row.webhook_id.unwrap_or_default();
        grouped.entry(webhook).or_default().push(row);
    }
    Ok(webhook_ids
        .iter()
        .map(|id| (*id, page.finish(grouped.remove(id).unwrap_or_default())))
        .collect())
}

/// How many deliveries (in `status`, when given) each of `webhook_ids` has, in one
/// statement; a webhook without any is absent.
pub async fn counts(
    mut conn: &AsyncPgConnection,
    webhook_ids: &[i64],
    status: Option<&str>,
) -> Result<Vec<(i64, i64)>, DbError> {
    if webhook_ids.is_empty() {
        return Ok(Vec::new());
    }
    #[derive(QueryableByName)]
    struct Counted {
        #[diesel(sql_type = BigInt)]
        webhook_id: i64,
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let rows: Vec<Counted> = diesel::sql_query(
        "SELECT webhook_id, count(*) AS n FROM outbox \
         WHERE webhook_id = ANY ($1) AND ($2::text IS NULL OR status = $2) \
         GROUP BY webhook_id",
    )
    .bind::<Array<BigInt>, _>(webhook_ids)
    .bind::<Nullable<Text>, _>(status)
    .load(&mut conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.webhook_id, r.n)).collect())
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
