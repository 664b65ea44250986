//! `GET /metrics`: the instance's metrics in the Prometheus text format, the gauges read
//! from the instance at scrape time, behind a bearer token ([`MetricsToken`], which
//! `config` fills in) when `METRICS_TOKEN` is set. In production it is never open: without
//! a token it answers 403.

use std::sync::Arc;

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::metrics::{CONTENT_TYPE, LiveCounts, Metrics};

/// What `/metrics` serves, handed over by the composition root.
#[derive(Clone)]
pub struct MetricsEndpoint {
    /// The instance's metrics.
    pub metrics: Arc<Metrics>,
    /// The token a scrape must present (`METRICS_TOKEN`; `None`: open, unless
    /// `token_required`).
    pub token: Option<MetricsToken>,
    /// Without a token, refuse every scrape (production).
    pub token_required: bool,
    /// Reads the scrape-time gauges from the running instance.
    pub live: Arc<dyn Fn() -> LiveCounts + Send + Sync>,
}

/// `GET /metrics`: every metric, the gauges read now. With `METRICS_TOKEN` set, a request
/// without `Authorization: Bearer <that token>` gets 401; without it, in production, 403.
pub async fn metrics(State(endpoint): State<MetricsEndpoint>, headers: HeaderMap) -> Response {
    if endpoint.token.is_none() && endpoint.token_required {
        let text = "Set METRICS_TOKEN to serve /metrics in production.\n";
        return (StatusCode::FORBIDDEN, text).into_response();
    }
    if let Some(token) = &endpoint.token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer);
        if !presented.is_some_and(|presented| token.matches(presented)) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))],
                "Send the metrics token as Authorization: Bearer <token>.\n",
            )
                .into_response();
        }
    }
    let text = endpoint.metrics.render(&(endpoint.live)());
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE))],
        text,
    )
        .into_response()
}

/// The credentials of a `Bearer` authorization (the scheme in any case).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// The secret `/metrics` requires; never printed (its `Debug` is redacted).
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// A token (surrounding whitespace removed).
    pub fn new(token: &str) -> Self {
        Self(token.trim().to_owned())
    }

    /// True when `presented` is this token. Their SHA-256 digests are compared in time
    /// independent of where they differ, so timing tells neither the token's content
    /// nor its length.
    pub fn matches(&self, presented: &str) -> bool {
        use sha2::{Digest, Sha256};
        let expected = Sha256::digest(self.0.as_bytes());
        let presented = Sha256::digest(presented.as_bytes());
        expected
            .iter()
            .zip(presented.iter())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(<redacted>)")
    }
}
