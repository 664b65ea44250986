//! Conduit: a GraphQL API server for the RealWorld publishing platform.
//!
//! Requests flow one way, and each layer imports only the layers below it (a test,
//! `tests/api/layering.rs`, reads every `crate::` path and fails on an upward one):
//!
//! - [`http`]: framing only (routes, middleware, GraphQL over HTTP, the WebSocket
//!   protocol, IDEs, probes, `/metrics`);
//! - [`graphql`]: the schema and thin resolvers, the loaders, the one operation pipeline
//!   ([`graphql::execution`]) and its admission checks over one document walk, and the
//!   subscription hub;
//! - [`outbox`]: delivery of the transactional outbox (email, webhooks), beside [`seed`]:
//!   [`seed`] is demo and load-test data (tooling: only `main` uses it);
//! - [`domain`]: the rules and flows, and the events a write announces; [`ratelimit`]
//!   beside it (the sign-in throttle and the cost budget);
//! - [`db`]: SQL only (the pool, migrations, one module per table, notify and LISTEN).
//!
//! [`error`], [`metrics`] and [`telemetry`] are leaves: anything may use them, and they
//! use no layer. This file, with [`state`], [`server`], [`config`], [`dev_db`] (the
//! private development PostgreSQL) and `main.rs`, is the composition root: the only code that sees every layer; it builds each layer's own
//! state and hands each owner its own config.

pub mod config;
pub mod db;
pub mod dev_db;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod outbox;
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
    let schema = build_schema(state.schema_data());
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
        in_flight: state.in_flight.clone(),
        unsubscriber: domain::unsubscribe::Unsubscriber {
            pool: state.pool.clone(),
            keys: state.server_keys.clone(),
        },
        web: http::web::WebApp::new(
            state.config.frontend.web_dist.clone(),
            state.pool.clone(),
            state.config.mail.public_url.clone(),
        ),
    };
    http::router(executor, state.endpoint(), surface)
}
