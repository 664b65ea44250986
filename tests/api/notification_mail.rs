//! Notification emails through the outbox, received by a real SMTP server
//! (tests/smtp/sink.py): only to verified addresses that opted into the kind, at most
//! `EMAIL_NOTIFICATIONS_PER_HOUR` an hour and then one summary, each with a signed
//! one-click unsubscribe URL (RFC 8058) that a POST without sign-in honours and a
//! tampered one does not; the new-device sign-in notice; the farewell mail.

use std::{
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
};
use serde_json::{Value, json};

use crate::{
    helpers::{Account, TestApp, TestResponse, connect},
    smtp::{SmtpSink, header},
};

const WAIT: Duration = Duration::from_secs(20);

/// Settings that make the workers quick: short polls and retries.
const FAST: [(&str, &str); 3] = [
    ("OUTBOX_POLL_INTERVAL_MS", "100"),
    ("OUTBOX_RETRY_BASE_MS", "100"),
    ("OUTBOX_RETRY_MAX_MS", "400"),
];

/// An app mailing through `sink`, its outbox workers running.
async fn mailing_app(sink: &SmtpSink, vars: &[(&str, &str)]) -> (TestApp, conduit::server::Outbox) {
    let url = sink.url();
    let mut all = vec![("SMTP_URL", url.as_str())];
    all.extend(FAST);
    all.extend(vars);
    let app = TestApp::with_config(&all).await;
    let outbox = conduit::server::start_outbox(&app.state).expect("outbox");
    (app, outbox)
}

