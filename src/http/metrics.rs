//! `GET /metrics`: the instance's metrics in the Prometheus text format, behind a bearer
//! token when `METRICS_TOKEN` is set.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    metrics::{CONTENT_TYPE, LiveCounts},
    state::AppState,
};

/// `GET /metrics`: every metric, the gauges read now. With `METRICS_TOKEN` set, a request
/// without `Authorization: Bearer <that token>` gets 401.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics.token {
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
    let text = state.metrics.render(&LiveCounts::of(&state));
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
