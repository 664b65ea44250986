//! The DNS resolver webhook deliveries connect through (`reqwest::dns::Resolve`): it
//! looks a host up, and refuses the connection before any packet goes to the target when
//! one of the addresses is forbidden (`domain::webhooks::address::forbidden`), unless the
//! host is on `WEBHOOK_ALLOWED_HOSTS`. Checked at every delivery, so a name that
//! resolved to a public address at registration and to an inner one now (DNS rebinding)
//! is refused. The lookup itself is injectable ([`Lookup`]): tests map names to
//! addresses (these machines have no DNS).
//!
//! May call: `domain`.

use std::{
    io,
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use futures_util::future::BoxFuture;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::domain::webhooks::address::{WebhookPolicy, forbidden};

/// Looks a host name up.
pub trait Lookup: Send + Sync + 'static {
    /// The addresses of `host`.
    fn lookup(&self, host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>>;
}

/// The system's resolver (`getaddrinfo`, through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        let host = host.to_owned();
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// A connection refused by the address checks (found in the error's source chain).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused: {host} resolves to {ip}, a private or reserved address")]
pub struct Refused {
    /// The host.
    pub host: String,
    /// The forbidden address it resolved to.
    pub ip: IpAddr,
}

/// [`Lookup`] behind the address checks.
pub struct GuardedResolver {
    lookup: Arc<dyn Lookup>,
    policy: WebhookPolicy,
}

impl GuardedResolver {
    /// Resolves through `lookup`, checking under `policy`.
    pub fn new(lookup: Arc<dyn Lookup>, policy: WebhookPolicy) -> Self {
        Self { lookup, policy }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allowed = self.policy.is_allowed_host(&host);
        let lookup = self.lookup.lookup(&host);
        Box::pin(async move {
            let ips = lookup.await?;
            if !allowed && let Some(ip) = ips.iter().copied().find(|ip| forbidden(*ip)) {
                return Err(Box::new(Refused { host, ip }) as Box<_>);
            }
            if ips.is_empty() {
                let error = io::Error::new(io::ErrorKind::NotFound, format!("{host}: no address"));
                return Err(Box::new(error) as Box<_>);
            }
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}
