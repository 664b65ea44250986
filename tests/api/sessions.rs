//! Tokens: schemes, garbage, expiry, revocation, refresh rotation and reuse, logout,
//! changePassword.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::{Value, json};

use crate::helpers::{AUTH_FIELDS, TestApp, connect, error_code, field_errors};

const VIEWER: &str = "{ viewer { username } }";

fn refresh_mutation() -> String {
    format!("mutation($t: String!) {{ refreshSession(refreshToken: $t) {{ {AUTH_FIELDS} }} }}")
}

async fn viewer_name(app: &TestApp, token: &str) -> Value {
    app.gql(VIEWER, json!({}), Some(token)).await["data"]["viewer"]["username"].clone()
}

/// Asserts that `token` fails the whole request: no data, one UNAUTHENTICATED error.
async fn assert_rejected(app: &TestApp, token: &str, message_part: &str) {
    let strict = app
        .gql_response(
            VIEWER,
            json!({}),
            Some(token),
            "application/graphql-response+json",
        )
        .await;
    assert_eq!(strict.status, StatusCode::UNAUTHORIZED, "{}", strict.text());
    assert_eq!(strict.header("www-authenticate"), Some("Bearer"));
    let body = strict.json();
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1);
    assert_eq!(error_code(&body), "UNAUTHENTICATED");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(message_part),
        "{body}"
    );

    let legacy = app
        .gql_response(VIEWER, json!({}), Some(token), "application/json")
        .await;
    assert_eq!(legacy.status, StatusCode::OK);
    assert_eq!(error_code(&legacy.json()), "UNAUTHENTICATED");
    assert!(legacy.json().get("data").is_none());
}

#[tokio::test]
async fn bearer_and_token_schemes_are_accepted() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    for scheme in ["Bearer", "Token", "bearer"] {
        let response = app
            .send(
                Request::post("/graphql")
                    .header("content-type", "application/json")
                    .header("authorization", format!("{scheme} {}", jane.access))
                    .body(Body::from(json!({"query": VIEWER}).to_string()))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            response.json()["data"]["viewer"]["username"],
            "jane",
            "{scheme}"
        );
    }
    let anonymous = app.gql(VIEWER, json!({}), None).await;
    assert_eq!(anonymous, json!({"data": {"viewer": null}}));
}

