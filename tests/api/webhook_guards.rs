//! What webhooks refuse: targets inside the network (at registration, and at delivery
//! through the injected resolver, with the receiver listening so that a missed check
//! would show), plain http without `WEBHOOK_ALLOW_HTTP`, other users (directly, through
//! `node`, through `User.webhooks`; admins too), and bad input. The secret appears in
//! `WebhookSecretPayload` only.

use std::time::Duration;

use conduit::domain::policy::Role;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, error_code, field_errors},
    webhook_receiver::{MapLookup, Receiver, start_worker},
    webhooks::{CREATE, DELIVERY, KEY, VARS, create_webhook, node, ping, wait_status},
};

async fn refused_field(app: &TestApp, token: &str, input: Value) -> Vec<(String, String)> {
    let body = app.gql(CREATE, json!({"input": input}), Some(token)).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["data"], Value::Null, "{body}");
    field_errors(&body)
}

#[tokio::test]
async fn loopback_is_refused_at_registration_without_the_allow_list() {
    let app =
        TestApp::with_config(&[("WEBHOOK_ALLOW_HTTP", "true"), ("WEBHOOK_SECRET_KEY", KEY)]).await;
    let alice = app.register("alice").await;
    let receiver = Receiver::start(&[]).await;
    for url in [
        receiver.url(),
        "http://10.0.0.1/hook".to_owned(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[::ffff:127.0.0.1]/hook".to_owned(),
        "http://[::1]:9/hook".to_owned(),
    ] {
        let errors =
            refused_field(&app, &alice.access, json!({"url": url, "events": ["PING"]})).await;
        assert!(
            errors
                .iter()
                .any(|(f, m)| f == "url" && m.contains("private or reserved")),
            "{url}: {errors:?}"
        );
    }
    assert!(receiver.received().is_empty());
}

#[tokio::test]
async fn https_only_without_webhook_allow_http() {
    let app = TestApp::with_config(&[("WEBHOOK_SECRET_KEY", KEY)]).await;
    let alice = app.register("alice").await;
    let errors = refused_field(
        &app,
        &alice.access,
        json!({"url": "http://hooks.example.com/in", "events": ["ARTICLE_PUBLISHED"]}),
    )
    .await;
    assert_eq!(errors, [("url".to_owned(), "must use https".to_owned())]);
    let (_, secret) = create_webhook(
        &app,
        &alice,
        "https://hooks.example.com/in",
        &["ARTICLE_PUBLISHED"],
    )
    .await;
    assert!(secret.starts_with("whsec_"));
}

#[tokio::test]
async fn names_resolving_inside_the_network_are_refused_at_delivery() {
    // The receiver listens on 127.0.0.1; only 127.0.0.1 itself (by address) and
    // "allowed.test" are on the allow-list.
    let vars = [
        ("WEBHOOK_ALLOW_HTTP", "true"),
        ("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1,allowed.test"),
        ("WEBHOOK_SECRET_KEY", KEY),
    ];
    let app = TestApp::with_config(&vars).await;
    let alice = app.register("alice").await;
    let receiver = Receiver::start(&[]).await;
    let lookup = MapLookup::of(&[
        ("internal.test", "10.0.0.1"),
        ("rebound.test", "127.0.0.1"),
        ("allowed.test", "127.0.0.1"),
    ]);
    let (internal, _) = create_webhook(
        &app,
        &alice,
        &receiver.url_as("internal.test"),
        &["NEW_FOLLOWER"],
    )
    .await;
    let (rebound, _) = create_webhook(
        &app,
        &alice,
        &receiver.url_as("rebound.test"),
        &["NEW_FOLLOWER"],
    )
    .await;
    let (allowed, _) = create_webhook(
        &app,
        &alice,
        &receiver.url_as("allowed.test"),
        &["NEW_FOLLOWER"],
    )
    .await;
    let _worker = start_worker(&app, Some(lookup));

    let to_internal = ping(&app, &alice, &internal).await;
    let to_rebound = ping(&app, &alice, &rebound).await;
    let failing = [
        (to_internal, "internal.test resolves to 10.0.0.1"),
        (to_rebound, "rebound.test resolves to 127.0.0.1"),
    ];
    for (id, why) in &failing {
        let start = std::time::Instant::now();
        loop {
            let delivery = node(&app, &alice, id, "WebhookDelivery", DELIVERY).await;
            if let Some(error) = delivery["lastError"].as_str() {
                assert_eq!(
                    error,
                    format!("refused: {why}, a private or reserved address")
                );
                assert_eq!(delivery["responseStatus"], Value::Null);
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(20), "{delivery}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert!(
        receiver.received().is_empty(),
        "nothing reached the receiver"
    );

    // The same receiver under an allowed name gets its delivery: the refusals above are
    // the resolver's, not a dead end.
    let to_allowed = ping(&app, &alice, &allowed).await;
    wait_status(&app, &alice, &to_allowed, "DELIVERED").await;
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-id"), to_allowed);
}

#[tokio::test]
async fn an_inner_address_is_refused_at_delivery_even_if_it_was_registered() {
    let vars = [("WEBHOOK_ALLOW_HTTP", "true"), ("WEBHOOK_SECRET_KEY", KEY)];
    let app = TestApp::with_config(&vars).await;
    let alice = app.register("alice").await;
    let receiver = Receiver::start(&[]).await;
    let (hook, _) = create_webhook(
        &app,
        &alice,
        "http://hooks.example.com/in",
        &["NEW_FOLLOWER"],
    )
    .await;
    // As if the rules had changed since registration: the stored URL is an IP literal.
    let client = crate::helpers::connect(&app.database_url()).await;
    client
        .execute("UPDATE webhooks SET url = $1", &[&receiver.url()])
        .await
        .unwrap();
    let _worker = start_worker(&app, None);
    let id = ping(&app, &alice, &hook).await;
    let delivery = wait_status(&app, &alice, &id, "FAILED").await;
    let error = delivery["lastError"].as_str().unwrap();
    assert!(
        error.starts_with("refused: the URL must not point at a private"),
        "{error}"
    );
    assert!(receiver.received().is_empty());
}

const ALL: &str = "webhooks { totalCount nodes { id url events active disabledReason createdAt deliveries { totalCount nodes { id payload status attemptLog { at } } } } }";

#[tokio::test]
async fn another_user_cannot_see_or_change_your_webhooks() {
    let app = TestApp::with_config(&VARS).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let boss = app.register("boss").await;
    conduit::domain::accounts::set_role(&app.state.pool, "boss", Role::Admin)
        .await
        .unwrap();
    let receiver = Receiver::start(&[]).await;
    let (hook, secret) = create_webhook(&app, &alice, &receiver.url(), &["NEW_FOLLOWER"]).await;
    let delivery = ping(&app, &alice, &hook).await;

    // Alice sees hers, without the secret anywhere.
    let mine = app
        .gql(
            &format!("{{ viewer {{ {ALL} }} }}"),
            json!({}),
            Some(&alice.access),
        )
        .await;
    assert_eq!(
        mine["data"]["viewer"]["webhooks"]["totalCount"], 1,
        "{mine}"
    );
    assert_eq!(
        mine["data"]["viewer"]["webhooks"]["nodes"][0]["deliveries"]["totalCount"],
        1
    );
    let secret_body = secret.strip_prefix("whsec_").unwrap();
    assert!(!mine.to_string().contains(secret_body), "{mine}");
    let as_node = node(&app, &alice, &hook, "Webhook", "id url").await;
    assert_eq!(as_node["id"], hook.as_str());
    assert!(!as_node.to_string().contains(secret_body));
    let client = crate::helpers::connect(&app.database_url()).await;
    let row = client
        .query_one("SELECT secret_ciphertext, secret_key_id FROM webhooks", &[])
        .await
        .unwrap();
    let stored: Vec<u8> = row.get(0);
    let raw =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, secret_body).unwrap();
    assert!(
        !stored.windows(raw.len()).any(|w| w == raw),
        "sealed at rest"
    );
    assert_eq!(row.get::<_, String>(1), "k1");

    for intruder in [&bob, &boss] {
        let token = Some(intruder.access.as_str());
        let theirs = app
            .gql(
                &format!("{{ user(username: \"alice\") {{ {ALL} }} }}"),
                json!({}),
                token,
            )
            .await;
        assert_eq!(theirs["data"]["user"]["webhooks"], Value::Null, "{theirs}");
        assert_eq!(error_code(&theirs), "FORBIDDEN", "{theirs}");
        let nodes = app
            .gql(
                "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                json!({"ids": [hook, delivery]}),
                token,
            )
            .await;
        assert_eq!(nodes["data"]["nodes"], json!([null, null]), "{nodes}");
        for mutation in [
            "mutation($id: ID!) { updateWebhook(id: $id, input: {active: false}) { id } }",
            "mutation($id: ID!) { deleteWebhook(id: $id) }",
            "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }",
            "mutation($id: ID!) { pingWebhook(id: $id) { id } }",
        ] {
            let body = app.gql(mutation, json!({"id": hook}), token).await;
            assert_eq!(error_code(&body), "NOT_FOUND", "{mutation}: {body}");
            assert_eq!(body["errors"][0]["message"], "No webhook has that ID.");
        }
        let body = app
            .gql(
                "mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { id } }",
                json!({"id": delivery}),
                token,
            )
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    }
    // A webhook that does not exist gets the same answer as someone else's.
    let missing =
        conduit::graphql::node::global_id(conduit::graphql::node::NodeKind::Webhook, 999_999);
    let body = app
        .gql(
            "mutation($id: ID!) { deleteWebhook(id: $id) }",
            json!({"id": missing}),
            Some(&bob.access),
        )
        .await;
    assert_eq!(body["errors"][0]["message"], "No webhook has that ID.");
    // Nothing changed: still active, still one delivery.
    let after = node(
        &app,
        &alice,
        &hook,
        "Webhook",
        "active deliveries { totalCount }",
    )
    .await;
    assert_eq!(
        after,
        json!({"active": true, "deliveries": {"totalCount": 1}})
    );

    // Anonymous: no viewer, so UNAUTHENTICATED.
    let anonymous = app
        .gql(
            "mutation($id: ID!) { deleteWebhook(id: $id) }",
            json!({"id": hook}),
            None,
        )
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    // Alice deletes hers; its deliveries go with it.
    let deleted = app
        .gql(
            "mutation($id: ID!) { deleteWebhook(id: $id) }",
            json!({"id": hook}),
            Some(&alice.access),
        )
        .await;
    assert_eq!(deleted["data"]["deleteWebhook"], hook.as_str(), "{deleted}");
    let gone = client
        .query_one(
            "SELECT count(*) FROM outbox WHERE webhook_id IS NOT NULL",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(gone.get::<_, i64>(0), 0);
}

#[tokio::test]
async fn bad_input_is_refused_with_field_errors() {
    let app = TestApp::with_config(&VARS).await;
    let alice = app.register("alice").await;
    let token = alice.access.as_str();
    let url = "https://hooks.example.com/in";
    let long = format!("https://hooks.example.com/{}", "a".repeat(2048));
    let cases: [(Value, &str, &str); 7] = [
        (
            json!({"url": long, "events": ["PING"]}),
            "url",
            "must be at most 2048 bytes",
        ),
        (
            json!({"url": "not a url", "events": ["NEW_FOLLOWER"]}),
            "url",
            "is not a valid absolute URL",
        ),
        (
            json!({"url": "/relative", "events": ["NEW_FOLLOWER"]}),
            "url",
            "is not a valid absolute URL",
        ),
        (
            json!({"url": url, "events": []}),
            "events",
            "must name at least one event",
        ),
        (
            json!({"url": url, "events": ["NEW_FOLLOWER", "NEW_FOLLOWER"]}),
            "events",
            "must not repeat an event",
        ),
        (
            json!({"url": url, "events": ["PING"]}),
            "events",
            "PING is sent by pingWebhook only",
        ),
        (
            json!({"url": url, "events": vec!["NEW_FOLLOWER"; 8]}),
            "events",
            "at most 6",
        ),
    ];
    for (input, field, message) in cases {
        let errors = refused_field(&app, token, input.clone()).await;
        assert!(
            errors
                .iter()
                .any(|(f, m)| f == field && m.starts_with(message)),
            "{input}: {errors:?}"
        );
    }
    // The largest input the body limit allows is refused on its length.
    let huge = format!("https://hooks.example.com/{}", "a".repeat(1_000_000));
    let errors = refused_field(
        &app,
        token,
        json!({"url": huge, "events": ["NEW_FOLLOWER"]}),
    )
    .await;
    assert_eq!(
        errors,
        [("url".to_owned(), "must be at most 2048 bytes".to_owned())]
    );

    // At most 20 per user, and the error says so.
    for i in 0..20 {
        create_webhook(&app, &alice, &format!("{url}/{i}"), &["NEW_FOLLOWER"]).await;
    }
    let errors = refused_field(&app, token, json!({"url": url, "events": ["NEW_FOLLOWER"]})).await;
    assert_eq!(
        errors[0].1,
        "at most 20 webhooks per user; delete one first"
    );
    let page = app
        .gql("{ viewer { webhooks(first: 5) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } } }", json!({}), Some(token))
        .await;
    let webhooks = &page["data"]["viewer"]["webhooks"];
    assert_eq!(webhooks["totalCount"], 20, "{page}");
    assert_eq!(webhooks["pageInfo"]["hasNextPage"], true);

    // updateWebhook checks the same way.
    let id = webhooks["nodes"][0]["id"].clone();
    let body = app
        .gql(
            "mutation($id: ID!) { updateWebhook(id: $id, input: {url: \"ftp://x\", events: []}) { id } }",
            json!({"id": id}),
            Some(token),
        )
        .await;
    let fields: Vec<String> = field_errors(&body).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["events", "url"], "{body}");
    let unauthenticated = app
        .gql(
            CREATE,
            json!({"input": {"url": url, "events": ["NEW_FOLLOWER"]}}),
            None,
        )
        .await;
    assert_eq!(error_code(&unauthenticated), "UNAUTHENTICATED");
}

#[tokio::test]
async fn webhooks_with_their_deliveries_and_attempts_read_in_constant_statements() {
    let vars = [VARS[0], VARS[1], VARS[2], ("REPORT_SQL_STATEMENTS", "true")];
    let app = TestApp::with_config(&vars).await;
    let alice = app.register("alice").await;
    let receiver = Receiver::start(&[500]).await;
    let _worker = start_worker(&app, None);
    let query = "{ viewer { webhooks { totalCount nodes { id deliveries(first: 5) { totalCount nodes { id status attemptLog { at responseStatus } } } failed: deliveries(status: FAILED) { totalCount } } } } }";
    let mut counts = Vec::new();
    for n in 1..=3 {
        let (hook, _) = create_webhook(&app, &alice, &receiver.url(), &["NEW_FOLLOWER"]).await;
        for _ in 0..2 {
            let id = ping(&app, &alice, &hook).await;
            wait_status(&app, &alice, &id, "DELIVERED").await;
        }
        let body = app.gql(query, json!({}), Some(&alice.access)).await;
        let webhooks = &body["data"]["viewer"]["webhooks"];
        assert_eq!(webhooks["totalCount"], n, "{body}");
        for webhook in webhooks["nodes"].as_array().unwrap() {
            assert_eq!(webhook["deliveries"]["totalCount"], 2, "{body}");
            assert_eq!(webhook["failed"]["totalCount"], 0);
            let attempts: usize = webhook["deliveries"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["attemptLog"].as_array().unwrap().len())
                .sum();
            assert!(attempts >= 2, "{body}");
        }
        counts.push(body["extensions"]["sqlStatements"].as_i64().unwrap());
    }
    assert!(
        counts.iter().all(|c| *c == counts[0]),
        "statements per webhook count: {counts:?}"
    );
}
