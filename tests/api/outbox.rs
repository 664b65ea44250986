//! The outbox's workers as processes see them: a worker killed mid-batch loses nothing,
//! SIGTERM releases what it cannot finish, `pg_notify` wakes a sleeping worker, delivered
//! messages are pruned, failed ones are listed and retried from the command line, and
//! production without SMTP says email is off.

use std::time::{Duration, Instant};

use serde_json::json;
use uuid::Uuid;

use crate::{
    helpers::{
        DatabaseGuard, ServerProcess, TEST_SERVER_KEY, TestApp, conduit_command, connect,
        post_over_tcp,
    },
    smtp::{SmtpSink, free_port, header},
};

const WAIT: Duration = Duration::from_secs(30);

/// Queues `n` plain notice mails straight into the outbox (as a committed write would).
async fn queue_mails(db: &tokio_postgres::Client, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        let id = Uuid::now_v7();
        let payload = json!({
            "to": format!("user{i}@example.com"),
            "mail": {"template": "email_changed", "username": format!("user{i}")}
        })
        .to_string();
        db.execute(
            "INSERT INTO outbox (id, queue, kind, payload) VALUES ($1::text::uuid, 'email', 'email.email_changed', $2)",
            &[&id.to_string(), &payload],
        )
        .await
        .unwrap();
        ids.push(id);
    }
    ids
}