#[tokio::test]
async fn garbage_tokens_and_schemes_fail_the_request() {
    let app = TestApp::spawn().await;
    assert_rejected(&app, "garbage", "Invalid access token").await;
    let basic = app
        .send(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .header("authorization", "Basic dXNlcjpwYXNz")
                .body(Body::from(json!({"query": VIEWER}).to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(error_code(&basic.json()), "UNAUTHENTICATED");
    assert!(basic.json().get("data").is_none());
}

#[tokio::test]
async fn expired_access_tokens_fail_the_request() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let client = connect(&app.database_url()).await;
    client
        .batch_execute("UPDATE sessions SET access_expires_at = now() - interval '1 second'")
        .await
        .unwrap();
    assert_rejected(&app, &jane.access, "expired").await;
    // The refresh token still works and gives a valid access token.
    let body = app
        .gql(&refresh_mutation(), json!({"t": jane.refresh}), None)
        .await;
    let access = body["data"]["refreshSession"]["accessToken"]
        .as_str()
        .unwrap();
    assert_eq!(viewer_name(&app, access).await, "jane");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_session() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;

    let first = app
        .gql(&refresh_mutation(), json!({"t": jane.refresh}), None)
        .await;
    let payload = &first["data"]["refreshSession"];
    let (access, refresh) = (
        payload["accessToken"].as_str().unwrap().to_owned(),
        payload["refreshToken"].as_str().unwrap().to_owned(),
    );
    assert_ne!(refresh, jane.refresh, "rotated");
    assert_eq!(payload["user"]["email"], "jane@example.com");
    assert_eq!(viewer_name(&app, &access).await, "jane");
    assert_rejected(&app, &jane.access, "Invalid access token").await;

    let second = app
        .gql(&refresh_mutation(), json!({"t": refresh}), None)
        .await;
    let newest_access = second["data"]["refreshSession"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(viewer_name(&app, &newest_access).await, "jane");

    // Presenting the first (used) refresh token again revokes the whole session.
    let reuse = app
        .gql(&refresh_mutation(), json!({"t": jane.refresh}), None)
        .await;
    assert_eq!(error_code(&reuse), "UNAUTHENTICATED");
    assert!(
        reuse["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already used"),
        "{reuse}"
    );
    assert_rejected(&app, &newest_access, "revoked").await;
    let after = app
        .gql(
            &refresh_mutation(),
            json!({"t": second["data"]["refreshSession"]["refreshToken"]}),
            None,
        )
        .await;
    assert_eq!(
        error_code(&after),
        "UNAUTHENTICATED",
        "the latest refresh token died with the session"
    );

    let unknown = app
        .gql(&refresh_mutation(), json!({"t": "cdt_r_nope"}), None)
        .await;
    assert_eq!(error_code(&unknown), "UNAUTHENTICATED");
}

#[tokio::test]
async fn logout_takes_effect_on_the_next_request() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let body = app
        .gql("mutation { logout }", json!({}), Some(&jane.access))
        .await;
    assert_eq!(body["data"]["logout"], true);
    assert_rejected(&app, &jane.access, "revoked").await;
    let refresh = app
        .gql(&refresh_mutation(), json!({"t": jane.refresh}), None)
        .await;
    assert_eq!(error_code(&refresh), "UNAUTHENTICATED");

    let anonymous = app.gql("mutation { logout }", json!({}), None).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
}

#[tokio::test]
async fn change_password_revokes_other_sessions_and_renews_this_one() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let login =
        format!("mutation($input: LoginInput!) {{ login(input: $input) {{ {AUTH_FIELDS} }} }}");
    let other = app
        .gql(
            &login,
            json!({"input": {"email": jane.email, "password": jane.password}}),
            None,
        )
        .await;
    let other_access = other["data"]["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(viewer_name(&app, &other_access).await, "jane");

    let change = format!(
        "mutation($c: String!, $n: String!) {{ changePassword(currentPassword: $c, newPassword: $n) {{ {AUTH_FIELDS} }} }}"
    );
    let wrong = app
        .gql(
            &change,
            json!({"c": "not it at all", "n": "new password 1"}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        field_errors(&wrong),
        vec![(
            "currentPassword".to_owned(),
            "is not your current password".to_owned()
        )]
    );
    let short = app
        .gql(
            &change,
            json!({"c": jane.password, "n": "short"}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(field_errors(&short)[0].0, "newPassword");

    let body = app
        .gql(
            &change,
            json!({"c": jane.password, "n": "new password 1"}),
            Some(&jane.access),
        )
        .await;
    let fresh = body["data"]["changePassword"]["accessToken"]
        .as_str()
        .expect("a new pair")
        .to_owned();
    assert_eq!(viewer_name(&app, &fresh).await, "jane");
    assert_rejected(&app, &other_access, "revoked").await;

    let old = app
        .gql(
            &login,
            json!({"input": {"email": jane.email, "password": jane.password}}),
            None,
        )
        .await;
    assert_eq!(error_code(&old), "UNAUTHENTICATED");
    let new = app
        .gql(
            &login,
            json!({"input": {"email": jane.email, "password": "new password 1"}}),
            None,
        )
        .await;
    assert_eq!(new["data"]["login"]["user"]["username"], "jane");
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_revoke_the_session() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let mutation = refresh_mutation();
    let (a, b) = tokio::join!(
        app.gql(&mutation, json!({"t": jane.refresh}), None),
        app.gql(&mutation, json!({"t": jane.refresh}), None),
    );
    let winners: Vec<&Value> = [&a, &b]
        .into_iter()
        .filter(|r| r["data"]["refreshSession"].is_object())
        .collect();
    assert_eq!(winners.len(), 1, "exactly one exchange succeeds: {a} {b}");
    let loser = if winners[0] == &a { &b } else { &a };
    assert_eq!(error_code(loser), "UNAUTHENTICATED");
    // The second presentation is a reuse: the winner's new tokens die with the session.
    let access = winners[0]["data"]["refreshSession"]["accessToken"]
        .as_str()
        .unwrap();
    assert_rejected(&app, access, "revoked").await;
}

/// Refreshes with `token` and returns the new refresh token, asserting it worked.
async fn refreshed(app: &TestApp, token: &str) -> String {
    let body = app
        .gql(&refresh_mutation(), json!({"t": token}), None)
        .await;
    let payload = &body["data"]["refreshSession"];
    assert!(payload.is_object(), "{body}");
    payload["refreshToken"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_session_ends_at_its_max_age_however_often_it_is_refreshed() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let day = chrono::Duration::days(1);
    // Refreshed every 29 days (each refresh token lives 30), the session lives on...
    let mut token = jane.refresh.clone();
    for _ in 0..3 {
        app.state.clock.advance(day * 29);
        token = refreshed(&app, &token).await;
    }
    // ... to day 89, and its access token still works ...
    app.state.clock.advance(day * 2);
    let body = app
        .gql(&refresh_mutation(), json!({"t": token}), None)
        .await;
    let payload = &body["data"]["refreshSession"];
    let access = payload["accessToken"].as_str().unwrap().to_owned();
    token = payload["refreshToken"].as_str().unwrap().to_owned();
    assert_eq!(viewer_name(&app, &access).await, "jane");
    // ... but not past 90 days from sign-in, though that refresh token is one day old.
    app.state.clock.advance(day * 2);
    let ended = app
        .gql(&refresh_mutation(), json!({"t": token}), None)
        .await;
    assert_eq!(error_code(&ended), "UNAUTHENTICATED", "{ended}");
    assert!(
        ended["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ended"),
        "{ended}"
    );
    assert!(ended["data"].is_null(), "{ended}");
}

#[tokio::test]
async fn a_shorter_max_age_caps_the_tokens_it_issues() {
    let app = TestApp::with_config(&[("SESSION_MAX_AGE", "10m")]).await;
    let jane = app.register("jane").await;
    let body = app
        .gql(&refresh_mutation(), json!({"t": jane.refresh}), None)
        .await;
    let payload = &body["data"]["refreshSession"];
    let expires: chrono::DateTime<chrono::Utc> = payload["accessTokenExpiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Access tokens live 15 minutes; this session has less than 10 left.
    assert!(
        expires <= chrono::Utc::now() + chrono::Duration::minutes(10),
        "{body}"
    );
    app.state.clock.advance(chrono::Duration::minutes(11));
    let token = payload["refreshToken"].as_str().unwrap();
    let ended = app
        .gql(&refresh_mutation(), json!({"t": token}), None)
        .await;
    assert_eq!(error_code(&ended), "UNAUTHENTICATED", "{ended}");
}

async fn rows(db: &tokio_postgres::Client, table: &str) -> i64 {
    let sql = format!("SELECT count(*) FROM {table}");
    db.query_one(&sql, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn pruning_removes_ended_sessions_and_their_used_tokens_one_instance_at_a_time() {
    use conduit::{db::sessions::PRUNE_LOCK_KEY, domain::sessions::prune};
    let app = TestApp::spawn().await;
    let other = TestApp::sharing(&app, &[]);
    let db = connect(&app.database_url()).await;
    // jane: refreshed twice, then signed out (revoked). john: refreshed once, live.
    let jane = app.register("jane").await;
    let token = refreshed(&app, &jane.refresh).await;
    let token = refreshed(&app, &token).await;
    let body = app
        .gql(&refresh_mutation(), json!({"t": token}), None)
        .await;
    let access = body["data"]["refreshSession"]["accessToken"]
        .as_str()
        .unwrap();
    let out = app
        .gql("mutation { logout }", json!({}), Some(access))
        .await;
    assert_eq!(out["data"]["logout"], true, "{out}");
    let john = app.register("john").await;
    let john_refresh = refreshed(&app, &john.refresh).await;
    assert_eq!(
        (
            rows(&db, "sessions").await,
            rows(&db, "used_refresh_tokens").await
        ),
        (2, 4)
    );

    // While another instance prunes (holds the lock), neither instance does.
    let mut holder = connect(&app.database_url()).await;
    let tx = holder.transaction().await.unwrap();
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&PRUNE_LOCK_KEY])
        .await
        .unwrap();
    for instance in [&app, &other] {
        let pruned = prune(&instance.state.pool, &instance.state.session_rules()).await;
        assert_eq!(pruned.unwrap(), None);
    }
    assert_eq!(rows(&db, "sessions").await, 2);
    tx.commit().await.unwrap();

    // Then one prunes: the revoked session and its three used tokens go; john's stays.
    let pruned = prune(&other.state.pool, &other.state.session_rules())
        .await
        .unwrap()
        .expect("the lock was free");
    assert_eq!((pruned.sessions, pruned.used_refresh_tokens), (1, 3));
    assert_eq!(
        (
            rows(&db, "sessions").await,
            rows(&db, "used_refresh_tokens").await
        ),
        (1, 1)
    );
    refreshed(&app, &john_refresh).await;

    // 91 days on, john's session is past its lifetime: it goes too, with its tokens.
    for instance in [&app, &other] {
        instance.state.clock.advance(chrono::Duration::days(91));
    }
    let pruned = futures_util::future::join_all([&app, &other].map(|instance| async move {
        prune(&instance.state.pool, &instance.state.session_rules())
            .await
            .unwrap()
    }))
    .await;
    let removed: usize = pruned.iter().flatten().map(|p| p.sessions).sum();
    assert_eq!(removed, 1, "{pruned:?}");
    assert_eq!(
        (
            rows(&db, "sessions").await,
            rows(&db, "used_refresh_tokens").await
        ),
        (0, 0)
    );
}

#[tokio::test]
async fn set_role_takes_effect_on_open_subscriptions() {
    use crate::live::{TestServer, bearer};
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let subscribe = "subscription { notificationAdded { id } }";
    let mut client = server.ws_ready(bearer(&alice.access)).await;
    client.subscribe("n", subscribe, json!({})).await;
    let mut bystander = server.ws_ready(bearer(&bob.access)).await;
    bystander.subscribe("b", subscribe, json!({})).await;
    server.wait_for_subscriptions(2).await;

    // The real CLI, another process, on the same database.
    let url = server.database_url();
    let output = tokio::task::spawn_blocking(move || {
        crate::helpers::conduit_command(
            &["user", "set-role", "alice", "admin"],
            &[("DATABASE_URL", &url)],
        )
        .output()
        .expect("run conduit")
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");

    // Alice's subscription ends and her socket closes: nothing runs under the old role.
    let ended = client.next_json().await;
    assert_eq!(
        (&ended["id"], &ended["type"]),
        (&json!("n"), &json!("error")),
        "{ended}"
    );
    assert_eq!(ended["payload"][0]["extensions"]["code"], "UNAUTHENTICATED");
    client.expect_close(4403).await;
    // Her token still works, now as an admin (who sees every email).
    let admin = "{ user(username: \"bob\") { email } }";
    let seen = server.gql(admin, json!({}), Some(&alice.access)).await;
    assert_eq!(seen["data"]["user"]["email"], "bob@example.com", "{seen}");
    // Bob's socket is untouched: it still hears his notifications.
    let follow = "mutation { followUser(username: \"bob\") { username } }";
    let followed = server.gql(follow, json!({}), Some(&alice.access)).await;
    assert!(followed.get("errors").is_none(), "{followed}");
    let heard = bystander.next_json().await;
    assert_eq!(
        (&heard["id"], &heard["type"]),
        (&json!("b"), &json!("next")),
        "{heard}"
    );
}

/// A backlog far larger than one batch (5,000) goes in one pruning, batch by batch, so a
/// deployment's first pruning is never one huge statement cancelled by
/// `statement_timeout`; live sessions stay.
#[tokio::test]
async fn pruning_a_large_backlog_goes_batch_by_batch_and_keeps_live_sessions() {
    use conduit::domain::sessions::prune;
    let app = TestApp::spawn().await;
    let db = connect(&app.database_url()).await;
    let jane = app.register("jane").await;
    db.batch_execute(
        "INSERT INTO sessions (user_id, access_token_hash, access_expires_at, \
           refresh_token_hash, refresh_expires_at, revoked_at, created_at, refreshed_at) \
         SELECT u.id, sha256(('a' || i)::bytea), now(), sha256(('r' || i)::bytea), \
           now() + interval '1 day', now(), now(), now() \
         FROM users u, generate_series(1, 12001) i; \
         INSERT INTO used_refresh_tokens (token_hash, session_id, used_at) \
         SELECT sha256(('u' || s.id)::bytea), s.id, now() FROM sessions s \
         WHERE s.revoked_at IS NOT NULL",
    )
    .await
    .unwrap();
    let pruned = prune(&app.state.pool, &app.state.session_rules())
        .await
        .unwrap()
        .expect("the lock was free");
    assert_eq!(
        (pruned.sessions, pruned.used_refresh_tokens),
        (12001, 12001)
    );
    assert_eq!(rows(&db, "sessions").await, 1);
    refreshed(&app, &jane.refresh).await;
}
