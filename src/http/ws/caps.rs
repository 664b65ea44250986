//! The caps on open WebSockets: per client IP (`WS_MAX_PER_IP`) and per instance
//! (`WS_MAX_CONNECTIONS`), both checked before the upgrade (429 and 503, with
//! `Retry-After`), and per signed-in user (`WS_MAX_PER_USER`), checked at
//! `connection_init` (close 4429). Each slot is held by a guard for the socket's life.
//! Calls only the metrics leaf.

use std::{
    collections::HashMap,
    hash::Hash,
    net::IpAddr,
    sync::{Arc, Mutex},
};

use super::WebSocketConfig;
use crate::{
    metrics::{ConnectionLimit, Metrics},
    ratelimit::ClientIp,
};

/// The instance's open WebSockets, counted per client IP, per user and in all.
pub struct SocketCaps {
    per_ip: usize,
    per_user: usize,
    total: usize,
    open: Mutex<Counts>,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    ips: HashMap<IpAddr, usize>,
    users: HashMap<i64, usize>,
}

/// One socket's place in the per-IP and instance counts, given back when dropped.
pub struct SocketSlot {
    caps: Arc<SocketCaps>,
    ip: Option<IpAddr>,
}

/// One signed-in socket's place in its user's count, given back when dropped.
pub struct UserSlot {
    caps: Arc<SocketCaps>,
    user: i64,
}

impl SocketCaps {
    /// Caps from `config`, refusals counted in `metrics`.
    pub fn new(config: &WebSocketConfig, metrics: Arc<Metrics>) -> Self {
        Self {
            per_ip: config.max_per_ip,
            per_user: config.max_per_user,
            total: config.max_connections,
            open: Mutex::default(),
            metrics,
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a new socket from `ip` (unknown in process: counted in the total
    /// only), or the limit that refuses it.
    pub fn admit(self: &Arc<Self>, ip: Option<IpAddr>) -> Result<SocketSlot, ConnectionLimit> {
        let ip = ip.map(network);
        let mut counts = self.counts();
        let refused = if counts.total >= self.total {
            Some(ConnectionLimit::WsInstance)
        } else if ip.is_some_and(|ip| counts.ips.get(&ip).copied().unwrap_or(0) >= self.per_ip) {
            Some(ConnectionLimit::WsPerIp)
        } else {
            None
        };
        if let Some(limit) = refused {
            self.metrics.connections.refused(limit);
            return Err(limit);
        }
        counts.total += 1;
        if let Some(ip) = ip {
            *counts.ips.entry(ip).or_default() += 1;
        }
        Ok(SocketSlot {
            caps: Arc::clone(self),
            ip,
        })
    }

    /// A slot for a socket signed in as `user`, or `None` when the user has
    /// `WS_MAX_PER_USER` open already.
    pub fn admit_user(self: &Arc<Self>, user: i64) -> Option<UserSlot> {
        let mut counts = self.counts();
        let open = counts.users.entry(user).or_default();
        if *open >= self.per_user {
            drop(counts);
            self.metrics.connections.refused(ConnectionLimit::WsPerUser);
            return None;
        }
        *open += 1;
        Some(UserSlot {
            caps: Arc::clone(self),
            user,
        })
    }

    /// Counts an idle anonymous socket closed by `WS_IDLE_TIMEOUT_MS`.
    pub fn closed_idle(&self) {
        self.metrics.connections.refused(ConnectionLimit::WsIdle);
    }
}

/// The address an IP is counted under: itself for IPv4, its /64 for IPv6 (one host
/// usually holds a whole /64), as the throttle and the budget count it.
fn network(ip: IpAddr) -> IpAddr {
    ClientIp(ip).network()
}

/// Takes one from `key`'s count, forgetting the key at zero (so the map holds only
/// keys with open sockets).
fn release<K: Eq + Hash>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(open) = map.get_mut(key) {
        *open -= 1;
        if *open == 0 {
            map.remove(key);
        }
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut counts = self.caps.counts();
        counts.total -= 1;
        if let Some(ip) = self.ip {
            release(&mut counts.ips, &ip);
        }
    }
}

impl Drop for UserSlot {
    fn drop(&mut self) {
        release(&mut self.caps.counts().users, &self.user);
    }
}
