//! The account lifecycle: the viewer's sessions list (where and when each signed in,
//! which one is current, pages, privacy), revoking one device (its token and its sockets
//! end), and deleting the account with everything of theirs while every counter of the
//! rows that stay remains true.

use std::net::{IpAddr, SocketAddr};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Request, StatusCode},
};
use conduit::{
    domain::{accounts, policy::Role},
    graphql::node::{NodeKind, global_id},
};
use serde_json::{Value, json};

use crate::{
    helpers::{AUTH_FIELDS, Account, TestApp, connect, error_code, field_errors},
    live::{Frame, TestServer, WsClient, bearer, comment, ok, publish},
};

const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }";
const SESSIONS: &str = "query($first: Int, $after: String, $last: Int, $before: String) { \
     viewer { sessions(first: $first, after: $after, last: $last, before: $before) { \
     totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } \
     edges { cursor node { id createdAt lastUsedAt userAgent clientIp isCurrent } } } } }";
const REVOKE: &str = "mutation($id: ID!) { revokeSession(id: $id) }";
const DELETE: &str = "mutation($p: String!) { deleteAccount(password: $p) }";

/// Runs an operation as a served request would arrive: from `ip`, with `user_agent` (and
/// `extra` headers), signed in with `token` if given. Returns the JSON body.
async fn from_device(
    app: &TestApp,
    (ip, user_agent): (&str, Option<&str>),
    extra: &[(&str, &str)],
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> Value {
    let ip: IpAddr = ip.parse().unwrap();
    let mut request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("accept", "application/json");
    if let Some(agent) = user_agent {
        request = request.header("user-agent", agent);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let body = json!({ "query": query, "variables": variables }).to_string();
    let mut request = request.body(Body::from(body)).unwrap();
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(ip, 40000)));
    let response = app.send(request).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    response.json()
}

/// Signs `who` in from `device`; returns the new session's account.
async fn login_from(app: &TestApp, who: &Account, device: (&str, Option<&str>)) -> Account {
    let vars = json!({"i": {"email": who.email, "password": who.password}});
    let body = from_device(app, device, &[], LOGIN, vars, None).await;
    assert!(body.get("errors").is_none(), "{body}");
    Account {
        access: body["data"]["login"]["accessToken"]
            .as_str()
            .unwrap()
            .to_owned(),
        refresh: body["data"]["login"]["refreshToken"]
            .as_str()
            .unwrap()
            .to_owned(),
        ..who.clone()
    }
}

/// `who`'s sessions page with `args` (`first`, `after`, ...), asserting no errors.
async fn sessions(app: &TestApp, who: &Account, args: Value) -> Value {
    let data = ok(app, SESSIONS, args, Some(&who.access)).await;
    data["viewer"]["sessions"].clone()
}

