//! `GET /metrics` through the real router: GraphQL requests by operation, type and
//! outcome (over HTTP and WebSocket), HTTP requests by route, pool and live gauges,
//! loader batch sizes, rate-limit and query-limit refusals, the token, and the bound on
//! operation names.

use axum::{body::Body, http::Request};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, error_code},
    live::{TestServer, bearer, comment, publish},
};

/// One sample of the exposition: name, labels (in order), value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

/// A parsed scrape.
#[derive(Debug)]
struct Scrape {
    samples: Vec<Sample>,
    text: String,
}

impl Scrape {
    /// Parses the Prometheus text format: `# HELP`/`# TYPE` lines, then samples
    /// `name{label="value",...} number`, label values with `\\`, `\"` and `\n` escapes.
    fn parse(text: &str) -> Self {
        let mut samples = Vec::new();
        for line in text.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let name_end = line
                .find(['{', ' '])
                .unwrap_or_else(|| panic!("no value: {line}"));
            let name = line[..name_end].to_owned();
            let mut rest = &line[name_end..];
            let mut labels = Vec::new();
            if let Some(inner) = rest.strip_prefix('{') {
                let mut chars = inner.char_indices();
                let mut key = String::new();
                loop {
                    let (i, c) = chars.next().unwrap_or_else(|| panic!("unclosed: {line}"));
                    match c {
                        '}' => {
                            rest = &inner[i + 1..];
                            break;
                        }
                        ',' => {}
                        '=' => {
                            assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                            let mut value = String::new();
                            loop {
                                match chars.next().map(|(_, c)| c) {
                                    Some('"') => break,
                                    Some('\\') => match chars.next().map(|(_, c)| c) {
                                        Some('n') => value.push('\n'),
                                        Some(other) => value.push(other),
                                        None => panic!("bad escape: {line}"),
                                    },
                                    Some(other) => value.push(other),
                                    None => panic!("unclosed value: {line}"),
                                }
                            }
                            labels.push((std::mem::take(&mut key), value));
                        }
                        other => key.push(other),
                    }
                }
            }
            let value = match rest.trim() {
                "+Inf" => f64::INFINITY,
                "-Inf" => f64::NEG_INFINITY,
                number => number
                    .parse()
                    .unwrap_or_else(|e| panic!("bad value ({e}): {line}")),
            };
            samples.push(Sample {
                name,
                labels,
                value,
            });
        }
        Self {
            samples,
            text: text.to_owned(),
        }
    }

    /// The value of the sample `name` with exactly `labels` (in any order).
    fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|s| {
                s.name == name
                    && s.labels.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.iter().any(|(sk, sv)| sk == k && sv == v))
            })
            .map(|s| s.value)
    }

    /// [`Scrape::get`], which must be there.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.get(name, labels)
            .unwrap_or_else(|| panic!("no {name}{labels:?} in\n{}", self.text))
    }

    /// Every sample named `name`.
    fn all(&self, name: &str) -> Vec<&Sample> {
        self.samples.iter().filter(|s| s.name == name).collect()
    }
}

/// Scrapes `/metrics` through the router, with `authorization` if given; asserts 200.
async fn scrape(app: &TestApp, authorization: Option<&str>) -> Scrape {
    let mut request = Request::get("/metrics");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = app.send(request.body(Body::empty()).unwrap()).await;
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    Scrape::parse(&response.text())
}

/// POSTs one operation (with `operationName` if given) and returns the JSON body.
async fn post(app: &TestApp, query: &str, operation_name: Option<&str>) -> Value {
    let body = json!({ "query": query, "operationName": operation_name }).to_string();
    app.post_json("application/json", &body).await.json()
}

const REQUESTS: &str = "conduit_graphql_requests_total";
const DURATIONS: &str = "conduit_graphql_request_duration_seconds";

fn op<'a>(operation: &'a str, ty: &'a str, outcome: &'a str) -> [(&'a str, &'a str); 3] {
    [("operation", operation), ("type", ty), ("outcome", outcome)]
}

