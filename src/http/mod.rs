//! The HTTP surface: routes, middleware, the GraphQL-over-HTTP handler, the WebSocket
//! protocol, IDEs and probes. Framing only: GraphQL decisions are the operation
//! pipeline's ([`crate::graphql::execution`]). It may call `graphql`, and below it what
//! framing needs (authentication in `domain::sessions`, the pool in `db`), never the
//! composition root, which builds its state ([`graphql::EndpointState`], [`Surface`]).

pub mod client_ip;
pub mod graphql;
pub mod health;
pub mod ide;
pub mod lifecycle;
pub mod limits;
pub mod metrics;
pub mod middleware;
pub mod negotiate;
pub mod reply;
pub mod static_files;
pub mod unsubscribe;
pub mod web;
pub mod ws;

use std::sync::Arc;

use async_graphql::Executor;
use axum::{Router, routing::get};

/// The benchmark's floor (`BENCH_HELLO`): what `{ __typename }` answers, without GraphQL.
pub const HELLO_PATH: &str = "/hello";

/// `/hello`: a fixed JSON body, behind the same middleware as `/graphql`.
async fn hello() -> ([(axum::http::HeaderName, &'static str); 1], &'static str) {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        r#"{"data":{"__typename":"Query"}}"#,
    )
}

/// What the router serves besides `/graphql`, built by the composition root.
pub struct Surface {
    /// `/metrics`, whose metrics also count every request (see [`middleware`]).
    pub metrics: metrics::MetricsEndpoint,
    /// The browser origins that may call the API.
    pub cors_origins: middleware::CorsOrigins,
    /// Serve `/hello` (`BENCH_HELLO`).
    pub bench_hello: bool,
    /// The in-flight permits `/graphql` requests take (`MAX_REQUESTS_IN_FLIGHT`).
    pub in_flight: limits::InFlight,
    /// What `/email/unsubscribe` needs.
    pub unsubscriber: crate::domain::unsubscribe::Unsubscriber,
    /// The web app, served on every path nothing else serves ([`web`]).
    pub web: web::WebApp,
}

/// The router: `/graphql` served by `executor` with `endpoint`, the probes, `/metrics`,
/// one-click unsubscribe (`/email/unsubscribe`), (when enabled) Playground with the IDEs'
/// files (`/ide/`) and `/hello`, and the web app on the rest ([`web::serve`]), behind the
/// middleware.
///
/// The executor is normally the schema from [`crate::graphql::build_schema`]; tests may
/// pass another one to exercise the transport.
pub fn router<E: Executor>(
    executor: E,
    endpoint: graphql::EndpointState,
    surface: Surface,
) -> Router {
    let pool = endpoint.pool.clone();
    let ides = endpoint.graphiql.clone();
    let counted = Arc::clone(&surface.metrics.metrics);
    let mut router = Router::new()
        .route(
            ide::GRAPHQL_PATH,
            get(graphql::get::<E>).post(graphql::post::<E>).layer(
                axum::middleware::from_fn_with_state(surface.in_flight.clone(), limits::limit),
            ),
        )
        .with_state(graphql::GraphqlEndpoint::new(executor, endpoint))
        .route("/healthz", get(health::healthz))
        .merge(
            Router::new()
                .route("/readyz", get(health::readyz))
                .with_state(pool),
        )
        .merge(
            Router::new()
                .route("/metrics", get(metrics::metrics))
                .with_state(surface.metrics),
        )
        .merge(
            Router::new()
                .route(
                    crate::domain::unsubscribe::PATH,
                    get(unsubscribe::page).post(unsubscribe::post),
                )
                .with_state(surface.unsubscriber),
        );
    if let Some(dist) = ides {
        router = router.merge(dist.routes());
    }
    if surface.bench_hello {
        router = router.route(HELLO_PATH, get(hello).post(hello));
    }
    let router = router.merge(Router::new().fallback(web::serve).with_state(surface.web));
    middleware::apply(router, &surface.cors_origins, counted)
}
