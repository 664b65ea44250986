//! Conduit: a GraphQL API server for the RealWorld publishing platform.
//!
//! Requests flow one way: [`http`] (transport) → [`graphql`] (the operation pipeline and
//! thin resolvers) → `domain` (rules and policies) → [`db`] (SQL). This file, with
//! [`state`], [`server`], [`config`] and `main.rs`, is the composition root: the only code
//! that sees every layer, and builds each layer's state.

pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod seed;
pub mod server;
pub mod state;
pub mod telemetry;

use std::sync::Arc;

use async_graphql::Executor;
use axum::routing::get;

pub use graphql::{AppSchema, build_schema};
pub use state::AppState;

/// The whole application as an axum router, serving the real schema.
pub fn app(state: AppState) -> axum::Router {
    let schema = build_schema(state.clone());
    router(&state, schema)
}

/// The router: `/graphql` served by `executor`, the probes, `/metrics`, and (when enabled)
/// Playground, behind the middleware.
///
/// The executor is normally the schema from [`graphql::build_schema`]; tests may pass
/// another one to exercise the transport.
pub fn router<E: Executor>(state: &AppState, executor: E) -> axum::Router {
    let config = &state.config;
    let routes = http::routes(executor, state.endpoint(), config.bench_hello).merge(
        axum::Router::new()
            .route("/metrics", get(http::metrics::metrics))
            .with_state(state.clone()),
    );
    http::middleware::apply(routes, config, Arc::clone(&state.metrics))
}
