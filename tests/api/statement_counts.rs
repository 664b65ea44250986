//! No N+1: the SQL statements a query sends depend on its shape, not on page sizes; each
//! documented query and every mutation sends exactly its documented count.
//!
//! Counted by diesel's instrumentation on every connection the request used (its read
//! connection and its writes' own) and reported in `extensions.sqlStatements` (session
//! lookup, BEGIN and COMMIT included; the pool's checkout sends none).

use serde_json::{Value, json};

use crate::helpers::{Account, TestApp};

const ARTICLE_FIELDS: &str = "slug title description tags createdAt favoritesCount \
     viewerHasFavorited author { username image viewerIsFollowing }";

fn home(n: usize) -> String {
    format!("{{ articles(first: {n}) {{ totalCount nodes {{ {ARTICLE_FIELDS} }} }} }}")
}

fn feed(n: usize) -> String {
    format!("{{ feed(first: {n}) {{ totalCount nodes {{ {ARTICLE_FIELDS} }} }} }}")
}

fn profile(n: usize) -> String {
    format!(
        "{{ user(username: \"writer1\") {{ followersCount viewerIsFollowing \
         articles(first: {n}) {{ totalCount nodes {{ {ARTICLE_FIELDS} }} }} \
         favoriteArticles(first: {n}) {{ totalCount nodes {{ {ARTICLE_FIELDS} }} }} \
         followers(first: {n}) {{ nodes {{ username viewerIsFollowing }} }} }} }}"
    )
}

struct World {
    app: TestApp,
    reader: Account,
    writer1: Account,
}

