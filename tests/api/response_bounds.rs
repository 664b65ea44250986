//! What a request reads and holds is bounded by what it is charged (issue 16, item 2):
//! lists read `body` only when selected, large text weighs in the complexity by its
//! largest size, the text a request loads is counted as rows arrive (past
//! `RESPONSE_MAX_BYTES`: RESPONSE_TOO_LARGE and no data), and the operations in flight
//! share a memory budget (when it stays full: 503 with Retry-After). Bodies here are
//! 100,000 four-byte characters, the largest an article may have.

use std::net::SocketAddr;

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
};
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{TestApp, connect, error_code};

/// The largest body: 100,000 characters of 4 bytes each.
const BODY_BYTES: usize = 400_000;

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// An app with `vars`, and `count` articles tagged `big` whose bodies are as large as
/// bodies get (written straight to the table: the API would take as long to say so).
async fn app_with_big_articles(count: i64, vars: &[(&str, &str)]) -> TestApp {
    let app = TestApp::with_config(vars).await;
    app.register("writer").await;
    let db = connect(&app.database_url()).await;
    db.execute(
        "INSERT INTO articles (author_id, slug, title, description, body, tags) \
         SELECT (SELECT id FROM users LIMIT 1), 'big-' || g, 'Big ' || g, 'about ' || g, \
                repeat(U&'\\+01F600', 100000), ARRAY['big'] \
         FROM generate_series(1, $1::int8) g",
        &[&count],
    )
    .await
    .expect("seed big articles");
    app
}

/// `count` aliases, each a page of `first` bodies of the tag `big`.
fn aliased_bodies(count: usize, first: usize) -> String {
    let aliases: String = (1..=count)
        .map(|i| format!("a{i}: articles(first: {first}, tag: \"big\") {{ nodes {{ body }} }} "))
        .collect();
    format!("{{ {aliases} }}")
}

/// POSTs `batch` from the client address 10.0.0.7 (so an anonymous caller has a cost
/// budget), returning its items.
async fn send_batch(app: &TestApp, batch: &Value) -> Value {
    let mut request = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(batch.to_string()))
        .unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo("10.0.0.7:1".parse::<SocketAddr>().unwrap()));
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()
}