/// Waits until `sql` (one boolean) is true.
async fn until(db: &tokio_postgres::Client, sql: &str, what: &str) {
    let started = Instant::now();
    loop {
        if db.query_one(sql, &[]).await.unwrap().get::<_, bool>(0) {
            return;
        }
        assert!(started.elapsed() < WAIT, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn server_vars<'a>(db: &'a DatabaseGuard, smtp: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("DATABASE_URL", db.url.as_str()),
        ("SMTP_URL", smtp),
        ("WEBHOOK_SECRET_KEY", TEST_SERVER_KEY),
        ("PUBLIC_URL", "http://app.test"),
        ("OUTBOX_POLL_INTERVAL_MS", "100"),
        ("OUTBOX_RETRY_BASE_MS", "100"),
    ]
}

#[tokio::test]
async fn a_worker_killed_mid_batch_loses_nothing() {
    let db = DatabaseGuard::cloned_from_template().await;
    let client = connect(&db.url).await;
    let sink = SmtpSink::start_on(
        free_port(),
        std::env::temp_dir().join(format!("conduit-kill-{}", Uuid::new_v4())),
        Some(1.5),
    );
    let ids = queue_mails(&client, 6).await;
    let url = sink.url();
    let mut vars = server_vars(&db, &url);
    // Attempts of at most 9 s, leases of 9.5 s: a dead worker's messages are free soon.
    vars.extend([
        ("SMTP_TIMEOUT_MS", "3000"),
        ("OUTBOX_LEASE_MARGIN_MS", "500"),
    ]);
    let mut first = ServerProcess::start(&vars);
    until(
        &client,
        "SELECT count(*) > 0 FROM outbox WHERE leased_by IS NOT NULL",
        "a claim",
    )
    .await;
    first.signal("KILL");
    // Killed by a signal, it has no exit code: wait_exit answers None either way.
    first.wait_exit(Duration::from_secs(2));
    let held: i64 = client
        .query_one(
            "SELECT count(*) FROM outbox WHERE status = 'pending' AND leased_until > now()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(held > 0, "the dead worker still held leases");

    let _second = ServerProcess::start(&vars);
    until(
        &client,
        "SELECT bool_and(status = 'delivered') FROM outbox",
        "everything is delivered",
    )
    .await;
    let received: std::collections::HashSet<String> = sink
        .messages()
        .iter()
        .map(|m| header(m, "message-id").to_owned())
        .collect();
    for id in ids {
        assert!(
            received.contains(&format!("<{id}@conduit.localhost>")),
            "{id} never arrived: {received:?}"
        );
    }
}

#[tokio::test]
async fn sigterm_releases_the_deliveries_it_cannot_finish_within_the_drain_deadline() {
    let db = DatabaseGuard::cloned_from_template().await;
    let client = connect(&db.url).await;
    let sink = SmtpSink::start_on(
        free_port(),
        std::env::temp_dir().join(format!("conduit-term-{}", Uuid::new_v4())),
        Some(4.0),
    );
    queue_mails(&client, 1).await;
    let url = sink.url();
    let mut vars = server_vars(&db, &url);
    vars.extend([("SMTP_TIMEOUT_MS", "6000"), ("SHUTDOWN_TIMEOUT_MS", "500")]);
    let mut server = ServerProcess::start(&vars);
    until(
        &client,
        "SELECT count(*) > 0 FROM outbox WHERE leased_by IS NOT NULL",
        "a claim",
    )
    .await;
    let stopping = Instant::now();
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(
        stopping.elapsed() < Duration::from_secs(3),
        "{:?}",
        stopping.elapsed()
    );
    let row = client
        .query_one(
            "SELECT status, leased_by IS NULL, attempts FROM outbox",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, String>(0),
            row.get::<_, bool>(1),
            row.get::<_, i32>(2)
        ),
        ("pending".into(), true, 0)
    );
    assert!(
        !server
            .log_lines_with("released unfinished deliveries")
            .is_empty()
    );
}

#[tokio::test]
async fn a_queued_mail_wakes_a_sleeping_worker_through_pg_notify() {
    let sink = SmtpSink::start();
    let url = sink.url();
    // Polling once a minute: only the notification can make the mail quick.
    let app =
        TestApp::with_config(&[("SMTP_URL", &url), ("OUTBOX_POLL_INTERVAL_MS", "60000")]).await;
    let _live = conduit::server::live_updates(&app.state).await;
    let _outbox = conduit::server::start_outbox(&app.state).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = Instant::now();
    app.register("jane").await;
    sink.wait_for(1, Duration::from_secs(10)).await;
    assert!(sent.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn delivered_messages_and_their_attempts_are_pruned_after_the_retention() {
    let sink = SmtpSink::start();
    let url = sink.url();
    let app = TestApp::with_config(&[
        ("SMTP_URL", &url),
        ("OUTBOX_POLL_INTERVAL_MS", "100"),
        ("OUTBOX_RETENTION", "1s"),
    ])
    .await;
    let _outbox = conduit::server::start_outbox(&app.state).unwrap();
    let client = connect(&app.database_url()).await;
    queue_mails(&client, 2).await;
    sink.wait_for(2, WAIT).await;
    until(
        &client,
        "SELECT count(*) = 0 FROM outbox",
        "the outbox is pruned",
    )
    .await;
    let attempts: i64 = client
        .query_one("SELECT count(*) FROM outbox_attempts", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(attempts, 0);
}

#[tokio::test]
async fn failed_mails_are_listed_and_retried_from_the_command_line() {
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = TestApp::with_config(&[
        ("SMTP_URL", &url),
        ("OUTBOX_POLL_INTERVAL_MS", "100"),
        ("OUTBOX_RETRY_BASE_MS", "50"),
        ("OUTBOX_MAX_ATTEMPTS", "2"),
    ])
    .await;
    let _outbox = conduit::server::start_outbox(&app.state).unwrap();
    let client = connect(&app.database_url()).await;
    let id = queue_mails(&client, 1).await[0];
    until(
        &client,
        "SELECT bool_and(status = 'failed') FROM outbox",
        "the mail FAILED",
    )
    .await;
    assert_eq!(
        crate::helpers::metric(
            &app,
            "conduit_outbox_attempts_total{queue=\"email\",outcome=\"failed\"}"
        )
        .await,
        "1"
    );
    // The depth gauges follow the table (refreshed every poll interval).
    let failed = "conduit_outbox_messages{queue=\"email\",status=\"failed\"}";
    let started = Instant::now();
    while crate::helpers::metric(&app, failed).await != "1" {
        assert!(
            started.elapsed() < WAIT,
            "the failed message is not counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let db_url = app.database_url();
    let list = conduit_command(
        &["outbox", "list", "--failed"],
        &[("DATABASE_URL", &db_url)],
    )
    .output()
    .unwrap();
    assert!(list.status.success(), "{list:?}");
    let listed = String::from_utf8(list.stdout).unwrap();
    assert!(
        listed.contains(&id.to_string()) && listed.contains("failed") && listed.contains("SMTP:"),
        "{listed}"
    );
    assert!(listed.contains("1 message(s)"), "{listed}");

    let sink = SmtpSink::start_on(
        port,
        std::env::temp_dir().join(format!("conduit-retry-{port}")),
        None,
    );
    let retry = conduit_command(
        &["outbox", "retry", &id.to_string()],
        &[("DATABASE_URL", &db_url)],
    )
    .output()
    .unwrap();
    assert!(retry.status.success(), "{retry:?}");
    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(
        header(&mails[0], "message-id"),
        format!("<{id}@conduit.localhost>"),
        "the same id"
    );
    until(
        &client,
        "SELECT bool_and(status = 'delivered' AND attempts = 3) FROM outbox",
        "delivered on the 3rd attempt",
    )
    .await;

    let unknown = conduit_command(
        &["outbox", "retry", &Uuid::new_v4().to_string()],
        &[("DATABASE_URL", &db_url)],
    )
    .output()
    .unwrap();
    assert!(!unknown.status.success());
}

#[tokio::test]
async fn production_without_smtp_says_email_is_off_and_still_answers_resets() {
    let db = DatabaseGuard::cloned_from_template().await;
    let client = connect(&db.url).await;
    let server = ServerProcess::start(&[
        ("APP_ENV", "production"),
        ("DATABASE_URL", &db.url),
        ("WEBHOOK_SECRET_KEY", TEST_SERVER_KEY),
        ("PUBLIC_URL", "https://conduit.example"),
        ("OUTBOX_POLL_INTERVAL_MS", "100"),
    ]);
    assert!(
        !server.wait_for_log("email is OFF").is_empty(),
        "{:?}",
        server.logs.lock().unwrap()
    );
    let register = json!({"query": "mutation { register(input: {username: \"jane\", email: \"jane@example.com\", password: \"password-jane\"}) { accessToken } }"});
    let (status, _) = post_over_tcp(server.addr, register.to_string()).await;
    assert_eq!(status, 200);
    let reset = json!({"query": "mutation { requestPasswordReset(email: \"jane@example.com\") }"});
    let (status, body) = post_over_tcp(server.addr, reset.to_string()).await;
    assert_eq!(status, 200);
    assert!(body.contains(r#""requestPasswordReset":true"#), "{body}");
    until(&client, "SELECT count(*) = 2 AND bool_and(status = 'failed' AND last_error LIKE 'email is off%') FROM outbox", "both mails FAILED as off").await;
}

/// A webhook-like message with ordering key `key`.
fn keyed(key: &str) -> (Uuid, String) {
    (Uuid::now_v7(), key.to_owned())
}

#[tokio::test]
async fn one_message_per_ordering_key_is_in_flight_and_a_lost_lease_records_nothing() {
    use conduit::db::outbox::{self, AttemptRecord, NewMessage, Next, Queue};
    let app = TestApp::spawn().await;
    let mut conn = conduit::db::connect(&app.state.pool).await.unwrap();
    for (id, key) in [keyed("webhook:1"), keyed("webhook:1"), keyed("webhook:2")] {
        let message = NewMessage {
            id,
            queue: Queue::Webhook,
            kind: "PING",
            ordering_key: Some(&key),
            payload: "{}",
        };
        outbox::enqueue(&mut conn, &message).await.unwrap();
    }
    // One per key, however large the batch; another worker gets nothing more meanwhile.
    let first = outbox::claim(&mut conn, Queue::Webhook, "a", 10, 60_000)
        .await
        .unwrap();
    let keys: Vec<_> = first
        .iter()
        .map(|m| m.ordering_key.clone().unwrap())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.contains(&"webhook:1".to_owned()) && keys.contains(&"webhook:2".to_owned()));
    assert!(
        outbox::claim(&mut conn, Queue::Webhook, "b", 10, 60_000)
            .await
            .unwrap()
            .is_empty()
    );
    // The email queue is not held up by the webhook queue.
    assert!(
        outbox::claim(&mut conn, Queue::Email, "b", 10, 60_000)
            .await
            .unwrap()
            .is_empty()
    );

    let done = first
        .iter()
        .find(|m| m.ordering_key.as_deref() == Some("webhook:1"))
        .unwrap();
    let record = AttemptRecord {
        at: chrono::Utc::now(),
        response_status: Some(200),
        error: None,
        duration_ms: 3,
    };
    assert!(
        outbox::finish(&mut conn, done.id, "a", &record, Next::Delivered)
            .await
            .unwrap()
    );
    // Key 1 is free: its second message goes out now, and only that one.
    let next = outbox::claim(&mut conn, Queue::Webhook, "b", 10, 1)
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].ordering_key.as_deref(), Some("webhook:1"));
    assert_ne!(next[0].id, done.id);

    // B's 1 ms lease expires; C takes the message over; B's late record changes nothing.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let taken = outbox::claim(&mut conn, Queue::Webhook, "c", 10, 60_000)
        .await
        .unwrap();
    assert_eq!(
        taken.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![next[0].id]
    );
    assert!(
        !outbox::finish(&mut conn, next[0].id, "b", &record, Next::Failed)
            .await
            .unwrap()
    );
    assert!(
        outbox::finish(&mut conn, next[0].id, "c", &record, Next::Delivered)
            .await
            .unwrap()
    );
    let client = connect(&app.database_url()).await;
    let row = client
        .query_one("SELECT status, attempts, (SELECT count(*) FROM outbox_attempts a WHERE a.message_id = o.id) FROM outbox o WHERE id = $1::text::uuid", &[&next[0].id.to_string()])
        .await
        .unwrap();
    assert_eq!(
        (
            row.get::<_, String>(0),
            row.get::<_, i32>(1),
            row.get::<_, i64>(2)
        ),
        ("delivered".into(), 1, 1)
    );
    // A finished message is never claimed again.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let rest = outbox::claim(&mut conn, Queue::Webhook, "d", 10, 60_000)
        .await
        .unwrap();
    assert!(
        rest.iter()
            .all(|m| m.ordering_key.as_deref() == Some("webhook:2")),
        "{rest:?}"
    );
}
