//! Every operation spends its complexity from a budget per signed-in user, or per client
//! IP when anonymous; responses report `extensions.cost`, and an operation the budget
//! cannot cover is refused before it runs (RATE_LIMITED, `retryAfter`, HTTP 429 with
//! `Retry-After` under `application/graphql-response+json`).

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, TestResponse, error_code},
    live::{TestServer, bearer},
};

/// A budget of 150 per minute; queries may cost up to 100.
const SMALL_BUDGET: &[(&str, &str)] = &[
    ("COST_BUDGET_PER_MINUTE", "150"),
    ("QUERY_MAX_COMPLEXITY", "100"),
];

/// Costs 1 + 20 × (1 + 1 + 1) = 61: a connection read without `first` counts 20 nodes.
const ARTICLES: &str = "{ articles { nodes { slug title } } }";

/// POSTs `query` from `ip` (as the TCP peer), signed in with `token` if given.
async fn post_from(
    app: &TestApp,
    ip: &str,
    query: &str,
    token: Option<&str>,
    accept: &str,
) -> TestResponse {
    let peer: SocketAddr = format!("{ip}:40000").parse().unwrap();
    let mut request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("accept", accept);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let mut request = request
        .body(Body::from(json!({ "query": query }).to_string()))
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    app.send(request).await
}

/// The budget refills 2.5 per second: what remains may be this much above the exact
/// figure when the machine is slow (4 s).
const REFILL_SLACK: u64 = 10;

/// Asserts `body`'s `extensions.cost`: `requested` exactly, the limit of 150, and
/// `remaining` up to [`REFILL_SLACK`] above the figure given. Returns what remains.
fn assert_cost(body: &Value, requested: u64, remaining: u64) -> u64 {
    let cost = &body["extensions"]["cost"];
    let get = |key: &str| {
        cost[key]
            .as_u64()
            .unwrap_or_else(|| panic!("no cost.{key}: {body}"))
    };
    assert_eq!((get("requested"), get("limit")), (requested, 150), "{body}");
    let left = get("remaining");
    assert!(
        (remaining..=remaining + REFILL_SLACK).contains(&left),
        "remaining {left}, expected {remaining}: {body}"
    );
    left
}

