//! Production mode turns off the IDEs, introspection and field suggestions.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};

use crate::helpers::TestApp;

async fn production_app() -> TestApp {
    TestApp::with_config(&[("APP_ENV", "production")]).await
}

#[tokio::test]
async fn no_graphiql_or_playground_in_production() {
    let app = production_app().await;
    let graphiql = app
        .send(
            Request::get("/graphql")
                .header("accept", "text/html,*/*;q=0.8")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_ne!(
        graphiql.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(graphiql.first_error_code(), "BAD_REQUEST");
    let playground = app
        .send(Request::get("/playground").body(Body::empty()).unwrap())
        .await;
    assert_eq!(playground.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn no_introspection_in_production_unless_enabled() {
    let query = "{ __schema { queryType { name } } }";
    let app = production_app().await;
    let body = app.query(query).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
        "{body}"
    );
    assert_eq!(
        body["errors"][0]["message"],
        "Introspection is disabled on this server."
    );
    assert!(body.get("data").is_none(), "{body}");

    let enabled =
        TestApp::with_config(&[("APP_ENV", "production"), ("INTROSPECTION_ENABLED", "true")]).await;
    assert_eq!(
        enabled.query(query).await["data"]["__schema"]["queryType"]["name"],
        "Query"
    );

    let development = TestApp::spawn().await;
    assert_eq!(
        development.query(query).await["data"]["__schema"]["queryType"]["name"],
        "Query"
    );
}

#[tokio::test]
async fn no_field_suggestions_in_production() {
    let development = TestApp::spawn().await;
    let hinted = development.query("{ viewr }").await;
    assert!(hinted.to_string().contains("Did you mean"), "{hinted}");

    let app = production_app().await;
    let body = app.query("{ viewr }").await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert!(!body.to_string().contains("Did you mean"), "{body}");
}
