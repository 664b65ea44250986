//! The overall in-flight request limit (`MAX_REQUESTS_IN_FLIGHT`): a permit per request
//! to `/graphql`, taken without waiting, so a full server answers a fast 503
//! (`SERVICE_UNAVAILABLE`, `Retry-After`) instead of queueing. The probes and `/metrics`
//! are outside it, so an overloaded instance still says so. Calls only [`super::reply`]
//! and the metrics leaf.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::State,
    http::{HeaderValue, Request, StatusCode, header},
    middleware::Next,
    response::Response,
};
use tokio::sync::Semaphore;

use super::{negotiate::ResponseMedia, reply};
use crate::{
    error::ErrorCode,
    metrics::{ConnectionLimit, Metrics},
};

/// The default of `MAX_REQUESTS_IN_FLIGHT`: far above the benchmark's 64 connections.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1024;

/// What a refused client is told to wait, in seconds.
pub const RETRY_AFTER_SECONDS: u64 = 1;

/// The instance's in-flight permits, shared by every router built from one state.
#[derive(Clone)]
pub struct InFlight {
    permits: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl InFlight {
    /// At most `limit` requests at once, counted in `metrics`.
    pub fn new(limit: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(limit)),
            metrics,
        }
    }
}

/// Runs the request with a permit, or answers 503 at once when none is free. The permit
/// is held until the response head (a WebSocket is counted for its upgrade only: its
/// own caps hold it afterwards).
pub async fn limit(
    State(in_flight): State<InFlight>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let Ok(_permit) = Arc::clone(&in_flight.permits).try_acquire_owned() else {
        in_flight
            .metrics
            .connections
            .refused(ConnectionLimit::InFlight);
        return unavailable("The server is at its limit of requests in flight: try again shortly.");
    };
    let gauge = in_flight.metrics.connections.in_flight.clone();
    gauge.inc();
    // Decremented however the request ends (a client gone mid-request drops this future).
    let _counted = Counted(gauge);
    next.run(request).await
}

/// Decrements the in-flight gauge when dropped.
struct Counted(prometheus_client::metrics::gauge::Gauge);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A 503 `SERVICE_UNAVAILABLE` reply with `Retry-After`.
pub fn unavailable(message: &str) -> Response {
    let mut response = reply::error(
        ResponseMedia::Json,
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ServiceUnavailable,
        message,
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    response
}
