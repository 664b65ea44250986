//! Queries on `outbox` and `outbox_attempts`: the transactional outbox. A message is
//! written ([`enqueue`]) in the transaction of the change that causes it; the delivery
//! workers of every instance [`claim`] due messages under a lease, record each attempt
//! ([`finish`]), and give back what they could not finish ([`release`]).
//!
//! Claims of one queue are serialized by a transaction-level advisory lock, so that the
//! rule "one message in flight per ordering key" (a webhook endpoint) holds across
//! instances: each claim sees the leases every earlier claim committed. Rows already
//! locked by a completion in progress are skipped (`FOR UPDATE SKIP LOCKED`).

use chrono::{DateTime, Utc};
use diesel::{
    OptionalExtension, QueryableByName,
    sql_types::{BigInt, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::DbError;

/// A queue: each has its own workers, so one never waits behind the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Queue {
    /// Emails, sent over SMTP (or written to a folder in development).
    Email,
    /// Webhook deliveries, POSTed to their endpoints.
    Webhook,
}

impl Queue {
    /// Both queues.
    pub const ALL: [Queue; 2] = [Queue::Email, Queue::Webhook];

    /// The value stored in `outbox.queue` (also its metrics label).
    pub const fn as_db(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
        }
    }

    /// The queue stored as `value`.
    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.as_db() == value)
    }
}

/// A message to write.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// Its id: the idempotency key the receiver sees.
    pub id: Uuid,
    /// Its queue.
    pub queue: Queue,
    /// What it is (an email template, a webhook event).
    pub kind: &'a str,
    /// At most one message per key is in flight at a time.
    pub ordering_key: Option<&'a str>,
    /// What its sender needs.
    pub payload: &'a str,
}

/// Writes `message`, due at once, in the caller's transaction.
pub async fn enqueue(
    conn: &mut AsyncPgConnection,
    message: &NewMessage<'_>,
) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO outbox (id, queue, kind, ordering_key, payload) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind::<SqlUuid, _>(message.id)
    .bind::<Text, _>(message.queue.as_db())
    .bind::<Text, _>(message.kind)
    .bind::<Nullable<Text>, _>(message.ordering_key)
    .bind::<Text, _>(message.payload)
    .execute(conn)
    .await?;
    Ok(())
}

/// A message a worker holds under its lease.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    /// Its id (the idempotency key).
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// What it is.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// Its ordering key, if any.
    #[diesel(sql_type = Nullable<Text>)]
    pub ordering_key: Option<String>,
    /// What its sender needs.
    #[diesel(sql_type = Text)]
    pub payload: String,
    /// Attempts made before this one, in all.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    /// Attempts made before the latest retry or redelivery.
    #[diesel(sql_type = Integer)]
    pub retry_base: i32,
    /// When it was written.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
}

impl Claimed {
    /// Attempts that count against the maximum, this one included.
    pub fn counted_attempts(&self) -> i32 {
        self.attempts - self.retry_base + 1
    }
}

/// Claims up to `limit` due messages of `queue` for `worker`, leased for `lease_ms`: no
/// other worker takes them until the lease expires. At most one message per ordering key
/// is claimed, and none whose key has a message under a live lease. The row lock re-checks
/// that each is still pending and unleased (a worker may have finished it after this
/// statement's snapshot was taken).
pub async fn claim(
    conn: &mut AsyncPgConnection,
    queue: Queue,
    worker: &str,
    limit: i64,
    lease_ms: i64,
) -> Result<Vec<Claimed>, DbError> {
    conn.transaction::<_, DbError, _>(async |tx| {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('conduit_outbox_claim:' || $1))")
            .bind::<Text, _>(queue.as_db())
            .execute(tx)
            .await?;
        let claimed = diesel::sql_query(
            "WITH due AS ( \
               SELECT id FROM ( \
                 SELECT o.id, o.next_attempt_at, row_number() OVER ( \
                   PARTITION BY coalesce(o.ordering_key, o.id::text) \
                   ORDER BY o.next_attempt_at, o.created_at) AS n \
                 FROM outbox o \
                 WHERE o.queue = $1 AND o.status = 'pending' AND o.next_attempt_at <= now() \
                   AND (o.leased_until IS NULL OR o.leased_until < now()) \
                   AND (o.ordering_key IS NULL OR NOT EXISTS ( \
                     SELECT 1 FROM outbox b WHERE b.ordering_key = o.ordering_key \
                       AND b.status = 'pending' AND b.leased_until >= now() AND b.id <> o.id)) \
               ) c WHERE n = 1 ORDER BY next_attempt_at LIMIT $2 \
             ), locked AS ( \
               SELECT id FROM outbox WHERE id IN (SELECT id FROM due) \
                 AND status = 'pending' AND (leased_until IS NULL OR leased_until < now()) \
               FOR UPDATE SKIP LOCKED \
             ) \
             UPDATE outbox SET leased_by = $3, \
               leased_until = now() + $4 * interval '1 millisecond' \
             FROM locked WHERE outbox.id = locked.id \
             RETURNING outbox.id, outbox.kind, outbox.ordering_key, outbox.payload, \
               outbox.attempts, outbox.retry_base, outbox.created_at",
        )
        .bind::<Text, _>(queue.as_db())
        .bind::<BigInt, _>(limit)
        .bind::<Text, _>(worker)
        .bind::<BigInt, _>(lease_ms)
        .load(tx)
        .await?;
        Ok(claimed)
    })
    .await
}

