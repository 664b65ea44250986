//! With `REDIS_URL`, the cost budget is shared by every instance through the real Redis on
//! 127.0.0.1:6379 (each test under its own `REDIS_KEY_PREFIX`); with Redis unreachable it
//! falls back to per instance, counts it in `conduit_budget_store_fallback_total`, and
//! shares again once Redis answers.

use std::{net::SocketAddr, time::Duration};

use axum::{body::Body, extract::ConnectInfo, http::Request};
use serde_json::{Value, json};
use tokio::{net::TcpListener, task::JoinHandle};

use crate::helpers::{TestApp, error_code};

const REDIS: &str = "redis://127.0.0.1:6379";

/// Costs 61 (a connection read without `first` counts 20 nodes).
const ARTICLES: &str = "{ articles { nodes { slug title } } }";

fn vars<'a>(url: &'a str, prefix: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("COST_BUDGET_PER_MINUTE", "150"),
        ("QUERY_MAX_COMPLEXITY", "100"),
        ("REDIS_URL", url),
        ("REDIS_KEY_PREFIX", prefix),
    ]
}

fn unique_prefix() -> String {
    format!("test-{}:", uuid::Uuid::new_v4().simple())
}

/// Runs [`ARTICLES`] anonymously from `ip`, then waits until the instance's reservation
/// (if any) has reached Redis: ok, or the error code.
async fn spend(app: &TestApp, ip: &str) -> String {
    let peer: SocketAddr = format!("{ip}:40000").parse().unwrap();
    let mut request = Request::post("/graphql")
        .header("content-type", "application/json")
        .body(Body::from(json!({ "query": ARTICLES }).to_string()))
        .unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let body: Value = app.send(request).await.json();
    app.state.budget.as_ref().expect("a budget").settled().await;
    if body["errors"].is_null() {
        "ok".to_owned()
    } else {
        error_code(&body).to_owned()
    }
}

#[tokio::test]
async fn spending_on_one_instance_is_seen_on_the_other() {
    let prefix = unique_prefix();
    let one = TestApp::with_config(&vars(REDIS, &prefix)).await;
    let two = TestApp::sharing(&one, &vars(REDIS, &prefix));
    assert_eq!(one.state.budget.as_ref().unwrap().is_shared(), Some(true));
    // 150 a minute: two operations of 61 pass, the third does not.
    assert_eq!(spend(&one, "10.0.0.1").await, "ok");
    assert_eq!(spend(&one, "10.0.0.1").await, "ok");
    assert_eq!(spend(&one, "10.0.0.1").await, "RATE_LIMITED");
    // The other instance has heard of it by its second operation (per instance, it would
    // have a whole budget of its own); its first may run before it has asked Redis.
    let _ = spend(&two, "10.0.0.1").await;
    assert_eq!(spend(&two, "10.0.0.1").await, "RATE_LIMITED");
    assert_eq!(spend(&two, "10.0.0.1").await, "RATE_LIMITED");
    // Another spender, and the same spender under another prefix, are untouched.
    assert_eq!(spend(&two, "10.0.0.2").await, "ok");
    assert_eq!(spend(&two, "10.0.0.2").await, "ok");
    let other = unique_prefix();
    let three = TestApp::sharing(&one, &vars(REDIS, &other));
    assert_eq!(spend(&three, "10.0.0.1").await, "ok");
    assert_eq!(
        crate::helpers::metric(&one, "conduit_budget_store_fallback_total").await,
        "0"
    );
}

#[tokio::test]
async fn instances_in_parallel_spend_one_budget() {
    let prefix = unique_prefix();
    let apps: Vec<TestApp> = {
        let first = TestApp::with_config(&vars(REDIS, &prefix)).await;
        let rest: Vec<TestApp> = (0..3)
            .map(|_| TestApp::sharing(&first, &vars(REDIS, &prefix)))
            .collect();
        std::iter::once(first).chain(rest).collect()
    };
    // 4 instances × 6 operations of 61 at once: 1464 asked for, 150 a minute granted.
    let calls = apps
        .iter()
        .flat_map(|app| (0..6).map(move |_| spend(app, "10.0.0.7")));
    let codes = futures_util::future::join_all(calls).await;
    let passed = codes.iter().filter(|c| *c == "ok").count();
    assert!(
        codes.iter().all(|c| c == "ok" || c == "RATE_LIMITED"),
        "{codes:?}"
    );
    // Per instance this would be 8; each instance may run one on credit past the budget.
    assert!((2..=6).contains(&passed), "{passed} passed: {codes:?}");
}

#[tokio::test]
async fn with_redis_unreachable_the_budget_is_per_instance_and_counted() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("redis://{}", closed.local_addr().unwrap());
    drop(closed);
    let prefix = unique_prefix();
    let app = TestApp::with_config(&vars(&url, &prefix)).await;
    let codes = [
        spend(&app, "10.0.0.3").await,
        spend(&app, "10.0.0.3").await,
        spend(&app, "10.0.0.3").await,
        spend(&app, "10.0.0.3").await,
    ];
    // The first ran before the instance knew; then the instance's own budget of 150.
    assert_eq!(codes, ["ok", "ok", "ok", "RATE_LIMITED"], "{codes:?}");
    assert_eq!(app.state.budget.as_ref().unwrap().is_shared(), Some(false));
    assert_eq!(
        crate::helpers::metric(&app, "conduit_budget_store_fallback_total").await,
        "1"
    );
}

/// A TCP proxy in front of the real Redis that can be stopped and started on one port.
struct Proxy {
    addr: SocketAddr,
    task: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(addr: SocketAddr) -> Self {
        let listener = TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let mut links = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                links.spawn(async move {
                    if let Ok(mut redis) = tokio::net::TcpStream::connect("127.0.0.1:6379").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut redis).await;
                    }
                });
            }
        });
        Self {
            addr,
            task: Some(task),
        }
    }

    /// Stops listening and cuts every connection (the JoinSet goes with the task).
    fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test]
async fn after_an_outage_the_budget_is_shared_again() {
    let mut proxy = Proxy::start("127.0.0.1:0".parse().unwrap()).await;
    let url = format!("redis://{}", proxy.addr);
    let prefix = unique_prefix();
    let app = TestApp::with_config(&vars(&url, &prefix)).await;
    let budget = app.state.budget.as_ref().unwrap();
    assert_eq!(spend(&app, "10.0.0.4").await, "ok");
    assert_eq!(budget.is_shared(), Some(true));

    proxy.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Until a reservation fails, the balance reserved before serves.
    let mut spent = 0;
    while budget.is_shared() == Some(true) {
        spent += 1;
        assert!(spent < 50, "never noticed the outage");
        let _ = spend(&app, &format!("10.1.0.{spent}")).await;
    }
    assert_eq!(
        crate::helpers::metric(&app, "conduit_budget_store_fallback_total").await,
        "1"
    );

    let _proxy = Proxy::start(proxy.addr).await;
    let mut tries = 0;
    while budget.is_shared() != Some(true) {
        tries += 1;
        assert!(tries < 300, "never recovered");
        let _ = spend(&app, "10.2.0.1").await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Shared again: what this instance spends is in Redis.
    assert_eq!(spend(&app, "10.0.0.5").await, "ok");
    let client = redis::Client::open(REDIS).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let tokens: Option<f64> = redis::cmd("HGET")
        .arg(format!("{prefix}budget:ip:10.0.0.5"))
        .arg("tokens")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(tokens.is_some_and(|t| t < 150.0), "{tokens:?}");
    assert_eq!(
        crate::helpers::metric(&app, "conduit_budget_store_fallback_total").await,
        "1"
    );
}
