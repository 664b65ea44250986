//! Webhooks end to end: a real receiver verifies every delivery's Standard Webhooks
//! signature with its own verifier (`webhook_receiver`), a real worker sends them.
//! Delivery, retries with their log, 410, too many failures, secret rotation,
//! redelivery, and nothing sent for a rolled-back write. SSRF, privacy and input checks
//! are in `webhook_guards`.

use std::time::{Duration, Instant};

use diesel_async::AsyncConnection;
use serde_json::{Value, json};

use crate::{
    helpers::{Account, TestApp},
    webhook_receiver::{Receiver, start_worker, verified_entries, verifies},
};

/// A fixed server key, so that the test's worker and app share it.
pub const KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The receiver is on 127.0.0.1 over plain HTTP.
pub const VARS: [(&str, &str); 3] = [
    ("WEBHOOK_ALLOW_HTTP", "true"),
    ("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1"),
    ("WEBHOOK_SECRET_KEY", KEY),
];

/// createWebhook with every field of its payload.
pub const CREATE: &str = "mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id url events active disabledReason createdAt } } }";

/// What the tests read of a delivery.
pub const DELIVERY: &str = "id event status attempts payload createdAt lastAttemptAt nextAttemptAt responseStatus lastError attemptLog { at responseStatus error durationMs }";

/// Registers a webhook for `events` at `url`; returns (id, secret).
pub async fn create_webhook(
    app: &TestApp,
    who: &Account,
    url: &str,
    events: &[&str],
) -> (String, String) {
    let body = app
        .gql(
            CREATE,
            json!({"input": {"url": url, "events": events}}),
            Some(&who.access),
        )
        .await;
    let payload = &body["data"]["createWebhook"];
    assert!(payload.is_object(), "{body}");
    (
        payload["webhook"]["id"].as_str().unwrap().to_owned(),
        payload["secret"].as_str().unwrap().to_owned(),
    )
}

/// Publishes an article; returns its id and slug.
pub async fn publish(app: &TestApp, who: &Account, title: &str) -> (String, String) {
    let body = app
        .gql(
            "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id slug } }",
            json!({"input": {"title": title, "description": "d", "body": "b", "tags": ["x"]}}),
            Some(&who.access),
        )
        .await;
    let article = &body["data"]["createArticle"];
    assert!(article.is_object(), "{body}");
    (
        article["id"].as_str().unwrap().to_owned(),
        article["slug"].as_str().unwrap().to_owned(),
    )
}

/// Queues a ping; returns the delivery's id.
pub async fn ping(app: &TestApp, who: &Account, webhook: &str) -> String {
    let body = app
        .gql(
            &format!("mutation($id: ID!) {{ pingWebhook(id: $id) {{ {DELIVERY} }} }}"),
            json!({"id": webhook}),
            Some(&who.access),
        )
        .await;
    let delivery = &body["data"]["pingWebhook"];
    assert_eq!(delivery["event"], "PING", "{body}");
    assert_eq!(delivery["status"], "PENDING", "{body}");
    delivery["id"].as_str().unwrap().to_owned()
}