/// The nodes of a sessions page.
fn nodes(page: &Value) -> Vec<Value> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// The ID of `who`'s current session (the one their access token belongs to).
async fn current_session(app: &TestApp, who: &Account) -> String {
    let page = sessions(app, who, json!({"first": 100})).await;
    let current: Vec<Value> = nodes(&page)
        .into_iter()
        .filter(|n| n["isCurrent"] == true)
        .collect();
    assert_eq!(current.len(), 1, "{page}");
    current[0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_viewer_lists_live_sessions_with_where_they_signed_in() {
    let app = TestApp::with_config(&[("TRUSTED_PROXIES", "10.0.0.1")]).await;
    let vars = json!({"i": {"username": "alice", "email": "alice@example.com",
                            "password": "password-alice"}});
    let register =
        format!("mutation($i: RegisterInput!) {{ register(input: $i) {{ {AUTH_FIELDS} }} }}");
    let laptop = ("203.0.113.5", Some("Laptop/1.0 (X11)"));
    let body = from_device(&app, laptop, &[], &register, vars, None).await;
    let alice = Account {
        email: "alice@example.com".into(),
        password: "password-alice".into(),
        id: body["data"]["register"]["user"]["id"]
            .as_str()
            .unwrap()
            .into(),
        access: body["data"]["register"]["accessToken"]
            .as_str()
            .unwrap()
            .into(),
        refresh: body["data"]["register"]["refreshToken"]
            .as_str()
            .unwrap()
            .into(),
    };
    // The largest User-Agent is cut to 512 bytes, at a character boundary (é is 2 bytes).
    let huge = format!("a{}", "é".repeat(400));
    let phone = login_from(&app, &alice, ("2001:db8::7", Some(huge.as_str()))).await;
    // Through the trusted proxy: the forwarded address counts; no User-Agent at all.
    let vars = json!({"i": {"email": alice.email, "password": alice.password}});
    let forwarded = [("x-forwarded-for", "198.51.100.9")];
    let body = from_device(&app, ("10.0.0.1", None), &forwarded, LOGIN, vars, None).await;
    assert!(body.get("errors").is_none(), "{body}");
    // A fourth session, revoked, and a fifth past SESSION_MAX_AGE: neither is listed.
    let gone = login_from(&app, &alice, ("192.0.2.1", Some("Gone/1"))).await;
    ok(&app, "mutation { logout }", json!({}), Some(&gone.access)).await;
    let old = login_from(&app, &alice, ("192.0.2.2", Some("Old/1"))).await;
    let db = connect(&app.database_url()).await;
    db.execute(
        "UPDATE sessions SET created_at = now() - interval '91 days' WHERE user_agent = 'Old/1'",
        &[],
    )
    .await
    .unwrap();
    drop(old);

    let page = sessions(&app, &phone, json!({})).await;
    assert_eq!(page["totalCount"], 3, "{page}");
    let listed = nodes(&page);
    let origins: Vec<(Value, Value, Value)> = listed
        .iter()
        .map(|n| {
            (
                n["userAgent"].clone(),
                n["clientIp"].clone(),
                n["isCurrent"].clone(),
            )
        })
        .collect();
    let cut = format!("a{}", "é".repeat(255));
    assert_eq!(cut.len(), 511);
    assert_eq!(
        origins,
        vec![
            (Value::Null, json!("198.51.100.9"), json!(false)),
            (json!(cut), json!("2001:db8::7"), json!(true)),
            (
                json!("Laptop/1.0 (X11)"),
                json!("203.0.113.5"),
                json!(false)
            ),
        ],
        "newest first"
    );
    for node in &listed {
        assert_eq!(node["createdAt"], node["lastUsedAt"], "not refreshed yet");
    }
    let stored: i32 = db
        .query_one("SELECT max(octet_length(user_agent)) FROM sessions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 511);

    // A refresh moves lastUsedAt (and only that) of its own session.
    let refresh = "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }";
    let data = ok(&app, refresh, json!({"t": alice.refresh}), None).await;
    let renewed = Account {
        access: data["refreshSession"]["accessToken"]
            .as_str()
            .unwrap()
            .into(),
        ..alice.clone()
    };
    let after = nodes(&sessions(&app, &renewed, json!({})).await);
    let laptop_now = &after[2];
    assert_eq!(laptop_now["isCurrent"], true);
    assert_eq!(laptop_now["createdAt"], listed[2]["createdAt"]);
    assert!(
        laptop_now["lastUsedAt"].as_str().unwrap() > listed[2]["lastUsedAt"].as_str().unwrap(),
        "{laptop_now}"
    );
    assert_eq!(after[1]["isCurrent"], false);
}

#[tokio::test]
async fn sessions_page_by_keyset_both_ways() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    for i in 0..4 {
        let agent = format!("Device/{i}");
        login_from(&app, &alice, ("192.0.2.1", Some(agent.as_str()))).await;
    }
    let agents = |page: &Value| -> Vec<String> {
        nodes(page)
            .iter()
            .map(|n| n["userAgent"].as_str().unwrap_or("none").to_owned())
            .collect()
    };
    let first = sessions(&app, &alice, json!({"first": 2})).await;
    assert_eq!(agents(&first), ["Device/3", "Device/2"]);
    assert_eq!(first["totalCount"], 5);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
    let after = first["pageInfo"]["endCursor"].clone();
    let second = sessions(&app, &alice, json!({"first": 2, "after": after})).await;
    assert_eq!(agents(&second), ["Device/1", "Device/0"]);
    assert_eq!(second["pageInfo"]["hasNextPage"], true);
    let after = second["pageInfo"]["endCursor"].clone();
    let third = sessions(&app, &alice, json!({"first": 2, "after": after})).await;
    assert_eq!(
        agents(&third),
        ["none"],
        "the registration's session, oldest"
    );
    assert_eq!(third["pageInfo"]["hasNextPage"], false);
    let before = third["pageInfo"]["startCursor"].clone();
    let back = sessions(&app, &alice, json!({"last": 3, "before": before})).await;
    assert_eq!(agents(&back), ["Device/2", "Device/1", "Device/0"]);
    assert_eq!(back["pageInfo"]["hasPreviousPage"], true);

    // A cursor of another list, or of another user's sessions, is refused.
    let bob = app.register("bob").await;
    let bobs = sessions(&app, &bob, json!({})).await;
    let foreign = bobs["pageInfo"]["endCursor"].clone();
    publish(&app, &alice, "Paged").await;
    let articles = ok(
        &app,
        "{ articles { pageInfo { endCursor } } }",
        json!({}),
        None,
    )
    .await;
    let article_cursor = articles["articles"]["pageInfo"]["endCursor"].clone();
    let cases = [
        json!({"first": 1, "after": foreign}),
        json!({"first": 1, "after": article_cursor}),
        json!({"first": 0}),
        json!({"last": 101}),
    ];
    for args in cases {
        let body = app.gql(SESSIONS, args.clone(), Some(&alice.access)).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{args}: {body}");
    }
}

#[tokio::test]
async fn only_the_user_themself_sees_or_revokes_their_sessions() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let boss = app.register("boss").await;
    accounts::set_role(&app.state.pool, "boss", Role::Admin)
        .await
        .unwrap();
    let session = current_session(&app, &alice).await;

    let theirs = "{ user(username: \"alice\") { username sessions { totalCount } } }";
    for (who, token) in [
        ("bob", Some(&bob.access)),
        ("admin", Some(&boss.access)),
        ("anonymous", None),
    ] {
        let body = app.gql(theirs, json!({}), token.map(String::as_str)).await;
        assert_eq!(body["data"]["user"]["username"], "alice", "{who}: {body}");
        assert_eq!(
            body["data"]["user"]["sessions"],
            Value::Null,
            "{who}: {body}"
        );
        assert_eq!(error_code(&body), "FORBIDDEN", "{who}: {body}");
        assert_eq!(
            body["errors"][0]["path"],
            json!(["user", "sessions"]),
            "{who}"
        );
    }

    // Through node and nodes: hers to her only; null for anyone else, without an error.
    let by_id = "query($id: ID!, $ids: [ID!]!) { node(id: $id) { id ... on Session { isCurrent } } \
                 nodes(ids: $ids) { id } }";
    let vars = json!({"id": session, "ids": [session, alice.id]});
    let mine = ok(&app, by_id, vars.clone(), Some(&alice.access)).await;
    assert_eq!(mine["node"], json!({"id": session, "isCurrent": true}));
    assert_eq!(mine["nodes"], json!([{"id": session}, {"id": alice.id}]));
    for token in [Some(bob.access.as_str()), Some(boss.access.as_str()), None] {
        let data = ok(&app, by_id, vars.clone(), token).await;
        assert_eq!(data["node"], Value::Null, "{data}");
        assert_eq!(data["nodes"], json!([null, {"id": alice.id}]));
    }

    // Revoking hers as anyone else is NOT_FOUND, said exactly as for an unknown session.
    let unknown = global_id(NodeKind::Session, 999_999).to_string();
    let hers = app
        .gql(REVOKE, json!({"id": session}), Some(&bob.access))
        .await;
    let none = app
        .gql(REVOKE, json!({"id": unknown}), Some(&bob.access))
        .await;
    let admin = app
        .gql(REVOKE, json!({"id": session}), Some(&boss.access))
        .await;
    for body in [&hers, &none, &admin] {
        assert_eq!(error_code(body), "NOT_FOUND", "{body}");
        assert_eq!(body["data"], Value::Null);
    }
    assert_eq!(hers["errors"][0]["message"], none["errors"][0]["message"]);
    let anonymous = app.gql(REVOKE, json!({"id": session}), None).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    let not_a_session = app
        .gql(REVOKE, json!({"id": alice.id}), Some(&alice.access))
        .await;
    assert_eq!(
        error_code(&not_a_session),
        "BAD_USER_INPUT",
        "{not_a_session}"
    );
    // Her session still works.
    assert_eq!(current_session(&app, &alice).await, session);
}

/// The code a socket finally closes with, whatever messages come before.
async fn close_code(client: &mut WsClient) -> u16 {
    loop {
        match client.next_frame().await {
            Frame::Json(_) => continue,
            Frame::Closed(code, _) => return code,
            Frame::Ended => panic!("the socket ended without a close frame"),
        }
    }
}

#[tokio::test]
async fn revoking_another_device_refuses_its_token_and_closes_its_sockets() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let phone = login_from(&server, &alice, ("192.0.2.7", Some("Phone/2"))).await;
    let phone_session = current_session(&server, &phone).await;
    let mut phone_socket = server.ws_ready(bearer(&phone.access)).await;
    phone_socket
        .subscribe(
            "n",
            "subscription { notificationAdded { kind } }",
            json!({}),
        )
        .await;
    let mut laptop_socket = server.ws_ready(bearer(&alice.access)).await;
    server.wait_for_subscriptions(1).await;

    let data = ok(
        &server,
        REVOKE,
        json!({"id": phone_session}),
        Some(&alice.access),
    )
    .await;
    assert_eq!(data["revokeSession"], phone_session);
    assert_eq!(close_code(&mut phone_socket).await, 4403);
    let refused = server
        .gql("{ viewer { username } }", json!({}), Some(&phone.access))
        .await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
    let listed = sessions(&server, &alice, json!({})).await;
    assert_eq!(listed["totalCount"], 1);
    // Idempotent, and the laptop goes on (its socket too).
    let again = ok(
        &server,
        REVOKE,
        json!({"id": phone_session}),
        Some(&alice.access),
    )
    .await;
    assert_eq!(again["revokeSession"], phone_session);
    laptop_socket
        .expect_silence(std::time::Duration::from_millis(200))
        .await;

    // Revoking the current session is a logout.
    let current = current_session(&server, &alice).await;
    let data = ok(&server, REVOKE, json!({"id": current}), Some(&alice.access)).await;
    assert_eq!(data["revokeSession"], current);
    assert_eq!(close_code(&mut laptop_socket).await, 4403);
    let refused = server
        .gql("{ viewer { username } }", json!({}), Some(&alice.access))
        .await;
    assert_eq!(error_code(&refused), "UNAUTHENTICATED", "{refused}");
}

