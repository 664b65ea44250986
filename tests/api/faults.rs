//! Faults inside a request: panics, timeouts and an exhausted pool answer in GraphQL JSON,
//! and the server keeps serving. A small schema of fault-raising fields is served through
//! the real transport, middleware, pool and error conversion.

use std::time::Duration;

use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema};
use axum::http::StatusCode;
use conduit::{AppState, error::AppError};

use crate::helpers::TestApp;

struct FaultQuery;

#[Object]
impl FaultQuery {
    async fn ok(&self) -> bool {
        true
    }

    async fn panic(&self) -> bool {
        if std::hint::black_box(true) {
            panic!("secret detail that must not leak");
        }
        true
    }

    async fn sleep(&self, ms: u64) -> bool {
        tokio::time::sleep(Duration::from_millis(ms)).await;
        true
    }

    /// Borrows a pooled connection, as every database-backed resolver does.
    async fn database(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let state = ctx.data::<AppState>()?;
        let _conn = conduit::db::connect(&state.pool)
            .await
            .map_err(AppError::from)?;
        Ok(true)
    }
}

async fn fault_app(vars: &[(&str, &str)]) -> TestApp {
    TestApp::with_executor(vars, |state| {
        Schema::build(FaultQuery, EmptyMutation, EmptySubscription)
            .data(state.clone())
            .finish()
    })
    .await
}

#[tokio::test]
async fn a_panic_is_a_masked_500_in_graphql_json_and_the_server_keeps_serving() {
    let app = fault_app(&[]).await;
    let response = app
        .post_json("application/json", r#"{"query":"{ panic }"}"#)
        .await;
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert!(response.header("x-request-id").is_some());
    let body = response.json();
    assert_eq!(body["errors"][0]["message"], "Internal server error");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "INTERNAL_SERVER_ERROR"
    );
    assert!(!response.text().contains("secret"), "{}", response.text());

    assert_eq!(app.query("{ ok }").await["data"]["ok"], true);
}

#[tokio::test]
async fn a_timeout_is_a_graphql_error_not_an_empty_408() {
    let app = fault_app(&[("REQUEST_TIMEOUT_MS", "100")]).await;
    let response = app
        .post_json("application/json", r#"{"query":"{ sleep(ms: 30000) }"}"#)
        .await;
    assert_eq!(response.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(response.first_error_code(), "INTERNAL_SERVER_ERROR");
    assert_eq!(app.query("{ ok }").await["data"]["ok"], true);
}

#[tokio::test]
async fn an_exhausted_pool_is_service_unavailable_after_the_bounded_wait() {
    let app = fault_app(&[
        ("DATABASE_POOL_SIZE", "1"),
        ("DATABASE_POOL_WAIT_MS", "200"),
    ])
    .await;
    assert_eq!(app.query("{ database }").await["data"]["database"], true);

    let held = conduit::db::connect(&app.state.pool)
        .await
        .expect("the only connection");
    let body = app.query("{ database }").await;
    assert_eq!(body["data"], serde_json::Value::Null, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{body}"
    );
    assert_eq!(body["errors"][0]["path"][0], "database");

    drop(held);
    assert_eq!(app.query("{ database }").await["data"]["database"], true);
}

#[tokio::test]
async fn an_unreachable_database_is_service_unavailable() {
    let app = fault_app(&[
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/conduit"),
        ("DATABASE_CONNECT_TIMEOUT_MS", "500"),
    ])
    .await;
    let body = app.query("{ database }").await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{body}"
    );
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no connection detail leaks: {body}"
    );
}