/// The node `id` as `who` sees it, with `fields` on `type_name`.
pub async fn node(app: &TestApp, who: &Account, id: &str, type_name: &str, fields: &str) -> Value {
    let body = app
        .gql(
            &format!("query($id: ID!) {{ node(id: $id) {{ ... on {type_name} {{ {fields} }} }} }}"),
            json!({"id": id}),
            Some(&who.access),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["node"].clone()
}

/// Waits up to 20 s for delivery `id` to reach `status`; returns it.
pub async fn wait_status(app: &TestApp, who: &Account, id: &str, status: &str) -> Value {
    let start = Instant::now();
    loop {
        let delivery = node(app, who, id, "WebhookDelivery", DELIVERY).await;
        if delivery["status"] == status || start.elapsed() > Duration::from_secs(20) {
            assert_eq!(delivery["status"], status, "{delivery}");
            return delivery;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const WEBHOOK: &str =
    "id active disabledReason deliveries { totalCount nodes { id event status } }";

#[tokio::test]
async fn a_published_article_arrives_signed_with_its_delivery_id() {
    let app = TestApp::with_config(&VARS).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let receiver = Receiver::start(&[]).await;
    let (hook, secret) =
        create_webhook(&app, &alice, &receiver.url(), &["ARTICLE_PUBLISHED"]).await;
    assert!(
        secret.starts_with("whsec_") && secret.len() >= 6 + 32,
        "{secret}"
    );
    let _worker = start_worker(&app, None);

    let (article, slug) = publish(&app, &alice, "Hello hooks").await;
    // Bob's article is not on Alice's content: nothing for her webhook.
    publish(&app, &bob, "Not hers").await;
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let request = &got[0];
    assert!(verifies(&secret, request), "{request:?}");
    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(request.header("user-agent"), "Conduit-Webhooks/1");
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(body["type"], "article.published");
    let stamp = body["timestamp"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(stamp).is_ok(),
        "{stamp}"
    );
    let data = &body["data"]["article"];
    assert_eq!(data["id"], article.as_str());
    assert_eq!(data["slug"], slug.as_str());
    assert_eq!(data["title"], "Hello hooks");
    assert_eq!(data["author"]["id"], alice.id.as_str());
    assert!(
        !request.body.contains("@example.com"),
        "no email: {}",
        request.body
    );
    assert!(!request.body.contains("email"), "{}", request.body);

    let webhook = node(&app, &alice, &hook, "Webhook", WEBHOOK).await;
    assert_eq!(webhook["deliveries"]["totalCount"], 1, "{webhook}");
    let id = webhook["deliveries"]["nodes"][0]["id"].as_str().unwrap();
    assert_eq!(request.header("webhook-id"), id);
    let delivery = wait_status(&app, &alice, id, "DELIVERED").await;
    assert_eq!(delivery["event"], "ARTICLE_PUBLISHED");
    assert_eq!(
        delivery["payload"],
        request.body.as_str(),
        "the body stored is the body sent"
    );
    assert_eq!(delivery["attempts"], 1);
    assert_eq!(delivery["responseStatus"], 200);
    assert_eq!(delivery["nextAttemptAt"], Value::Null);

    // An event the webhook is not subscribed to queues nothing.
    app.gql(
        "mutation($slug: String!) { updateArticle(slug: $slug, input: {description: \"e\"}) { id } }",
        json!({"slug": slug}),
        Some(&alice.access),
    )
    .await;
    let webhook = node(&app, &alice, &hook, "Webhook", WEBHOOK).await;
    assert_eq!(webhook["deliveries"]["totalCount"], 1, "{webhook}");
}

#[tokio::test]
async fn three_500s_then_delivered_on_the_fourth_attempt_with_all_four_logged() {
    let app = TestApp::with_config(&VARS).await;
    let alice = app.register("alice").await;
    let receiver = Receiver::start(&[500, 500, 500]).await;
    let (hook, secret) = create_webhook(&app, &alice, &receiver.url(), &["NEW_FOLLOWER"]).await;
    let _worker = start_worker(&app, None);
    let id = ping(&app, &alice, &hook).await;

    let delivery = wait_status(&app, &alice, &id, "DELIVERED").await;
    let got = receiver.received();
    assert_eq!(got.len(), 4, "{got:?}");
    for request in &got {
        assert_eq!(
            request.header("webhook-id"),
            id,
            "one idempotency key for every retry"
        );
        assert!(verifies(&secret, request));
        assert_eq!(request.body, got[0].body);
    }
    assert_eq!(delivery["attempts"], 4);
    assert_eq!(delivery["responseStatus"], 200);
    assert_eq!(delivery["lastError"], Value::Null);
    let log = delivery["attemptLog"].as_array().unwrap();
    let statuses: Vec<&Value> = log.iter().map(|a| &a["responseStatus"]).collect();
    assert_eq!(
        statuses,
        [&json!(500), &json!(500), &json!(500), &json!(200)],
        "{log:?}"
    );
    for attempt in &log[..3] {
        assert_eq!(attempt["error"], "HTTP 500");
    }
    assert_eq!(log[3]["error"], Value::Null);
    let times: Vec<&str> = log.iter().map(|a| a["at"].as_str().unwrap()).collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {times:?}"
    );
    assert!(log.iter().all(|a| a["durationMs"].as_i64().unwrap() >= 0));
    let webhook = node(&app, &alice, &hook, "Webhook", WEBHOOK).await;
    assert_eq!(webhook["active"], true, "three failures are not ten");
}

#[tokio::test]
async fn a_410_disables_the_endpoint_and_fails_the_delivery() {
    let app = TestApp::with_config(&VARS).await;
    let alice = app.register("alice").await;
    let receiver = Receiver::start(&[410]).await;
    let (hook, _) = create_webhook(&app, &alice, &receiver.url(), &["ARTICLE_PUBLISHED"]).await;
    let _worker = start_worker(&app, None);
    let id = ping(&app, &alice, &hook).await;

    let delivery = wait_status(&app, &alice, &id, "FAILED").await;
    assert_eq!(delivery["attempts"], 1, "no retry after a 410");
    assert_eq!(delivery["responseStatus"], 410);
    let webhook = node(&app, &alice, &hook, "Webhook", WEBHOOK).await;
    assert_eq!(webhook["active"], false, "{webhook}");
    assert!(
        webhook["disabledReason"].as_str().unwrap().contains("410"),
        "{webhook}"
    );
    let failed = app
        .gql(
            "query($id: ID!) { node(id: $id) { ... on Webhook { deliveries(status: FAILED) { totalCount nodes { id } } delivered: deliveries(status: DELIVERED) { totalCount } } } }",
            json!({"id": hook}),
            Some(&alice.access),
        )
        .await;
    assert_eq!(
        failed["data"]["node"]["deliveries"]["totalCount"], 1,
        "{failed}"
    );
    assert_eq!(
        failed["data"]["node"]["deliveries"]["nodes"][0]["id"],
        id.as_str()
    );
    assert_eq!(failed["data"]["node"]["delivered"]["totalCount"], 0);
    assert_notified_disabled(&app, &alice).await;

    // Disabled: a new article queues nothing for it.
    publish(&app, &alice, "After the 410").await;
    let webhook = node(&app, &alice, &hook, "Webhook", WEBHOOK).await;
    assert_eq!(webhook["deliveries"]["totalCount"], 1, "{webhook}");
    assert_eq!(receiver.received().len(), 1);
}

async fn assert_notified_disabled(app: &TestApp, who: &Account) {
    let body = app
        .gql(
            "{ viewer { notifications { nodes { kind actor { id } } } } }",
            json!({}),
            Some(&who.access),
        )
        .await;
    let nodes = body["data"]["viewer"]["notifications"]["nodes"]
        .as_array()
        .unwrap();
    assert!(
        nodes
            .iter()
            .any(|n| n["kind"] == "WEBHOOK_DISABLED" && n["actor"]["id"] == who.id.as_str()),
        "{body}"
    );
}

#[tokio::test]
async fn repeated_failures_disable_the_endpoint_and_notify_the_owner() {
    let vars = [VARS[0], VARS[1], VARS[2], ("WEBHOOK_MAX_FAILURES", "2")];
    let app = TestApp::with_config(&vars).await;
    let alice = app.register("alice").await;
    let receiver = Receiver::start(&[500, 503, 500, 500]).await;
    let (hook, _) = create_webhook(&app, &alice, &receiver.url(), &["NEW_FOLLOWER"]).await;
    let _worker = start_worker(&app, None);
    let id = ping(&app, &alice, &hook).await;

    let delivery = wait_status(&app, &alice, &id, "FAILED").await;
    assert_eq!(
        receiver.received().len(),
        2,
        "disabled after the second failure"
    );
    let webhook = node(&app, &alice, &hook, "Webhook", WEBHOOK).await;
    assert_eq!(webhook["active"], false);
    assert_eq!(
        webhook["disabledReason"],
        "delivery failed 2 times in a row"
    );
    assert_eq!(
        delivery["lastError"], "the webhook is disabled",
        "{delivery}"
    );
    assert_notified_disabled(&app, &alice).await;

    // Resuming clears the reason; the next delivery goes out.
    let resumed = app
        .gql(
            "mutation($id: ID!) { updateWebhook(id: $id, input: {active: true}) { active disabledReason } }",
            json!({"id": hook}),
            Some(&alice.access),
        )
        .await;
    assert_eq!(
        resumed["data"]["updateWebhook"],
        json!({"active": true, "disabledReason": null})
    );
}

#[tokio::test]
async fn during_a_rotation_both_secrets_sign_each_its_own_signature() {
    let app = TestApp::with_config(&VARS).await;
    let alice = app.register("alice").await;
    let receiver = Receiver::start(&[]).await;
    let (hook, old) = create_webhook(&app, &alice, &receiver.url(), &["NEW_FOLLOWER"]).await;
    let rotated = app
        .gql(
            "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret webhook { id } } }",
            json!({"id": hook}),
            Some(&alice.access),
        )
        .await;
    let new = rotated["data"]["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        rotated["data"]["rotateWebhookSecret"]["webhook"]["id"],
        hook.as_str()
    );
    assert!(new.starts_with("whsec_") && new != old);
    let _worker = start_worker(&app, None);
    ping(&app, &alice, &hook).await;

    let got = receiver.wait_for(1).await;
    let request = &got[0];
    assert_eq!(
        request.header("webhook-signature").split(' ').count(),
        2,
        "{request:?}"
    );
    let (by_new, by_old) = (
        verified_entries(&new, request),
        verified_entries(&old, request),
    );
    assert_eq!(by_new.len(), 1, "{request:?}");
    assert_eq!(by_old.len(), 1, "{request:?}");
    assert_ne!(by_new, by_old, "each secret signs its own entry");
}

#[tokio::test]
async fn a_redelivery_keeps_the_webhook_id() {
    let app = TestApp::with_config(&VARS).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let receiver = Receiver::start(&[]).await;
    let (hook, secret) = create_webhook(&app, &alice, &receiver.url(), &["NEW_FOLLOWER"]).await;
    let _worker = start_worker(&app, None);
    app.gql(
        "mutation { followUser(username: \"alice\") { id } }",
        json!({}),
        Some(&bob.access),
    )
    .await;
    let first = receiver.wait_for(1).await;
    let body: Value = serde_json::from_str(&first[0].body).unwrap();
    assert_eq!(body["type"], "user.followed");
    assert_eq!(body["data"]["follower"]["id"], bob.id.as_str());
    assert_eq!(body["data"]["user"]["id"], alice.id.as_str());
    let id = first[0].header("webhook-id").to_owned();
    wait_status(&app, &alice, &id, "DELIVERED").await;

    let redeliver =
        format!("mutation($id: ID!) {{ redeliverWebhookDelivery(id: $id) {{ {DELIVERY} }} }}");
    let denied = app
        .gql(&redeliver, json!({"id": id}), Some(&bob.access))
        .await;
    assert_eq!(crate::helpers::error_code(&denied), "NOT_FOUND", "{denied}");
    let again = app
        .gql(&redeliver, json!({"id": id}), Some(&alice.access))
        .await;
    assert_eq!(
        again["data"]["redeliverWebhookDelivery"]["id"],
        id.as_str(),
        "{again}"
    );
    assert_eq!(
        again["data"]["redeliverWebhookDelivery"]["status"],
        "PENDING"
    );
    let got = receiver.wait_for(2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].header("webhook-id"), id, "the same idempotency key");
    assert_eq!(got[1].body, first[0].body);
    assert!(verifies(&secret, &got[1]));
    let delivery = wait_status(&app, &alice, &id, "DELIVERED").await;
    assert_eq!(delivery["attemptLog"].as_array().unwrap().len(), 2);
    let webhook = node(&app, &alice, &hook, "Webhook", WEBHOOK).await;
    assert_eq!(
        webhook["deliveries"]["totalCount"], 1,
        "redelivery adds no delivery"
    );
}

#[tokio::test]
async fn a_rolled_back_write_sends_nothing_and_a_committed_one_does() {
    let app = TestApp::with_config(&VARS).await;
    let alice = app.register("alice").await;
    let receiver = Receiver::start(&[]).await;
    let (_, slug) = publish(&app, &alice, "Edited in a transaction").await;
    create_webhook(&app, &alice, &receiver.url(), &["ARTICLE_UPDATED"]).await;
    let mut conn = conduit::db::connect(&app.state.pool).await.unwrap();
    let row = conduit::db::articles::find_by_slug(&conn, &slug)
        .await
        .unwrap()
        .unwrap();

    // The delivery is written in the transaction, and the transaction fails after it.
    let failed = conn
        .transaction::<(), conduit::db::DbError, _>(async |tx| {
            conduit::domain::webhooks::events::article_updated(tx, &row).await?;
            Err(diesel::result::Error::RollbackTransaction.into())
        })
        .await;
    assert!(failed.is_err());
    let _worker = start_worker(&app, None);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(receiver.received().is_empty(), "{:?}", receiver.received());

    // The same write committed is delivered: the test can see a delivery.
    conn.transaction::<(), conduit::db::DbError, _>(async |tx| {
        conduit::domain::webhooks::events::article_updated(tx, &row).await
    })
    .await
    .unwrap();
    let got = receiver.wait_for(1).await;
    assert_eq!(got.len(), 1);
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["type"], "article.updated");
}

/// The README's Node receiver snippet (the `js` block of its Webhooks section).
fn readme_verifier() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let section = &readme[readme.find("### Webhooks").expect("a Webhooks section")..];
    let start = section.find("```js\n").expect("a js block") + "```js\n".len();
    let end = start + section[start..].find("```").expect("the block's end");
    section[start..end].to_owned()
}

