//! Throttling of the paths that guess credentials: `login`, `register`, `refreshSession`
//! and `changePassword`, per account and per client IP.
//!
//! Counted per resolver call, not per request: aliases and JSON batches cannot multiply
//! the attempts one request makes. Over a limit, the call fails with RATE_LIMITED and
//! `extensions.retryAfter` (seconds). The state lives in [`crate::AppState`], one per
//! instance (GCRA buckets from the `governor` crate, forgotten once full again). Each
//! refusal is counted in `conduit_rate_limited_total` (`auth_ip` or `auth_account`).

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use crate::{
    error::AppError,
    metrics::{Limit, Metrics},
};

/// The address a request came from, in its data when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Attempts allowed per minute (as a burst, refilled evenly over the minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Per account (email, or user for password changes): `AUTH_ATTEMPTS_PER_ACCOUNT`.
    pub per_account: NonZeroU32,
    /// Per client IP: `AUTH_ATTEMPTS_PER_IP`.
    pub per_ip: NonZeroU32,
}

/// The instance's counters.
pub struct AuthThrottle {
    accounts: DefaultKeyedRateLimiter<String>,
    ips: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    calls: AtomicU64,
    metrics: Arc<Metrics>,
}

/// How often (in attempts) buckets that are full again are forgotten.
const PRUNE_EVERY: u64 = 1024;

impl AuthThrottle {
    /// Empty counters for `config`, counting refusals in `metrics`.
    pub fn new(config: ThrottleConfig, metrics: Arc<Metrics>) -> Self {
        Self {
            accounts: RateLimiter::keyed(Quota::per_minute(config.per_account)),
            ips: RateLimiter::keyed(Quota::per_minute(config.per_ip)),
            clock: DefaultClock::default(),
            calls: AtomicU64::new(0),
            metrics,
        }
    }

    /// Counts one attempt from `ip` on `account` (compared without case); RATE_LIMITED
    /// when either is over its limit.
    pub fn attempt(&self, ip: Option<ClientIp>, account: Option<&str>) -> Result<(), AppError> {
        if self.calls.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.accounts.retain_recent();
            self.ips.retain_recent();
        }
        if let Some(ClientIp(ip)) = ip {
            self.ips
                .check_key(&ip)
                .map_err(|wait| self.limited(Limit::AuthIp, wait))?;
        }
        if let Some(account) = account {
            let key = account.trim().to_lowercase();
            self.accounts
                .check_key(&key)
                .map_err(|wait| self.limited(Limit::AuthAccount, wait))?;
        }
        Ok(())
    }

    fn limited(
        &self,
        limit: Limit,
        wait: governor::NotUntil<<DefaultClock as Clock>::Instant>,
    ) -> AppError {
        self.metrics.rate_limited(limit);
        let seconds = wait.wait_time_from(self.clock.now()).as_secs_f64().ceil();
        AppError::RateLimited {
            retry_after_secs: (seconds as u64).max(1),
        }
    }
}

impl std::fmt::Debug for AuthThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthThrottle").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(per_account: u32, per_ip: u32) -> AuthThrottle {
        AuthThrottle::new(
            ThrottleConfig {
                per_account: NonZeroU32::new(per_account).unwrap(),
                per_ip: NonZeroU32::new(per_ip).unwrap(),
            },
            Arc::new(Metrics::default()),
        )
    }

    #[test]
    fn each_account_and_each_ip_has_its_own_budget() {
        let t = throttle(2, 3);
        let ip = Some(ClientIp("10.0.0.1".parse().unwrap()));
        assert!(t.attempt(ip, Some("A@x.io")).is_ok());
        assert!(t.attempt(ip, Some("a@x.io ")).is_ok());
        let Err(AppError::RateLimited { retry_after_secs }) = t.attempt(None, Some("a@X.io"))
        else {
            panic!("the account's third attempt passed");
        };
        assert!((1..=60).contains(&retry_after_secs));
        assert!(t.attempt(None, Some("b@x.io")).is_ok());
        assert!(t.attempt(ip, Some("c@x.io")).is_ok());
        assert!(matches!(
            t.attempt(ip, Some("d@x.io")),
            Err(AppError::RateLimited { .. })
        ));
        let other = Some(ClientIp("10.0.0.2".parse().unwrap()));
        assert!(t.attempt(other, Some("e@x.io")).is_ok());
        let text = t.metrics.render(&Default::default());
        for line in [
            "conduit_rate_limited_total{limit=\"auth_account\"} 1",
            "conduit_rate_limited_total{limit=\"auth_ip\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
