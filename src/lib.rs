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
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod ratelimit;
pub mod seed;
pub mod server;
pub mod state;
pub mod telemetry;

use async_graphql::Executor;

pub use graphql::{AppSchema, build_schema};
pub use state::AppState;

/// The whole application as an axum router, serving the real schema.
pub fn app(state: AppState) -> axum::Router {
    let schema = build_schema(state.clone());
    router(&state, schema)
}

/// The router of [`http::router`], its state built from `state`: `/graphql` served by
/// `executor` (normally the schema from [`graphql::build_schema`]; tests may pass another
/// one to exercise the transport).
pub fn router<E: Executor>(state: &AppState, executor: E) -> axum::Router {
    let surface = http::Surface {
        metrics: state.metrics_endpoint(),
        cors_origins: state.config.cors_origins.clone(),
        bench_hello: state.config.bench_hello,
    };
    http::router(executor, state.endpoint(), surface)
}