#[tokio::test]
async fn graphql_requests_are_counted_by_operation_type_and_outcome() {
    let app = TestApp::with_config(&[("QUERY_MAX_DEPTH", "3")]).await;
    let tags = "query Tags { popularTags { name } }";
    for _ in 0..2 {
        let body = post(&app, tags, None).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    // The name can come from operationName too.
    post(
        &app,
        "query Tags { popularTags { name } } query Other { popularTags { name } }",
        Some("Tags"),
    )
    .await;
    // Anonymous.
    post(&app, "{ popularTags { name } }", None).await;
    // A validation failure, once with a name that ran before, once with a new one.
    for query in ["query Tags { nope }", "query Broken { nope }"] {
        let body = post(&app, query, None).await;
        assert_eq!(error_code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    }
    // A document that does not parse.
    let body = post(&app, "query Torn {", None).await;
    assert_eq!(error_code(&body), "GRAPHQL_PARSE_FAILED", "{body}");
    // Over a query limit: refused before running, its type still known.
    let body = post(
        &app,
        "query Deep { articles { nodes { author { username } } } }",
        None,
    )
    .await;
    assert_eq!(error_code(&body), "DEPTH_LIMIT_EXCEEDED", "{body}");
    // A field error: the mutation ran, and failed.
    let login = "mutation SignIn { login(input: {email: \"nobody@example.com\", password: \"wrong-password\"}) { accessToken } }";
    let body = post(&app, login, None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    // A JSON batch counts each operation.
    let batch = json!([{ "query": tags }, { "query": tags }]).to_string();
    app.post_json("application/json", &batch).await;

    let m = scrape(&app, None).await;
    assert_eq!(m.value(REQUESTS, &op("Tags", "query", "ok")), 5.0);
    assert_eq!(m.value(REQUESTS, &op("", "query", "ok")), 1.0);
    assert_eq!(m.value(REQUESTS, &op("Tags", "query", "rejected")), 1.0);
    // Names never run are not admitted.
    assert_eq!(m.value(REQUESTS, &op("other", "query", "rejected")), 2.0);
    assert_eq!(m.get(REQUESTS, &op("Broken", "query", "rejected")), None);
    assert_eq!(m.get(REQUESTS, &op("Deep", "query", "rejected")), None);
    assert_eq!(m.value(REQUESTS, &op("", "unknown", "rejected")), 1.0);
    assert_eq!(m.value(REQUESTS, &op("SignIn", "mutation", "error")), 1.0);
    assert_eq!(m.all(REQUESTS).len(), 6, "{}", m.text);
    assert_eq!(
        m.value(
            "conduit_query_limit_rejections_total",
            &[("code", "DEPTH_LIMIT_EXCEEDED")]
        ),
        1.0
    );
    assert_eq!(
        m.value(
            "conduit_query_limit_rejections_total",
            &[("code", "COMPLEXITY_LIMIT_EXCEEDED")]
        ),
        0.0
    );

    // The latency histogram: every bucket, cumulative, ending in +Inf = count.
    let labels = [("operation", "Tags"), ("type", "query")];
    let count = m.value(&format!("{DURATIONS}_count"), &labels);
    assert_eq!(count, 6.0);
    assert!(m.value(&format!("{DURATIONS}_sum"), &labels) > 0.0);
    let buckets: Vec<&Sample> = m
        .all(&format!("{DURATIONS}_bucket"))
        .into_iter()
        .filter(|s| {
            s.labels
                .iter()
                .any(|(k, v)| k == "operation" && v == "Tags")
        })
        .collect();
    let bounds: Vec<&str> = buckets
        .iter()
        .map(|s| s.labels.iter().find(|(k, _)| k == "le").unwrap().1.as_str())
        .collect();
    assert_eq!(
        bounds,
        [
            "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
            "5", "10", "15", "+Inf"
        ]
    );
    assert!(buckets.windows(2).all(|w| w[0].value <= w[1].value));
    assert_eq!(buckets.last().unwrap().value, count);

    // HTTP: every POST above, by route and status.
    assert_eq!(
        m.value(
            "conduit_http_requests_total",
            &[("method", "POST"), ("path", "/graphql"), ("status", "200")]
        ),
        10.0
    );
}

#[tokio::test]
async fn http_requests_are_counted_by_known_route_and_the_pool_is_gauged() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz", "/no/such/route", "/graphql/extra"] {
        app.send(Request::get(path).body(Body::empty()).unwrap())
            .await;
    }
    let preflight = Request::options("/graphql")
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "POST")
        .body(Body::empty())
        .unwrap();
    app.send(preflight).await;
    let first = scrape(&app, None).await;
    let http = "conduit_http_requests_total";
    let get = |path, status| [("method", "GET"), ("path", path), ("status", status)];
    assert_eq!(first.value(http, &get("/healthz", "200")), 1.0);
    assert_eq!(first.value(http, &get("/readyz", "200")), 1.0);
    assert_eq!(first.value(http, &get("other", "404")), 2.0);
    assert_eq!(
        first.value(
            http,
            &[
                ("method", "OPTIONS"),
                ("path", "/graphql"),
                ("status", "200")
            ]
        ),
        1.0
    );
    // A scrape is counted once it is answered.
    assert_eq!(first.get(http, &get("/metrics", "200")), None);
    let second = scrape(&app, None).await;
    assert_eq!(second.value(http, &get("/metrics", "200")), 1.0);
    let duration = "conduit_http_request_duration_seconds_count";
    assert_eq!(
        second.value(duration, &[("method", "GET"), ("path", "other")]),
        2.0
    );
    assert!(
        second
            .get(
                "conduit_http_request_duration_seconds_bucket",
                &[("method", "GET"), ("path", "/healthz"), ("le", "+Inf")]
            )
            .is_some()
    );

    // The test configuration's pool: 4 connections at most, one opened by /readyz.
    assert_eq!(second.value("conduit_db_pool_max_size", &[]), 4.0);
    let size = second.value("conduit_db_pool_size", &[]);
    assert!((1.0..=4.0).contains(&size), "{size}");
    assert!(second.value("conduit_db_pool_available", &[]) <= size);
    assert_eq!(second.value("conduit_db_pool_waiting", &[]), 0.0);
    assert_eq!(second.value("conduit_websockets_open", &[]), 0.0);
    assert_eq!(second.value("conduit_subscriptions_active", &[]), 0.0);
}

