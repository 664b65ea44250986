//! Throttling of the paths that guess credentials: `login`, `register`, `refreshSession`
//! and `changePassword`, per account and per client IP.
//!
//! Counted per resolver call, not per request: aliases and JSON batches cannot multiply
//! the attempts one request makes. Over a limit, the call fails with RATE_LIMITED and
//! `extensions.retryAfter` (seconds). The counters are two [`KeyedLimiter`]s, one per
//! account and one per client IP, one pair per instance. Each refusal is counted in
//! `conduit_rate_limited_total` (`auth_ip` or `auth_account`).

use std::{net::IpAddr, num::NonZeroU32, sync::Arc};

use super::{ClientIp, KeyedLimiter, RetryAfter};
use crate::{
    error::AppError,
    metrics::{Limit, Metrics},
};

/// Attempts allowed per minute (as a burst, refilled evenly over the minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Per account (email, or user for password changes): `AUTH_ATTEMPTS_PER_ACCOUNT`.
    pub per_account: NonZeroU32,
    /// Per client IP: `AUTH_ATTEMPTS_PER_IP`.
    pub per_ip: NonZeroU32,
}

/// The instance's counters.
#[derive(Debug)]
pub struct AuthThrottle {
    accounts: KeyedLimiter<String>,
    ips: KeyedLimiter<IpAddr>,
}

/// How often (in attempts) buckets that are full again are forgotten.
const PRUNE_EVERY: u64 = 1024;

impl AuthThrottle {
    /// Empty counters for `config`, counting refusals in `metrics`.
    pub fn new(config: ThrottleConfig, metrics: Arc<Metrics>) -> Self {
        Self {
            accounts: KeyedLimiter::per_minute(
                config.per_account,
                Limit::AuthAccount,
                PRUNE_EVERY,
                Arc::clone(&metrics),
            ),
            ips: KeyedLimiter::per_minute(config.per_ip, Limit::AuthIp, PRUNE_EVERY, metrics),
        }
    }

    /// Counts one attempt from `ip` on `account` (compared without case); RATE_LIMITED
    /// when either is over its limit.
    pub fn attempt(&self, ip: Option<ClientIp>, account: Option<&str>) -> Result<(), AppError> {
        if let Some(ClientIp(ip)) = ip {
            self.ips.spend(&ip, NonZeroU32::MIN).map_err(limited)?;
        }
        if let Some(account) = account {
            let key = account.trim().to_lowercase();
            self.accounts
                .spend(&key, NonZeroU32::MIN)
                .map_err(limited)?;
        }
        Ok(())
    }
}

/// The error a refused attempt fails with.
fn limited(RetryAfter(retry_after_secs): RetryAfter) -> AppError {
    AppError::RateLimited { retry_after_secs }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(per_account: u32, per_ip: u32) -> (AuthThrottle, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::default());
        let throttle = AuthThrottle::new(
            ThrottleConfig {
                per_account: NonZeroU32::new(per_account).unwrap(),
                per_ip: NonZeroU32::new(per_ip).unwrap(),
            },
            Arc::clone(&metrics),
        );
        (throttle, metrics)
    }

    #[test]
    fn each_account_and_each_ip_has_its_own_budget() {
        let (t, metrics) = throttle(2, 3);
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
        let text = metrics.render(&Default::default());
        for line in [
            "conduit_rate_limited_total{limit=\"auth_account\"} 1",
            "conduit_rate_limited_total{limit=\"auth_ip\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }
}
