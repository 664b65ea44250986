//! The HTTP surface: routes, middleware, the GraphQL-over-HTTP handler, IDEs and probes.

pub mod graphql;
pub mod health;
pub mod ide;
pub mod metrics;
pub mod middleware;
pub mod negotiate;
pub mod reply;
pub mod ws;

use std::sync::Arc;

use async_graphql::Executor;
use axum::{Router, routing::get};

use crate::state::AppState;

/// The benchmark's floor (`BENCH_HELLO`): what `{ __typename }` answers, without GraphQL.
pub const HELLO_PATH: &str = "/hello";

/// `/hello`: a fixed JSON body, behind the same middleware as `/graphql`.
async fn hello() -> ([(axum::http::HeaderName, &'static str); 1], &'static str) {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        r#"{"data":{"__typename":"Query"}}"#,
    )
}

/// The router: `/graphql` served by `executor`, the probes, `/metrics`, and (when enabled)
/// Playground.
///
/// The executor is normally the schema from [`crate::graphql::build_schema`]; tests may
/// pass another one to exercise the transport.
pub fn router<E: Executor>(state: &AppState, executor: E) -> Router {
    let config = &state.config;
    let mut router = Router::new()
        .route(
            ide::GRAPHQL_PATH,
            get(graphql::get::<E>).post(graphql::post::<E>),
        )
        .with_state(graphql::GraphqlEndpoint::new(executor, state))
        .route("/healthz", get(health::healthz))
        .merge(
            Router::new()
                .route("/readyz", get(health::readyz))
                .with_state(state.pool.clone()),
        )
        .merge(
            Router::new()
                .route("/metrics", get(metrics::metrics))
                .with_state(state.metrics_endpoint()),
        );
    if config.graphiql {
        router = router.route("/playground", get(ide::playground));
    }
    if config.bench_hello {
        router = router.route(HELLO_PATH, get(hello).post(hello));
    }
    middleware::apply(router, &config.cors_origins, Arc::clone(&state.metrics))
}