/// Asserts `body` is the refusal of a too-large response: `data: null` and one error.
fn assert_too_large(body: &Value) {
    assert_eq!(error_code(body), "RESPONSE_TOO_LARGE", "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
}

#[tokio::test]
async fn a_list_reads_bodies_only_when_it_selects_them() {
    // 5 bodies are 2 MB: more than the 1 MB a response may hold here.
    let app = app_with_big_articles(
        5,
        &[
            ("RESPONSE_MAX_BYTES", "1000000"),
            ("REPORT_SQL_STATEMENTS", "true"),
        ],
    )
    .await;
    let without = app
        .query("{ articles(first: 5, tag: \"big\") { nodes { slug title description } } }")
        .await;
    assert!(without.get("errors").is_none(), "{without}");
    assert_eq!(
        without["data"]["articles"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // The same lists selecting `body`, however they reach it, load the bodies: the
    // response meter refuses them, with the same number of statements.
    for with in [
        "{ articles(first: 5, tag: \"big\") { nodes { slug title description body } } }",
        "{ articles(first: 5, tag: \"big\") { edges { node { slug title description body } } } }",
        "{ articles(first: 5, tag: \"big\") { nodes { ...B } } } fragment B on Article { slug title description body }",
        "{ articles(first: 5, tag: \"big\") { nodes { ... on Article { slug title description body } } } }",
    ] {
        let body = app.query(with).await;
        assert_too_large(&body);
        assert_eq!(
            body["extensions"]["sqlStatements"], without["extensions"]["sqlStatements"],
            "{with}: {body}"
        );
    }
    // A list without bodies beside one with a single body: only the one is read.
    let one = app
        .query(
            "{ all: articles(first: 5, tag: \"big\") { nodes { slug } } \
               one: articles(first: 1, tag: \"big\") { nodes { body } } }",
        )
        .await;
    assert!(one.get("errors").is_none(), "{one}");
    let body = one["data"]["one"]["nodes"][0]["body"].as_str().unwrap();
    assert_eq!(body.len(), BODY_BYTES);
}

#[tokio::test]
async fn the_twenty_alias_body_read_is_refused_by_its_complexity() {
    let app = app_with_big_articles(2, &[]).await;
    let response = app
        .gql_response(&aliased_bodies(20, 100), json!({}), None, GRAPHQL_RESPONSE)
        .await;
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text()
    );
    let body = response.json();
    assert_eq!(error_code(&body), "COMPLEXITY_LIMIT_EXCEEDED", "{body}");
    assert!(body.get("data").is_none(), "{body}");
    // One page of 100 bodies fits the default limit, a second does not.
    let one = app.query(&aliased_bodies(1, 100)).await;
    assert!(one.get("errors").is_none(), "{one}");
    let two = app.query(&aliased_bodies(2, 100)).await;
    assert_eq!(error_code(&two), "COMPLEXITY_LIMIT_EXCEEDED", "{two}");
}

#[tokio::test]
async fn past_response_max_bytes_the_whole_request_is_refused_without_data() {
    // Room for two bodies, not three.
    let app = app_with_big_articles(3, &[("RESPONSE_MAX_BYTES", "1000000")]).await;
    let two = app.query(&aliased_bodies(2, 1)).await;
    assert!(two.get("errors").is_none(), "{two}");
    // Each alias alone fits; together they do not. Nothing of what did fit is sent, and
    // the small fields beside them are not either.
    let three = format!(
        "{{ popularTags(first: 5) {{ name }} {} }}",
        aliased_bodies(3, 1).trim_matches(|c| c == '{' || c == '}')
    );
    for _ in 0..2 {
        assert_too_large(&app.query(&three).await);
    }
    // The largest read, many times at once: every one refused the same way.
    let many = join_all(
        (0..10).map(|_| app.query("{ articles(first: 100, tag: \"big\") { nodes { body } } }")),
    )
    .await;
    for body in &many {
        assert_too_large(body);
    }
    // Under graphql-response+json too, and the server goes on serving.
    let strict = app
        .gql_response(&three, json!({}), None, GRAPHQL_RESPONSE)
        .await;
    assert_eq!(strict.status, StatusCode::OK, "{}", strict.text());
    assert_too_large(&strict.json());
    let small = app
        .query("{ articles(first: 3, tag: \"big\") { nodes { slug } } }")
        .await;
    assert!(small.get("errors").is_none(), "{small}");
}

#[tokio::test]
async fn a_full_memory_budget_refuses_with_503_and_retry_after_then_recovers() {
    // A budget smaller than one large request: each takes all of it, and nobody waits.
    let app = app_with_big_articles(
        3,
        &[
            ("REQUEST_MEMORY_BUDGET_BYTES", "1000000"),
            ("REQUEST_MEMORY_WAIT_MS", "0"),
        ],
    )
    .await;
    let query = aliased_bodies(1, 100);
    let replies =
        join_all((0..20).map(|_| app.gql_response(&query, json!({}), None, GRAPHQL_RESPONSE)))
            .await;
    let mut refused = 0;
    for reply in &replies {
        let body = reply.json();
        if reply.status == StatusCode::OK {
            // Ran in full: all three bodies, no error.
            assert!(body.get("errors").is_none(), "{body}");
            assert_eq!(body["data"]["a1"]["nodes"].as_array().unwrap().len(), 3);
            continue;
        }
        refused += 1;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(reply.header("retry-after"), Some("1"));
        assert_eq!(error_code(&body), "SERVICE_UNAVAILABLE", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["retryAfter"], 1, "{body}");
        assert!(body.get("data").is_none(), "{body}");
    }
    assert!(refused > 0, "20 large requests at once, none refused");
    assert!(refused < 20, "none ran");
    // Under application/json too (503 whatever the media type); then, alone, it runs.
    let metrics = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .text();
    let line = metrics
        .lines()
        .find(|l| l.starts_with("conduit_memory_refusals_total{reason=\"budget\"}"))
        .unwrap_or_else(|| panic!("no budget refusals in\n{metrics}"));
    assert_eq!(line.rsplit(' ').next(), Some(refused.to_string().as_str()));
    let alone = app.query(&query).await;
    assert!(alone.get("errors").is_none(), "{alone}");
}

#[tokio::test]
async fn response_max_bytes_bounds_a_whole_batch() {
    // Room for two bodies, not three: each operation alone fits, the batch does not.
    let app = app_with_big_articles(1, &[("RESPONSE_MAX_BYTES", "1000000")]).await;
    let one = json!({ "query": aliased_bodies(1, 1) });
    let small = json!({ "query": "{ popularTags(first: 1) { name } }" });
    let items = send_batch(&app, &json!([one, one, one, small])).await;
    for item in &items.as_array().unwrap()[..2] {
        assert!(item.get("errors").is_none(), "{item}");
        let body = item["data"]["a1"]["nodes"][0]["body"].as_str().unwrap();
        assert_eq!(body.len(), BODY_BYTES);
    }
    // The third passes the batch's limit; the fourth, however small, does not run.
    for item in &items.as_array().unwrap()[2..] {
        assert_too_large(item);
    }
    // A batch that fits runs in full.
    let items = send_batch(&app, &json!([one, one, small])).await;
    for item in items.as_array().unwrap() {
        assert!(item.get("errors").is_none(), "{item}");
    }
}

#[tokio::test]
async fn a_memory_refusal_does_not_spend_the_cost_budget() {
    // A budget smaller than one large operation: the first of the batch holds all of it
    // until the reply is rendered, so the second is refused (nobody waits).
    let app = app_with_big_articles(
        1,
        &[
            ("REQUEST_MEMORY_BUDGET_BYTES", "1000000"),
            ("REQUEST_MEMORY_WAIT_MS", "0"),
            ("COST_BUDGET_PER_MINUTE", "20000"),
        ],
    )
    .await;
    let large = json!({ "query": aliased_bodies(1, 100) });
    let items = send_batch(&app, &json!([large, large])).await;
    assert!(items[0].get("errors").is_none(), "{items}");
    let after_first = items[0]["extensions"]["cost"]["remaining"]
        .as_i64()
        .unwrap();
    assert_eq!(error_code(&items[1]), "SERVICE_UNAVAILABLE", "{items}");
    assert!(items[1].get("data").is_none(), "{items}");
    // The refused operation cost nothing: the next one is charged from what the first
    // left (and what the budget refilled since: at least that, where a charged refusal
    // would have left about 200).
    let small = json!({ "query": "{ popularTags(first: 1) { name } }" });
    let items = send_batch(&app, &json!([small])).await;
    let cost = &items[0]["extensions"]["cost"];
    let requested = cost["requested"].as_i64().unwrap();
    let remaining = cost["remaining"].as_i64().unwrap();
    assert!(
        remaining >= after_first - requested,
        "{after_first}: {items}"
    );
}
