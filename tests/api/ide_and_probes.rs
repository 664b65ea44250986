//! GraphiQL, Playground, and the health probes.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};

use crate::helpers::TestApp;

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test]
async fn a_browser_gets_graphiql_with_subscriptions_on_the_same_url() {
    let app = TestApp::spawn().await;
    let response = app
        .send(
            Request::get("/graphql")
                .header("accept", BROWSER_ACCEPT)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(
        response
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    let page = response.text();
    assert!(page.contains("graphiql"), "GraphiQL page");
    assert!(
        page.contains("subscriptionUrl: createUrl('/graphql', true)"),
        "{page}"
    );
}

#[tokio::test]
async fn a_browser_url_with_a_query_runs_it() {
    let app = TestApp::spawn().await;
    let response = app
        .send(
            Request::get("/graphql?query=%7B__typename%7D")
                .header("accept", BROWSER_ACCEPT)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.json()["data"]["__typename"], "Query");
}

#[tokio::test]
async fn playground_is_served() {
    let app = TestApp::spawn().await;
    let response = app
        .send(Request::get("/playground").body(Body::empty()).unwrap())
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert!(response.text().contains("GraphQL Playground"));
    assert!(response.text().contains("/graphql"));
}

#[tokio::test]
async fn healthz_and_readyz_answer_while_the_database_is_reachable() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let response = app
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn readyz_is_503_while_the_database_is_unreachable_but_healthz_answers() {
    let app = TestApp::with_config(&[
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/conduit"),
        ("DATABASE_CONNECT_TIMEOUT_MS", "300"),
    ])
    .await;
    let ready = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.json()["status"], "unavailable");
    let health = app
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(health.status, StatusCode::OK);
}

#[tokio::test]
async fn the_benchmark_hello_endpoint_exists_only_when_asked_for() {
    fn hello() -> axum::http::Request<axum::body::Body> {
        axum::http::Request::get("/hello")
            .body(axum::body::Body::empty())
            .unwrap()
    }
    let plain = TestApp::spawn().await;
    assert_eq!(plain.send(hello()).await.status, 404);
    let bench = TestApp::with_config(&[("BENCH_HELLO", "true")]).await;
    let response = bench.send(hello()).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json(),
        serde_json::json!({"data": {"__typename": "Query"}})
    );
    // Behind the same middleware as /graphql.
    assert!(response.header("x-request-id").is_some());
}
