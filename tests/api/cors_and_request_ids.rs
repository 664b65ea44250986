//! Request ids and the CORS allowlist.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};

use crate::helpers::TestApp;

fn preflight(origin: &str) -> Request<Body> {
    Request::options("/graphql")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,authorization",
        )
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn request_ids_are_accepted_or_generated_and_returned() {
    let app = TestApp::spawn().await;
    let given = app
        .send(
            Request::get("/healthz")
                .header("x-request-id", "client-chosen-42")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(given.header("x-request-id"), Some("client-chosen-42"));

    let generated = app
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    let id = generated.header("x-request-id").expect("generated id");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

#[tokio::test]
async fn development_allows_localhost_origins_only() {
    let app = TestApp::spawn().await;
    let allowed = app.send(preflight("http://localhost:5173")).await;
    assert_eq!(allowed.status, StatusCode::OK);
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("http://localhost:5173")
    );
    assert!(
        allowed
            .header("access-control-allow-headers")
            .unwrap()
            .contains("authorization")
    );

    let refused = app.send(preflight("https://evil.example")).await;
    assert_eq!(refused.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn the_allowlist_comes_from_config() {
    let app = TestApp::with_config(&[("CORS_ALLOWED_ORIGINS", "https://app.example")]).await;
    let allowed = app.send(preflight("https://app.example")).await;
    assert_eq!(
        allowed.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    let refused = app.send(preflight("http://localhost:3000")).await;
    assert_eq!(refused.header("access-control-allow-origin"), None);

    let simple = app
        .send(
            Request::post("/graphql")
                .header("origin", "https://app.example")
                .header("content-type", "application/json")
                .body(Body::from(r#"{"query":"{ __typename }"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(
        simple.header("access-control-allow-origin"),
        Some("https://app.example")
    );
    assert_eq!(
        simple.header("access-control-expose-headers"),
        Some("x-request-id")
    );
}
