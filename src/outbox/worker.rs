//! The delivery worker: one per queue in every instance. It claims due messages under a
//! lease, sends them concurrently (each attempt bounded by the attempt timeout, which the
//! lease outlasts), records every attempt, and schedules the next one with exponential
//! backoff and jitter until the attempts run out (FAILED).
//!
//! It wakes when a message is queued (`pg_notify` on [`CHANNEL`], heard on the instance's
//! LISTEN connection), when the next retry falls due, and every poll interval at the
//! latest (a notification can be missed while the listener reconnects). On shutdown it
//! stops claiming, lets the attempts in flight finish within the drain deadline, and
//! gives back the leases of those that did not.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::Utc;
use futures_util::future::join_all;
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use super::{Attempt, Message, Outcome, Queue, Sender};
use crate::{
    db::{
        self, DbError, PgPool,
        listen::{Wake, Wakers},
        outbox::{AttemptRecord, Next},
    },
    metrics::Metrics,
};

/// The channel the outbox's trigger notifies, with the queue's name as payload.
pub const CHANNEL: &str = "conduit_outbox";

/// The outbox's settings (`OUTBOX_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxConfig {
    /// Attempts per message before it is FAILED (`OUTBOX_MAX_ATTEMPTS`, 8).
    pub max_attempts: u32,
    /// The first retry's delay; each next one doubles it (`OUTBOX_RETRY_BASE_MS`, 1 s).
    pub retry_base: Duration,
    /// The longest delay between attempts (`OUTBOX_RETRY_MAX_MS`, 1 h).
    pub retry_max: Duration,
    /// The longest sleep without looking for due messages (`OUTBOX_POLL_INTERVAL_MS`, 5 s).
    pub poll_interval: Duration,
    /// Messages claimed at once (`OUTBOX_BATCH`, 16).
    pub batch: u32,
    /// How long delivered messages and their attempts are kept (`OUTBOX_RETENTION`, 7 d).
    pub retention: Duration,
    /// How much longer than the attempt timeout a claim's lease lasts, to record the
    /// attempt (`OUTBOX_LEASE_MARGIN_MS`, 30 s). A worker that dies holds its messages
    /// this long past the timeout; then another takes them over.
    pub lease_margin: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(3600),
            poll_interval: Duration::from_secs(5),
            batch: 16,
            retention: Duration::from_secs(7 * 24 * 3600),
            lease_margin: Duration::from_secs(30),
        }
    }
}

impl OutboxConfig {
    /// The delay before the attempt after `made` counted attempts: `retry_base` doubled
    /// per attempt, at most `retry_max`, times a random factor in [0.5, 1) (jitter, so
    /// that messages failed together do not retry together).
    pub fn backoff(&self, made: u32) -> Duration {
        let doubled = self
            .retry_base
            .saturating_mul(1u32 << made.saturating_sub(1).min(30));
        doubled
            .min(self.retry_max)
            .mul_f64(0.5 + rand::random::<f64>() / 2.0)
    }
}

/// The wake-ups of one instance's workers, one per queue.
#[derive(Debug, Clone, Default)]
pub struct Wakeups {
    email: Arc<Notify>,
    webhook: Arc<Notify>,
}

impl Wakeups {
    /// The wake-up of `queue`'s worker.
    pub fn of(&self, queue: Queue) -> Arc<Notify> {
        match queue {
            Queue::Email => Arc::clone(&self.email),
            Queue::Webhook => Arc::clone(&self.webhook),
        }
    }

    /// What the LISTEN connection calls on [`CHANNEL`]: wakes the queue named by the
    /// payload, or both after a reconnection.
    pub fn wakers(&self) -> Wakers {
        let wakeups = self.clone();
        let wake: Wake = Arc::new(move |payload| {
            for queue in Queue::ALL {
                if payload.is_none_or(|p| p == queue.as_db()) {
                    wakeups.of(queue).notify_one();
                }
            }
        });
        Wakers(vec![(CHANNEL, wake)])
    }
}

/// One queue's worker.
pub struct Worker<S> {
    /// The pool it claims and records through.
    pub pool: PgPool,
    /// Its queue.
    pub queue: Queue,
    /// What carries its messages out.
    pub sender: Arc<S>,
    /// The outbox's settings.
    pub config: OutboxConfig,
    /// The longest attempt: a slower one is cut off and counts as failed.
    pub attempt_timeout: Duration,
    /// Wakes it when a message is queued.
    pub wake: Arc<Notify>,
    /// Deliveries and attempt latency.
    pub metrics: Arc<Metrics>,
}