#[tokio::test]
async fn a_sign_in_over_a_websocket_keeps_the_upgrades_user_agent() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let headers = [
        ("Sec-WebSocket-Protocol", "graphql-transport-ws"),
        ("User-Agent", "WsAgent/1"),
    ];
    let (mut client, _) = WsClient::handshake(server.addr, &headers).await;
    client.init(json!({})).await;
    let vars = json!({"i": {"email": alice.email, "password": alice.password}});
    client.subscribe("l", LOGIN, vars).await;
    let reply = client.next_json().await;
    let access = reply["payload"]["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply}"))
        .to_owned();
    let over_ws = Account {
        access,
        ..alice.clone()
    };
    let newest = &nodes(&sessions(&server, &over_ws, json!({"first": 1})).await)[0];
    assert_eq!(newest["userAgent"], "WsAgent/1");
    assert_eq!(newest["clientIp"], "127.0.0.1");
    assert_eq!(newest["isCurrent"], true);
}

#[tokio::test]
async fn delete_account_needs_the_password_and_is_throttled() {
    let app = TestApp::with_config(&[("AUTH_ATTEMPTS_PER_ACCOUNT", "3")]).await;
    let alice = app.register("alice").await;
    publish(&app, &alice, "Stays").await;
    let device = ("203.0.113.9", None);
    let anonymous = from_device(
        &app,
        device,
        &[],
        DELETE,
        json!({"p": alice.password}),
        None,
    )
    .await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    let long = "x".repeat(100_000);
    for wrong in ["wrong password", long.as_str()] {
        let body = from_device(
            &app,
            device,
            &[],
            DELETE,
            json!({"p": wrong}),
            Some(&alice.access),
        )
        .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        let fields = field_errors(&body);
        assert_eq!(
            fields,
            [(
                "password".to_owned(),
                "is not your current password".to_owned()
            )]
        );
    }
    let db = connect(&app.database_url()).await;
    let count = |sql: &'static str| {
        let db = &db;
        async move { db.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(count("SELECT count(*) FROM users").await, 1);
    assert_eq!(count("SELECT count(*) FROM articles").await, 1);
    assert_eq!(
        count("SELECT count(*) FROM sessions WHERE revoked_at IS NULL").await,
        1
    );
    // The third guess from this address is the last one this minute.
    let body = from_device(
        &app,
        device,
        &[],
        DELETE,
        json!({"p": "guess"}),
        Some(&alice.access),
    )
    .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let body = from_device(
        &app,
        device,
        &[],
        DELETE,
        json!({"p": alice.password}),
        Some(&alice.access),
    )
    .await;
    assert_eq!(error_code(&body), "RATE_LIMITED", "{body}");
    assert!(
        body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert_eq!(count("SELECT count(*) FROM users").await, 1);
}

/// Every counter kept in a column, each with a fresh count of what it counts: rows whose
/// counter differs (none when all are true).
const COUNTERS_OFF: &str = "\
SELECT 'favorites of ' || a.slug FROM articles a
  WHERE a.favorites_count <> (SELECT count(*) FROM favorites f WHERE f.article_id = a.id)
UNION ALL SELECT 'comments of ' || a.slug FROM articles a
  WHERE a.comments_count <> (SELECT count(*) FROM comments c WHERE c.article_id = a.id)
UNION ALL SELECT 'followers of ' || u.username FROM users u
  WHERE u.followers_count <> (SELECT count(*) FROM follows f WHERE f.followee_id = u.id)
UNION ALL SELECT 'following of ' || u.username FROM users u
  WHERE u.following_count <> (SELECT count(*) FROM follows f WHERE f.follower_id = u.id)
UNION ALL SELECT 'tag ' || t.name FROM tags t
  WHERE t.articles_count <> (SELECT count(*) FROM articles a WHERE a.tags @> ARRAY[t.name])
     OR t.articles_count <= 0
UNION ALL SELECT 'untracked tag ' || name FROM (SELECT DISTINCT unnest(tags) AS name FROM articles) n
  WHERE NOT EXISTS (SELECT 1 FROM tags t WHERE t.name = n.name)
UNION ALL SELECT 'article_total' FROM article_total
  WHERE articles <> (SELECT count(*) FROM articles)";

/// Rows anywhere that belong to or point at user `id`.
const REMAINS: &str = "\
SELECT 'users', count(*) FROM users WHERE id = $1
UNION ALL SELECT 'sessions', count(*) FROM sessions WHERE user_id = $1
UNION ALL SELECT 'used_refresh_tokens', count(*) FROM used_refresh_tokens
  WHERE session_id = ANY($2)
UNION ALL SELECT 'articles', count(*) FROM articles WHERE author_id = $1
UNION ALL SELECT 'comments', count(*) FROM comments WHERE author_id = $1
  OR article_id = ANY($3)
UNION ALL SELECT 'favorites', count(*) FROM favorites WHERE user_id = $1
  OR article_id = ANY($3)
UNION ALL SELECT 'follows', count(*) FROM follows WHERE follower_id = $1 OR followee_id = $1
UNION ALL SELECT 'notifications', count(*) FROM notifications
  WHERE recipient_id = $1 OR actor_id = $1 OR article_id = ANY($3)";

const FAVORITE: &str = "mutation($s: String!) { favoriteArticle(slug: $s) { slug } }";
const FOLLOW: &str = "mutation($u: String!) { followUser(username: $u) { username } }";
const CREATE_TAGGED: &str =
    "mutation($input: CreateArticleInput!) { createArticle(input: $input) { slug } }";

async fn tagged(app: &TestApp, who: &Account, title: &str, tags: &[&str]) -> String {
    let input = json!({"input": {"title": title, "description": "d", "body": "b", "tags": tags}});
    let data = ok(app, CREATE_TAGGED, input, Some(&who.access)).await;
    data["createArticle"]["slug"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn delete_account_removes_everything_of_theirs_and_keeps_every_counter_true() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    // Alice writes two articles (one tag shared with Bob's, one only hers), Bob and Carol
    // one each.
    let hers = tagged(&server, &alice, "Hers", &["shared", "only-hers"]).await;
    let also_hers = tagged(&server, &alice, "Also hers", &["only-hers"]).await;
    let his = tagged(&server, &bob, "His", &["shared"]).await;
    let carols = tagged(&server, &carol, "Carols", &[]).await;
    // Favorites every way: hers on his, on Carol's and on her own; theirs on hers and his.
    for (who, slug) in [
        (&alice, &his),
        (&alice, &carols),
        (&alice, &hers),
        (&bob, &hers),
        (&carol, &his),
        (&carol, &also_hers),
    ] {
        ok(&server, FAVORITE, json!({"s": slug}), Some(&who.access)).await;
    }
    // Comments: hers on his (twice), on Carol's and on her own; theirs on hers and his.
    for (who, slug) in [
        (&alice, &his),
        (&alice, &his),
        (&alice, &carols),
        (&alice, &hers),
        (&bob, &hers),
        (&carol, &his),
    ] {
        comment(&server, who, slug, "words").await;
    }
    // Follows both ways: she follows Bob; Bob and Carol follow her; Carol follows Bob.
    for (who, whom) in [
        (&alice, "bob"),
        (&bob, "alice"),
        (&carol, "alice"),
        (&carol, "bob"),
    ] {
        ok(&server, FOLLOW, json!({"u": whom}), Some(&who.access)).await;
    }
    // A second session, refreshed once (a used refresh token), with a socket open; Bob
    // follows her article live.
    let phone = login_from(&server, &alice, ("192.0.2.7", Some("Phone/2"))).await;
    let refresh = "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }";
    let data = ok(&server, refresh, json!({"t": phone.refresh}), None).await;
    let phone_access = data["refreshSession"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut her_socket = server.ws_ready(bearer(&phone_access)).await;
    her_socket
        .subscribe(
            "n",
            "subscription { notificationAdded { kind } }",
            json!({}),
        )
        .await;
    let mut his_socket = server.ws_ready(bearer(&bob.access)).await;
    his_socket
        .subscribe(
            "c",
            "subscription($s: String!) { commentAdded(articleSlug: $s) { body } }",
            json!({"s": hers}),
        )
        .await;
    his_socket
        .subscribe(
            "u",
            "subscription($s: String!) { articleUpdated(slug: $s) { favoritesCount } }",
            json!({"s": his}),
        )
        .await;
    server.wait_for_subscriptions(3).await;

    let db = connect(&server.database_url()).await;
    let off: Vec<String> = db
        .query(COUNTERS_OFF, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(off.is_empty(), "counters before: {off:?}");
    let user_id: i64 = db
        .query_one("SELECT id FROM users WHERE username = 'alice'", &[])
        .await
        .unwrap()
        .get(0);
    let session_ids: Vec<i64> = db
        .query("SELECT id FROM sessions WHERE user_id = $1", &[&user_id])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let article_ids: Vec<i64> = db
        .query("SELECT id FROM articles WHERE author_id = $1", &[&user_id])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let remains = || async {
        db.query(REMAINS, &[&user_id, &session_ids, &article_ids])
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1)))
            .filter(|(_, n)| *n > 0)
            .collect::<Vec<_>>()
    };
    let before = remains().await;
    for table in [
        "users",
        "sessions",
        "used_refresh_tokens",
        "articles",
        "comments",
        "favorites",
        "follows",
        "notifications",
    ] {
        assert!(
            before.iter().any(|(t, _)| t == table),
            "no {table} row to delete: {before:?}"
        );
    }

    let data = ok(
        &server,
        DELETE,
        json!({"p": alice.password}),
        Some(&alice.access),
    )
    .await;
    assert_eq!(data["deleteAccount"], alice.id);

    assert_eq!(remains().await, Vec::<(String, i64)>::new());
    let off: Vec<String> = db
        .query(COUNTERS_OFF, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(off.is_empty(), "counters after: {off:?}");
    let tags: Vec<(String, i32)> = db
        .query("SELECT name, articles_count FROM tags ORDER BY name", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(tags, [("shared".to_owned(), 1)]);
    let counts = "{ b: user(username: \"bob\") { followersCount followingCount } \
                  c: user(username: \"carol\") { followersCount followingCount } \
                  a: user(username: \"alice\") { username } \
                  articles { totalCount nodes { slug favoritesCount commentsCount } } }";
    let data = ok(&server, counts, json!({}), None).await;
    assert_eq!(data["a"], Value::Null);
    assert_eq!(data["b"], json!({"followersCount": 1, "followingCount": 0}));
    assert_eq!(data["c"], json!({"followersCount": 0, "followingCount": 1}));
    assert_eq!(
        data["articles"],
        json!({"totalCount": 2, "nodes": [
            {"slug": carols, "favoritesCount": 0, "commentsCount": 0},
            {"slug": his, "favoritesCount": 1, "commentsCount": 1},
        ]})
    );

    // Her sessions are gone everywhere: tokens refused, her socket closed; Bob's
    // subscription to her article completes and his article's favorites count went down.
    for token in [&alice.access, &phone_access] {
        let body = server
            .gql("{ viewer { username } }", json!({}), Some(token))
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    assert_eq!(close_code(&mut her_socket).await, 4403);
    let mut heard = Vec::new();
    for _ in 0..2 {
        heard.push(his_socket.next_json().await);
    }
    heard.sort_by_key(|m| m["id"].as_str().unwrap().to_owned());
    assert_eq!(
        heard,
        [
            json!({"id": "c", "type": "complete"}),
            json!({"id": "u", "type": "next", "payload": {"data": {"articleUpdated": {"favoritesCount": 1}}}}),
        ]
    );
    let again = server
        .gql(DELETE, json!({"p": alice.password}), Some(&alice.access))
        .await;
    assert_eq!(error_code(&again), "UNAUTHENTICATED", "{again}");
}