#[tokio::test]
async fn loader_batches_websockets_and_subscriptions_are_measured() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let slug = publish(&server, &alice, "Watched").await;
    publish(&server, &alice, "Another").await;

    // Both articles' authors load in one batch of the users loader.
    let before = scrape(&server, None).await;
    let users = [("loader", "users")];
    let count = "conduit_loader_batch_size_count";
    let batches = before.value(count, &users);
    let body = server
        .query("query Home { articles(first: 10) { nodes { author { username } } } }")
        .await;
    assert_eq!(
        body["data"]["articles"]["nodes"].as_array().unwrap().len(),
        2
    );
    let after = scrape(&server, None).await;
    assert_eq!(after.value(count, &users), batches + 1.0);
    assert_eq!(
        after.value("conduit_loader_batch_size_sum", &users)
            - before.value("conduit_loader_batch_size_sum", &users),
        1.0,
        "one distinct author"
    );
    for loader in [
        "users",
        "articles",
        "relations",
        "comments",
        "comment_pages",
        "notifications",
        "published",
    ] {
        let labels = [("loader", loader), ("le", "+Inf")];
        assert!(
            after
                .get("conduit_loader_batch_size_bucket", &labels)
                .is_some(),
            "{loader}"
        );
    }

    // A WebSocket with a subscription, and a query over it.
    let mut client = server.ws_ready(bearer(&alice.access)).await;
    client
        .subscribe(
            "1",
            "subscription($slug: String!) { commentAdded(articleSlug: $slug) { body author { username } } }",
            json!({ "slug": slug }),
        )
        .await;
    server.wait_for_subscriptions(1).await;
    client
        .subscribe("2", "query WsTags { popularTags { name } }", json!({}))
        .await;
    let next = client.next_json().await;
    assert_eq!(
        (next["id"].as_str(), next["type"].as_str()),
        (Some("2"), Some("next")),
        "{next}"
    );
    let complete = client.next_json().await;
    assert_eq!(complete, json!({ "id": "2", "type": "complete" }));
    let live = scrape(&server, None).await;
    assert_eq!(live.value("conduit_websockets_open", &[]), 1.0);
    assert_eq!(live.value("conduit_subscriptions_active", &[]), 1.0);
    assert_eq!(live.value(REQUESTS, &op("WsTags", "query", "ok")), 1.0);
    // Subscriptions are gauged, not counted as requests.
    assert!(
        live.all(REQUESTS)
            .iter()
            .all(|s| !s.labels.iter().any(|(_, v)| v == "subscription")),
        "{}",
        live.text
    );

    // An event runs through the hub's loaders: its author loads in a batch too.
    let users_before = live.value(count, &users);
    comment(&server, &alice, &slug, "hello").await;
    let event = client.next_json().await;
    assert_eq!(
        event["payload"]["data"]["commentAdded"]["body"], "hello",
        "{event}"
    );
    let heard = scrape(&server, None).await;
    assert!(heard.value(count, &users) > users_before, "{}", heard.text);

    drop(client);
    server.wait_for_subscriptions(0).await;
    let started = std::time::Instant::now();
    while scrape(&server, None)
        .await
        .value("conduit_websockets_open", &[])
        != 0.0
    {
        assert!(
            started.elapsed() < crate::live::PATIENCE,
            "the socket stayed open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn rate_limited_calls_are_counted_per_limit() {
    let server = TestServer::start(&[
        ("AUTH_ATTEMPTS_PER_ACCOUNT", "2"),
        ("AUTH_ATTEMPTS_PER_IP", "3"),
    ])
    .await;
    let login = "mutation($email: String!) { login(input: {email: $email, password: \"wrong-password\"}) { accessToken } }";
    let mut codes = Vec::new();
    // Over TCP, so that the client's IP is known.
    for email in [
        "a@example.com",
        "a@example.com",
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ] {
        let body = json!({ "query": login, "variables": { "email": email } }).to_string();
        let (status, text) = crate::helpers::post_over_tcp(server.addr, body).await;
        assert_eq!(status, 200, "{text}");
        codes.push(error_code(&serde_json::from_str(&text).unwrap()).to_owned());
    }
    // The third is over the account's limit from this IP (and, refused, spends nothing),
    // the fifth over the IP's.
    assert_eq!(
        codes,
        [
            "UNAUTHENTICATED",
            "UNAUTHENTICATED",
            "RATE_LIMITED",
            "UNAUTHENTICATED",
            "RATE_LIMITED"
        ]
    );
    let m = scrape(&server, None).await;
    let limited = "conduit_rate_limited_total";
    assert_eq!(m.value(limited, &[("limit", "auth_account_ip")]), 1.0);
    assert_eq!(m.value(limited, &[("limit", "auth_account")]), 0.0);
    assert_eq!(m.value(limited, &[("limit", "auth_ip")]), 1.0);
    assert_eq!(m.value(limited, &[("limit", "cost_budget")]), 0.0);
    // The operations ran, with an error each.
    assert_eq!(m.value(REQUESTS, &op("", "mutation", "error")), 5.0);
}

#[tokio::test]
async fn the_token_guards_metrics_when_set() {
    let app = TestApp::with_config(&[("METRICS_TOKEN", "s3cret-token")]).await;
    for authorization in [
        None,
        Some("Bearer wrong"),
        Some("Bearer s3cret-toke"),
        Some("s3cret-token"),
    ] {
        let mut request = Request::get("/metrics");
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = app.send(request.body(Body::empty()).unwrap()).await;
        assert_eq!(response.status, 401, "{authorization:?}");
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
        assert!(!response.text().contains("conduit_"), "{}", response.text());
    }
    let m = scrape(&app, Some("Bearer s3cret-token")).await;
    assert_eq!(
        m.value(
            "conduit_http_requests_total",
            &[("method", "GET"), ("path", "/metrics"), ("status", "401")]
        ),
        4.0
    );
    scrape(&app, Some("bearer s3cret-token")).await;
}

#[tokio::test]
async fn operation_names_are_bounded() {
    let app = TestApp::with_config(&[("METRICS_OPERATION_NAMES", "3")]).await;
    for i in 0..6 {
        post(
            &app,
            &format!("query Op{i} {{ popularTags {{ name }} }}"),
            None,
        )
        .await;
    }
    // A valid GraphQL name longer than 64 characters is not a label either.
    let long = "L".repeat(65);
    post(
        &app,
        &format!("query {long} {{ popularTags {{ name }} }}"),
        None,
    )
    .await;
    // Any operationName string: refused (no such operation), and never a label.
    post(&app, "{ popularTags { name } }", Some("not a name\"}")).await;
    // Names admitted before the bound stay labelled.
    post(&app, "query Op1 { popularTags { name } }", None).await;

    let m = scrape(&app, None).await;
    assert_eq!(m.value(REQUESTS, &op("Op0", "query", "ok")), 1.0);
    assert_eq!(m.value(REQUESTS, &op("Op1", "query", "ok")), 2.0);
    assert_eq!(m.value(REQUESTS, &op("Op2", "query", "ok")), 1.0);
    assert_eq!(m.value(REQUESTS, &op("other", "query", "ok")), 4.0);
    assert_eq!(m.value(REQUESTS, &op("other", "unknown", "rejected")), 1.0);
    let operations: std::collections::BTreeSet<&str> = m
        .all(REQUESTS)
        .iter()
        .map(|s| {
            s.labels
                .iter()
                .find(|(k, _)| k == "operation")
                .unwrap()
                .1
                .as_str()
        })
        .collect();
    assert_eq!(operations, ["Op0", "Op1", "Op2", "other"].into());
}
