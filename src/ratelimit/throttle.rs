//! Throttling of the paths that guess credentials or probe accounts: `login`, `register`,
//! `refreshSession`, `changePassword`, an email change in `updateViewer` and
//! `deleteAccount`.
//!
//! Counted per resolver call, not per request: aliases and JSON batches cannot multiply
//! the attempts one request makes. Over a limit, the call fails with RATE_LIMITED and
//! `extensions.retryAfter` (seconds). The counters live in PostgreSQL (`db::throttle`),
//! so every instance on one database shares them; an attempt is one statement, checking
//! and spending all of its keys atomically (all or nothing: a refused attempt spends
//! nothing anywhere).
//!
//! Keys are namespaced by purpose, so that no input can name another purpose's key
//! (`login(email: "user:42")` is `login:email:user:42`, never `password:user:42`):
//!
//! | key | limit | metric label |
//! |---|---|---|
//! | `ip:<address or IPv6 /64>` | `AUTH_ATTEMPTS_PER_IP`, every purpose together | `auth_ip` |
//! | `<purpose>:email+ip:<email>\|<ip>`, `<purpose>:user+ip:<id>\|<ip>` | `AUTH_ATTEMPTS_PER_ACCOUNT` | `auth_account_ip` |
//! | `<purpose>:email:<email>`, `<purpose>:user:<id>` | `AUTH_ATTEMPTS_PER_ACCOUNT_TOTAL` | `auth_account` |
//!
//! The purposes are `login`, `register`, `password`, `email` and `delete_account`. Why two keys per
//! account: the strict one (per account and IP) stops one source guessing at an account
//! without touching anyone else, so an attacker cannot lock the owner out from elsewhere;
//! the generous one (per account, every IP) bounds a guesser that spreads over many
//! addresses. Only a source with more addresses than `TOTAL / PER_ACCOUNT` can still
//! delay the owner, and then only while it keeps spending them all.

use std::sync::Arc;

use super::ClientIp;
use crate::{
    db::{self, PgPool},
    error::AppError,
    metrics::{Limit, Metrics},
};

use std::num::NonZeroU32;

/// Attempts allowed per minute (as a burst, refilled evenly over the minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Per account from one client IP: `AUTH_ATTEMPTS_PER_ACCOUNT`.
    pub per_account: NonZeroU32,
    /// Per account from every IP together: `AUTH_ATTEMPTS_PER_ACCOUNT_TOTAL`.
    pub per_account_total: NonZeroU32,
    /// Per client IP: `AUTH_ATTEMPTS_PER_IP`.
    pub per_ip: NonZeroU32,
}

/// What an attempt is for: the namespace of its account keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// `login`.
    Login,
    /// `register`.
    Register,
    /// `changePassword`.
    Password,
    /// `updateViewer` with a new email.
    EmailChange,
    /// `requestPasswordReset` and `resetPassword`.
    PasswordReset,
    /// `requestEmailVerification` and `verifyEmail`.
    EmailVerification,
    /// `deleteAccount`.
    DeleteAccount,
}

impl Purpose {
    const fn namespace(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Register => "register",
            Self::Password => "password",
            Self::EmailChange => "email",
            Self::PasswordReset => "reset",
            Self::EmailVerification => "verify",
            Self::DeleteAccount => "delete_account",
        }
    }
}

/// The account an attempt is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Account<'a> {
    /// An email, already validated and trimmed by the caller
    /// (`domain::accounts::throttle_email`).
    Email(&'a str),
    /// A signed-in user.
    User(i64),
}

/// The sign-in throttle (stateless here: the counters are in the database).
#[derive(Debug)]
pub struct AuthThrottle {
    config: ThrottleConfig,
    metrics: Arc<Metrics>,
}

impl AuthThrottle {
    /// The throttle for `config`, counting refusals in `metrics`.
    pub fn new(config: ThrottleConfig, metrics: Arc<Metrics>) -> Self {
        Self { config, metrics }
    }

