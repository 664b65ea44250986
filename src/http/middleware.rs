//! The middleware around every route: `X-Content-Type-Options: nosniff` on every
//! response, metrics (by the route matched), request ids, tracing, CORS and panic
//! recovery; and the CORS setting's type ([`CorsOrigins`], which
//! `config` fills in).

use std::{
    any::Any,
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    extract::{MatchedPath, State},
    http::{HeaderName, HeaderValue, Method, Request, StatusCode, header},
    middleware::Next,
    response::Response,
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, CorsLayer},
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::{Level, Span};

use super::{HELLO_PATH, negotiate::ResponseMedia, reply};
use crate::{
    error::{ErrorCode, INTERNAL_MESSAGE},
    metrics::Metrics,
};

/// Which browser origins may call the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Any `http(s)://localhost[:port]` or `http(s)://127.0.0.1[:port]` origin.
    Localhost,
    /// Exactly these origins (possibly none).
    List(Vec<String>),
}

/// The request id header: accepted from the client or generated, and always returned.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps `router` in the middleware stack (outermost first): `nosniff`, metrics, request
/// id, tracing span, request id on the response, `Vary: Accept-Encoding` on static files
/// ([`super::static_files`]), CORS (allowing `cors_origins`), panic recovery.
pub fn apply(router: Router, cors_origins: &CorsOrigins, metrics: Arc<Metrics>) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(SetResponseHeaderLayer::overriding(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ))
            .layer(axum::middleware::from_fn_with_state(metrics, record))
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(request_span)
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(axum::middleware::from_fn(
                super::static_files::vary_accept_encoding,
            ))
            .layer(cors(cors_origins))
            .layer(CatchPanicLayer::custom(panic_response)),
    )
}

/// Counts and times every request by the route it matched (none, and the benchmark's
/// [`HELLO_PATH`], as `other`): until the response head, so a WebSocket counts its
/// upgrade only.
async fn record(
    State(metrics): State<Arc<Metrics>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .filter(|route| route.as_str() != HELLO_PATH)
        .cloned();
    let response = next.run(request).await;
    metrics.http_request(
        &method,
        route.as_ref(),
        response.status(),
        started.elapsed(),
    );
    response
}

/// The span every log line of a request is written in; it carries the request id.
fn request_span(request: &Request<Body>) -> Span {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}

fn cors(origins: &CorsOrigins) -> CorsLayer {
    let allow_origin = match origins {
        CorsOrigins::Localhost => {
            AllowOrigin::predicate(|origin: &HeaderValue, _| is_localhost_origin(origin.as_bytes()))
        }
        CorsOrigins::List(list) => {
            AllowOrigin::list(list.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
        }
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::ACCEPT,
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            REQUEST_ID,
            HeaderName::from_static("apollo-require-preflight"),
            HeaderName::from_static("x-apollo-operation-name"),
            HeaderName::from_static("apollographql-client-name"),
            HeaderName::from_static("apollographql-client-version"),
        ])
        .expose_headers([REQUEST_ID])
        .max_age(Duration::from_secs(600))
}

/// True for `http(s)://localhost`, `127.0.0.1` or `[::1]`, with any port.
fn is_localhost_origin(origin: &[u8]) -> bool {
    let Ok(origin) = std::str::from_utf8(origin) else {
        return false;
    };
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = match rest.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => rest,
    };
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// A panic inside a request becomes a masked GraphQL error; the server keeps serving.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(non-string panic payload)");
    tracing::error!(panic = detail, "request handler panicked");
    reply::error(
        ResponseMedia::Json,
        StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::InternalServerError,
        INTERNAL_MESSAGE,
    )
}

#[cfg(test)]
mod tests {
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn requests_are_labelled_by_the_route_they_matched() {
        let metrics = Arc::new(Metrics::default());
        let routes = Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route(HELLO_PATH, get(|| async { "hello" }));
        let app = apply(routes, &CorsOrigins::List(Vec::new()), Arc::clone(&metrics));
        for path in ["/healthz", "/healthz", HELLO_PATH, "/nowhere", "/healthz/x"] {
            let request = Request::get(path).body(Body::empty()).unwrap();
            app.clone().oneshot(request).await.unwrap();
        }
        let text = metrics.render(&Default::default());
        let count = |path: &str, status: u16| {
            let line = format!(
                "conduit_http_requests_total{{method=\"GET\",path=\"{path}\",status=\"{status}\"}} "
            );
            text.lines()
                .find_map(|l| l.strip_prefix(&line))
                .unwrap_or_else(|| panic!("{line} in\n{text}"))
                .to_owned()
        };
        assert_eq!(count("/healthz", 200), "2");
        // The benchmark's floor is not a label of its own.
        assert_eq!(count("other", 200), "1");
        assert_eq!(count("other", 404), "2");
        assert!(
            !text.contains("/hello") && !text.contains("/nowhere"),
            "{text}"
        );
    }

    #[test]
    fn recognises_localhost_origins() {
        for ok in [
            "http://localhost:3000",
            "http://localhost",
            "https://127.0.0.1:5173",
            "http://[::1]:8080",
        ] {
            assert!(is_localhost_origin(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "http://localhost.evil.example",
            "http://evil.example/localhost",
            "ftp://localhost",
            "http://127.0.0.1.evil.example:80",
            "null",
        ] {
            assert!(!is_localhost_origin(bad.as_bytes()), "{bad}");
        }
    }
}
