//! Query limits through the real transports: each is refused before anything runs, with
//! its own code, over HTTP and over WebSocket, and a normal query still succeeds after.

use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, error_code},
    live::TestServer,
};

/// Small limits, so that small documents cross them.
const LIMITS: &[(&str, &str)] = &[
    ("QUERY_MAX_BYTES", "400"),
    ("QUERY_MAX_TOKENS", "60"),
    ("QUERY_MAX_DEPTH", "3"),
    ("QUERY_MAX_ALIASES", "2"),
    ("QUERY_MAX_ROOT_FIELDS", "3"),
    ("QUERY_MAX_COMPLEXITY", "500"),
];

/// One document over each limit, with the code it gets.
fn over_each_limit() -> Vec<(String, &'static str)> {
    vec![
        (
            format!("{{ popularTags {{ name }} }} # {}", "x".repeat(400)),
            "DOCUMENT_TOO_LARGE",
        ),
        (format!("{{ {} }}", "a ".repeat(60)), "TOKEN_LIMIT_EXCEEDED"),
        (
            "{ articles(first: 1) { nodes { author { username } } } }".into(),
            "DEPTH_LIMIT_EXCEEDED",
        ),
        (
            "{ a: __typename b: __typename c: __typename }".into(),
            "ALIAS_LIMIT_EXCEEDED",
        ),
        (
            "{ __typename popularTags { name } viewer { username } articles { totalCount } }"
                .into(),
            "ROOT_FIELD_LIMIT_EXCEEDED",
        ),
        (
            "{ articles(first: 100) { nodes { slug title body description tags } } }".into(),
            "COMPLEXITY_LIMIT_EXCEEDED",
        ),
    ]
}

const NORMAL: &str = "{ popularTags { name } }";

async fn post(app: &TestApp, query: &str) -> (u16, Value) {
    let body = json!({ "query": query }).to_string();
    let response = app
        .post_json("application/graphql-response+json", &body)
        .await;
    (response.status.as_u16(), response.json())
}

#[tokio::test]
async fn every_limit_is_refused_over_http_with_its_code_before_execution() {
    let app = TestApp::with_config(LIMITS).await;
    for (query, code) in over_each_limit() {
        let (status, body) = post(&app, &query).await;
        assert_eq!(status, 400, "{code}: {body}");
        assert_eq!(error_code(&body), code, "{body}");
        assert!(
            body.get("data").is_none(),
            "refused before execution: {body}"
        );
        let (status, body) = post(&app, NORMAL).await;
        assert_eq!(
            (status, &body),
            (200, &json!({"data": {"popularTags": []}}))
        );
    }
}

#[tokio::test]
async fn the_defaults_let_real_pages_through_and_refuse_nested_fan_out() {
    let app = TestApp::spawn().await;
    let home = "{ articles(first: 100) { totalCount nodes { slug title description tags createdAt favoritesCount viewerHasFavorited author { username image viewerIsFollowing } commentsCount comments(first: 3) { nodes { body author { username } } } } } }";
    let (status, body) = post(&app, home).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    let fan_out = "{ articles(first: 100) { nodes { comments(first: 100) { nodes { body author { username } } } } } }";
    let (status, body) = post(&app, fan_out).await;
    assert_eq!(
        (status, error_code(&body)),
        (400, "COMPLEXITY_LIMIT_EXCEEDED"),
        "{body}"
    );
}

#[tokio::test]
async fn every_limit_is_refused_over_websocket_too() {
    let server = TestServer::start(LIMITS).await;
    let mut client = server.ws_ready(json!({})).await;
    for (i, (query, code)) in over_each_limit().into_iter().enumerate() {
        // The size and token limits apply before parsing; a subscription document goes
        // through the same extension as queries.
        let id = format!("q{i}");
        client.subscribe(&id, &query, json!({})).await;
        let message = client.next_json().await;
        assert_eq!(
            (&message["id"], &message["type"]),
            (&json!(id), &json!("error")),
            "{message}"
        );
        assert_eq!(
            message["payload"][0]["extensions"]["code"], code,
            "{message}"
        );
    }
    let deep = "subscription($s: String!) { commentAdded(articleSlug: $s) { article { author { username } } } }";
    client.subscribe("s", deep, json!({ "s": "x" })).await;
    let message = client.next_json().await;
    assert_eq!(
        (&message["id"], &message["type"]),
        (&json!("s"), &json!("error")),
        "{message}"
    );
    assert_eq!(
        message["payload"][0]["extensions"]["code"], "DEPTH_LIMIT_EXCEEDED",
        "{message}"
    );
    client.subscribe("ok", NORMAL, json!({})).await;
    assert_eq!(
        client.next_json().await,
        json!({"id": "ok", "type": "next", "payload": {"data": {"popularTags": []}}})
    );
}