/// Three writers with 60 articles between them; the reader follows two of them and some
/// of the fans; writer1 favorites 55 articles and has 11 followers (the reader, 10 fans).
async fn world() -> World {
    let app = TestApp::with_config(&[("REPORT_SQL_STATEMENTS", "true")]).await;
    let reader = app.register("reader").await;
    let mut writers = Vec::new();
    for i in 1..=3 {
        writers.push(app.register(&format!("writer{i}")).await);
    }
    let mut slugs = Vec::new();
    for i in 0..60 {
        let body = app
            .gql(
                "mutation($input: CreateArticleInput!) { createArticle(input: $input) { slug } }",
                json!({"input": {"title": format!("Article {i}"), "description": "d",
                                 "body": "b", "tags": [format!("t{}", i % 7), "common"]}}),
                Some(&writers[i % 3].access),
            )
            .await;
        slugs.push(
            body["data"]["createArticle"]["slug"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for slug in slugs.iter().take(55) {
        mutate(
            &app,
            &writers[0],
            &format!("favoriteArticle(slug: \"{slug}\") {{ slug }}"),
        )
        .await;
    }
    for slug in slugs.iter().step_by(4) {
        mutate(
            &app,
            &reader,
            &format!("favoriteArticle(slug: \"{slug}\") {{ slug }}"),
        )
        .await;
    }
    for writer in ["writer1", "writer2"] {
        mutate(
            &app,
            &reader,
            &format!("followUser(username: \"{writer}\") {{ id }}"),
        )
        .await;
    }
    let mut fans = Vec::new();
    for i in 0..10 {
        let fan = app.register(&format!("fan{i}")).await;
        mutate(&app, &fan, "followUser(username: \"writer1\") { id }").await;
        if i % 2 == 0 {
            mutate(
                &app,
                &reader,
                &format!("followUser(username: \"fan{i}\") {{ id }}"),
            )
            .await;
        }
        fans.push(fan);
    }
    // Two comments on every article, by two fans: writer1 gets COMMENT_ADDED for each.
    for slug in &slugs {
        for fan in &fans[..2] {
            let body = app
                .gql(
                    "mutation($slug: String!) { addComment(articleSlug: $slug, body: \"Nice\") { id } }",
                    json!({"slug": slug}),
                    Some(&fan.access),
                )
                .await;
            assert!(body.get("errors").is_none(), "{body}");
        }
    }
    let writer1 = writers.swap_remove(0);
    World {
        app,
        reader,
        writer1,
    }
}

async fn mutate(app: &TestApp, who: &Account, selection: &str) {
    let body = app
        .gql(
            &format!("mutation {{ {selection} }}"),
            json!({}),
            Some(&who.access),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
}

/// Runs `query` as the reader; returns its data and statement count.
async fn run(w: &World, query: &str) -> (Value, i64) {
    run_as(w, &w.reader, query).await
}

/// Runs `query` as `who`; returns its data and statement count.
async fn run_as(w: &World, who: &Account, query: &str) -> (Value, i64) {
    let body = w.app.gql(query, json!({}), Some(&who.access)).await;
    assert!(body.get("errors").is_none(), "{body}");
    let count = body["extensions"]["sqlStatements"]
        .as_i64()
        .unwrap_or_else(|| panic!("no statement count: {body}"));
    (body["data"].clone(), count)
}

fn len(value: &Value) -> usize {
    value.as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn statement_counts_do_not_grow_with_page_size() {
    let w = world().await;

    let (small, home_5) = run(&w, &home(5)).await;
    let (large, home_50) = run(&w, &home(50)).await;
    assert_eq!(len(&small["articles"]["nodes"]), 5);
    assert_eq!(len(&large["articles"]["nodes"]), 50);
    assert_eq!(large["articles"]["totalCount"], 60);
    let followed = large["articles"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["author"]["viewerIsFollowing"] == true)
        .count();
    assert!(followed > 0 && followed < 50, "viewer flags were computed");

    let (small, feed_5) = run(&w, &feed(5)).await;
    let (large, feed_50) = run(&w, &feed(50)).await;
    assert_eq!(len(&small["feed"]["nodes"]), 5);
    assert_eq!(len(&large["feed"]["nodes"]), 40);
    assert_eq!(large["feed"]["totalCount"], 40);

    let (small, profile_5) = run(&w, &profile(5)).await;
    let (large, profile_50) = run(&w, &profile(50)).await;
    assert_eq!(len(&small["user"]["favoriteArticles"]["nodes"]), 5);
    assert_eq!(len(&large["user"]["favoriteArticles"]["nodes"]), 50);
    assert_eq!(len(&large["user"]["articles"]["nodes"]), 20);
    assert_eq!(len(&large["user"]["followers"]["nodes"]), 11);
    assert_eq!(large["user"]["followersCount"], 11);

    eprintln!(
        "statements: home {home_5}/{home_50}, feed {feed_5}/{feed_50}, \
         profile {profile_5}/{profile_50} (first: 5 / first: 50)"
    );
    assert_eq!(home_5, home_50, "home");
    assert_eq!(feed_5, feed_50, "feed");
    assert_eq!(profile_5, profile_50, "profile");
    // The documented counts (README, "Lists and pagination"), exactly.
    assert_eq!(home_50, 6, "home");
    assert_eq!(feed_50, 6, "feed");
    assert_eq!(profile_50, 12, "profile");
}

#[tokio::test]
async fn total_count_is_only_computed_when_selected() {
    let w = world().await;
    let (_, with_count) = run(&w, "{ articles(first: 3) { totalCount nodes { slug } } }").await;
    let (_, without) = run(&w, "{ articles(first: 3) { nodes { slug } } }").await;
    assert_eq!(with_count, without + 1);
}

fn home_with_comments(n: usize) -> String {
    format!(
        "{{ articles(first: {n}) {{ totalCount nodes {{ {ARTICLE_FIELDS} commentsCount \
         comments(first: 3) {{ nodes {{ body author {{ username }} }} }} }} }} }}"
    )
}

fn notifications(n: usize) -> String {
    format!(
        "{{ viewer {{ unreadNotificationsCount notifications(first: {n}) {{ totalCount \
         nodes {{ kind createdAt actor {{ username }} article {{ slug }} \
         comment {{ body author {{ username }} }} }} }} }} }}"
    )
}

#[tokio::test]
async fn comments_and_notifications_keep_counts_constant() {
    let w = world().await;

    let (small, home_5) = run(&w, &home_with_comments(5)).await;
    let (large, home_50) = run(&w, &home_with_comments(50)).await;
    assert_eq!(len(&small["articles"]["nodes"]), 5);
    let nodes = large["articles"]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 50);
    assert!(
        nodes
            .iter()
            .all(|a| a["commentsCount"] == 2 && len(&a["comments"]["nodes"]) == 2)
    );
    assert_eq!(
        nodes[0]["comments"]["nodes"][0]["author"]["username"],
        "fan0"
    );

    let (small, notes_5) = run_as(&w, &w.writer1, &notifications(5)).await;
    let (large, notes_50) = run_as(&w, &w.writer1, &notifications(50)).await;
    assert_eq!(len(&small["viewer"]["notifications"]["nodes"]), 5);
    assert_eq!(len(&large["viewer"]["notifications"]["nodes"]), 50);
    let total = large["viewer"]["notifications"]["totalCount"]
        .as_i64()
        .unwrap();
    // 10 fans and the reader follow writer1, the reader favorites 5 of writer1's
    // articles, the fans comment twice on each of writer1's 20.
    assert_eq!(total, 11 + 5 + 40);
    let kinds: std::collections::BTreeSet<&str> = large["viewer"]["notifications"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains("COMMENT_ADDED"), "{kinds:?}");

    eprintln!(
        "statements: home with comments {home_5}/{home_50}, \
         notifications {notes_5}/{notes_50} (first: 5 / first: 50)"
    );
    assert_eq!(home_5, home_50, "home with comments");
    assert_eq!(home_50, 8, "home with comments");
    assert_eq!(notes_5, notes_50, "notifications");
    assert_eq!(notes_50, 9, "notifications");
}

/// Runs `query` with `variables` as `token`'s holder; returns the body and its count.
async fn counted(
    app: &TestApp,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> (Value, i64) {
    // As a served request: from a client address, which the sign-in throttle counts.
    let body = crate::throttle::gql_from(app, "203.0.113.7", query, variables, token).await;
    assert!(body.get("errors").is_none(), "{query}: {body}");
    let count = body["extensions"]["sqlStatements"]
        .as_i64()
        .unwrap_or_else(|| panic!("no statement count: {body}"));
    (body["data"].clone(), count)
}

/// Every mutation sends exactly its documented statements: the reads of the request's
/// connection and the writes' own connections (their transactions' BEGIN and COMMIT
/// included). Each row: the mutation, its exact count.
#[tokio::test]
async fn every_mutation_sends_exactly_its_documented_statements() {
    let app = TestApp::with_config(&[("REPORT_SQL_STATEMENTS", "true")]).await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let mut seen: Vec<(&str, i64)> = Vec::new();
    let auth = format!("{{ {} }}", crate::helpers::AUTH_FIELDS);

    let register = format!("mutation($i: RegisterInput!) {{ register(input: $i) {auth} }}");
    let input = json!({"i": {"username": "mary", "email": "mary@example.com", "password": "correct horse"}});
    let (data, n) = counted(&app, &register, input, None).await;
    seen.push(("register", n));
    let mary_refresh = data["register"]["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let login = format!("mutation($i: LoginInput!) {{ login(input: $i) {auth} }}");
    let input = json!({"i": {"email": "mary@example.com", "password": "correct horse"}});
    seen.push(("login", counted(&app, &login, input, None).await.1));

    let refresh = format!("mutation($t: String!) {{ refreshSession(refreshToken: $t) {auth} }}");
    let (data, n) = counted(&app, &refresh, json!({"t": mary_refresh}), None).await;
    seen.push(("refreshSession", n));
    let mary_access = data["refreshSession"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let update = "mutation { updateViewer(input: {bio: \"hi\"}) { username bio } }";
    seen.push((
        "updateViewer",
        counted(&app, update, json!({}), Some(&jane.access)).await.1,
    ));

    let follow = "mutation { followUser(username: \"jane\") { username viewerIsFollowing } }";
    seen.push((
        "followUser",
        counted(&app, follow, json!({}), Some(&john.access)).await.1,
    ));
    let unfollow = "mutation { unfollowUser(username: \"jane\") { username viewerIsFollowing } }";
    seen.push((
        "unfollowUser",
        counted(&app, unfollow, json!({}), Some(&john.access))
            .await
            .1,
    ));

    let create = "mutation { createArticle(input: {title: \"Counted\", description: \"d\", \
                  body: \"b\", tags: [\"x\", \"y\"]}) { slug tags } }";
    seen.push((
        "createArticle",
        counted(&app, create, json!({}), Some(&jane.access)).await.1,
    ));
    let edit =
        "mutation { updateArticle(slug: \"counted\", input: {title: \"Recounted\"}) { slug } }";
    seen.push((
        "updateArticle",
        counted(&app, edit, json!({}), Some(&jane.access)).await.1,
    ));

    let favorite =
        "mutation { favoriteArticle(slug: \"recounted\") { favoritesCount viewerHasFavorited } }";
    seen.push((
        "favoriteArticle",
        counted(&app, favorite, json!({}), Some(&john.access))
            .await
            .1,
    ));
    let unfavorite =
        "mutation { unfavoriteArticle(slug: \"recounted\") { favoritesCount viewerHasFavorited } }";
    seen.push((
        "unfavoriteArticle",
        counted(&app, unfavorite, json!({}), Some(&john.access))
            .await
            .1,
    ));

    let comment = "mutation { addComment(articleSlug: \"recounted\", body: \"Nice\") { id body } }";
    let (data, n) = counted(&app, comment, json!({}), Some(&john.access)).await;
    seen.push(("addComment", n));
    let comment_id = data["addComment"]["id"].as_str().unwrap().to_owned();
    let delete_comment = "mutation($id: ID!) { deleteComment(id: $id) }";
    let vars = json!({"id": comment_id});
    seen.push((
        "deleteComment",
        counted(&app, delete_comment, vars, Some(&john.access))
            .await
            .1,
    ));

    let inbox = "{ viewer { notifications(first: 1) { nodes { id } } } }";
    let (data, _) = counted(&app, inbox, json!({}), Some(&jane.access)).await;
    let note_id = data["viewer"]["notifications"]["nodes"][0]["id"].clone();
    let mark_all = "mutation { markNotificationsRead }";
    seen.push((
        "markNotificationsRead",
        counted(&app, mark_all, json!({}), Some(&jane.access))
            .await
            .1,
    ));
    let mark_some = "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }";
    let vars = json!({"ids": [note_id]});
    seen.push((
        "markNotificationsRead(ids)",
        counted(&app, mark_some, vars, Some(&jane.access)).await.1,
    ));

    let delete = "mutation { deleteArticle(slug: \"recounted\") }";
    seen.push((
        "deleteArticle",
        counted(&app, delete, json!({}), Some(&jane.access)).await.1,
    ));

    let change = "mutation { changePassword(currentPassword: \"correct horse\", \
                  newPassword: \"battery staple\") { accessToken } }";
    let (data, n) = counted(&app, change, json!({}), Some(&mary_access)).await;
    seen.push(("changePassword", n));
    let renewed = data["changePassword"]["accessToken"].as_str().unwrap();
    let (_, n) = counted(&app, "mutation { logout }", json!({}), Some(renewed)).await;
    seen.push(("logout", n));

    // John signs in on another device, then revokes that session from his first one.
    let input = json!({"i": {"email": john.email, "password": john.password}});
    let (data, _) = counted(&app, &login, input, None).await;
    let other = data["login"]["accessToken"].as_str().unwrap().to_owned();
    let current = "{ viewer { sessions(first: 1) { nodes { id isCurrent } } } }";
    let (data, _) = counted(&app, current, json!({}), Some(&other)).await;
    let other_session = data["viewer"]["sessions"]["nodes"][0].clone();
    assert_eq!(other_session["isCurrent"], true);
    let revoke = "mutation($id: ID!) { revokeSession(id: $id) }";
    let vars = json!({"id": other_session["id"]});
    seen.push((
        "revokeSession",
        counted(&app, revoke, vars, Some(&john.access)).await.1,
    ));
    // Jane (an article with two tags, a follower, notifications) deletes her account.
    counted(&app, follow, json!({}), Some(&john.access)).await;
    let create = "mutation { createArticle(input: {title: \"Last\", description: \"d\", \
                  body: \"b\", tags: [\"x\", \"y\"]}) { slug } }";
    counted(&app, create, json!({}), Some(&jane.access)).await;
    let delete_account = "mutation($p: String!) { deleteAccount(password: $p) }";
    let vars = json!({"p": jane.password});
    seen.push((
        "deleteAccount",
        counted(&app, delete_account, vars, Some(&jane.access))
            .await
            .1,
    ));

    // followUser, createArticle, updateArticle, favoriteArticle, addComment and
    // deleteArticle each queue their webhook deliveries: one INSERT ... SELECT, whether
    // the owner has webhooks or not.
    let expected: Vec<(&str, i64)> = vec![
        ("register", 8),
        // The new-device notice's INSERT ... SELECT ... WHERE NOT EXISTS is one of them.
        ("login", 7),
        ("refreshSession", 7),
        ("updateViewer", 2),
        ("followUser", 11),
        ("unfollowUser", 8),
        ("createArticle", 10),
        ("updateArticle", 10),
        // viewerHasFavorited is what the write made it: no read.
        ("favoriteArticle", 10),
        ("unfavoriteArticle", 7),
        ("addComment", 10),
        ("deleteComment", 9),
        ("markNotificationsRead", 4),
        ("markNotificationsRead(ids)", 4),
        ("deleteArticle", 10),
        ("changePassword", 12),
        ("logout", 5),
        ("revokeSession", 8),
        // The farewell mail's outbox row is one of them.
        ("deleteAccount", 15),
    ];
    assert_eq!(seen, expected);
}

/// The webhook mutations send exactly their documented statements too.
#[tokio::test]
async fn webhook_mutations_send_exactly_their_documented_statements() {
    let app = TestApp::with_config(&[("REPORT_SQL_STATEMENTS", "true")]).await;
    let jane = app.register("jane").await;
    let token = Some(jane.access.as_str());
    let mut seen: Vec<(&str, i64)> = Vec::new();
    let create = "mutation { createWebhook(input: {url: \"https://hooks.example.com/in\", \
                  events: [ARTICLE_PUBLISHED]}) { secret webhook { id } } }";
    let (data, n) = counted(&app, create, json!({}), token).await;
    seen.push(("createWebhook", n));
    let vars = json!({"id": data["createWebhook"]["webhook"]["id"]});
    let update = "mutation($id: ID!) { updateWebhook(id: $id, input: {active: false}) { id } }";
    seen.push((
        "updateWebhook",
        counted(&app, update, vars.clone(), token).await.1,
    ));
    let rotate = "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }";
    seen.push((
        "rotateWebhookSecret",
        counted(&app, rotate, vars.clone(), token).await.1,
    ));
    let ping = "mutation($id: ID!) { pingWebhook(id: $id) { id status } }";
    let (data, n) = counted(&app, ping, vars.clone(), token).await;
    seen.push(("pingWebhook", n));
    let redeliver = "mutation($id: ID!) { redeliverWebhookDelivery(id: $id) { id status } }";
    let delivery = json!({"id": data["pingWebhook"]["id"]});
    seen.push((
        "redeliverWebhookDelivery",
        counted(&app, redeliver, delivery, token).await.1,
    ));
    let delete = "mutation($id: ID!) { deleteWebhook(id: $id) }";
    seen.push(("deleteWebhook", counted(&app, delete, vars, token).await.1));
    let expected: Vec<(&str, i64)> = vec![
        // The session, BEGIN, the owner locked, the count of their webhooks, the insert,
        // COMMIT.
        ("createWebhook", 6),
        // The session, BEGIN, the webhook locked (owner only), the write, COMMIT.
        ("updateWebhook", 5),
        ("rotateWebhookSecret", 5),
        ("pingWebhook", 5),
        // The session, BEGIN, the delivery with its owner, the requeue, the delivery
        // again, COMMIT.
        ("redeliverWebhookDelivery", 6),
        ("deleteWebhook", 5),
    ];
    assert_eq!(seen, expected);
}
