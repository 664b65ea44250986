//! The cost budget: every operation spends its complexity (see
//! `graphql::limits`) from a budget per signed-in user, or per client IP for
//! anonymous callers, refilled evenly over a minute — the way GitHub's GraphQL API
//! budgets points. Responses report the cost and what remains (`extensions.cost`); an
//! operation the budget cannot cover is refused with RATE_LIMITED and
//! `extensions.retryAfter` before anything runs.
//!
//! Without `REDIS_URL` the budgets are one [`KeyedLimiter`] keyed by [`Spender`], one
//! per instance; with it they are shared by every instance through Redis
//! ([`super::shared`]), falling back to the per-instance limiter while Redis is
//! unreachable. Each refusal is counted in `conduit_rate_limited_total` (`cost_budget`).

use std::{net::IpAddr, num::NonZeroU32, sync::Arc};

use super::{
    KeyedLimiter, RetryAfter,
    shared::{RedisConfig, SharedBudget},
};
use crate::metrics::{Limit, Metrics};

/// Whose budget an operation spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Spender {
    /// A signed-in user (all their sessions share one budget).
    User(i64),
    /// An anonymous caller, by address; see [`Spender::anonymous`].
    Ip(IpAddr),
}

impl Spender {
    /// The spender for an anonymous caller at `ip`: an IPv4 address, or the /64 network
    /// of an IPv6 one (one host commonly holds a whole /64, and could otherwise take a
    /// fresh budget with each address).
    pub fn anonymous(ip: IpAddr) -> Self {
        Self::Ip(super::ClientIp(ip).network())
    }
}

/// What one operation spent, reported in `extensions.cost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charge {
    /// The operation's cost (its complexity, at least 1).
    pub cost: u32,
    /// The budget's size: what a full minute refills.
    pub limit: u32,
    /// What is left after this operation.
    pub remaining: u32,
}

/// An operation the budget cannot cover now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// The operation's cost.
    pub cost: u32,
    /// The budget's size.
    pub limit: u32,
    /// Whole seconds until enough has been refilled.
    pub retry_after_secs: u64,
}

/// The instance's budgets.
pub struct CostBudget {
    limiter: KeyedLimiter<Spender>,
    shared: Option<SharedBudget>,
}

impl std::fmt::Debug for CostBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CostBudget")
            .field("limiter", &self.limiter)
            .field("shared", &self.shared.is_some())
            .finish()
    }
}

/// How often (in operations) budgets that are full again are forgotten.
const PRUNE_EVERY: u64 = 4096;

impl CostBudget {
    /// Budgets of `per_minute` cost units, refilled evenly over a minute; refusals are
    /// counted in `metrics`.
    pub fn new(per_minute: NonZeroU32, metrics: Arc<Metrics>) -> Self {
        Self {
            limiter: KeyedLimiter::per_minute(per_minute, Limit::CostBudget, PRUNE_EVERY, metrics),
            shared: None,
        }
    }

    /// Budgets of `per_minute` shared through the Redis at `redis` (falling back to per
    /// instance while it is unreachable); opens no connection yet. Errors when the URL
    /// is not a Redis URL.
    pub fn shared(
        per_minute: NonZeroU32,
        redis: &RedisConfig,
        metrics: Arc<Metrics>,
    ) -> Result<Self, redis::RedisError> {
        let shared = SharedBudget::new(redis, per_minute.get(), Arc::clone(&metrics))?;
        Ok(Self {
            shared: Some(shared),
            ..Self::new(per_minute, metrics)
        })
    }

    /// Waits until what this instance spent has reached the shared store (no reservation
    /// out); at once for a per-instance budget.
    pub async fn settled(&self) {
        if let Some(shared) = &self.shared {
            shared.settled().await;
        }
    }

    /// Whether the budget is shared now: `Some(false)` while Redis is unreachable,
    /// `None` for a per-instance budget.
    pub fn is_shared(&self) -> Option<bool> {
        self.shared.as_ref().map(|s| !s.is_down())
    }

    /// Spends `cost` (at least 1) from `spender`'s budget, or refuses without spending.
    pub fn spend(&self, spender: Spender, cost: usize) -> Result<Charge, Refusal> {
        let limit = self.limiter.size().get();
        let n = NonZeroU32::new(u32::try_from(cost).unwrap_or(u32::MAX)).unwrap_or(NonZeroU32::MIN);
        let cost = n.get();
        if let Some(verdict) = self.shared.as_ref().and_then(|s| s.spend(spender, cost)) {
            return verdict;
        }
        match self.limiter.spend(&spender, n) {
            Ok(remaining) => Ok(Charge {
                cost,
                limit,
                remaining,
            }),
            Err(RetryAfter(retry_after_secs)) => Err(Refusal {
                cost,
                limit,
                retry_after_secs,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spends_until_the_budget_is_gone_and_reports_what_remains() {
        let budget = CostBudget::new(NonZeroU32::new(100).unwrap(), Arc::default());
        let alice = Spender::User(1);
        assert_eq!(
            budget.spend(alice, 60),
            Ok(Charge {
                cost: 60,
                limit: 100,
                remaining: 40
            })
        );
        let refusal = budget.spend(alice, 50).unwrap_err();
        assert_eq!((refusal.cost, refusal.limit), (50, 100));
        assert!((1..=60).contains(&refusal.retry_after_secs));
        // A refusal spends nothing; a zero cost still counts 1.
        assert_eq!(
            budget.spend(alice, 0).map(|c| (c.cost, c.remaining)),
            Ok((1, 39))
        );
        // Others have their own budgets.
        let ip = Spender::Ip("10.0.0.1".parse().unwrap());
        assert_eq!(budget.spend(ip, 100).map(|c| c.remaining), Ok(0));
        assert_eq!(
            budget.spend(Spender::User(2), 1).map(|c| c.remaining),
            Ok(99)
        );
        assert_eq!(budget.spend(ip, 101).unwrap_err().retry_after_secs, 60);
    }

    #[test]
    fn an_ipv6_network_is_one_anonymous_spender() {
        let at = |ip: &str| Spender::anonymous(ip.parse().unwrap());
        assert_eq!(at("2001:db8:1:2::1"), at("2001:db8:1:2:ffff::9"));
        assert_ne!(at("2001:db8:1:2::1"), at("2001:db8:1:3::1"));
        assert_eq!(at("::ffff:10.0.0.1"), at("10.0.0.1"));
        assert_ne!(at("10.0.0.1"), at("10.0.0.2"));
    }
}
