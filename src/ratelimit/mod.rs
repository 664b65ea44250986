//! Rate limiting: the sign-in throttle ([`throttle`], shared by every instance through
//! PostgreSQL) and the cost budget ([`budget`], per instance on a [`KeyedLimiter`], or
//! shared through Redis when `REDIS_URL` is set).
//!
//! Every limit is a set of buckets, one per key (an account, an address, a spender),
//! refilled evenly over a minute; a call spends units from its key's bucket or is refused
//! with how long to wait, and each refusal is counted in `conduit_rate_limited_total`.
//!
//! Sits beside `domain`: it may use `db` and the leaves (`error`, `metrics`), nothing
//! above. [`ClientIp`] lives here so that `http`, `graphql` and the limits all reach it.

pub mod budget;
mod keyed;
pub mod shared;
pub mod throttle;

use std::net::IpAddr;

pub use keyed::{KeyedLimiter, RetryAfter};

/// The address a request came from, in its data when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// What the limits count per: an IPv4 address, or the /64 network of an IPv6 one (one
    /// host commonly holds a whole /64, and could otherwise take a fresh budget with each
    /// address); an IPv4-mapped IPv6 address is its IPv4 address.
    pub fn network(self) -> IpAddr {
        match self.0 {
            IpAddr::V4(_) => self.0,
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let network = u128::from(v6) & !((1u128 << 64) - 1);
                    IpAddr::V6(network.into())
                }
            },
        }
    }
}
