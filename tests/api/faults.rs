//! Faults inside a request: panics, timeouts and an exhausted pool answer in GraphQL JSON,
//! and the server keeps serving. A small schema of fault-raising fields is served through
//! the real transport, middleware, pool and error conversion.

use std::time::{Duration, Instant};

use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema};
use axum::http::StatusCode;
use conduit::{AppState, error::AppError};
use diesel::{QueryableByName, sql_types::Integer};
use diesel_async::RunQueryDsl;

use crate::helpers::{TestApp, admin_execute, connect, database_url};

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

    /// Runs `pg_sleep(seconds)` on a pooled connection, as a slow query would.
    async fn sleep_in_database(
        &self,
        ctx: &Context<'_>,
        seconds: f64,
    ) -> async_graphql::Result<bool> {
        let state = ctx.data::<AppState>()?;
        let mut conn = conduit::db::connect(&state.pool)
            .await
            .map_err(AppError::from)?;
        diesel::sql_query("SELECT pg_sleep($1)")
            .bind::<diesel::sql_types::Double, _>(seconds)
            .execute(&mut *conn)
            .await
            .map_err(AppError::from)?;
        Ok(true)
    }

    /// The PostgreSQL backend process of the pooled connection this request borrows.
    async fn backend_pid(&self, ctx: &Context<'_>) -> async_graphql::Result<i32> {
        let state = ctx.data::<AppState>()?;
        let mut conn = conduit::db::connect(&state.pool)
            .await
            .map_err(AppError::from)?;
        let row: BackendPid = diesel::sql_query("SELECT pg_backend_pid() AS pid")
            .get_result(&mut *conn)
            .await
            .map_err(AppError::from)?;
        Ok(row.pid)
    }
}

#[derive(QueryableByName)]
struct BackendPid {
    #[diesel(sql_type = Integer)]
    pid: i32,
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
    let started = Instant::now();
    let body = app.query("{ database }").await;
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(200) && waited < Duration::from_secs(3),
        "answered after the pool's wait, not before and not much later: {waited:?}"
    );
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

#[tokio::test]
async fn a_statement_over_statement_timeout_is_service_unavailable_and_its_connection_is_reused() {
    let app = fault_app(&[
        ("DATABASE_STATEMENT_TIMEOUT_MS", "200"),
        ("DATABASE_POOL_SIZE", "1"),
        ("DATABASE_POOL_WAIT_MS", "1000"),
    ])
    .await;
    let pid = app.query("{ backendPid }").await["data"]["backendPid"].clone();
    assert!(pid.is_number(), "{pid}");

    let started = Instant::now();
    let response = app
        .post_json(
            "application/json",
            r#"{"query":"{ sleepInDatabase(seconds: 10) }"}"#,
        )
        .await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(5),
        "cancelled by statement_timeout, not run for 10 s: {took:?}"
    );
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    assert_eq!(body["data"], serde_json::Value::Null, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["message"],
        conduit::error::UNAVAILABLE_MESSAGE
    );
    assert_eq!(body["errors"][0]["path"][0], "sleepInDatabase");
    let text = response.text().to_lowercase();
    for leak in ["statement", "cancel", "timeout", "pg_sleep", "sql"] {
        assert!(!text.contains(leak), "{leak} leaked: {text}");
    }

    // The pool's only connection came back usable: the next request gets it, on the same
    // PostgreSQL backend, and keeps its settings.
    let started = Instant::now();
    let body = app.query("{ backendPid database }").await;
    assert_eq!(body["data"]["backendPid"], pid, "{body}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        app.query("{ sleepInDatabase(seconds: 0.05) }").await["data"]["sleepInDatabase"],
        true
    );
}

#[tokio::test]
async fn a_connection_lost_under_a_statement_is_service_unavailable_and_is_replaced() {
    // What a PostgreSQL restart does to a query in flight: the server ends the session
    // (57P01, as a fast shutdown does to every backend).
    let app = fault_app(&[("DATABASE_POOL_SIZE", "1")]).await;
    let pid = app.query("{ backendPid }").await["data"]["backendPid"]
        .as_i64()
        .unwrap();

    let request = app.post_json(
        "application/json",
        r#"{"query":"{ sleepInDatabase(seconds: 10) }"}"#,
    );
    let terminate = async {
        let admin = connect(&database_url("postgres")).await;
        let started = Instant::now();
        loop {
            let active = admin
                .query_opt(
                    "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active' \
                     AND query LIKE '%pg_sleep%'",
                    &[&(pid as i32)],
                )
                .await
                .unwrap();
            if active.is_some() {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "never ran");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        admin_execute(&format!("SELECT pg_terminate_backend({pid})"))
            .await
            .unwrap();
    };
    let (response, ()) = tokio::join!(request, terminate);
    let body = response.json();
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{body}"
    );
    assert!(
        !response.text().contains("terminating"),
        "{}",
        response.text()
    );

    // The dead connection is dropped and replaced. The pool recycles without a round trip:
    // it sees the connection is closed once the client has read the end of the socket,
    // which may come just after the error it answered with. So one more request may still
    // get it (and answer SERVICE_UNAVAILABLE too); never a second one.
    let mut body = app.query("{ backendPid }").await;
    if body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE" {
        body = app.query("{ backendPid }").await;
    }
    let new_pid = body["data"]["backendPid"]
        .as_i64()
        .unwrap_or_else(|| panic!("a new connection: {body}"));
    assert_ne!(new_pid, pid);
}
