//! The clock the time-bound rules read (session lifetimes, persisted-query expiry): the
//! system clock in production, moved forward by tests ([`Clock::advance`]) so that a
//! 90-day rule is tested without waiting 90 days. SQL that applies such a rule takes
//! [`Clock::now`] as a parameter rather than the database's `now()`.
//!
//! May call: nothing (std and chrono only).

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use chrono::{DateTime, Duration, Utc};

/// The system clock plus an offset, shared by clones; the offset stays 0 unless a test
/// moves it.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The current time as this clock tells it.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward by `by`. For tests.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_offset() {
        let clock = Clock::default();
        let other = clock.clone();
        clock.advance(Duration::days(91));
        let ahead = other.now() - Utc::now();
        assert!(
            ahead >= Duration::days(91) - Duration::minutes(1),
            "{ahead}"
        );
    }
}
