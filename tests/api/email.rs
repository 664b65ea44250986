//! Email through the outbox, received by a real SMTP server (tests/smtp/sink.py):
//! the welcome mail and address verification, password reset by mail, email changes,
//! SMTP down and back, rolled-back writes, two instances, the development mail folder.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{AUTH_FIELDS, TestApp, connect, error_code, field_errors, metric},
    smtp::{SmtpSink, free_port, header, link_token},
};

const WAIT: Duration = Duration::from_secs(20);

/// Settings that make the workers quick: short polls and retries.
const FAST: [(&str, &str); 3] = [
    ("OUTBOX_POLL_INTERVAL_MS", "100"),
    ("OUTBOX_RETRY_BASE_MS", "100"),
    ("OUTBOX_RETRY_MAX_MS", "400"),
];

/// An app mailing through `smtp_url`, its outbox workers running.
async fn mailing_app(smtp_url: &str, vars: &[(&str, &str)]) -> (TestApp, conduit::server::Outbox) {
    let mut all = vec![("SMTP_URL", smtp_url)];
    all.extend(FAST);
    all.extend(vars);
    let app = TestApp::with_config(&all).await;
    let outbox = conduit::server::start_outbox(&app.state).expect("outbox");
    (app, outbox)
}

fn verify_mutation() -> &'static str {
    "mutation($t: String!) { verifyEmail(token: $t) { username emailVerified } }"
}

fn reset_mutation() -> String {
    format!(
        "mutation($t: String!, $p: String!) {{ resetPassword(token: $t, newPassword: $p) {{ {AUTH_FIELDS} }} }}"
    )
}

