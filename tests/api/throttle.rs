//! The credential paths are throttled per account and per client IP, counted per
//! resolver call: aliases and batches cannot multiply guesses. The counters are in
//! PostgreSQL, namespaced by purpose, per account and IP as well as per account, and
//! shared by every instance on the database.

use std::net::SocketAddr;

use axum::{body::Body, extract::ConnectInfo, http::Request};
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, error_code, field_errors},
    live::TestServer,
};

/// Runs `query` with `variables` from the TCP peer `ip`, signed in with `token` if given.
pub async fn gql_from(
    app: &TestApp,
    ip: &str,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> Value {
    let ip: std::net::IpAddr = ip.parse().unwrap();
    let mut request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("accept", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = json!({ "query": query, "variables": variables }).to_string();
    let mut request = request.body(Body::from(body)).unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(ip, 40000)));
    let response = app.send(request).await;
    response.json()
}

/// `login` as `email` with a wrong password, from `ip`: the error code.
async fn wrong_login(app: &TestApp, ip: &str, email: &str) -> String {
    let body = gql_from(app, ip, LOGIN, json!({ "email": email }), None).await;
    error_code(&body).to_owned()
}

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
    // Registering is another purpose: it spent nothing of alice's sign-in attempts.
    for _ in 0..3 {
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

/// Every spelling that reaches one account spends that account's keys: the key is folded
/// by the database's `lower()`, as the account lookup is, not by Rust's `to_lowercase`
/// (which turns `İ` into `i` + U+0307 where PostgreSQL gives `i`).
#[tokio::test]
async fn every_spelling_of_an_address_spends_its_accounts_attempts() {
    let app = TestApp::with_config(&[("AUTH_ATTEMPTS_PER_ACCOUNT", "3")]).await;
    app.register("iiiiiii").await;
    let spelling = |at: usize| {
        let local: String = (0..7).map(|i| if i == at { 'İ' } else { 'i' }).collect();
        json!({ "email": format!("{local}@example.com") })
    };
    for at in 0..3 {
        let body = app.gql(LOGIN, spelling(at), None).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    assert_limited(&app.gql(LOGIN, spelling(3), None).await);
    assert_limited(
        &app.gql(LOGIN, json!({ "email": "iiiiiii@example.com" }), None)
            .await,
    );
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

#[tokio::test]
async fn an_attacker_elsewhere_cannot_lock_the_owner_out() {
    let app = TestApp::with_config(&[
        ("AUTH_ATTEMPTS_PER_ACCOUNT", "3"),
        ("AUTH_ATTEMPTS_PER_ACCOUNT_TOTAL", "8"),
    ])
    .await;
    let alice = app.register("alice").await;
    for _ in 0..3 {
        assert_eq!(
            wrong_login(&app, "203.0.113.7", &alice.email).await,
            "UNAUTHENTICATED"
        );
    }
    // The attacker's address is spent on alice, again and again: it spends nothing more.
    for _ in 0..10 {
        assert_eq!(
            wrong_login(&app, "203.0.113.7", &alice.email).await,
            "RATE_LIMITED"
        );
    }
    // Alice, from home, signs in.
    let right = json!({ "email": "ALICE@example.com ", "password": alice.password });
    let login = "mutation($email: String!, $password: String!) { login(input: {email: $email, password: $password}) { user { username } } }";
    let body = gql_from(&app, "198.51.100.1", login, right.clone(), None).await;
    assert_eq!(body["data"]["login"]["user"]["username"], "alice", "{body}");
    assert_eq!(
        crate::helpers::metric(
            &app,
            "conduit_rate_limited_total{limit=\"auth_account_ip\"}"
        )
        .await,
        "10"
    );

    // An attacker with many addresses is bounded per account, all addresses together (4
    // attempts spent so far: 3 from the attacker, 1 from alice).
    for i in 0..4 {
        let ip = format!("192.0.2.{i}");
        assert_eq!(
            wrong_login(&app, &ip, &alice.email).await,
            "UNAUTHENTICATED",
            "{ip}"
        );
    }
    assert_eq!(
        wrong_login(&app, "192.0.2.99", &alice.email).await,
        "RATE_LIMITED"
    );
    assert_eq!(
        crate::helpers::metric(&app, "conduit_rate_limited_total{limit=\"auth_account\"}").await,
        "1"
    );
}

#[tokio::test]
async fn keys_are_namespaced_so_a_login_cannot_lock_a_password_change() {
    let app = TestApp::with_config(&[
        ("AUTH_ATTEMPTS_PER_ACCOUNT", "2"),
        ("AUTH_ATTEMPTS_PER_ACCOUNT_TOTAL", "2"),
    ])
    .await;
    let alice = app.register("alice").await;
    let (_, id) = conduit::graphql::node::decode_global_id(&alice.id).expect("a user id");
    // Before namespacing, the email "user:<id>" was the key of user <id>'s password changes.
    for email in [
        format!("user:{id}"),
        format!("password:user:{id}"),
        format!("user:{id}|unknown"),
    ] {
        for _ in 0..3 {
            let body = app.gql(LOGIN, json!({ "email": email }), None).await;
            assert_eq!(error_code(&body), "UNAUTHENTICATED", "{email}: {body}");
        }
    }
    let change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }";
    let vars = json!({ "c": alice.password, "n": "a-new-password" });
    let body = app.gql(change, vars, Some(&alice.access)).await;
    assert!(
        body["data"]["changePassword"]["accessToken"].is_string(),
        "{body}"
    );
}

#[tokio::test]
async fn ipv6_addresses_of_one_64_share_a_limit() {
    let app = TestApp::with_config(&[("AUTH_ATTEMPTS_PER_IP", "3")]).await;
    for (i, ip) in [
        "2001:db8:1:2::1",
        "2001:db8:1:2::2",
        "2001:db8:1:2:ffff:ffff:ffff:ffff",
    ]
    .iter()
    .enumerate()
    {
        let email = format!("user{i}@example.com");
        assert_eq!(
            wrong_login(&app, ip, &email).await,
            "UNAUTHENTICATED",
            "{ip}"
        );
    }
    assert_eq!(
        wrong_login(&app, "2001:db8:1:2::abcd", "x@example.com").await,
        "RATE_LIMITED"
    );
    assert_eq!(
        wrong_login(&app, "2001:db8:1:3::1", "x@example.com").await,
        "UNAUTHENTICATED"
    );
    // An IPv4-mapped address is its IPv4 address.
    for _ in 0..3 {
        assert_eq!(
            wrong_login(&app, "10.9.8.7", "y@example.com").await,
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(
        wrong_login(&app, "::ffff:10.9.8.7", "z@example.com").await,
        "RATE_LIMITED"
    );
}

#[tokio::test]
async fn instances_on_one_database_share_the_throttle() {
    let one = TestApp::with_config(&[("AUTH_ATTEMPTS_PER_ACCOUNT", "4")]).await;
    let two = TestApp::sharing(&one, &[("AUTH_ATTEMPTS_PER_ACCOUNT", "4")]);
    for app in [&one, &two, &one, &two] {
        assert_eq!(
            wrong_login(app, "10.0.0.1", "eve@example.com").await,
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(
        wrong_login(&two, "10.0.0.1", "eve@example.com").await,
        "RATE_LIMITED"
    );
    assert_eq!(
        wrong_login(&one, "10.0.0.1", "eve@example.com").await,
        "RATE_LIMITED"
    );
}

#[tokio::test]
async fn parallel_attempts_are_each_counted_once() {
    let app = TestApp::with_config(&[("AUTH_ATTEMPTS_PER_ACCOUNT", "5")]).await;
    let app = &app;
    let attempts = (0..24).map(|_| wrong_login(app, "10.0.0.9", "mallory@example.com"));
    let codes = futures_util::future::join_all(attempts).await;
    let passed = codes.iter().filter(|c| *c == "UNAUTHENTICATED").count();
    let limited = codes.iter().filter(|c| *c == "RATE_LIMITED").count();
    assert_eq!((passed, limited), (5, 19), "{codes:?}");
}

#[tokio::test]
async fn the_largest_email_and_garbage_are_no_keys_and_still_throttled_per_ip() {
    let app = TestApp::with_config(&[
        ("AUTH_ATTEMPTS_PER_ACCOUNT", "1"),
        ("AUTH_ATTEMPTS_PER_IP", "4"),
    ])
    .await;
    let huge = format!("{}@example.com", "a".repeat(300));
    for email in [huge.as_str(), "", "not an email", "\u{1F600}@x"] {
        assert_eq!(
            wrong_login(&app, "10.1.1.1", email).await,
            "UNAUTHENTICATED"
        );
    }
    assert_eq!(
        wrong_login(&app, "10.1.1.1", "ok@example.com").await,
        "RATE_LIMITED"
    );
}

const UPDATE_EMAIL: &str =
    "mutation($input: UpdateViewerInput!) { updateViewer(input: $input) { email } }";

#[tokio::test]
async fn changing_the_email_needs_the_current_password() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    app.register("taken").await;
    // Without it, or with a wrong one, nothing says whether an address is registered.
    for (input, message) in [
        (
            json!({ "email": "taken@example.com" }),
            "is required to change the email",
        ),
        (
            json!({ "email": "free@example.com" }),
            "is required to change the email",
        ),
        (
            json!({ "email": "taken@example.com", "currentPassword": "wrong-password" }),
            "is not your current password",
        ),
        (
            json!({ "email": "free@example.com", "currentPassword": "wrong-password" }),
            "is not your current password",
        ),
        (
            json!({ "email": "free@example.com", "currentPassword": "x".repeat(100_000) }),
            "is not your current password",
        ),
    ] {
        let body = app
            .gql(UPDATE_EMAIL, json!({ "input": input }), Some(&jane.access))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(
            field_errors(&body),
            vec![("currentPassword".to_owned(), message.to_owned())],
            "{input}"
        );
    }
    let me = app
        .gql("{ viewer { email } }", json!({}), Some(&jane.access))
        .await;
    assert_eq!(me["data"]["viewer"]["email"], "jane@example.com");
    // With it, a taken address is said so, and a free one is taken.
    let input = json!({ "email": "taken@example.com", "currentPassword": jane.password });
    let body = app
        .gql(UPDATE_EMAIL, json!({ "input": input }), Some(&jane.access))
        .await;
    assert_eq!(
        field_errors(&body),
        vec![("email".to_owned(), "is already registered".to_owned())]
    );
    let input = json!({ "email": "new@example.com", "currentPassword": jane.password });
    let body = app
        .gql(UPDATE_EMAIL, json!({ "input": input }), Some(&jane.access))
        .await;
    assert_eq!(
        body["data"]["updateViewer"]["email"], "new@example.com",
        "{body}"
    );
    // Other fields need no password.
    let body = app
        .gql(
            UPDATE_EMAIL,
            json!({ "input": { "bio": "hi" } }),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        body["data"]["updateViewer"]["email"], "new@example.com",
        "{body}"
    );
}

#[tokio::test]
async fn probing_addresses_through_an_email_change_is_throttled() {
    let app = TestApp::with_config(&[("AUTH_ATTEMPTS_PER_ACCOUNT", "10")]).await;
    let jane = app.register("jane").await;
    let mut codes = Vec::new();
    for i in 0..11 {
        let input =
            json!({ "email": format!("probe{i}@example.com"), "currentPassword": jane.password });
        let body = gql_from(
            &app,
            "10.2.2.2",
            UPDATE_EMAIL,
            json!({ "input": input }),
            Some(&jane.access),
        )
        .await;
        codes.push(if body["errors"].is_null() {
            "OK".to_owned()
        } else {
            error_code(&body).to_owned()
        });
    }
    assert_eq!(codes[..10], ["OK"; 10], "{codes:?}");
    assert_eq!(codes[10], "RATE_LIMITED", "{codes:?}");
    // Profile edits without an email are not attempts.
    let body = gql_from(
        &app,
        "10.2.2.2",
        UPDATE_EMAIL,
        json!({ "input": { "bio": "x" } }),
        Some(&jane.access),
    )
    .await;
    assert!(body["errors"].is_null(), "{body}");
}
