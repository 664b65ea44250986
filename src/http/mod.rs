//! The HTTP surface: routes, middleware, the GraphQL-over-HTTP handler, the WebSocket
//! protocol, IDEs and probes. Framing only: GraphQL decisions are the operation
//! pipeline's ([`crate::graphql::execution`]). It may call `graphql`, and below it what
//! framing needs (authentication in `domain::sessions`, the pool in `db`), never the
//! composition root, which builds its state ([`graphql::EndpointState`]).

pub mod graphql;
pub mod health;
pub mod ide;
pub mod lifecycle;
pub mod metrics;
pub mod middleware;
pub mod negotiate;
pub mod reply;
pub mod ws;

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

/// The routes: `/graphql` served by `executor`, the probes, and (when enabled) Playground
/// and `/hello`. The composition root adds `/metrics` and the middleware.
///
/// The executor is normally the schema from [`crate::graphql::build_schema`]; tests may
/// pass another one to exercise the transport.
pub fn routes<E: Executor>(
    executor: E,
    state: graphql::EndpointState,
    bench_hello: bool,
) -> Router {
    let pool = state.pool.clone();
    let graphiql = state.graphiql;
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
                .with_state(pool),
        );
    if graphiql {
        router = router.route("/playground", get(ide::playground));
    }
    if bench_hello {
        router = router.route(HELLO_PATH, get(hello).post(hello));
    }
    router
}
