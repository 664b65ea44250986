//! Notifications: who hears of what (NEW_FOLLOWER, ARTICLE_FAVORITED, COMMENT_ADDED,
//! ARTICLE_PUBLISHED), `User.notifications` (newest first, paged both ways, `unreadOnly`),
//! `unreadNotificationsCount`, markNotificationsRead, what deleting an article takes along,
//! the guard matrix, and one RealWorld session from sign-up to clean-up.

use conduit::{
    domain::{accounts, policy::Role},
    graphql::node::{NodeKind, global_id},
};
use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, error_code, field_errors};

const NOTIFICATION: &str =
    "id kind actor { username } article { slug } comment { body } createdAt readAt";

const PAGE_INFO: &str = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }";

fn inbox_query() -> String {
    format!(
        "query($first: Int, $after: String, $last: Int, $before: String, $unreadOnly: Boolean) \
         {{ viewer {{ unreadNotificationsCount page: notifications(first: $first, after: $after, \
         last: $last, before: $before, unreadOnly: $unreadOnly) \
         {{ totalCount edges {{ cursor node {{ {NOTIFICATION} }} }} nodes {{ {NOTIFICATION} }} {PAGE_INFO} }} }} }}"
    )
}

const MARK: &str = "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }";

/// One page of `who`'s notifications (`viewer.notifications` with `vars`); asserts there
/// are no errors and that edges, nodes and cursors agree. Returns the connection with
/// `unread` (the viewer's `unreadNotificationsCount`) added.
async fn page(app: &TestApp, who: &Account, vars: Value) -> Value {
    let body = app
        .gql(&inbox_query(), vars.clone(), Some(&who.access))
        .await;
    assert!(body.get("errors").is_none(), "{vars}: {body}");
    let viewer = &body["data"]["viewer"];
    let mut page = viewer["page"].clone();
    let edges = page["edges"].as_array().unwrap();
    let from_edges: Vec<&Value> = edges.iter().map(|e| &e["node"]).collect();
    let nodes: Vec<&Value> = page["nodes"].as_array().unwrap().iter().collect();
    assert_eq!(from_edges, nodes, "edges and nodes agree: {page}");
    let first = edges.first().map_or(Value::Null, |e| e["cursor"].clone());
    let last = edges.last().map_or(Value::Null, |e| e["cursor"].clone());
    assert_eq!(page["pageInfo"]["startCursor"], first, "{page}");
    assert_eq!(page["pageInfo"]["endCursor"], last, "{page}");
    page["unread"] = viewer["unreadNotificationsCount"].clone();
    page
}

/// A notification in short: kind, actor, article slug, comment body, and whether read.
fn summary(node: &Value) -> Value {
    json!({
        "kind": node["kind"],
        "actor": node["actor"]["username"],
        "article": node["article"]["slug"],
        "comment": node["comment"]["body"],
        "read": !node["readAt"].is_null(),
    })
}

fn summaries(page: &Value) -> Vec<Value> {
    page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(summary)
        .collect()
}

/// An unread notification in short.
fn note(kind: &str, actor: &str, article: Option<&str>, comment: Option<&str>) -> Value {
    json!({"kind": kind, "actor": actor, "article": article, "comment": comment, "read": false})
}

/// All of `who`'s notifications in short, newest first, checking `totalCount`.
async fn inbox(app: &TestApp, who: &Account) -> Vec<Value> {
    let all = page(app, who, json!({"first": 100})).await;
    let list = summaries(&all);
    assert_eq!(all["totalCount"], list.len(), "{all}");
    list
}