/// Waits until `pick` finds at least `count` mails; returns them.
async fn wait_mails(sink: &SmtpSink, count: usize, pick: impl Fn(&Value) -> bool) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let found: Vec<Value> = sink.messages().into_iter().filter(&pick).collect();
        if found.len() >= count {
            return found;
        }
        assert!(
            started.elapsed() < WAIT,
            "{} of {count} mails after {WAIT:?}: {:#?}",
            found.len(),
            sink.messages()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn to(mail: &Value, address: &str) -> bool {
    mail["envelope_to"] == json!([address])
}

fn subject(mail: &Value) -> &str {
    header(mail, "subject")
}

fn text(mail: &Value) -> &str {
    mail["text"].as_str().unwrap_or_default()
}

/// Marks `who`'s address verified (the verification flow is tested in email.rs).
async fn verify(app: &TestApp, who: &Account) {
    let db = connect(&app.database_url()).await;
    db.execute(
        "UPDATE users SET email_verified_at = now() WHERE email = $1",
        &[&who.email],
    )
    .await
    .unwrap();
}

/// Opts `who` into `kinds` (GraphQL enum values).
async fn opt_in(app: &TestApp, who: &Account, kinds: &str) {
    let set = format!(
        "mutation {{ updateViewer(input: {{emailNotifications: [{kinds}]}}) {{ emailNotifications }} }}"
    );
    let body = app.gql(&set, json!({}), Some(&who.access)).await;
    assert!(body.get("errors").is_none(), "{body}");
}

async fn email_kinds(app: &TestApp, who: &Account) -> Value {
    let me = "{ viewer { emailNotifications } }";
    app.gql(me, json!({}), Some(&who.access)).await["data"]["viewer"]["emailNotifications"].clone()
}

async fn follow(app: &TestApp, who: &Account, username: &str) {
    let query = format!("mutation {{ followUser(username: \"{username}\") {{ id }} }}");
    let body = app.gql(&query, json!({}), Some(&who.access)).await;
    assert!(body.get("errors").is_none(), "{body}");
}

async fn publish(app: &TestApp, who: &Account, title: &str) -> String {
    let query = "mutation($t: String!) { createArticle(input: {title: $t, description: \"d\", \
                 body: \"b\", tags: []}) { slug } }";
    let body = app.gql(query, json!({"t": title}), Some(&who.access)).await;
    body["data"]["createArticle"]["slug"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

async fn comment(app: &TestApp, who: &Account, slug: &str, text: &str) {
    let query =
        "mutation($s: String!, $b: String!) { addComment(articleSlug: $s, body: $b) { id } }";
    let body = app
        .gql(query, json!({"s": slug, "b": text}), Some(&who.access))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
}

/// The path and query of a mail's `List-Unsubscribe` URL (under PUBLIC_URL).
fn unsubscribe_path(mail: &Value) -> String {
    let value = header(mail, "list-unsubscribe");
    let url = value
        .strip_prefix('<')
        .and_then(|v| v.strip_suffix('>'))
        .unwrap_or_else(|| panic!("no List-Unsubscribe in {mail:#}"));
    url.strip_prefix("http://app.test")
        .unwrap_or_else(|| panic!("not under PUBLIC_URL: {url}"))
        .to_owned()
}

/// A one-click unsubscribe, as a mail client sends it: no sign-in.
async fn one_click(app: &TestApp, path: &str, body: &str) -> TestResponse {
    app.send(
        Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn opted_in_verified_users_get_notification_mails_with_one_click_unsubscribe() {
    let sink = SmtpSink::start();
    let (app, _outbox) = mailing_app(&sink, &[]).await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let mary = app.register("mary").await;
    verify(&app, &jane).await;
    opt_in(&app, &jane, "NEW_FOLLOWER, COMMENT_ADDED").await;

    follow(&app, &john, "jane").await;
    let mail = wait_mails(&sink, 1, |m| subject(m).contains("following you")).await;
    let mail = &mail[0];
    assert!(to(mail, "jane@example.com"), "{mail:#}");
    assert_eq!(subject(mail), "john started following you");
    assert!(
        text(mail).contains("http://app.test/profile/john"),
        "{mail:#}"
    );
    assert!(!text(mail).contains("john@example.com"), "{mail:#}");
    assert!(!mail["html"].as_str().unwrap().contains("john@example.com"));
    assert_eq!(
        header(mail, "list-unsubscribe-post"),
        "List-Unsubscribe=One-Click"
    );
    let follower_link = unsubscribe_path(mail);
    assert!(
        follower_link.starts_with("/email/unsubscribe?")
            && follower_link.contains("k=new_follower"),
        "{follower_link}"
    );

    let slug = publish(&app, &jane, "Mailed Words").await;
    // The largest comment (10,000 characters): the mail quotes only its start.
    let long = format!("Lovely piece {}", "é".repeat(10_000 - 13));
    comment(&app, &john, &slug, &long).await;
    let mail = wait_mails(&sink, 1, |m| subject(m).contains("commented")).await;
    let mail = &mail[0];
    assert!(to(mail, "jane@example.com"));
    assert!(subject(mail).contains("john commented on your article “Mailed Words”"));
    assert!(
        text(mail).contains(&format!("http://app.test/article/{slug}")),
        "{mail:#}"
    );
    assert!(text(mail).contains(&format!("Lovely piece {}”", "é".repeat(280 - 13))));
    assert!(!text(mail).contains(&"é".repeat(281)), "{mail:#}");
    assert!(unsubscribe_path(mail).contains("k=comment_added"));

    // The GET shows a form that POSTs, and changes nothing.
    let page = app
        .send(
            Request::get(follower_link.as_str())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("method=\"post\""), "{}", page.text());
    assert!(page.text().contains("List-Unsubscribe"));
    // What else the query carries never reaches the page.
    let injected = format!("{follower_link}&x=%22%3E%3Cscript%3E");
    let page = app
        .send(Request::get(injected.as_str()).body(Body::empty()).unwrap())
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.text().contains("<script>") && !page.text().contains("&x="),
        "{}",
        page.text()
    );
    assert_eq!(
        email_kinds(&app, &jane).await,
        json!(["COMMENT_ADDED", "NEW_FOLLOWER"])
    );

    // Tampered links are refused and change nothing: another user, another kind, all,
    // another key, a cut signature, no signature.
    let jane_id = {
        let start = follower_link.find("u=").unwrap() + 2;
        follower_link[start..].split('&').next().unwrap().to_owned()
    };
    let tampered = [
        follower_link.replace(
            &format!("u={jane_id}"),
            &format!("u={}", jane_id.parse::<i64>().unwrap() + 1),
        ),
        follower_link.replace("k=new_follower", "k=comment_added"),
        follower_link.replace("k=new_follower", "k=all"),
        follower_link.replace("v=", "v=x"),
        follower_link[..follower_link.len() - 2].to_owned(),
        follower_link.split("&s=").next().unwrap().to_owned(),
    ];
    for path in &tampered {
        let refused = one_click(&app, path, "List-Unsubscribe=One-Click").await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(refused.json()["error"]["code"], "BAD_USER_INPUT", "{path}");
        let page = app
            .send(Request::get(path.as_str()).body(Body::empty()).unwrap())
            .await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
    }
    // The right link without the one-click body is refused too.
    let no_body = one_click(&app, &follower_link, "").await;
    assert_eq!(no_body.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        email_kinds(&app, &jane).await,
        json!(["COMMENT_ADDED", "NEW_FOLLOWER"])
    );

    // One click, signed out: that kind is gone, the other stays; again is the same.
    for _ in 0..2 {
        let done = one_click(&app, &follower_link, "List-Unsubscribe=One-Click").await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.text());
        assert!(done.text().contains("unsubscribed"));
        assert_eq!(email_kinds(&app, &jane).await, json!(["COMMENT_ADDED"]));
    }

    // Mary's follow is no longer mailed; her comment still is (and comes after).
    follow(&app, &mary, "jane").await;
    comment(&app, &mary, &slug, "Me too").await;
    wait_mails(&sink, 1, |m| subject(m).contains("mary commented")).await;
    assert!(sink.with_subject("mary started following").is_empty());
    // Nobody else got a notification mail (john and mary did not opt in).
    let notifications: Vec<Value> = sink
        .messages()
        .into_iter()
        .filter(|m| !header(m, "list-unsubscribe").is_empty())
        .collect();
    assert_eq!(notifications.len(), 3, "{notifications:#?}");
    assert!(notifications.iter().all(|m| to(m, "jane@example.com")));
}

#[tokio::test]
async fn unverified_or_not_opted_in_users_get_no_notification_mail() {
    let sink = SmtpSink::start();
    let (app, _outbox) = mailing_app(&sink, &[]).await;
    let writer = app.register("writer").await;
    // Opted in, but the address is not verified.
    let unverified = app.register("unverified").await;
    opt_in(&app, &unverified, "ARTICLE_PUBLISHED").await;
    // Verified, but opted into another kind only.
    let other_kind = app.register("otherkind").await;
    verify(&app, &other_kind).await;
    opt_in(&app, &other_kind, "NEW_FOLLOWER").await;
    // Verified, never opted in.
    let quiet = app.register("quiet").await;
    verify(&app, &quiet).await;
    // Verified and opted in: the control.
    let reader = app.register("reader").await;
    verify(&app, &reader).await;
    opt_in(&app, &reader, "ARTICLE_PUBLISHED").await;
    for who in [&unverified, &other_kind, &quiet, &reader] {
        follow(&app, who, "writer").await;
    }

    // One statement notifies all four followers; one of them is mailed.
    let slug = publish(&app, &writer, "Fan Out").await;
    let mail = wait_mails(&sink, 1, |m| subject(m).contains("published")).await;
    assert!(to(&mail[0], "reader@example.com"), "{:#}", mail[0]);
    assert_eq!(subject(&mail[0]), "writer published “Fan Out”");
    assert!(text(&mail[0]).contains(&format!("http://app.test/article/{slug}")));
    assert!(unsubscribe_path(&mail[0]).contains("k=article_published"));

    // Wait for the welcome mails too, then: no other notification mail went out.
    wait_mails(&sink, 5, |m| subject(m).contains("Welcome")).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let notifications: Vec<Value> = sink
        .messages()
        .into_iter()
        .filter(|m| !subject(m).contains("Welcome"))
        .collect();
    assert_eq!(notifications.len(), 1, "{notifications:#?}");
    let db = connect(&app.database_url()).await;
    let queued: i64 = db
        .query_one(
            "SELECT count(*) FROM outbox WHERE kind LIKE 'email.notification%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(queued, 1);
    let notified: i64 = db
        .query_one(
            "SELECT count(*) FROM notifications WHERE kind = 'article_published'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(notified, 4, "every follower still has the notification");
}

#[tokio::test]
async fn past_the_hourly_limit_notifications_are_coalesced_into_one_summary() {
    let sink = SmtpSink::start();
    let limits = [
        ("EMAIL_NOTIFICATIONS_PER_HOUR", "2"),
        ("EMAIL_NOTIFICATIONS_SUMMARY_DELAY_MS", "1500"),
    ];
    let (app, _outbox) = mailing_app(&sink, &limits).await;
    let jane = app.register("jane").await;
    verify(&app, &jane).await;
    opt_in(&app, &jane, "NEW_FOLLOWER").await;
    let fans = ["fan1", "fan2", "fan3", "fan4", "fan5", "fan6"];
    for fan in fans {
        let account = app.register(fan).await;
        follow(&app, &account, "jane").await;
    }

    let singles = wait_mails(&sink, 2, |m| subject(m).contains("started following")).await;
    let summary = wait_mails(&sink, 1, |m| subject(m).contains("more notifications")).await;
    let summary = &summary[0];
    assert!(to(summary, "jane@example.com"));
    assert_eq!(
        subject(summary),
        "And 4 more notifications on Conduit",
        "{summary:#}"
    );
    // The newest five are listed, the rest counted.
    for fan in &fans[2..] {
        assert!(
            text(summary).contains(&format!("{fan} started following you")),
            "{summary:#}"
        );
        assert!(text(summary).contains(&format!("http://app.test/profile/{fan}")));
    }
    assert!(!text(summary).contains("fan1 "), "{summary:#}");
    assert!(!text(summary).contains("@example.com"), "{summary:#}");
    assert!(unsubscribe_path(summary).contains("k=all"));
    assert_eq!(
        header(summary, "list-unsubscribe-post"),
        "List-Unsubscribe=One-Click"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sink.with_subject("started following").len(),
        2,
        "{singles:#?}"
    );
    assert_eq!(sink.with_subject("more notifications").len(), 1);
    let db = connect(&app.database_url()).await;
    let rows: i64 = db
        .query_one(
            "SELECT count(*) FROM outbox WHERE kind = 'email.notification_summary'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "one summary row for the four");

    // The summary's link stops every kind.
    let done = one_click(
        &app,
        &unsubscribe_path(summary),
        "List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(email_kinds(&app, &jane).await, json!([]));
}

/// A login as a served request arrives: from `ip`, with `user_agent`.
async fn login_from(app: &TestApp, who: &Account, ip: &str, user_agent: Option<&str>) {
    let query = "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }";
    let vars = json!({"i": {"email": who.email, "password": who.password}});
    let mut request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("accept", "application/json");
    if let Some(agent) = user_agent {
        request = request.header("user-agent", agent);
    }
    let body = json!({ "query": query, "variables": vars }).to_string();
    let mut request = request.body(Body::from(body)).unwrap();
    let ip: IpAddr = ip.parse().unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(ip, 40000)));
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
}

#[tokio::test]
async fn a_sign_in_from_a_new_user_agent_mails_a_notice_and_a_known_one_does_not() {
    let sink = SmtpSink::start();
    let (app, _outbox) = mailing_app(&sink, &[]).await;
    // Registering (no User-Agent) is covered by the welcome mail.
    let jane = app.register("jane").await;
    wait_mails(&sink, 1, |m| subject(m).contains("Welcome")).await;

    login_from(&app, &jane, "203.0.113.7", Some("Firefox/120")).await;
    let notice = wait_mails(&sink, 1, |m| subject(m) == "New sign-in to your account").await;
    assert!(to(&notice[0], "jane@example.com"));
    assert!(text(&notice[0]).contains("Firefox/120"), "{:#}", notice[0]);
    assert!(text(&notice[0]).contains("203.0.113.7"), "{:#}", notice[0]);
    assert!(text(&notice[0]).contains(" UTC"), "{:#}", notice[0]);
    assert!(header(&notice[0], "list-unsubscribe").is_empty());

    // The same agent again (from elsewhere), and no agent (as at registration): no notice.
    login_from(&app, &jane, "198.51.100.1", Some("Firefox/120")).await;
    login_from(&app, &jane, "198.51.100.1", None).await;
    // A refresh is not a sign-in.
    let refresh = "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }";
    let body = app.gql(refresh, json!({"t": jane.refresh}), None).await;
    assert!(
        body["data"]["refreshSession"]["accessToken"].is_string(),
        "{body}"
    );
    // Another agent: a second notice, after which there are exactly two.
    login_from(&app, &jane, "198.51.100.1", Some("Chrome/99")).await;
    let notices = wait_mails(&sink, 2, |m| subject(m) == "New sign-in to your account").await;
    assert!(text(&notices[1]).contains("Chrome/99"), "{:#}", notices[1]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.with_subject("New sign-in").len(), 2);
}

#[tokio::test]
async fn deleting_the_account_mails_a_farewell_that_arrives_after_the_user_is_gone() {
    let sink = SmtpSink::start();
    let (app, _outbox) = mailing_app(&sink, &[]).await;
    let jane = app.register("jane").await;
    wait_mails(&sink, 1, |m| subject(m).contains("Welcome")).await;
    let delete = "mutation($p: String!) { deleteAccount(password: $p) }";
    // A wrong password deletes nothing and mails nothing.
    let refused = app
        .gql(delete, json!({"p": "wrong password"}), Some(&jane.access))
        .await;
    assert!(refused.get("errors").is_some(), "{refused}");
    let body = app
        .gql(delete, json!({"p": jane.password}), Some(&jane.access))
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    let farewell = wait_mails(&sink, 1, |m| subject(m) == "Your account was deleted").await;
    assert!(to(&farewell[0], "jane@example.com"));
    assert!(
        text(&farewell[0]).contains("Goodbye jane"),
        "{:#}",
        farewell[0]
    );
    let db = connect(&app.database_url()).await;
    let users: i64 = db
        .query_one("SELECT count(*) FROM users WHERE username = 'jane'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(users, 0, "the user is gone, the mail still went out");
    let status: String = db
        .query_one(
            "SELECT status FROM outbox WHERE kind = 'email.account_deleted'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "delivered");
    assert_eq!(sink.with_subject("Your account was deleted").len(), 1);
}