    /// The keys of one attempt, their emission intervals (seconds a unit takes to come
    /// back) and their metric labels.
    fn keys(
        &self,
        ip: Option<ClientIp>,
        purpose: Purpose,
        account: Option<Account<'_>>,
    ) -> (Vec<String>, Vec<f64>, Vec<Limit>) {
        let interval = |n: NonZeroU32| 60.0 / f64::from(n.get());
        let net = ip.map(|ip| ip.network().to_string());
        let mut keys = Vec::with_capacity(3);
        let mut intervals = Vec::with_capacity(3);
        let mut limits = Vec::with_capacity(3);
        if let Some(net) = &net {
            keys.push(format!("ip:{net}"));
            intervals.push(interval(self.config.per_ip));
            limits.push(Limit::AuthIp);
        }
        if let Some(account) = account {
            let ns = purpose.namespace();
            let (kind, id) = match account {
                Account::Email(email) => ("email", email.to_owned()),
                Account::User(id) => ("user", id.to_string()),
            };
            // An attempt from an unknown address (in-process callers) pairs with "unknown".
            let from = net.as_deref().unwrap_or("unknown");
            keys.push(format!("{ns}:{kind}+ip:{id}|{from}"));
            intervals.push(interval(self.config.per_account));
            limits.push(Limit::AuthAccountIp);
            keys.push(format!("{ns}:{kind}:{id}"));
            intervals.push(interval(self.config.per_account_total));
            limits.push(Limit::AuthAccount);
        }
        (keys, intervals, limits)
    }

    /// Counts one attempt from `ip` for `purpose` on `account`: RATE_LIMITED (nothing
    /// spent) when any of its keys is over its limit. One statement on `pool`.
    pub async fn attempt(
        &self,
        pool: &PgPool,
        ip: Option<ClientIp>,
        purpose: Purpose,
        account: Option<Account<'_>>,
    ) -> Result<(), AppError> {
        let (keys, intervals, limits) = self.keys(ip, purpose, account);
        if keys.is_empty() {
            return Ok(());
        }
        let verdict = {
            let conn = db::connect(pool).await?;
            db::throttle::attempt(&conn, &keys, &intervals).await?
        };
        let Err(refused) = verdict else {
            return Ok(());
        };
        let limit = refused.index;
        self.metrics
            .rate_limited(limit.map_or(Limit::AuthAccount, |i| limits[i]));
        Err(AppError::RateLimited {
            retry_after_secs: (refused.wait_secs.ceil() as u64).clamp(1, 60),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> AuthThrottle {
        let n = |v| NonZeroU32::new(v).unwrap();
        AuthThrottle::new(
            ThrottleConfig {
                per_account: n(10),
                per_account_total: n(100),
                per_ip: n(60),
            },
            Arc::default(),
        )
    }

    #[test]
    fn keys_are_namespaced_by_purpose_and_ipv6_is_grouped_by_64() {
        let t = throttle();
        let ip = Some(ClientIp("2001:db8:1:2:3:4:5:6".parse().unwrap()));
        let (keys, intervals, limits) = t.keys(ip, Purpose::Login, Some(Account::Email("user:42")));
        assert_eq!(
            keys,
            [
                "ip:2001:db8:1:2::",
                "login:email+ip:user:42|2001:db8:1:2::",
                "login:email:user:42"
            ]
        );
        assert_eq!(intervals, [1.0, 6.0, 0.6]);
        assert_eq!(
            limits,
            [Limit::AuthIp, Limit::AuthAccountIp, Limit::AuthAccount]
        );
        let (keys, ..) = t.keys(None, Purpose::Password, Some(Account::User(42)));
        assert_eq!(keys, ["password:user+ip:42|unknown", "password:user:42"]);
        let (keys, ..) = t.keys(ip, Purpose::EmailChange, Some(Account::User(42)));
        assert_eq!(keys[2], "email:user:42");
        assert!(t.keys(None, Purpose::Login, None).0.is_empty());
    }
}