/// `who`'s `unreadNotificationsCount`.
async fn unread(app: &TestApp, who: &Account) -> i64 {
    let body = app
        .gql(
            "{ viewer { unreadNotificationsCount } }",
            json!({}),
            Some(&who.access),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["viewer"]["unreadNotificationsCount"]
        .as_i64()
        .unwrap()
}

/// All of `who`'s notifications, whole, newest first.
async fn nodes_of(app: &TestApp, who: &Account) -> Vec<Value> {
    page(app, who, json!({"first": 100})).await["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

/// Runs `query` with `vars` as `who`, asserting there are no errors; returns `data`.
async fn ok(app: &TestApp, who: &Account, query: &str, vars: Value) -> Value {
    let body = app.gql(query, vars, Some(&who.access)).await;
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

async fn follow(app: &TestApp, who: &Account, username: &str) {
    ok(
        app,
        who,
        "mutation($u: String!) { followUser(username: $u) { username } }",
        json!({ "u": username }),
    )
    .await;
}

async fn unfollow(app: &TestApp, who: &Account, username: &str) {
    ok(
        app,
        who,
        "mutation($u: String!) { unfollowUser(username: $u) { username } }",
        json!({ "u": username }),
    )
    .await;
}

async fn favorite(app: &TestApp, who: &Account, slug: &str) {
    ok(
        app,
        who,
        "mutation($s: String!) { favoriteArticle(slug: $s) { slug } }",
        json!({ "s": slug }),
    )
    .await;
}

async fn unfavorite(app: &TestApp, who: &Account, slug: &str) {
    ok(
        app,
        who,
        "mutation($s: String!) { unfavoriteArticle(slug: $s) { slug } }",
        json!({ "s": slug }),
    )
    .await;
}

/// `who` publishes `title`; returns `{id slug createdAt}`.
async fn publish(app: &TestApp, who: &Account, title: &str) -> Value {
    ok(
        app,
        who,
        "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id slug createdAt } }",
        json!({"input": {"title": title, "description": "", "body": "Body"}}),
    )
    .await["createArticle"]
        .clone()
}

/// `who` comments `text` on `slug`; returns `{id body createdAt}`.
async fn comment(app: &TestApp, who: &Account, slug: &str, text: &str) -> Value {
    ok(
        app,
        who,
        "mutation($s: String!, $b: String!) { addComment(articleSlug: $s, body: $b) { id body createdAt } }",
        json!({"s": slug, "b": text}),
    )
    .await["addComment"]
        .clone()
}

async fn delete_article(app: &TestApp, who: &Account, slug: &str) {
    ok(
        app,
        who,
        "mutation($s: String!) { deleteArticle(slug: $s) }",
        json!({ "s": slug }),
    )
    .await;
}

/// markNotificationsRead(ids) with `token`; the whole response.
async fn mark(app: &TestApp, token: Option<&str>, ids: Value) -> Value {
    app.gql(MARK, json!({ "ids": ids }), token).await
}

/// markNotificationsRead(ids) as `who`, asserting success; returns how many changed.
async fn mark_ok(app: &TestApp, who: &Account, ids: Value) -> i64 {
    let body = mark(app, Some(&who.access), ids.clone()).await;
    assert!(body.get("errors").is_none(), "{ids}: {body}");
    body["data"]["markNotificationsRead"].as_i64().unwrap()
}

/// The distinct `fieldErrors` fields of the first error, sorted.
fn error_fields(body: &Value) -> Vec<String> {
    let mut fields: Vec<String> = field_errors(body).into_iter().map(|(f, _)| f).collect();
    fields.sort();
    fields.dedup();
    fields
}

fn instant(value: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(value.as_str().expect("a DateTime string"))
        .expect("RFC 3339")
        .to_utc()
}

const NEW_FOLLOWER: &str = "NEW_FOLLOWER";
const ARTICLE_FAVORITED: &str = "ARTICLE_FAVORITED";
const COMMENT_ADDED: &str = "COMMENT_ADDED";
const ARTICLE_PUBLISHED: &str = "ARTICLE_PUBLISHED";

/// jane, john and mary, and boss the admin.
struct World {
    app: TestApp,
    jane: Account,
    john: Account,
    mary: Account,
    boss: Account,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let jane = app.register("jane").await;
        let john = app.register("john").await;
        let mary = app.register("mary").await;
        let boss = app.register("boss").await;
        accounts::set_role(&app.state.pool, "boss", Role::Admin)
            .await
            .unwrap();
        Self {
            app,
            jane,
            john,
            mary,
            boss,
        }
    }
}

#[tokio::test]
async fn each_cause_notifies_the_one_it_concerns() {
    let w = World::new().await;
    let app = &w.app;
    for who in [&w.jane, &w.john, &w.mary, &w.boss] {
        assert_eq!(inbox(app, who).await, Vec::<Value>::new());
        assert_eq!(unread(app, who).await, 0);
    }

    follow(app, &w.john, "jane").await;
    assert_eq!(
        inbox(app, &w.jane).await,
        [note(NEW_FOLLOWER, "john", None, None)]
    );

    // Only jane's follower hears of her article; she does not.
    let hello = publish(app, &w.jane, "Hello").await;
    assert_eq!(
        inbox(app, &w.john).await,
        [note(ARTICLE_PUBLISHED, "jane", Some("hello"), None)]
    );
    assert_eq!(inbox(app, &w.mary).await, Vec::<Value>::new());
    assert_eq!(inbox(app, &w.jane).await.len(), 1);

    favorite(app, &w.john, "hello").await;
    let great = comment(app, &w.mary, "hello", "Great").await;
    // An admin is an ordinary actor here.
    follow(app, &w.boss, "jane").await;

    assert_eq!(
        inbox(app, &w.jane).await,
        [
            note(NEW_FOLLOWER, "boss", None, None),
            note(COMMENT_ADDED, "mary", Some("hello"), Some("Great")),
            note(ARTICLE_FAVORITED, "john", Some("hello"), None),
            note(NEW_FOLLOWER, "john", None, None),
        ]
    );
    assert_eq!(unread(app, &w.jane).await, 4);
    assert_eq!(inbox(app, &w.john).await.len(), 1);
    assert_eq!(inbox(app, &w.mary).await, Vec::<Value>::new());
    assert_eq!(inbox(app, &w.boss).await, Vec::<Value>::new());

    // The comment is that comment, and each notification was written in its cause's
    // transaction (PostgreSQL's now() is the transaction's start).
    let jane_nodes = nodes_of(app, &w.jane).await;
    let added = &jane_nodes[1];
    assert_eq!(added["comment"], json!({"body": "Great"}), "{added}");
    let by_node = app
        .gql(
            "query($id: ID!) { node(id: $id) { ... on Notification { comment { id } article { id } } } }",
            json!({"id": added["id"]}),
            Some(&w.jane.access),
        )
        .await;
    assert_eq!(
        by_node,
        json!({"data": {"node": {"comment": {"id": great["id"]}, "article": {"id": hello["id"]}}}})
    );
    assert_eq!(
        added["createdAt"], great["createdAt"],
        "COMMENT_ADDED is written with the comment"
    );
    let john_nodes = nodes_of(app, &w.john).await;
    let published = &john_nodes[0];
    assert_eq!(
        published["createdAt"], hello["createdAt"],
        "ARTICLE_PUBLISHED is written with the article"
    );
    for node in jane_nodes.iter().chain([published]) {
        assert!(node["createdAt"].as_str().unwrap().ends_with('Z'), "{node}");
        assert_eq!(node["readAt"], Value::Null, "{node}");
    }
}

#[tokio::test]
async fn your_own_actions_notify_no_one() {
    let w = World::new().await;
    let app = &w.app;
    publish(app, &w.jane, "Mine").await;
    favorite(app, &w.jane, "mine").await;
    comment(app, &w.jane, "mine", "Replying to myself").await;
    let body = app
        .gql(
            "mutation { followUser(username: \"jane\") { username } }",
            json!({}),
            Some(&w.jane.access),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(inbox(app, &w.jane).await, Vec::<Value>::new());
    assert_eq!(unread(app, &w.jane).await, 0);

    // With a follower, publishing notifies the follower and still not the author.
    follow(app, &w.john, "jane").await;
    publish(app, &w.jane, "Mine again").await;
    assert_eq!(
        inbox(app, &w.jane).await,
        [note(NEW_FOLLOWER, "john", None, None)]
    );
    assert_eq!(
        inbox(app, &w.john).await,
        [note(ARTICLE_PUBLISHED, "jane", Some("mine-again"), None)]
    );
    for who in [&w.mary, &w.boss] {
        assert_eq!(inbox(app, who).await, Vec::<Value>::new());
    }
}

#[tokio::test]
async fn undoing_keeps_notifications_and_repeating_within_the_window_adds_none() {
    let w = World::new().await;
    let app = &w.app;
    let followed = || note(NEW_FOLLOWER, "john", None, None);
    let favorited = || note(ARTICLE_FAVORITED, "john", Some("liked"), None);

    follow(app, &w.john, "jane").await;
    follow(app, &w.john, "jane").await;
    assert_eq!(
        inbox(app, &w.jane).await,
        [followed()],
        "follow is idempotent"
    );
    unfollow(app, &w.john, "jane").await;
    unfollow(app, &w.john, "jane").await;
    assert_eq!(inbox(app, &w.jane).await, [followed()], "unfollow keeps it");

    // Not following any more: no ARTICLE_PUBLISHED.
    publish(app, &w.jane, "Liked").await;
    assert_eq!(inbox(app, &w.john).await, Vec::<Value>::new());

    // Following again within NOTIFICATION_DEDUP_WINDOW (1 h) is a repeat: no new one.
    follow(app, &w.john, "jane").await;
    assert_eq!(
        inbox(app, &w.jane).await,
        [followed()],
        "a repeat adds none"
    );

    favorite(app, &w.john, "liked").await;
    favorite(app, &w.john, "liked").await;
    assert_eq!(
        inbox(app, &w.jane).await,
        [favorited(), followed()],
        "favorite is idempotent"
    );
    unfavorite(app, &w.john, "liked").await;
    unfavorite(app, &w.john, "liked").await;
    assert_eq!(
        inbox(app, &w.jane).await,
        [favorited(), followed()],
        "unfavorite keeps it"
    );
    // Like following: favoriting again within the window adds none.
    favorite(app, &w.john, "liked").await;
    assert_eq!(inbox(app, &w.jane).await, [favorited(), followed()]);
    assert_eq!(unread(app, &w.jane).await, 2);

    // Once the window has passed (the notifications are made 61 minutes old), a new
    // cycle is news again.
    let db = crate::helpers::connect(&app.database_url()).await;
    db.batch_execute("UPDATE notifications SET created_at = now() - interval '61 minutes'")
        .await
        .unwrap();
    unfollow(app, &w.john, "jane").await;
    follow(app, &w.john, "jane").await;
    unfavorite(app, &w.john, "liked").await;
    favorite(app, &w.john, "liked").await;
    assert_eq!(
        inbox(app, &w.jane).await,
        [favorited(), followed(), favorited(), followed()]
    );
    assert_eq!(unread(app, &w.jane).await, 4);
}

#[tokio::test]
async fn follow_and_favorite_cycles_in_a_row_and_in_parallel_notify_once() {
    let w = World::new().await;
    let app = &w.app;
    publish(app, &w.jane, "Liked").await;
    let john = &w.john;
    for _ in 0..5 {
        follow(app, john, "jane").await;
        unfollow(app, john, "jane").await;
        favorite(app, john, "liked").await;
        unfavorite(app, john, "liked").await;
    }
    let cycles = (0..12).map(|i| async move {
        if i % 2 == 0 {
            unfollow(app, john, "jane").await;
            follow(app, john, "jane").await;
        } else {
            unfavorite(app, john, "liked").await;
            favorite(app, john, "liked").await;
        }
    });
    futures_util::future::join_all(cycles).await;
    let mut kinds: Vec<Value> = inbox(app, &w.jane)
        .await
        .iter()
        .map(|n| n["kind"].clone())
        .collect();
    kinds.sort_by_key(|k| k.to_string());
    assert_eq!(kinds, [json!(ARTICLE_FAVORITED), json!(NEW_FOLLOWER)]);
}

#[tokio::test]
async fn with_no_dedup_window_every_cycle_notifies() {
    let app = TestApp::with_config(&[("NOTIFICATION_DEDUP_WINDOW", "0")]).await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    for _ in 0..3 {
        follow(&app, &john, "jane").await;
        unfollow(&app, &john, "jane").await;
    }
    assert_eq!(unread(&app, &jane).await, 3);
}

#[tokio::test]
async fn publishing_notifies_every_follower_once() {
    let w = World::new().await;
    let app = &w.app;
    follow(app, &w.john, "jane").await;
    follow(app, &w.mary, "jane").await;
    follow(app, &w.boss, "john").await;
    let first = publish(app, &w.jane, "First").await;
    let second = publish(app, &w.jane, "Second").await;
    // boss follows john, not jane: he hears nothing of jane's articles.
    let boss_followed = note(NEW_FOLLOWER, "boss", None, None);
    for (follower, earlier) in [(&w.john, Some(boss_followed)), (&w.mary, None)] {
        let mut expected = vec![
            note(ARTICLE_PUBLISHED, "jane", Some("second"), None),
            note(ARTICLE_PUBLISHED, "jane", Some("first"), None),
        ];
        expected.extend(earlier);
        assert_eq!(inbox(app, follower).await, expected);
        let nodes = nodes_of(app, follower).await;
        assert_eq!(nodes[0]["createdAt"], second["createdAt"]);
        assert_eq!(nodes[1]["createdAt"], first["createdAt"]);
        assert_eq!(unread(app, follower).await, expected.len() as i64);
    }
    assert_eq!(inbox(app, &w.boss).await, Vec::<Value>::new());
    assert_eq!(
        inbox(app, &w.jane).await,
        [
            note(NEW_FOLLOWER, "mary", None, None),
            note(NEW_FOLLOWER, "john", None, None),
        ]
    );
}

#[tokio::test]
async fn deleting_an_article_takes_its_notifications_along() {
    // The author deletes it in one world, an admin in the other.
    for deleter in ["jane", "boss"] {
        let w = World::new().await;
        let app = &w.app;
        follow(app, &w.john, "jane").await;
        follow(app, &w.mary, "jane").await;
        publish(app, &w.jane, "Doomed").await;
        publish(app, &w.jane, "Kept").await;
        favorite(app, &w.john, "doomed").await;
        favorite(app, &w.john, "kept").await;
        let doomed_comment = comment(app, &w.mary, "doomed", "on doomed").await;
        comment(app, &w.mary, "kept", "on kept").await;
        assert_eq!(inbox(app, &w.jane).await.len(), 6);
        let doomed_ids: Vec<Value> = nodes_of(app, &w.jane)
            .await
            .into_iter()
            .filter(|n| n["article"]["slug"] == "doomed")
            .map(|n| n["id"].clone())
            .collect();
        assert_eq!(doomed_ids.len(), 2);
        // jane has read one of them already.
        assert_eq!(mark_ok(app, &w.jane, json!([doomed_ids[0]])).await, 1);

        let by = if deleter == "jane" { &w.jane } else { &w.boss };
        delete_article(app, by, "doomed").await;

        assert_eq!(
            inbox(app, &w.jane).await,
            [
                note(COMMENT_ADDED, "mary", Some("kept"), Some("on kept")),
                note(ARTICLE_FAVORITED, "john", Some("kept"), None),
                note(NEW_FOLLOWER, "mary", None, None),
                note(NEW_FOLLOWER, "john", None, None),
            ],
            "deleted by {deleter}"
        );
        assert_eq!(unread(app, &w.jane).await, 4, "deleted by {deleter}");
        for follower in [&w.john, &w.mary] {
            assert_eq!(
                inbox(app, follower).await,
                [note(ARTICLE_PUBLISHED, "jane", Some("kept"), None)],
                "deleted by {deleter}"
            );
        }
        for id in &doomed_ids {
            let body = app
                .gql(
                    "query($id: ID!) { node(id: $id) { id } }",
                    json!({ "id": id }),
                    Some(&w.jane.access),
                )
                .await;
            assert_eq!(
                body,
                json!({"data": {"node": null}}),
                "deleted by {deleter}"
            );
        }
        let body = app
            .gql(
                "query($id: ID!) { node(id: $id) { id } }",
                json!({"id": doomed_comment["id"]}),
                None,
            )
            .await;
        assert_eq!(body, json!({"data": {"node": null}}));
        assert_eq!(mark_ok(app, &w.jane, json!(doomed_ids)).await, 0);
    }
}

// Pages.

/// Walks `who`'s notifications (with `extra` variables) forwards with `first: size`;
/// returns the pages' comment bodies.
async fn walk_forward(
    app: &TestApp,
    who: &Account,
    extra: Value,
    size: usize,
    total: usize,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut after = Value::Null;
    let mut seen = 0;
    for _ in 0..=total {
        let mut vars = extra.clone();
        vars["first"] = json!(size);
        vars["after"] = after.clone();
        let got = page(app, who, vars).await;
        let texts = comment_bodies(&got);
        assert_eq!(texts.len(), size.min(total - seen), "after {seen}: {got}");
        seen += texts.len();
        assert_eq!(got["totalCount"], total, "{got}");
        let info = &got["pageInfo"];
        assert_eq!(info["hasNextPage"], seen < total, "after {seen}: {got}");
        assert_eq!(info["hasPreviousPage"], !after.is_null(), "{got}");
        pages.push(texts);
        if seen >= total {
            return pages;
        }
        after = info["endCursor"].clone();
    }
    panic!("the forward walk did not end: {pages:?}");
}

/// Walks backwards from the end with `last: size`; returns the pages' comment bodies in
/// the order they were fetched.
async fn walk_backward(
    app: &TestApp,
    who: &Account,
    extra: Value,
    size: usize,
    total: usize,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut before = Value::Null;
    let mut seen = 0;
    for _ in 0..=total {
        let mut vars = extra.clone();
        vars["last"] = json!(size);
        vars["before"] = before.clone();
        let got = page(app, who, vars).await;
        let texts = comment_bodies(&got);
        assert_eq!(texts.len(), size.min(total - seen), "after {seen}: {got}");
        seen += texts.len();
        assert_eq!(got["totalCount"], total, "{got}");
        let info = &got["pageInfo"];
        assert_eq!(info["hasPreviousPage"], seen < total, "after {seen}: {got}");
        assert_eq!(info["hasNextPage"], !before.is_null(), "{got}");
        pages.push(texts);
        if seen >= total {
            return pages;
        }
        before = info["startCursor"].clone();
    }
    panic!("the backward walk did not end: {pages:?}");
}

fn comment_bodies(page: &Value) -> Vec<String> {
    page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["comment"]["body"].as_str().unwrap().to_owned())
        .collect()
}

/// john comments "c1".."cn" on jane's article "busy": n COMMENT_ADDED for jane.
async fn seed(w: &World, n: usize) -> Vec<String> {
    publish(&w.app, &w.jane, "Busy").await;
    let mut texts = Vec::new();
    for i in 1..=n {
        let text = format!("c{i}");
        comment(&w.app, &w.john, "busy", &text).await;
        texts.push(text);
    }
    texts
}

#[tokio::test]
async fn notifications_are_listed_newest_first_and_page_both_ways() {
    let w = World::new().await;
    let written = seed(&w, 7).await;
    let c = |i: usize| written[i - 1].clone();

    let default = page(&w.app, &w.jane, json!({})).await;
    assert_eq!(
        comment_bodies(&default),
        (1..=7).rev().map(c).collect::<Vec<_>>()
    );
    assert_eq!(default["pageInfo"]["hasNextPage"], false);

    let forward = walk_forward(&w.app, &w.jane, json!({}), 3, 7).await;
    assert_eq!(
        forward,
        vec![vec![c(7), c(6), c(5)], vec![c(4), c(3), c(2)], vec![c(1)]]
    );
    let backward = walk_backward(&w.app, &w.jane, json!({}), 2, 7).await;
    assert_eq!(
        backward,
        vec![
            vec![c(2), c(1)],
            vec![c(4), c(3)],
            vec![c(6), c(5)],
            vec![c(7)]
        ]
    );

    // A complete tie on createdAt: the ID still orders them, both ways.
    crate::helpers::connect(&w.app.database_url())
        .await
        .batch_execute("UPDATE notifications SET created_at = '2026-01-01T00:00:00Z'")
        .await
        .unwrap();
    let newest_first: Vec<String> = (1..=7).rev().map(c).collect();
    assert_eq!(
        walk_forward(&w.app, &w.jane, json!({}), 2, 7)
            .await
            .concat(),
        newest_first
    );
    let backward: Vec<String> = walk_backward(&w.app, &w.jane, json!({}), 3, 7)
        .await
        .into_iter()
        .rev()
        .flatten()
        .collect();
    assert_eq!(backward, newest_first);
}

#[tokio::test]
async fn notification_page_arguments_are_validated() {
    let w = World::new().await;
    seed(&w, 2).await;
    let mut cases = Vec::new();
    for arg in ["first", "last"] {
        for value in [0, -1, 101] {
            cases.push((json!({ arg: value }), arg));
        }
    }
    for arg in ["after", "before"] {
        cases.push((json!({ arg: "garbage" }), arg));
    }
    for (vars, field) in cases {
        let body = w
            .app
            .gql(&inbox_query(), vars.clone(), Some(&w.jane.access))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{vars}: {body}");
        assert_eq!(error_fields(&body), [field], "{vars}: {body}");
    }
}

#[tokio::test]
async fn unread_only_lists_and_counts_what_is_unread() {
    let w = World::new().await;
    let written = seed(&w, 5).await;
    let c = |i: usize| written[i - 1].clone();
    let nodes = nodes_of(&w.app, &w.jane).await;
    let id_of =
        |text: &str| nodes.iter().find(|n| n["comment"]["body"] == text).unwrap()["id"].clone();
    let changed = mark_ok(&w.app, &w.jane, json!([id_of("c2"), id_of("c4")])).await;
    assert_eq!(changed, 2);

    let unread_page = page(&w.app, &w.jane, json!({"unreadOnly": true})).await;
    assert_eq!(comment_bodies(&unread_page), [c(5), c(3), c(1)]);
    assert_eq!(unread_page["totalCount"], 3);
    assert_eq!(unread_page["unread"], 3);
    assert!(
        unread_page["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["readAt"].is_null()),
        "{unread_page}"
    );

    for vars in [json!({}), json!({"unreadOnly": false})] {
        let all = page(&w.app, &w.jane, vars.clone()).await;
        assert_eq!(all["totalCount"], 5, "{vars}");
        assert_eq!(all["unread"], 3, "{vars}");
        let read: Vec<(String, bool)> = all["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["comment"]["body"].as_str().unwrap().to_owned(),
                    !n["readAt"].is_null(),
                )
            })
            .collect();
        assert_eq!(
            read,
            [
                (c(5), false),
                (c(4), true),
                (c(3), false),
                (c(2), true),
                (c(1), false)
            ],
            "{vars}"
        );
    }

    let pages = walk_forward(&w.app, &w.jane, json!({"unreadOnly": true}), 2, 3).await;
    assert_eq!(pages, vec![vec![c(5), c(3)], vec![c(1)]]);
    let pages = walk_backward(&w.app, &w.jane, json!({"unreadOnly": true}), 2, 3).await;
    assert_eq!(pages, vec![vec![c(3), c(1)], vec![c(5)]]);

    assert_eq!(mark_ok(&w.app, &w.jane, Value::Null).await, 3);
    let none = page(&w.app, &w.jane, json!({"unreadOnly": true})).await;
    assert_eq!(none["totalCount"], 0);
    assert_eq!(none["unread"], 0);
    assert_eq!(none["nodes"], json!([]));
    assert_eq!(none["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn mark_read_returns_how_many_changed() {
    let w = World::new().await;
    seed(&w, 4).await;
    let ids: Vec<Value> = nodes_of(&w.app, &w.jane)
        .await
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    let read_at = |nodes: &[Value], id: &Value| {
        nodes.iter().find(|n| &n["id"] == id).unwrap()["readAt"].clone()
    };

    assert_eq!(mark_ok(&w.app, &w.jane, json!([ids[0], ids[1]])).await, 2);
    assert_eq!(unread(&w.app, &w.jane).await, 2);
    let after_first = nodes_of(&w.app, &w.jane).await;
    let first_read = read_at(&after_first, &ids[0]);
    for n in &after_first {
        let marked = n["id"] == ids[0] || n["id"] == ids[1];
        assert_eq!(!n["readAt"].is_null(), marked, "{n}");
        if marked {
            assert!(n["readAt"].as_str().unwrap().ends_with('Z'), "{n}");
            assert!(instant(&n["readAt"]) >= instant(&n["createdAt"]), "{n}");
        }
    }

    // Marking again changes nothing, and keeps the first readAt.
    assert_eq!(mark_ok(&w.app, &w.jane, json!([ids[0]])).await, 0);
    assert_eq!(mark_ok(&w.app, &w.jane, json!([])).await, 0);
    assert_eq!(
        mark_ok(&w.app, &w.jane, json!([ids[1], ids[2], ids[2]])).await,
        1,
        "an ID given twice counts once"
    );
    assert_eq!(unread(&w.app, &w.jane).await, 1);

    // null marks all the rest, and so does leaving ids out.
    assert_eq!(mark_ok(&w.app, &w.jane, Value::Null).await, 1);
    assert_eq!(mark_ok(&w.app, &w.jane, Value::Null).await, 0);
    assert_eq!(unread(&w.app, &w.jane).await, 0);
    let all_read = nodes_of(&w.app, &w.jane).await;
    assert!(all_read.iter().all(|n| !n["readAt"].is_null()));
    assert_eq!(read_at(&all_read, &ids[0]), first_read, "readAt stays");

    comment(&w.app, &w.john, "busy", "one more").await;
    assert_eq!(unread(&w.app, &w.jane).await, 1);
    let body = w
        .app
        .gql(
            "mutation { markNotificationsRead }",
            json!({}),
            Some(&w.jane.access),
        )
        .await;
    assert_eq!(body, json!({"data": {"markNotificationsRead": 1}}));
    assert_eq!(unread(&w.app, &w.jane).await, 0);
}

#[tokio::test]
async fn mark_read_leaves_other_users_notifications_alone() {
    let w = World::new().await;
    seed(&w, 1).await; // jane: COMMENT_ADDED by john
    follow(&w.app, &w.jane, "john").await; // john: NEW_FOLLOWER jane
    let janes = nodes_of(&w.app, &w.jane).await[0]["id"].clone();
    let johns = nodes_of(&w.app, &w.john).await[0]["id"].clone();

    assert_eq!(mark_ok(&w.app, &w.jane, json!([johns])).await, 0);
    assert_eq!(unread(&w.app, &w.john).await, 1);
    assert_eq!(mark_ok(&w.app, &w.jane, json!([johns, janes])).await, 1);
    assert_eq!(unread(&w.app, &w.jane).await, 0);
    assert_eq!(unread(&w.app, &w.john).await, 1);
    // Marking all of one's own leaves everyone else's too.
    publish(&w.app, &w.john, "Back").await; // jane follows john: ARTICLE_PUBLISHED
    assert_eq!(mark_ok(&w.app, &w.jane, Value::Null).await, 1);
    assert_eq!(
        inbox(&w.app, &w.john).await,
        [note(NEW_FOLLOWER, "jane", None, None)]
    );
}

#[tokio::test]
async fn mark_read_ids_are_validated() {
    let w = World::new().await;
    seed(&w, 1).await;
    let own = nodes_of(&w.app, &w.jane).await[0]["id"].clone();
    let article = publish(&w.app, &w.jane, "Not a notification").await["id"].clone();
    let comment_id = json!(global_id(NodeKind::Comment, 1).as_str());
    let too_many: Vec<Value> = std::iter::repeat_n(own.clone(), 101).collect();
    let bad = [
        json!(too_many),
        json!([article]),
        json!([w.jane.id]),
        json!([comment_id]),
        json!(["garbage"]),
        json!([""]),
        json!([own, "garbage"]),
        json!([own, article]),
    ];
    for ids in &bad {
        let body = mark(&w.app, Some(&w.jane.access), ids.clone()).await;
        let shown = ids.to_string().chars().take(120).collect::<String>();
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{shown}: {body}");
        assert_eq!(error_fields(&body), ["ids"], "{shown}: {body}");
        assert_eq!(body["data"], Value::Null, "{shown}");
        assert_eq!(unread(&w.app, &w.jane).await, 1, "{shown} changed nothing");
    }
    for ids in bad.iter().chain([&json!([own]), &Value::Null]) {
        let body = mark(&w.app, None, ids.clone()).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
        assert_eq!(body["data"], Value::Null);
    }
    assert_eq!(unread(&w.app, &w.jane).await, 1);

    // 100 is allowed; a well-formed ID of no notification is ignored.
    let mut hundred: Vec<Value> = std::iter::repeat_n(own.clone(), 99).collect();
    hundred.push(json!(global_id(NodeKind::Notification, 999_999).as_str()));
    assert_eq!(mark_ok(&w.app, &w.jane, json!(hundred)).await, 1);
    assert_eq!(unread(&w.app, &w.jane).await, 0);
}

// The guard matrix.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    /// The recipient (jane).
    Owner,
    /// Someone else: john, who caused jane's notification.
    Other,
    /// An admin (boss).
    Admin,
}

use Who::{Admin, Anonymous, Other, Owner};

impl World {
    fn token(&self, who: Who) -> Option<&str> {
        match who {
            Anonymous => None,
            Owner => Some(&self.jane.access),
            Other => Some(&self.john.access),
            Admin => Some(&self.boss.access),
        }
    }

    async fn run(&self, who: Who, query: &str, vars: Value) -> Value {
        self.app.gql(query, vars, self.token(who)).await
    }

    /// jane gets one notification (john comments on her article); returns its ID.
    async fn one_for_jane(&self) -> Value {
        seed(self, 1).await;
        nodes_of(&self.app, &self.jane).await[0]["id"].clone()
    }
}

#[tokio::test]
async fn notifications_are_for_the_user_themself_alone() {
    let w = World::new().await;
    w.one_for_jane().await;
    let both = "notifications { totalCount } unreadNotificationsCount";
    // Each path to jane, with the path of jane's object in the response.
    let paths: [(String, Value, Vec<Value>); 4] = [
        (
            format!("{{ user(username: \"jane\") {{ username {both} }} }}"),
            json!({}),
            vec![json!("user")],
        ),
        (
            format!("query($id: ID!) {{ node(id: $id) {{ ... on User {{ username {both} }} }} }}"),
            json!({"id": w.jane.id}),
            vec![json!("node")],
        ),
        (
            format!(
                "query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on User {{ username {both} }} }} }}"
            ),
            json!({"ids": [w.jane.id]}),
            vec![json!("nodes"), json!(0)],
        ),
        (
            format!("{{ article(slug: \"busy\") {{ author {{ username {both} }} }} }}"),
            json!({}),
            vec![json!("article"), json!("author")],
        ),
    ];
    let table = [
        (Anonymous, false),
        (Owner, true),
        (Other, false),
        (Admin, false),
    ];
    for (who, allowed) in table {
        for (query, vars, at) in &paths {
            let body = w.run(who, query, vars.clone()).await;
            let mut jane = &body["data"];
            for step in at {
                jane = match step {
                    Value::Number(n) => &jane[n.as_u64().unwrap() as usize],
                    other => &jane[other.as_str().unwrap()],
                };
            }
            if allowed {
                assert!(body.get("errors").is_none(), "{who:?} {query}: {body}");
                assert_eq!(
                    *jane,
                    json!({"username": "jane", "notifications": {"totalCount": 1}, "unreadNotificationsCount": 1}),
                    "{who:?} {query}"
                );
                continue;
            }
            // The rest of the data is there; both fields are null, each with its error.
            let object = jane.as_object().unwrap_or_else(|| panic!("{body}"));
            assert_eq!(object["username"], "jane", "{who:?} {query}: {body}");
            for field in ["notifications", "unreadNotificationsCount"] {
                assert!(object.contains_key(field), "{who:?} {query}: {body}");
                assert_eq!(object[field], Value::Null, "{who:?} {query}: {body}");
            }
            let errors = body["errors"]
                .as_array()
                .unwrap_or_else(|| panic!("{body}"));
            assert_eq!(errors.len(), 2, "{who:?} {query}: {body}");
            let mut paths_seen: Vec<Value> = Vec::new();
            for error in errors {
                assert_eq!(
                    error["extensions"]["code"], "FORBIDDEN",
                    "{who:?} {query}: {body}"
                );
                paths_seen.push(error["path"].clone());
            }
            let expected: Vec<Value> = ["notifications", "unreadNotificationsCount"]
                .iter()
                .map(|f| {
                    let mut path = at.clone();
                    path.push(json!(f));
                    Value::Array(path)
                })
                .collect();
            paths_seen.sort_by_key(Value::to_string);
            assert_eq!(paths_seen, expected, "{who:?} {query}: {body}");
        }

        // One field alone: one error, at that field.
        for field in ["notifications { totalCount }", "unreadNotificationsCount"] {
            let name = field.split(' ').next().unwrap();
            let body = w
                .run(
                    who,
                    &format!("{{ user(username: \"jane\") {{ username {field} }} }}"),
                    json!({}),
                )
                .await;
            if allowed {
                assert!(body.get("errors").is_none(), "{who:?}: {body}");
                continue;
            }
            assert_eq!(
                body["data"],
                json!({"user": {"username": "jane", name: null}}),
                "{who:?}"
            );
            assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body}");
            assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
            assert_eq!(body["errors"][0]["path"], json!(["user", name]), "{body}");
        }
    }

    // `viewer` is always the user themself.
    let body = w
        .run(
            Other,
            &format!("{{ viewer {{ username {both} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        body,
        json!({"data": {"viewer": {"username": "john", "notifications": {"totalCount": 0}, "unreadNotificationsCount": 0}}})
    );
    // So is the user of a sign-in's payload.
    let body = w
        .app
        .gql(
            "mutation($input: LoginInput!) { login(input: $input) { user { username unreadNotificationsCount } } }",
            json!({"input": {"email": w.jane.email, "password": w.jane.password}}),
            None,
        )
        .await;
    assert_eq!(
        body,
        json!({"data": {"login": {"user": {"username": "jane", "unreadNotificationsCount": 1}}}})
    );
}

#[tokio::test]
async fn a_notification_node_is_for_its_recipient_alone() {
    let w = World::new().await;
    let id = w.one_for_jane().await;
    let by_node = "query($id: ID!) { node(id: $id) { id ... on Notification { kind readAt } } }";
    let by_nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    let table = [
        (Anonymous, false),
        (Owner, true),
        (Other, false),
        (Admin, false),
    ];
    for (who, allowed) in table {
        let expected = if allowed {
            json!({"id": id, "kind": COMMENT_ADDED, "readAt": null})
        } else {
            Value::Null
        };
        assert_eq!(
            w.run(who, by_node, json!({ "id": id })).await,
            json!({"data": {"node": expected}}),
            "{who:?}: no error either"
        );
        let listed = if allowed {
            json!({ "id": id })
        } else {
            Value::Null
        };
        assert_eq!(
            w.run(who, by_nodes, json!({"ids": [id, w.jane.id]})).await,
            json!({"data": {"nodes": [listed, {"id": w.jane.id}]}}),
            "{who:?}"
        );
    }
}

#[tokio::test]
async fn mark_notifications_read_marks_only_the_viewers_own() {
    let w = World::new().await;
    let id = w.one_for_jane().await;
    // The owner goes last: the others must leave jane's notification unread.
    let table = [
        (Anonymous, Err("UNAUTHENTICATED")),
        (Other, Ok(0)),
        (Admin, Ok(0)),
        (Owner, Ok(1)),
    ];
    for (who, expected) in table {
        let body = w.run(who, MARK, json!({"ids": [id]})).await;
        match expected {
            Ok(changed) => assert_eq!(
                body,
                json!({"data": {"markNotificationsRead": changed}}),
                "{who:?}"
            ),
            Err(code) => {
                assert_eq!(error_code(&body), code, "{who:?}: {body}");
                assert_eq!(body["data"], Value::Null, "{who:?}");
            }
        }
        let left = if who == Owner { 0 } else { 1 };
        assert_eq!(unread(&w.app, &w.jane).await, left, "after {who:?}");
    }

    // With ids null, everyone but the owner marks nothing of jane's either.
    comment(&w.app, &w.john, "busy", "again").await;
    for who in [Anonymous, Other, Admin] {
        let body = w.run(who, MARK, json!({"ids": null})).await;
        if who == Anonymous {
            assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
        } else {
            assert_eq!(
                body,
                json!({"data": {"markNotificationsRead": 0}}),
                "{who:?}"
            );
        }
        assert_eq!(unread(&w.app, &w.jane).await, 1, "after {who:?}");
    }
}

// One RealWorld session, end to end.

#[tokio::test]
async fn a_realworld_session_from_sign_up_to_clean_up() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await; // writes
    let john = app.register("john").await; // follows and favorites
    let mary = app.register("mary").await; // only comments

    // john follows jane.
    let data = ok(
        &app,
        &john,
        "mutation { followUser(username: \"jane\") { username viewerIsFollowing followersCount } }",
        json!({}),
    )
    .await;
    assert_eq!(
        data,
        json!({"followUser": {"username": "jane", "viewerIsFollowing": true, "followersCount": 1}})
    );

    // jane publishes; john hears of it and finds it in his feed; mary hears nothing.
    let data = ok(
        &app,
        &jane,
        "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id slug title tags author { username } commentsCount } }",
        json!({"input": {"title": "How to train your dragon", "description": "Ever wonder how?", "body": "You have to believe", "tags": ["dragons", "training"]}}),
    )
    .await;
    let article_id = data["createArticle"]["id"].clone();
    assert_eq!(
        data,
        json!({"createArticle": {
            "id": article_id,
            "slug": "how-to-train-your-dragon",
            "title": "How to train your dragon",
            "tags": ["dragons", "training"],
            "author": {"username": "jane"},
            "commentsCount": 0
        }})
    );
    let slug = "how-to-train-your-dragon";
    let data = ok(
        &app,
        &john,
        "{ feed { nodes { slug } } viewer { unreadNotificationsCount \
         notifications { nodes { kind actor { username } article { slug title } comment { body } readAt } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        data,
        json!({
            "feed": {"nodes": [{"slug": slug}]},
            "viewer": {
                "unreadNotificationsCount": 1,
                "notifications": {"nodes": [{
                    "kind": ARTICLE_PUBLISHED,
                    "actor": {"username": "jane"},
                    "article": {"slug": slug, "title": "How to train your dragon"},
                    "comment": null,
                    "readAt": null
                }]}
            }
        })
    );
    assert_eq!(inbox(&app, &mary).await, Vec::<Value>::new());

    // john favorites it and comments; mary comments too.
    let data = ok(
        &app,
        &john,
        "mutation($slug: String!) { favoriteArticle(slug: $slug) { favoritesCount viewerHasFavorited } }",
        json!({ "slug": slug }),
    )
    .await;
    assert_eq!(
        data,
        json!({"favoriteArticle": {"favoritesCount": 1, "viewerHasFavorited": true}})
    );
    let add = "mutation($slug: String!, $body: String!) { addComment(articleSlug: $slug, body: $body) \
               { id body author { username } article { slug commentsCount } viewerCanDelete } }";
    let data = ok(
        &app,
        &john,
        add,
        json!({"slug": slug, "body": "Great article!"}),
    )
    .await;
    let johns_comment = data["addComment"]["id"].clone();
    assert_eq!(
        data,
        json!({"addComment": {
            "id": johns_comment,
            "body": "Great article!",
            "author": {"username": "john"},
            "article": {"slug": slug, "commentsCount": 1},
            "viewerCanDelete": true
        }})
    );
    let data = ok(
        &app,
        &mary,
        add,
        json!({"slug": slug, "body": "I disagree."}),
    )
    .await;
    let marys_comment = data["addComment"]["id"].clone();

    // jane reads her article with its comments.
    let data = ok(
        &app,
        &jane,
        "query($slug: String!) { article(slug: $slug) { favoritesCount commentsCount \
         comments { totalCount nodes { id body author { username } viewerCanDelete } } } }",
        json!({ "slug": slug }),
    )
    .await;
    assert_eq!(
        data,
        json!({"article": {
            "favoritesCount": 1,
            "commentsCount": 2,
            "comments": {"totalCount": 2, "nodes": [
                {"id": johns_comment, "body": "Great article!", "author": {"username": "john"}, "viewerCanDelete": false},
                {"id": marys_comment, "body": "I disagree.", "author": {"username": "mary"}, "viewerCanDelete": false}
            ]}
        }})
    );

    // jane reads her notifications: newest first, all unread.
    let inbox_fields = "{ viewer { unreadNotificationsCount notifications { totalCount nodes { id kind \
                        actor { username } article { slug } comment { id body } readAt } } } }";
    let data = ok(&app, &jane, inbox_fields, json!({})).await;
    let nodes = data["viewer"]["notifications"]["nodes"].as_array().unwrap();
    let ids: Vec<Value> = nodes.iter().map(|n| n["id"].clone()).collect();
    let shape = |i: usize, kind: &str, actor: &str, article: Value, comment: Value| json!({"id": ids[i], "kind": kind, "actor": {"username": actor}, "article": article, "comment": comment, "readAt": null});
    let article = json!({ "slug": slug });
    assert_eq!(
        data,
        json!({"viewer": {"unreadNotificationsCount": 4, "notifications": {"totalCount": 4, "nodes": [
            shape(0, COMMENT_ADDED, "mary", article.clone(), json!({"id": marys_comment, "body": "I disagree."})),
            shape(1, COMMENT_ADDED, "john", article.clone(), json!({"id": johns_comment, "body": "Great article!"})),
            shape(2, ARTICLE_FAVORITED, "john", article.clone(), Value::Null),
            shape(3, NEW_FOLLOWER, "john", Value::Null, Value::Null),
        ]}}})
    );

    // She marks the newest read, then all of them.
    assert_eq!(mark_ok(&app, &jane, json!([ids[0]])).await, 1);
    let unread_only = ok(
        &app,
        &jane,
        "{ viewer { unreadNotificationsCount notifications(unreadOnly: true) { nodes { id } } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        unread_only,
        json!({"viewer": {"unreadNotificationsCount": 3, "notifications": {"nodes": [
            {"id": ids[1]}, {"id": ids[2]}, {"id": ids[3]}
        ]}}})
    );
    assert_eq!(mark_ok(&app, &jane, Value::Null).await, 3);
    let data = ok(&app, &jane, inbox_fields, json!({})).await;
    assert_eq!(data["viewer"]["unreadNotificationsCount"], 0);
    assert!(
        data["viewer"]["notifications"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| !n["readAt"].is_null()),
        "{data}"
    );

    // john takes his comment back; its notification goes with it.
    let data = ok(
        &app,
        &john,
        "mutation($id: ID!) { deleteComment(id: $id) }",
        json!({ "id": johns_comment }),
    )
    .await;
    assert_eq!(data, json!({"deleteComment": johns_comment}));
    let data = ok(
        &app,
        &jane,
        "query($slug: String!) { article(slug: $slug) { commentsCount comments { nodes { id } } } }",
        json!({ "slug": slug }),
    )
    .await;
    assert_eq!(
        data,
        json!({"article": {"commentsCount": 1, "comments": {"nodes": [{"id": marys_comment}]}}})
    );
    let left: Vec<Value> = nodes_of(&app, &jane)
        .await
        .iter()
        .map(|n| n["id"].clone())
        .collect();
    assert_eq!(
        left,
        [ids[0].clone(), ids[2].clone(), ids[3].clone()],
        "the COMMENT_ADDED of a deleted comment is gone"
    );

    // jane deletes the article: its comments, favorites and notifications go with it.
    let data = ok(
        &app,
        &jane,
        "mutation($slug: String!) { deleteArticle(slug: $slug) }",
        json!({ "slug": slug }),
    )
    .await;
    assert_eq!(data, json!({"deleteArticle": article_id}));
    let data = ok(
        &app,
        &john,
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } feed { totalCount } \
         viewer { unreadNotificationsCount notifications { totalCount } favoriteArticles { totalCount } } }",
        json!({"ids": [article_id, marys_comment]}),
    )
    .await;
    assert_eq!(
        data,
        json!({
            "nodes": [null, null],
            "feed": {"totalCount": 0},
            "viewer": {
                "unreadNotificationsCount": 0,
                "notifications": {"totalCount": 0},
                "favoriteArticles": {"totalCount": 0}
            }
        })
    );
    assert_eq!(
        inbox(&app, &jane).await,
        [
            json!({"kind": NEW_FOLLOWER, "actor": "john", "article": null, "comment": null, "read": true})
        ]
    );
    assert_eq!(inbox(&app, &mary).await, Vec::<Value>::new());
}
