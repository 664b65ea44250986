//! Rate limiting: one keyed limiter ([`KeyedLimiter`]) and its two uses, the sign-in
//! throttle ([`throttle`]) and the cost budget ([`budget`]).
//!
//! Every limit is a set of buckets, one per key (an account, an address, a spender),
//! refilled evenly over a minute; a call spends units from its key's bucket or is refused
//! with how long to wait, and each refusal is counted in `conduit_rate_limited_total`.
//! The buckets are this instance's; [`KeyedLimiter`] is the one place a store shared
//! across instances would go.
//!
//! Sits beside `domain`: it may use `db` and the leaves (`error`, `metrics`), nothing
//! above. [`ClientIp`] lives here so that `http`, `graphql` and the limits all reach it.

pub mod budget;
mod keyed;
pub mod throttle;

use std::net::IpAddr;

pub use keyed::{KeyedLimiter, RetryAfter};

/// The address a request came from, in its data when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);