/// At most this many attempts of one worker record their outcome at once (each holds a
/// pooled connection meanwhile): a batch never takes the pool from the requests.
const RECORDING_AT_ONCE: usize = 2;

impl<S: Sender> Worker<S> {
    /// The lease a claim takes: the attempt timeout plus time to record the attempt.
    fn lease(&self) -> Duration {
        self.attempt_timeout + self.config.lease_margin
    }

    /// Runs until `stop` turns true; then lets the attempts in flight finish within
    /// `drain`, and releases the leases of those that did not.
    pub async fn run(self, mut stop: watch::Receiver<bool>, drain: Duration) {
        let id = format!("{}:{}", self.queue.as_db(), Uuid::new_v4());
        let this = Arc::new(self);
        let recording = Arc::new(tokio::sync::Semaphore::new(RECORDING_AT_ONCE));
        loop {
            if *stop.borrow() {
                return;
            }
            let claimed = match this.claim(&id).await {
                Ok(claimed) => claimed,
                Err(err) => {
                    tracing::warn!(queue = this.queue.as_db(), error = %err, "outbox: cannot claim");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                let sleep = this.until_next_due().await;
                tokio::select! {
                    () = this.wake.notified() => {}
                    () = tokio::time::sleep(sleep) => {}
                    () = stopping(&mut stop) => {}
                }
                continue;
            }
            let ids: Vec<Uuid> = claimed.iter().map(|m| m.id).collect();
            let done = Arc::new(Mutex::new(HashSet::new()));
            let batch = join_all(claimed.into_iter().map(|message| {
                let recording = Arc::clone(&recording);
                Arc::clone(&this).deliver(message, id.clone(), Arc::clone(&done), recording)
            }));
            let mut batch = std::pin::pin!(batch);
            tokio::select! {
                _ = &mut batch => {}
                () = stopping(&mut stop) => {
                    if tokio::time::timeout(drain, &mut batch).await.is_err() {
                        let done = done.lock().unwrap_or_else(|e| e.into_inner()).clone();
                        let left: Vec<Uuid> = ids.into_iter().filter(|i| !done.contains(i)).collect();
                        this.release(&left, &id).await;
                    }
                    return;
                }
            }
            // Claim again at once: more may be due (and, with less than a batch, the next
            // claim finds nothing and the worker sleeps until the next due time).
        }
    }

    async fn claim(&self, worker: &str) -> Result<Vec<Message>, DbError> {
        let mut conn = db::connect(&self.pool).await?;
        let lease = i64::try_from(self.lease().as_millis()).unwrap_or(i64::MAX);
        let batch = i64::from(self.config.batch);
        db::outbox::claim(&mut conn, self.queue, worker, batch, lease).await
    }

    /// How long to sleep: until the next message falls due, at most the poll interval.
    async fn until_next_due(&self) -> Duration {
        let poll = self.config.poll_interval;
        let Ok(mut conn) = db::connect(&self.pool).await else {
            return poll;
        };
        match db::outbox::next_due(&mut conn, self.queue).await {
            Ok(Some(at)) => (at - Utc::now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(poll),
            _ => poll,
        }
    }

    /// One attempt at `message`, recorded.
    async fn deliver(
        self: Arc<Self>,
        message: Message,
        worker: String,
        done: Arc<Mutex<HashSet<Uuid>>>,
        recording: Arc<tokio::sync::Semaphore>,
    ) {
        let at = Utc::now();
        let started = Instant::now();
        let attempt = tokio::time::timeout(self.attempt_timeout, self.sender.send(&message))
            .await
            .unwrap_or_else(|_| {
                Attempt::retry(
                    None,
                    format!("timed out after {} ms", self.attempt_timeout.as_millis()),
                )
            });
        let elapsed = started.elapsed();
        let made = u32::try_from(message.counted_attempts()).unwrap_or(u32::MAX);
        let next = match attempt.outcome {
            Outcome::Delivered => Next::Delivered,
            Outcome::GiveUp => Next::Failed,
            Outcome::Retry if made >= self.config.max_attempts => Next::Failed,
            Outcome::Retry => Next::RetryAt(
                Utc::now()
                    + chrono::Duration::from_std(self.config.backoff(made)).unwrap_or_default(),
            ),
        };
        let record = AttemptRecord {
            at,
            response_status: attempt.response_status,
            error: attempt.error.clone(),
            duration_ms: i32::try_from(elapsed.as_millis()).unwrap_or(i32::MAX),
        };
        let queue = self.queue.as_db();
        let _permit = recording.acquire().await;
        let result = match db::connect(&self.pool).await {
            Ok(mut conn) => db::outbox::finish(&mut conn, message.id, &worker, &record, next).await,
            Err(err) => Err(err),
        };
        match result {
            Ok(true) => {
                done.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(message.id);
                let outcome = match next {
                    Next::Delivered => "delivered",
                    Next::RetryAt(_) => "retry",
                    Next::Failed => "failed",
                };
                self.metrics.outbox.attempt(queue, outcome, elapsed);
                if next == Next::Failed {
                    tracing::warn!(queue, id = %message.id, kind = message.kind, error = ?attempt.error, "outbox: message FAILED");
                }
            }
            Ok(false) => {
                tracing::warn!(queue, id = %message.id, "outbox: lease lost before the attempt was recorded")
            }
            // The lease expires and the message is sent again: at least once.
            Err(err) => {
                tracing::warn!(queue, id = %message.id, error = ?err, "outbox: cannot record an attempt")
            }
        }
    }

    async fn release(&self, ids: &[Uuid], worker: &str) {
        if ids.is_empty() {
            return;
        }
        let released = match db::connect(&self.pool).await {
            Ok(mut conn) => db::outbox::release(&mut conn, ids, worker).await,
            Err(err) => Err(err),
        };
        match released {
            Ok(n) => tracing::info!(
                queue = self.queue.as_db(),
                released = n,
                "outbox: released unfinished deliveries at shutdown"
            ),
            Err(err) => {
                tracing::warn!(queue = self.queue.as_db(), error = ?err, "outbox: could not release leases; they expire")
            }
        }
    }
}

/// Completes once `stop` is true (or its sender is gone).
async fn stopping(stop: &mut watch::Receiver<bool>) {
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// Every poll interval: deletes delivered messages older than the retention (with their
/// attempt logs) and email tokens that can no longer redeem, and counts what is left into
/// the depth gauges. Every instance runs it;
/// both steps are idempotent.
pub async fn prune_periodically(pool: PgPool, config: OutboxConfig, metrics: Arc<Metrics>) {
    let mut ticks = tokio::time::interval(config.poll_interval.max(Duration::from_secs(1)));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Ok(mut conn) = db::connect(&pool).await else {
            continue;
        };
        let before = Utc::now() - chrono::Duration::from_std(config.retention).unwrap_or_default();
        match db::outbox::prune(&mut conn, before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "outbox: pruned delivered messages"),
            Err(err) => tracing::warn!(error = ?err, "outbox: cannot prune"),
        }
        // Email tokens used or expired a day ago can never redeem again.
        let day_ago = Utc::now() - chrono::Duration::days(1);
        if let Err(err) = db::email_tokens::prune(&mut conn, day_ago).await {
            tracing::warn!(error = ?err, "outbox: cannot prune email tokens");
        }
        if let Ok(depth) = db::outbox::depth(&mut conn).await {
            for queue in Queue::ALL {
                for status in ["pending", "delivered", "failed"] {
                    let row = depth
                        .iter()
                        .find(|d| d.queue == queue.as_db() && d.status == status);
                    metrics
                        .outbox
                        .set_depth(queue.as_db(), status, row.map_or(0, |r| r.messages));
                    if status == "pending" {
                        let age = row
                            .and_then(|r| r.oldest)
                            .and_then(|oldest| (Utc::now() - oldest).to_std().ok())
                            .unwrap_or_default();
                        metrics.outbox.set_oldest_pending(queue.as_db(), age);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_maximum() {
        let config = OutboxConfig {
            retry_base: Duration::from_millis(1000),
            retry_max: Duration::from_secs(60),
            ..OutboxConfig::default()
        };
        for _ in 0..100 {
            let first = config.backoff(1);
            assert!(first >= Duration::from_millis(500) && first < Duration::from_millis(1000));
            let third = config.backoff(3);
            assert!(third >= Duration::from_millis(2000) && third < Duration::from_millis(4000));
            let late = config.backoff(40);
            assert!(late >= Duration::from_secs(30) && late < Duration::from_secs(60));
        }
    }
}
