//! The connection limits' metrics: refusals by limit
//! (`conduit_connection_limit_refusals_total`) and the HTTP requests in flight
//! (`conduit_http_requests_in_flight`). Part of the [`super::Metrics`] leaf.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};

/// A connection limit, the `limit` label of `conduit_connection_limit_refusals_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionLimit {
    /// `MAX_REQUESTS_IN_FLIGHT`: a request answered 503 (`in_flight`).
    InFlight,
    /// `REQUEST_BODY_TIMEOUT_MS`: the body or authentication took too long, 408
    /// (`body_timeout`).
    BodyTimeout,
    /// `BODY_LIMIT_BYTES`: a body answered 413 (`body_too_large`).
    BodyTooLarge,
    /// `WS_MAX_PER_IP`: an upgrade refused with 429 (`ws_per_ip`).
    WsPerIp,
    /// `WS_MAX_PER_USER`: a `connection_init` closed with 4429 (`ws_per_user`).
    WsPerUser,
    /// `WS_MAX_CONNECTIONS`: an upgrade refused with 503 (`ws_instance`).
    WsInstance,
    /// `WS_IDLE_TIMEOUT_MS`: an idle anonymous socket closed (`ws_idle`).
    WsIdle,
}

impl ConnectionLimit {
    /// Every limit, in label order.
    pub const ALL: [Self; 7] = [
        Self::InFlight,
        Self::BodyTimeout,
        Self::BodyTooLarge,
        Self::WsPerIp,
        Self::WsPerUser,
        Self::WsInstance,
        Self::WsIdle,
    ];

    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InFlight => "in_flight",
            Self::BodyTimeout => "body_timeout",
            Self::BodyTooLarge => "body_too_large",
            Self::WsPerIp => "ws_per_ip",
            Self::WsPerUser => "ws_per_user",
            Self::WsInstance => "ws_instance",
            Self::WsIdle => "ws_idle",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ConnectionLimitLabels {
    limit: &'static str,
}

/// The connection limits' counters and the in-flight gauge.
pub struct ConnectionMetrics {
    refusals: Family<ConnectionLimitLabels, Counter>,
    /// Requests to `/graphql` in flight (held by `MAX_REQUESTS_IN_FLIGHT`'s permits).
    pub in_flight: Gauge,
}

impl ConnectionMetrics {
    /// The metrics, registered in `registry` (every limit at 0).
    pub(super) fn register(registry: &mut Registry) -> Self {
        let refusals: Family<ConnectionLimitLabels, Counter> = Family::default();
        for limit in ConnectionLimit::ALL {
            refusals.get_or_create_owned(&ConnectionLimitLabels {
                limit: limit.as_str(),
            });
        }
        registry.register(
            "conduit_connection_limit_refusals",
            "Requests and WebSockets refused or closed by a connection limit, by limit",
            refusals.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "conduit_http_requests_in_flight",
            "GraphQL HTTP requests in flight (counted against MAX_REQUESTS_IN_FLIGHT)",
            in_flight.clone(),
        );
        Self {
            refusals,
            in_flight,
        }
    }

    /// Counts one refusal by `limit`.
    pub fn refused(&self, limit: ConnectionLimit) {
        self.refusals
            .get_or_create(&ConnectionLimitLabels {
                limit: limit.as_str(),
            })
            .inc();
    }
}
