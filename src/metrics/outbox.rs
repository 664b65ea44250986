//! The outbox's metrics: attempts by queue and outcome
//! (`conduit_outbox_attempts_total`), attempt latency
//! (`conduit_outbox_attempt_duration_seconds`), and the depth by queue and status with
//! the oldest pending message's age (`conduit_outbox_messages`,
//! `conduit_outbox_oldest_pending_seconds`), which the workers refresh from the database
//! as they go. Part of the [`super::Metrics`] leaf.

use std::time::Duration;

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// Attempt latencies, in seconds: 5 ms to 30 s (past the SMTP and HTTP timeouts).
const ATTEMPT_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct AttemptLabels {
    queue: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct QueueLabels {
    queue: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DepthLabels {
    queue: &'static str,
    status: &'static str,
}

/// The queues and statuses the depth gauges are kept for (all shown, at 0 when empty).
const QUEUES: [&str; 2] = ["email", "webhook"];
const STATUSES: [&str; 3] = ["pending", "delivered", "failed"];

/// The outbox's counters and gauges.
pub struct OutboxMetrics {
    attempts: Family<AttemptLabels, Counter>,
    latency: Family<QueueLabels, Histogram, fn() -> Histogram>,
    depth: Family<DepthLabels, Gauge>,
    oldest: Family<QueueLabels, Gauge>,
}

fn latencies() -> Histogram {
    Histogram::new(ATTEMPT_BUCKETS)
}

impl OutboxMetrics {
    /// The metrics, registered in `registry`.
    pub(super) fn register(registry: &mut Registry) -> Self {
        let this = Self {
            attempts: Family::default(),
            latency: Family::new_with_constructor(latencies),
            depth: Family::default(),
            oldest: Family::default(),
        };
        for queue in QUEUES {
            for status in STATUSES {
                this.depth
                    .get_or_create_owned(&DepthLabels { queue, status });
            }
            this.oldest.get_or_create_owned(&QueueLabels { queue });
        }
        registry.register(
            "conduit_outbox_attempts",
            "Outbox delivery attempts, by queue and outcome (delivered, retry, failed)",
            this.attempts.clone(),
        );
        registry.register(
            "conduit_outbox_attempt_duration_seconds",
            "How long outbox delivery attempts took, by queue",
            this.latency.clone(),
        );
        registry.register(
            "conduit_outbox_messages",
            "Outbox messages in the database, by queue and status (as a worker last counted)",
            this.depth.clone(),
        );
        registry.register(
            "conduit_outbox_oldest_pending_seconds",
            "Age of the oldest pending outbox message, by queue (0 when none)",
            this.oldest.clone(),
        );
        this
    }

    /// Counts one recorded attempt of `queue` that ended as `outcome`, taking `elapsed`.
    pub fn attempt(&self, queue: &'static str, outcome: &'static str, elapsed: Duration) {
        self.attempts
            .get_or_create(&AttemptLabels { queue, outcome })
            .inc();
        self.latency
            .get_or_create(&QueueLabels { queue })
            .observe(elapsed.as_secs_f64());
    }

    /// Sets the depth of `queue` in `status` (a known pair; others are ignored).
    pub fn set_depth(&self, queue: &str, status: &str, messages: i64) {
        let (Some(queue), Some(status)) = (
            QUEUES.into_iter().find(|q| *q == queue),
            STATUSES.into_iter().find(|s| *s == status),
        ) else {
            return;
        };
        self.depth
            .get_or_create(&DepthLabels { queue, status })
            .set(messages);
    }

    /// Sets the age of `queue`'s oldest pending message.
    pub fn set_oldest_pending(&self, queue: &str, age: Duration) {
        if let Some(queue) = QUEUES.into_iter().find(|q| *q == queue) {
            let secs = i64::try_from(age.as_secs()).unwrap_or(i64::MAX);
            self.oldest.get_or_create(&QueueLabels { queue }).set(secs);
        }
    }
}
