//! The credential paths are throttled per account and per client IP, counted per
//! resolver call: aliases and batches cannot multiply guesses.

use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, error_code},
    live::TestServer,
};

const LOGIN: &str = "mutation($email: String!) { login(input: {email: $email, password: \"wrong-password\"}) { accessToken } }";

fn assert_limited(body: &Value) {
    assert_eq!(error_code(body), "RATE_LIMITED", "{body}");
    let retry = body["errors"][0]["extensions"]["retryAfter"].as_u64();
    assert!(retry.is_some_and(|s| (1..=60).contains(&s)), "{body}");
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_account() {
    let app = TestApp::with_config(&[("AUTH_ATTEMPTS_PER_ACCOUNT", "3")]).await;
    app.register("alice").await;
    let alice = json!({ "email": "alice@example.com" });
    for _ in 0..2 {
        let body = app.gql(LOGIN, alice.clone(), None).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    // The case of the email does not make a new account.
    let body = app
        .gql(LOGIN, json!({ "email": "ALICE@example.com" }), None)
        .await;
    assert_limited(&body);
    // Even the right password waits now; another account does not.
    let right = "mutation { login(input: {email: \"alice@example.com\", password: \"password-alice\"}) { accessToken } }";
    assert_limited(&app.gql(right, json!({}), None).await);
    let body = app
        .gql(LOGIN, json!({ "email": "bob@example.com" }), None)
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
}

#[tokio::test]
async fn aliases_and_batches_count_every_attempt() {
    let app = TestApp::with_config(&[("AUTH_ATTEMPTS_PER_ACCOUNT", "3")]).await;
    let aliased = "mutation { \
        a: login(input: {email: \"carol@example.com\", password: \"guess-one-1\"}) { accessToken } \
        b: login(input: {email: \"carol@example.com\", password: \"guess-two-2\"}) { accessToken } \
        c: login(input: {email: \"carol@example.com\", password: \"guess-three\"}) { accessToken } \
        d: login(input: {email: \"carol@example.com\", password: \"guess-four4\"}) { accessToken } }";
    let body = app.gql(aliased, json!({}), None).await;
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "RATE_LIMITED"
        ],
        "{body}"
    );
    let batch = json!([
        { "query": LOGIN, "variables": { "email": "dave@example.com" } },
        { "query": LOGIN, "variables": { "email": "dave@example.com" } },
        { "query": LOGIN, "variables": { "email": "dave@example.com" } },
        { "query": LOGIN, "variables": { "email": "dave@example.com" } },
    ]);
    let response = app.post_json("application/json", &batch.to_string()).await;
    let items = response.json();
    assert_limited(&items[3]);
    // A normal query still works.
    assert_eq!(
        app.query("{ popularTags { name } }").await,
        json!({"data": {"popularTags": []}})
    );
}

#[tokio::test]
async fn attempts_are_limited_per_client_ip_whatever_the_account() {
    let server = TestServer::start(&[("AUTH_ATTEMPTS_PER_IP", "4")]).await;
    let url = format!("http://{}/graphql", server.addr);
    let mut last = Value::Null;
    for i in 0..5 {
        let body =
            json!({ "query": LOGIN, "variables": { "email": format!("user{i}@example.com") } });
        let (status, text) = crate::helpers::post_over_tcp(server.addr, body.to_string()).await;
        assert_eq!(status, 200, "{text}");
        last = serde_json::from_str(&text).unwrap();
        if i < 4 {
            assert_eq!(error_code(&last), "UNAUTHENTICATED", "{url}: {last}");
        }
    }
    assert_limited(&last);
}