/// One attempt's record.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// When it started.
    pub at: DateTime<Utc>,
    /// The receiver's status (HTTP status, SMTP reply code), when it answered.
    pub response_status: Option<i32>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// How long it took.
    pub duration_ms: i32,
}

/// What becomes of a message after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// It was delivered.
    Delivered,
    /// It is tried again at this time.
    RetryAt(DateTime<Utc>),
    /// No more attempts: FAILED.
    Failed,
}

/// Records `attempt` of message `id` and what becomes of it, and ends `worker`'s lease;
/// `false` (nothing written) when the lease was lost meanwhile (it expired and another
/// worker took the message over).
pub async fn finish(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    worker: &str,
    attempt: &AttemptRecord,
    next: Next,
) -> Result<bool, DbError> {
    let (status, next_at) = match next {
        Next::Delivered => ("delivered", None),
        Next::RetryAt(at) => ("pending", Some(at)),
        Next::Failed => ("failed", None),
    };
    conn.transaction::<_, DbError, _>(async |tx| {
        #[derive(QueryableByName)]
        struct Made {
            #[diesel(sql_type = Integer)]
            attempts: i32,
        }
        let made: Option<Made> = diesel::sql_query(
            "UPDATE outbox SET attempts = attempts + 1, last_attempt_at = $3, \
               response_status = $4, last_error = $5, status = $6, \
               next_attempt_at = coalesce($7, next_attempt_at), \
               finished_at = CASE WHEN $6 = 'pending' THEN NULL ELSE now() END, \
               leased_by = NULL, leased_until = NULL \
             WHERE id = $1 AND leased_by = $2 RETURNING attempts",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Text, _>(worker)
        .bind::<Timestamptz, _>(attempt.at)
        .bind::<Nullable<Integer>, _>(attempt.response_status)
        .bind::<Nullable<Text>, _>(attempt.error.as_deref())
        .bind::<Text, _>(status)
        .bind::<Nullable<Timestamptz>, _>(next_at)
        .get_result(tx)
        .await
        .optional()?;
        let Some(made) = made else {
            return Ok(false);
        };
        diesel::sql_query(
            "INSERT INTO outbox_attempts (message_id, attempt, at, response_status, error, \
               duration_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Integer, _>(made.attempts)
        .bind::<Timestamptz, _>(attempt.at)
        .bind::<Nullable<Integer>, _>(attempt.response_status)
        .bind::<Nullable<Text>, _>(attempt.error.as_deref())
        .bind::<Integer, _>(attempt.duration_ms)
        .execute(tx)
        .await?;
        Ok(true)
    })
    .await
}

/// Ends `worker`'s leases on `ids` without an attempt recorded (shutdown): the messages
/// are due again at once, for any worker.
pub async fn release(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
    worker: &str,
) -> Result<usize, DbError> {
    Ok(diesel::sql_query(
        "UPDATE outbox SET leased_by = NULL, leased_until = NULL \
         WHERE id = ANY($1) AND leased_by = $2",
    )
    .bind::<diesel::sql_types::Array<SqlUuid>, _>(ids)
    .bind::<Text, _>(worker)
    .execute(conn)
    .await?)
}

/// When the next message of `queue` becomes claimable (due, its lease expired, and no
/// other message of its ordering key leased); `None` when none is pending.
pub async fn next_due(
    conn: &mut AsyncPgConnection,
    queue: Queue,
) -> Result<Option<DateTime<Utc>>, DbError> {
    #[derive(QueryableByName)]
    struct Due {
        #[diesel(sql_type = Nullable<Timestamptz>)]
        at: Option<DateTime<Utc>>,
    }
    let due: Due = diesel::sql_query(
        "SELECT min(greatest(o.next_attempt_at, coalesce(o.leased_until, o.next_attempt_at), \
           coalesce((SELECT max(b.leased_until) FROM outbox b WHERE b.ordering_key = o.ordering_key \
             AND b.status = 'pending' AND b.leased_until >= now() AND b.id <> o.id), \
             o.next_attempt_at))) AS at \
         FROM outbox o WHERE o.queue = $1 AND o.status = 'pending'",
    )
    .bind::<Text, _>(queue.as_db())
    .get_result(conn)
    .await?;
    Ok(due.at)
}

/// Puts message `id` back in its queue, due now, with a fresh budget of attempts and the
/// same id (an admin's retry of a FAILED message, a webhook redelivery). `false` when
/// there is no such message or it is pending already.
pub async fn requeue(conn: &mut AsyncPgConnection, id: Uuid) -> Result<bool, DbError> {
    let changed = diesel::sql_query(
        "UPDATE outbox SET status = 'pending', retry_base = attempts, next_attempt_at = now(), \
           finished_at = NULL WHERE id = $1 AND status <> 'pending'",
    )
    .bind::<SqlUuid, _>(id)
    .execute(conn)
    .await?;
    Ok(changed > 0)
}

/// How many rows one pruning statement deletes at most.
const PRUNE_BATCH: i64 = 5_000;

/// Deletes delivered messages finished before `before`, with their attempts, in batches;
/// returns how many.
pub async fn prune(conn: &mut AsyncPgConnection, before: DateTime<Utc>) -> Result<usize, DbError> {
    let mut total = 0;
    loop {
        let deleted = diesel::sql_query(
            "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox \
               WHERE status = 'delivered' AND finished_at < $1 LIMIT $2)",
        )
        .bind::<Timestamptz, _>(before)
        .bind::<BigInt, _>(PRUNE_BATCH)
        .execute(conn)
        .await?;
        total += deleted;
        if (deleted as i64) < PRUNE_BATCH {
            return Ok(total);
        }
    }
}

/// A message as an admin lists it (`conduit outbox list`).
#[derive(Debug, Clone, QueryableByName)]
pub struct Listed {
    /// Its id.
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    /// Its queue.
    #[diesel(sql_type = Text)]
    pub queue: String,
    /// What it is.
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// Attempts made.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    /// Why the last attempt failed.
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    /// When it was written.
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    /// When the last attempt ran.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_attempt_at: Option<DateTime<Utc>>,
}

/// The newest `limit` messages, only those in `status` when given.
pub async fn list(
    conn: &mut AsyncPgConnection,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<Listed>, DbError> {
    Ok(diesel::sql_query(
        "SELECT id, queue, kind, status, attempts, last_error, created_at, last_attempt_at \
         FROM outbox WHERE ($1::text IS NULL OR status = $1) \
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind::<Nullable<Text>, _>(status)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await?)
}

/// The outbox's depth by queue and status, with the oldest pending message's time.
#[derive(Debug, Clone, QueryableByName)]
pub struct Depth {
    /// The queue.
    #[diesel(sql_type = Text)]
    pub queue: String,
    /// The status.
    #[diesel(sql_type = Text)]
    pub status: String,
    /// How many messages.
    #[diesel(sql_type = BigInt)]
    pub messages: i64,
    /// When the oldest of them was written.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub oldest: Option<DateTime<Utc>>,
}

/// Counts messages by queue and status.
pub async fn depth(conn: &mut AsyncPgConnection) -> Result<Vec<Depth>, DbError> {
    Ok(diesel::sql_query(
        "SELECT queue, status, count(*) AS messages, min(created_at) AS oldest \
         FROM outbox GROUP BY queue, status",
    )
    .load(conn)
    .await?)
}