#[tokio::test]
async fn anonymous_callers_spend_per_ip_until_refused_then_others_still_run() {
    let app = TestApp::with_config(SMALL_BUDGET).await;
    let json = "application/json";
    let first = post_from(&app, "10.0.0.1", ARTICLES, None, json)
        .await
        .json();
    assert_eq!(first["data"]["articles"]["nodes"], json!([]), "{first}");
    assert_cost(&first, 61, 89);
    // What fails validation runs nothing, but is charged: it was measured and validated.
    let invalid = post_from(&app, "10.0.0.1", "{ notAField }", None, json)
        .await
        .json();
    assert_eq!(
        error_code(&invalid),
        "GRAPHQL_VALIDATION_FAILED",
        "{invalid}"
    );
    let second = post_from(&app, "10.0.0.1", ARTICLES, None, json)
        .await
        .json();
    assert_cost(&second, 61, 27);

    // The third does not fit: refused before it runs, nothing spent.
    let refused = post_from(
        &app,
        "10.0.0.1",
        ARTICLES,
        None,
        "application/graphql-response+json",
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        refused.text()
    );
    let retry_after: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    let body = refused.json();
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    assert!(body.get("data").is_none(), "{body}");
    let extensions = &body["errors"][0]["extensions"];
    assert_eq!(extensions["retryAfter"], json!(retry_after));
    assert_eq!(extensions["cost"], json!({"requested": 61, "limit": 150}));
    // Under application/json the refusal is a 200, with the same header and error.
    let legacy = post_from(&app, "10.0.0.1", ARTICLES, None, json).await;
    assert_eq!(legacy.status, StatusCode::OK);
    assert!(legacy.header("retry-after").is_some());
    assert_eq!(legacy.first_error_code(), "RATE_LIMITED");

    // What is left still buys a cheaper query...
    let cheap = post_from(&app, "10.0.0.1", "{ __typename }", None, json)
        .await
        .json();
    assert_eq!(cheap["data"], json!({"__typename": "Query"}), "{cheap}");
    assert_eq!(cheap["extensions"]["cost"]["requested"], 1, "{cheap}");
    // ...and another address has its own budget.
    let other = post_from(&app, "10.0.0.2", ARTICLES, None, json)
        .await
        .json();
    assert_cost(&other, 61, 89);
    // Both refusals are counted.
    let metrics = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .text();
    assert!(
        metrics.contains("conduit_rate_limited_total{limit=\"cost_budget\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_user_has_one_budget_across_sessions_and_addresses() {
    let app = TestApp::with_config(SMALL_BUDGET).await;
    let alice = app.register("alice").await;
    let json = "application/json";
    let query = "{ viewer { username } articles { nodes { slug title } } }";
    // 2 for viewer, 61 for articles.
    let body = post_from(&app, "10.0.0.1", query, Some(&alice.access), json)
        .await
        .json();
    assert_eq!(body["data"]["viewer"]["username"], "alice", "{body}");
    let remaining = assert_cost(&body, 63, 87);
    // A second session from another address spends the same budget.
    let login = app
        .gql(
            "mutation($email: String!, $password: String!) { login(input: {email: $email, password: $password}) { accessToken } }",
            json!({"email": alice.email, "password": alice.password}),
            None,
        )
        .await;
    let second = login["data"]["login"]["accessToken"].as_str().unwrap();
    let body = post_from(&app, "10.0.0.9", query, Some(second), json)
        .await
        .json();
    assert_cost(&body, 63, remaining - 63);
    let body = post_from(&app, "10.0.0.9", query, Some(second), json)
        .await
        .json();
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    // Anonymous callers from that address are not charged for alice.
    let body = post_from(&app, "10.0.0.9", ARTICLES, None, json)
        .await
        .json();
    assert_cost(&body, 61, 89);
}

#[tokio::test]
async fn each_operation_of_a_batch_is_charged() {
    let app = TestApp::with_config(SMALL_BUDGET).await;
    let batch = json!([{ "query": ARTICLES }, { "query": ARTICLES }, { "query": ARTICLES }]);
    let mut request = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(batch.to_string()))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo("10.0.0.3:1".parse::<SocketAddr>().unwrap()));
    let response = app.send(request).await;
    assert!(response.header("retry-after").is_some());
    let items = response.json();
    assert_cost(&items[0], 61, 89);
    assert_cost(&items[1], 61, 28);
    assert_eq!(error_code(&items[2]), "RATE_LIMITED", "{items}");
}

#[tokio::test]
async fn websocket_operations_spend_the_same_budget() {
    let server = TestServer::start(SMALL_BUDGET).await;
    let alice = server.register("alice").await;
    let mut ws = server.ws_ready(bearer(&alice.access)).await;
    for (id, remaining) in [("1", Some(89)), ("2", Some(28)), ("3", None)] {
        ws.subscribe(id, ARTICLES, json!({})).await;
        let message = ws.next_json().await;
        match remaining {
            Some(remaining) => {
                assert_eq!(message["type"], "next", "{message}");
                assert_cost(&message["payload"], 61, remaining);
                assert_eq!(ws.next_json().await["type"], "complete");
            }
            None => {
                assert_eq!(message["type"], "error", "{message}");
                assert_eq!(message["payload"][0]["extensions"]["code"], "RATE_LIMITED");
            }
        }
    }
    // Subscriptions are charged when they start, too.
    ws.subscribe("4", "subscription { notificationAdded { id } }", json!({}))
        .await;
    server.wait_for_subscriptions(1).await;
    // It cost 2 of the 28 left; this costs 1.
    ws.subscribe("5", "{ __typename }", json!({})).await;
    let message = ws.next_json().await;
    assert_cost(&message["payload"], 1, 25);
    // The budget is not the server's: a fresh user goes on.
    let bob = server.register("bob").await;
    let body = server.gql(ARTICLES, json!({}), Some(&bob.access)).await;
    assert_cost(&body, 61, 89);
}
