//! Conduit: a GraphQL API server for the RealWorld publishing platform.
//!
//! Requests flow one way: [`http`] (transport) → [`graphql`] (thin resolvers) → `domain`
//! (rules and policies) → [`db`] (SQL).

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

pub use graphql::{AppSchema, build_schema};
pub use state::AppState;

/// The whole application as an axum router, serving the real schema.
pub fn app(state: AppState) -> axum::Router {
    let schema = build_schema(state.clone());
    http::router(&state, schema)
}