#[tokio::test]
async fn the_readme_node_snippet_verifies_a_real_delivery() {
    let app = TestApp::with_config(&VARS).await;
    let alice = app.register("alice").await;
    let receiver = Receiver::start(&[]).await;
    let (hook, secret) = create_webhook(&app, &alice, &receiver.url(), &["NEW_FOLLOWER"]).await;
    let _worker = start_worker(&app, None);
    ping(&app, &alice, &hook).await;
    let request = receiver.wait_for(1).await.remove(0);

    let dir = std::env::temp_dir().join(format!("conduit-readme-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("verify.mjs"), readme_verifier()).unwrap();
    std::fs::write(
        dir.join("check.mjs"),
        "import { verifyWebhook } from './verify.mjs';\n\
         import { readFileSync } from 'node:fs';\n\
         const cases = JSON.parse(readFileSync(0, 'utf8'));\n\
         console.log(JSON.stringify(cases.map((c) => verifyWebhook(c.secret, c.headers, c.body))));\n",
    )
    .unwrap();
    let headers: serde_json::Map<String, Value> =
        ["webhook-id", "webhook-timestamp", "webhook-signature"]
            .iter()
            .map(|h| (h.to_string(), json!(request.header(h))))
            .collect();
    let other = conduit::domain::webhooks::secret::Secret::generate().display();
    let cases = json!([
        {"secret": secret, "headers": headers, "body": request.body},
        {"secret": secret, "headers": headers, "body": format!("{} ", request.body)},
        {"secret": other, "headers": headers, "body": request.body},
    ]);
    let mut child = std::process::Command::new("node")
        .arg(dir.join("check.mjs"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cases.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success(), "{out:?}");
    let verdicts: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(verdicts, json!([true, false, false]), "{out:?}");
}