async fn request_reset(app: &TestApp, email: &str) -> Value {
    app.gql(
        "mutation($e: String!) { requestPasswordReset(email: $e) }",
        json!({"e": email}),
        None,
    )
    .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> Value {
    app.gql(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        json!({"i": {"email": email, "password": password}}),
        None,
    )
    .await
}

#[tokio::test]
async fn registering_mails_a_welcome_whose_link_verifies_the_address_once() {
    let sink = SmtpSink::start();
    let (app, _outbox) = mailing_app(&sink.url(), &[]).await;
    let jane = app.register("jane").await;
    let me = "{ viewer { emailVerified } }";
    assert_eq!(
        app.gql(me, json!({}), Some(&jane.access)).await["data"]["viewer"]["emailVerified"],
        false
    );

    let mail = sink.wait_for(1, WAIT).await.remove(0);
    assert_eq!(mail["envelope_to"], json!(["jane@example.com"]));
    assert!(header(&mail, "subject").contains("Welcome"), "{mail}");
    assert!(
        header(&mail, "message-id").ends_with("@conduit.localhost>"),
        "{mail}"
    );
    assert!(
        mail["html"]
            .as_str()
            .unwrap()
            .contains("http://app.test/verify-email?token="),
        "{mail}"
    );
    let token = link_token(&mail, "http://app.test/verify-email");

    let verified = app.gql(verify_mutation(), json!({"t": token}), None).await;
    assert_eq!(
        verified["data"]["verifyEmail"],
        json!({"username": "jane", "emailVerified": null}),
        "{verified}"
    );
    assert_eq!(
        app.gql(me, json!({}), Some(&jane.access)).await["data"]["viewer"]["emailVerified"],
        true
    );

    // Single use, and the same answer as for a token that never existed.
    let again = app.gql(verify_mutation(), json!({"t": token}), None).await;
    assert_eq!(error_code(&again), "BAD_USER_INPUT", "{again}");
    assert_eq!(
        field_errors(&again),
        vec![("token".into(), "is invalid or has expired".into())]
    );
    let forged = format!("cdt_v_{}", "A".repeat(43));
    let unknown = app.gql(verify_mutation(), json!({"t": forged}), None).await;
    assert_eq!(
        unknown["errors"][0]["message"],
        again["errors"][0]["message"]
    );
    for garbage in ["", "x", &"cdt_v_".repeat(10_000)] {
        let body = app
            .gql(verify_mutation(), json!({"t": garbage}), None)
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }
}

#[tokio::test]
async fn email_verified_and_email_notifications_are_private() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let bob = app.register("bob").await;
    let set = app
        .gql(
            "mutation { updateViewer(input: {emailNotifications: [COMMENT_ADDED, NEW_FOLLOWER, COMMENT_ADDED]}) { emailNotifications } }",
            json!({}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        set["data"]["updateViewer"]["emailNotifications"],
        json!(["COMMENT_ADDED", "NEW_FOLLOWER"]),
        "{set}"
    );
    let query = "query($u: String!) { user(username: $u) { emailVerified emailNotifications } }";
    let seen = app
        .gql(query, json!({"u": "jane"}), Some(&bob.access))
        .await;
    assert_eq!(
        seen["data"]["user"],
        json!({"emailVerified": null, "emailNotifications": null}),
        "{seen}"
    );
    let codes: Vec<&str> = seen["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["extensions"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["FORBIDDEN", "FORBIDDEN"]);
    let cleared = app
        .gql(
            "mutation { updateViewer(input: {emailNotifications: []}) { emailNotifications } }",
            json!({}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        cleared["data"]["updateViewer"]["emailNotifications"],
        json!([])
    );
}

#[tokio::test]
async fn a_password_reset_by_mail_sets_the_password_and_ends_every_session() {
    let sink = SmtpSink::start();
    let (app, _outbox) = mailing_app(&sink.url(), &[]).await;
    let jane = app.register("jane").await;
    sink.wait_for(1, WAIT).await;

    assert_eq!(
        request_reset(&app, "JANE@example.com").await["data"]["requestPasswordReset"],
        true
    );
    sink.wait_for(2, WAIT).await;
    let mail = &sink.with_subject("Reset")[0];
    let token = link_token(mail, "http://app.test/reset-password");

    // A too-short new password is a field error, and the token still works after it.
    let short = app
        .gql(&reset_mutation(), json!({"t": token, "p": "short"}), None)
        .await;
    assert_eq!(field_errors(&short)[0].0, "newPassword", "{short}");

    let reset = app
        .gql(
            &reset_mutation(),
            json!({"t": token, "p": "a-brand-new-password"}),
            None,
        )
        .await;
    let payload = &reset["data"]["resetPassword"];
    assert_eq!(payload["user"]["username"], "jane", "{reset}");
    let fresh = payload["accessToken"].as_str().unwrap();

    // The old session is gone, the new one works, the old password is refused.
    let old = app
        .gql("{ viewer { username } }", json!({}), Some(&jane.access))
        .await;
    assert_eq!(error_code(&old), "UNAUTHENTICATED", "{old}");
    let new = app
        .gql(
            "{ viewer { username emailVerified } }",
            json!({}),
            Some(fresh),
        )
        .await;
    assert_eq!(
        new["data"]["viewer"],
        json!({"username": "jane", "emailVerified": true}),
        "{new}"
    );
    assert_eq!(
        error_code(&login(&app, &jane.email, &jane.password).await),
        "UNAUTHENTICATED"
    );
    assert!(
        login(&app, &jane.email, "a-brand-new-password").await["data"]["login"]["accessToken"]
            .is_string()
    );

    // Single use.
    let again = app
        .gql(
            &reset_mutation(),
            json!({"t": token, "p": "another-password"}),
            None,
        )
        .await;
    assert_eq!(error_code(&again), "BAD_USER_INPUT", "{again}");
}

#[tokio::test]
async fn reset_tokens_expire_and_one_message_covers_used_expired_and_unknown() {
    let sink = SmtpSink::start();
    let (app, _outbox) = mailing_app(&sink.url(), &[]).await;
    app.register("jane").await;
    request_reset(&app, "jane@example.com").await;
    sink.wait_for(2, WAIT).await;
    let token = link_token(
        &sink.with_subject("Reset")[0],
        "http://app.test/reset-password",
    );
    let db = connect(&app.database_url()).await;
    db.execute("UPDATE email_tokens SET expires_at = now() - interval '1 second' WHERE purpose = 'reset_password'", &[])
        .await
        .unwrap();
    let expired = app
        .gql(
            &reset_mutation(),
            json!({"t": token, "p": "a-brand-new-password"}),
            None,
        )
        .await;
    let unknown = app
        .gql(
            &reset_mutation(),
            json!({"t": format!("cdt_p_{}", "B".repeat(43)), "p": "a-brand-new-password"}),
            None,
        )
        .await;
    assert_eq!(error_code(&expired), "BAD_USER_INPUT");
    assert_eq!(
        expired["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(
        expired["errors"][0]["message"],
        "This link is invalid or has expired. Ask for a new one."
    );
}

#[tokio::test]
async fn a_reset_for_an_unknown_address_answers_the_same_with_the_same_statements_and_mails_nothing()
 {
    let sink = SmtpSink::start();
    let (app, _outbox) = mailing_app(&sink.url(), &[("REPORT_SQL_STATEMENTS", "true")]).await;
    app.register("jane").await;
    sink.wait_for(1, WAIT).await;
    let known = request_reset(&app, "jane@example.com").await;
    let unknown = request_reset(&app, "nobody@example.com").await;
    let invalid = request_reset(&app, "not an address").await;
    for body in [&known, &unknown, &invalid] {
        assert_eq!(body["data"]["requestPasswordReset"], true, "{body}");
    }
    assert_eq!(
        known["extensions"]["sqlStatements"],
        unknown["extensions"]["sqlStatements"]
    );
    sink.wait_for(2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 2);
    assert!(sink.to("nobody@example.com").is_empty());
}

#[tokio::test]
async fn an_email_change_verifies_the_new_address_and_tells_the_old_one() {
    let sink = SmtpSink::start();
    let (app, _outbox) = mailing_app(&sink.url(), &[]).await;
    let jane = app.register("jane").await;
    let welcome = sink.wait_for(1, WAIT).await.remove(0);
    let old_token = link_token(&welcome, "http://app.test/verify-email");
    // A reset link mailed to the old address before the change.
    request_reset(&app, "jane@example.com").await;
    sink.wait_for(2, WAIT).await;
    let old_reset = link_token(
        &sink.with_subject("Reset")[0],
        "http://app.test/reset-password",
    );
    let change = app
        .gql(
            "mutation($i: UpdateViewerInput!) { updateViewer(input: $i) { email emailVerified } }",
            json!({"i": {"email": "jane@new.example", "currentPassword": jane.password}}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        change["data"]["updateViewer"],
        json!({"email": "jane@new.example", "emailVerified": false}),
        "{change}"
    );
    sink.wait_for(4, WAIT).await;
    let notice = sink.with_subject("changed").pop().unwrap();
    assert_eq!(notice["envelope_to"], json!(["jane@example.com"]));
    assert!(header(&notice, "subject").contains("changed"), "{notice}");
    assert!(
        !notice["text"].as_str().unwrap().contains("token="),
        "{notice}"
    );
    let verify = sink.to("jane@new.example").pop().unwrap();

    // The first address's link no longer verifies anything: the address changed.
    let stale = app
        .gql(verify_mutation(), json!({"t": old_token}), None)
        .await;
    assert_eq!(error_code(&stale), "BAD_USER_INPUT", "{stale}");
    // The reset link the old address got no longer works either.
    let stale = app
        .gql(
            &reset_mutation(),
            json!({"t": old_reset, "p": "taken-over-password"}),
            None,
        )
        .await;
    assert_eq!(error_code(&stale), "BAD_USER_INPUT", "{stale}");
    assert_eq!(
        error_code(&login(&app, "jane@new.example", "taken-over-password").await),
        "UNAUTHENTICATED"
    );
    let token = link_token(&verify, "http://app.test/verify-email");
    let done = app
        .gql(verify_mutation(), json!({"t": token}), Some(&jane.access))
        .await;
    assert_eq!(done["data"]["verifyEmail"]["emailVerified"], true, "{done}");
}

#[tokio::test]
async fn request_email_verification_needs_sign_in_and_mails_only_unverified_addresses() {
    let sink = SmtpSink::start();
    let (app, _outbox) = mailing_app(&sink.url(), &[]).await;
    let anonymous = app
        .gql("mutation { requestEmailVerification }", json!({}), None)
        .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
    let jane = app.register("jane").await;
    sink.wait_for(1, WAIT).await;
    let asked = app
        .gql(
            "mutation { requestEmailVerification }",
            json!({}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(asked["data"]["requestEmailVerification"], true);
    sink.wait_for(2, WAIT).await;
    let token = link_token(
        &sink.with_subject("Confirm your email")[0],
        "http://app.test/verify-email",
    );
    app.gql(verify_mutation(), json!({"t": token}), None).await;
    app.gql(
        "mutation { requestEmailVerification }",
        json!({}),
        Some(&jane.access),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        sink.messages().len(),
        2,
        "a verified address gets no new link"
    );
}

#[tokio::test]
async fn with_smtp_down_mail_is_retried_and_delivered_once_it_is_back() {
    let port = free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let (app, _outbox) = mailing_app(&url, &[("SMTP_TIMEOUT_MS", "1000")]).await;
    app.register("jane").await;
    let db = connect(&app.database_url()).await;
    // Wait for at least two failed attempts.
    let started = std::time::Instant::now();
    loop {
        let row = db
            .query_one("SELECT attempts, status, last_error FROM outbox", &[])
            .await
            .unwrap();
        let (attempts, status): (i32, String) = (row.get(0), row.get(1));
        if attempts >= 2 {
            assert_eq!(status, "pending");
            assert!(
                row.get::<_, Option<String>>(2)
                    .unwrap()
                    .starts_with("SMTP:")
            );
            break;
        }
        assert!(started.elapsed() < WAIT, "no retries");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sink = SmtpSink::start_on(
        port,
        std::env::temp_dir().join(format!("conduit-smtp-back-{port}")),
        None,
    );
    let mails = sink.wait_for(1, WAIT).await;
    assert_eq!(mails[0]["envelope_to"], json!(["jane@example.com"]));
    let started = std::time::Instant::now();
    loop {
        let row = db
            .query_one(
                "SELECT status, (SELECT count(*) FROM outbox_attempts) FROM outbox",
                &[],
            )
            .await
            .unwrap();
        if row.get::<_, String>(0) == "delivered" {
            assert!(row.get::<_, i64>(1) >= 3, "every attempt is logged");
            break;
        }
        assert!(started.elapsed() < WAIT);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(
        metric(
            &app,
            "conduit_outbox_attempts_total{queue=\"email\",outcome=\"delivered\"}"
        )
        .await,
        "1"
    );
    let retries: u64 = metric(
        &app,
        "conduit_outbox_attempts_total{queue=\"email\",outcome=\"retry\"}",
    )
    .await
    .parse()
    .unwrap();
    assert!(retries >= 2);
}

#[tokio::test]
async fn a_write_that_rolls_back_after_queuing_a_mail_sends_nothing() {
    use diesel_async::AsyncConnection;
    let sink = SmtpSink::start();
    let (app, _outbox) = mailing_app(&sink.url(), &[]).await;
    let mut conn = conduit::db::connect(&app.state.pool).await.unwrap();
    let failed = conn
        .transaction::<(), conduit::db::DbError, _>(async |tx| {
            let mail = conduit::domain::mail::Mail::EmailChanged {
                username: "ghost".into(),
            };
            conduit::domain::mail::queue(tx, "ghost@example.com", mail).await?;
            // The change that follows fails: the whole transaction rolls back.
            Err(conduit::db::DbError::Query(
                diesel::result::Error::RollbackTransaction,
            ))
        })
        .await;
    assert!(failed.is_err());
    // A committed one, queued after it, does arrive: the worker is running.
    app.register("jane").await;
    sink.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.messages().len(), 1);
    assert!(sink.to("ghost@example.com").is_empty());
}

#[tokio::test]
async fn two_instances_deliver_every_mail_exactly_once() {
    let sink = SmtpSink::start();
    let (first, _a) = mailing_app(&sink.url(), &[]).await;
    let mut vars = vec![("SMTP_URL", sink.url())];
    vars.extend(FAST.iter().map(|(k, v)| (*k, v.to_string())));
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let second = TestApp::sharing(&first, &vars);
    let _b = conduit::server::start_outbox(&second.state).unwrap();
    let names: Vec<String> = (0..30).map(|i| format!("user{i}")).collect();
    futures_util::future::join_all(names.iter().enumerate().map(|(i, name)| {
        let app = if i % 2 == 0 { &first } else { &second };
        app.register(name)
    }))
    .await;
    let mails = sink.wait_for(30, WAIT).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mails = if sink.messages().len() > mails.len() {
        sink.messages()
    } else {
        mails
    };
    let mut ids: Vec<&str> = mails.iter().map(|m| header(m, "message-id")).collect();
    ids.sort_unstable();
    let count = ids.len();
    ids.dedup();
    assert_eq!((count, ids.len()), (30, 30), "each mail once: {ids:?}");
}

#[tokio::test]
async fn in_development_without_smtp_mail_is_written_to_the_mail_folder() {
    let dir = std::env::temp_dir().join(format!("conduit-maildir-{}", free_port()));
    let dir_text = dir.to_str().unwrap().to_owned();
    let mut vars = vec![("MAIL_DIR", dir_text.as_str())];
    vars.extend(FAST);
    let app = TestApp::with_config(&vars).await;
    let _outbox = conduit::server::start_outbox(&app.state).unwrap();
    app.register("jane").await;
    let started = std::time::Instant::now();
    let file = loop {
        let found = std::fs::read_dir(&dir)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok);
        if let Some(entry) = found {
            break entry.path();
        }
        assert!(started.elapsed() < WAIT, "no .eml in {dir_text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(file.extension().unwrap(), "eml");
    let eml = std::fs::read_to_string(&file).unwrap();
    assert!(eml.contains("To: jane@example.com"), "{eml}");
    assert!(eml.contains("multipart/alternative"), "{eml}");
    assert!(
        eml.contains("text/plain") && eml.contains("text/html"),
        "{eml}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The SQL statements a mutation sent (`extensions.sqlStatements`), and its data.
async fn counted(
    app: &TestApp,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> (Value, i64) {
    let body = app.gql(query, variables, token).await;
    assert!(body.get("errors").is_none(), "{body}");
    (
        body["data"].clone(),
        body["extensions"]["sqlStatements"].as_i64().unwrap(),
    )
}

/// The email flows' mutations send exactly their documented statements (README), each
/// with the sign-in throttle's one.
#[tokio::test]
async fn the_email_mutations_send_their_documented_statements() {
    let sink = SmtpSink::start();
    let (app, _outbox) = mailing_app(&sink.url(), &[("REPORT_SQL_STATEMENTS", "true")]).await;
    let jane = app.register("jane").await;
    sink.wait_for(1, WAIT).await;
    let (_, request_n) = counted(
        &app,
        "mutation { requestEmailVerification }",
        json!({}),
        Some(&jane.access),
    )
    .await;
    sink.wait_for(2, WAIT).await;
    let token = link_token(
        &sink.with_subject("Confirm your email")[0],
        "http://app.test/verify-email",
    );
    let verify = "mutation($t: String!) { verifyEmail(token: $t) { username } }";
    let (_, verify_n) = counted(&app, verify, json!({"t": token}), None).await;
    let reset = "mutation($e: String!) { requestPasswordReset(email: $e) }";
    let (_, known) = counted(&app, reset, json!({"e": jane.email}), None).await;
    let (_, unknown) = counted(&app, reset, json!({"e": "nobody@example.com"}), None).await;
    sink.wait_for(3, WAIT).await;
    let token = link_token(
        &sink.with_subject("Reset")[0],
        "http://app.test/reset-password",
    );
    let (_, reset_n) = counted(
        &app,
        &reset_mutation(),
        json!({"t": token, "p": "a-brand-new-password"}),
        None,
    )
    .await;
    assert_eq!(
        [
            ("requestPasswordReset", known),
            ("requestPasswordReset(unknown)", unknown),
            ("resetPassword", reset_n),
            ("requestEmailVerification", request_n),
            ("verifyEmail", verify_n)
        ],
        [
            ("requestPasswordReset", 1),
            ("requestPasswordReset(unknown)", 1),
            ("resetPassword", 17),
            ("requestEmailVerification", 7),
            ("verifyEmail", 4)
        ]
    );
}

#[tokio::test]
async fn password_reset_requests_are_throttled_per_address_and_per_client() {
    let app = TestApp::with_config(&[
        ("AUTH_ATTEMPTS_PER_ACCOUNT", "2"),
        ("AUTH_ATTEMPTS_PER_IP", "4"),
    ])
    .await;
    app.register("jane").await;
    for _ in 0..2 {
        assert_eq!(
            request_reset(&app, "jane@example.com").await["data"]["requestPasswordReset"],
            true
        );
    }
    // Any spelling of the address spends the same budget.
    let third = request_reset(&app, "JANE@example.com").await;
    assert_eq!(error_code(&third), "RATE_LIMITED", "{third}");
    assert!(
        third["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .is_some()
            || third["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("retry"),
        "{third}"
    );
    // Unknown addresses are throttled the same way (no enumeration through the limit).
    for _ in 0..2 {
        request_reset(&app, "nobody@example.com").await;
    }
    let limited = request_reset(&app, "nobody@example.com").await;
    assert_eq!(error_code(&limited), "RATE_LIMITED", "{limited}");
}
