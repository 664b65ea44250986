//! The keyed limiter every rate limit is built on: GCRA buckets from the `governor`
//! crate, one per key, forgotten once full again.

use std::{
    hash::Hash,
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};

use crate::metrics::{Limit, Metrics};

type Buckets<K> =
    RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// How long a refused call should wait: whole seconds, at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub u64);

/// Buckets of `size` units per key, each refilled evenly over a minute.
///
/// This is the interface every limit uses (spend `n` units for a key: what remains, or how
/// long to wait); the buckets live in this instance's memory.
pub struct KeyedLimiter<K: Hash + Eq + Clone> {
    buckets: Buckets<K>,
    clock: DefaultClock,
    size: NonZeroU32,
    limit: Limit,
    metrics: Arc<Metrics>,
    checks: AtomicU64,
    prune_every: u64,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// Empty buckets of `size` units a minute, their refusals counted in `metrics` as
    /// `limit`; every `prune_every` calls, buckets that are full again are forgotten.
    pub fn per_minute(
        size: NonZeroU32,
        limit: Limit,
        prune_every: u64,
        metrics: Arc<Metrics>,
    ) -> Self {
        let clock = DefaultClock::default();
        Self {
            buckets: RateLimiter::dashmap_with_clock(Quota::per_minute(size), clock.clone())
                .with_middleware::<StateInformationMiddleware>(),
            clock,
            size,
            limit,
            metrics,
            checks: AtomicU64::new(0),
            prune_every,
        }
    }

    /// A bucket's size: what a full minute refills.
    pub fn size(&self) -> NonZeroU32 {
        self.size
    }

    /// Spends `n` units from `key`'s bucket and returns what is left, or refuses without
    /// spending (counted in the metrics) and says how long until `n` units fit.
    pub fn spend(&self, key: &K, n: NonZeroU32) -> Result<u32, RetryAfter> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % self.prune_every == self.prune_every - 1 {
            self.buckets.retain_recent();
        }
        let wait = match self.buckets.check_key_n(key, n) {
            Ok(Ok(snapshot)) => return Ok(snapshot.remaining_burst_capacity()),
            Ok(Err(not_until)) => not_until.wait_time_from(self.clock.now()),
            // More than a whole bucket: no wait makes it fit.
            Err(_) => Duration::from_secs(60),
        };
        self.metrics.rate_limited(self.limit);
        Err(RetryAfter((wait.as_secs_f64().ceil() as u64).max(1)))
    }
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for KeyedLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyedLimiter")
            .field("limit", &self.limit)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(value: u32) -> NonZeroU32 {
        NonZeroU32::new(value).unwrap()
    }

    #[test]
    fn spends_per_key_refuses_without_spending_and_counts_refusals() {
        let metrics = Arc::new(Metrics::default());
        let limiter = KeyedLimiter::per_minute(n(10), Limit::CostBudget, 2, Arc::clone(&metrics));
        assert_eq!(limiter.spend(&1, n(4)), Ok(6));
        let Err(RetryAfter(secs)) = limiter.spend(&1, n(7)) else {
            panic!("7 of 6 left passed");
        };
        assert!((1..=60).contains(&secs), "{secs}");
        assert_eq!(limiter.spend(&1, n(6)), Ok(0));
        assert_eq!(limiter.spend(&2, n(10)), Ok(0));
        assert_eq!(limiter.spend(&3, n(11)), Err(RetryAfter(60)));
        let text = metrics.render(&Default::default());
        let line = "conduit_rate_limited_total{limit=\"cost_budget\"} 2";
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
}
