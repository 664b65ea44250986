//! Subscriptions end to end: a real WebSocket client against the served router. Every
//! subscription's events, on the instance that wrote them and on another; what a
//! subscription hears and when it ends; authentication in `connection_init` and the
//! guards per subscriber; revocation (logout, changePassword, refresh-token reuse) on
//! this instance and across instances; the batched fan-out; queries and mutations over
//! the socket.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    helpers::{Account, TestApp, connect, error_code},
    live::{COMMENT, CREATE, Frame, TestServer, WsClient, bearer, comment, ok, publish},
};

#[tokio::test]
async fn a_comment_reaches_a_subscriber_after_the_mutation() {
    let server = TestServer::start(&[]).await;
    let author = server.register("alice").await;
    let created = server
        .gql(
            CREATE,
            json!({"input": {"title": "Live", "description": "d", "body": "b", "tags": []}}),
            Some(&author.access),
        )
        .await;
    let slug = created["data"]["createArticle"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut client = server.ws_ready(bearer(&author.access)).await;
    client
        .subscribe("1", "subscription($slug: String!) { commentAdded(articleSlug: $slug) { body author { username } } }", json!({"slug": slug}))
        .await;
    server.wait_for_subscriptions(1).await;

    let reader = server.register("bob").await;
    server
        .gql(
            COMMENT,
            json!({"slug": slug, "body": "hello"}),
            Some(&reader.access),
        )
        .await;
    let next = client.next_json().await;
    assert_eq!(
        next,
        json!({"id": "1", "type": "next", "payload": {"data": {"commentAdded": {"body": "hello", "author": {"username": "bob"}}}}})
    );
}

#[tokio::test]
async fn an_event_written_on_one_instance_reaches_a_subscriber_on_another() {
    let writer = TestServer::start(&[]).await;
    let reader = TestServer::beside(&writer, &[]).await;
    let author = writer.register("alice").await;
    let created = writer
        .gql(
            CREATE,
            json!({"input": {"title": "Shared", "description": "d", "body": "b", "tags": []}}),
            Some(&author.access),
        )
        .await;
    let slug = created["data"]["createArticle"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let elsewhere = writer
        .gql(
            CREATE,
            json!({"input": {"title": "Elsewhere", "description": "d", "body": "b", "tags": []}}),
            Some(&author.access),
        )
        .await;
    let elsewhere = elsewhere["data"]["createArticle"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    // Anonymous subscribers on the reading instance: one to this article, one to another.
    let mut client = reader.ws_ready(json!({})).await;
    client
        .subscribe(
            "a",
            "subscription($slug: String!) { commentAdded(articleSlug: $slug) { body } }",
            json!({"slug": slug}),
        )
        .await;
    let mut other = reader.ws_ready(json!({})).await;
    other
        .subscribe(
            "b",
            "subscription($slug: String!) { commentAdded(articleSlug: $slug) { body } }",
            json!({"slug": elsewhere}),
        )
        .await;
    reader.wait_for_subscriptions(2).await;
    writer
        .gql(
            COMMENT,
            json!({"slug": slug, "body": "across"}),
            Some(&author.access),
        )
        .await;
    let next = client.next_json().await;
    assert_eq!(
        next["payload"]["data"]["commentAdded"]["body"], "across",
        "{next}"
    );
    other
        .expect_silence(std::time::Duration::from_millis(200))
        .await;
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1001() {
    let mut server = TestServer::start(&[]).await;
    let mut client = server.ws_ready(json!({})).await;
    let took = server.shut_down().await;
    assert!(took < std::time::Duration::from_secs(5), "{took:?}");
    client.expect_close(1001).await;
}

#[tokio::test]
async fn a_binary_frame_closes_with_4400() {
    let server = TestServer::start(&[]).await;
    let mut client = server.ws_ready(json!({})).await;
    client
        .send_frame(tokio_tungstenite::tungstenite::Message::binary(vec![
            1, 2, 3,
        ]))
        .await;
    client.expect_close(4400).await;
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Long enough for an event that should not come to have come.
const QUIET: Duration = Duration::from_millis(300);

const COMMENT_ADDED: &str = "subscription($slug: String!) { commentAdded(articleSlug: $slug) { id body author { username } article { slug } } }";
const COMMENT_DELETED: &str = "subscription($slug: String!) { commentDeleted(articleSlug: $slug) }";
const ARTICLE_UPDATED: &str = "subscription($slug: String!) { articleUpdated(slug: $slug) { slug title description favoritesCount viewerHasFavorited } }";
const NOTIFICATION_ADDED: &str = "subscription { notificationAdded { id kind actor { username } article { slug } comment { body } readAt } }";
const UPDATE: &str = "mutation($slug: String!, $input: UpdateArticleInput!) { updateArticle(slug: $slug, input: $input) { slug } }";
const DELETE_COMMENT: &str = "mutation($id: ID!) { deleteComment(id: $id) }";
const DELETE_ARTICLE: &str = "mutation($slug: String!) { deleteArticle(slug: $slug) }";
const FAVORITE: &str =
    "mutation($slug: String!) { favoriteArticle(slug: $slug) { favoritesCount } }";
const UNFAVORITE: &str =
    "mutation($slug: String!) { unfavoriteArticle(slug: $slug) { favoritesCount } }";
const FOLLOW: &str = "mutation($u: String!) { followUser(username: $u) { username } }";
const LOGIN: &str =
    "mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }";
const REFRESH: &str =
    "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken } }";
const CHANGE_PASSWORD: &str = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }";

/// `who` follows `username`.
async fn follow(app: &TestApp, who: &Account, username: &str) {
    ok(app, FOLLOW, json!({ "u": username }), Some(&who.access)).await;
}

/// Signs `who` in again: the same account on a new session.
async fn login(app: &TestApp, who: &Account) -> Account {
    let input = json!({"input": {"email": who.email, "password": who.password}});
    let data = ok(app, LOGIN, input, None).await;
    Account {
        access: data["login"]["accessToken"].as_str().unwrap().to_owned(),
        refresh: data["login"]["refreshToken"].as_str().unwrap().to_owned(),
        ..who.clone()
    }
}

/// The ID of `who`'s newest notification.
async fn newest_notification(app: &TestApp, who: &Account) -> String {
    let query = "{ viewer { notifications(first: 1) { nodes { id } } } }";
    let data = ok(app, query, json!({}), Some(&who.access)).await;
    data["viewer"]["notifications"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A `next` message of operation `id` with `data`.
fn next(id: &str, data: Value) -> Value {
    json!({"id": id, "type": "next", "payload": {"data": data}})
}

/// The `complete` message of operation `id`.
fn complete(id: &str) -> Value {
    json!({"id": id, "type": "complete"})
}

/// What each operation of a socket whose session was revoked gets.
fn revoked(id: &str) -> Value {
    json!({"id": id, "type": "error", "payload": [{
        "message": "The session has been revoked. Sign in again.",
        "extensions": {"code": "UNAUTHENTICATED"},
    }]})
}

/// The reason of the 4403 close of a revoked session's socket.
const REVOKED_REASON: &str = "Forbidden: the session has been revoked";

/// The 1-based column of `needle` in the one-line document `query`.
fn column(query: &str, needle: &str) -> usize {
    query.find(needle).expect("in the document") + 1
}

/// `messages` in a fixed order (messages of different operations may come in any order).
fn sorted(mut messages: Vec<Value>) -> Vec<Value> {
    messages.sort_by_key(Value::to_string);
    messages
}

/// The next `n` messages, [`sorted`].
async fn next_messages(client: &mut WsClient, n: usize) -> Vec<Value> {
    let mut messages = Vec::with_capacity(n);
    for _ in 0..n {
        messages.push(client.next_json().await);
    }
    sorted(messages)
}

/// A socket initialised with `init` that subscribed to `query` as operation `id`.
async fn subscribed(
    server: &TestServer,
    init: Value,
    id: &str,
    query: &str,
    variables: Value,
) -> WsClient {
    let mut client = server.ws_ready(init).await;
    client.subscribe(id, query, variables).await;
    client
}

/// Two instances on one database; alice's article "Shared" on it, and bob.
struct Pair {
    one: TestServer,
    two: TestServer,
    alice: Account,
    bob: Account,
    slug: String,
}

async fn pair() -> Pair {
    let one = TestServer::start(&[]).await;
    let two = TestServer::beside(&one, &[]).await;
    let alice = one.register("alice").await;
    let bob = one.register("bob").await;
    let slug = publish(&one, &alice, "Shared").await;
    Pair {
        one,
        two,
        alice,
        bob,
        slug,
    }
}

impl Pair {
    /// Waits until each instance has `n` live subscriptions.
    async fn wait_for_subscriptions(&self, n: usize) {
        self.one.wait_for_subscriptions(n).await;
        self.two.wait_for_subscriptions(n).await;
    }
}

/// Expects `expected` as the next message on each of `clients`.
async fn all_receive(clients: &mut [&mut WsClient], expected: &Value) {
    for client in clients.iter_mut() {
        assert_eq!(&client.next_json().await, expected);
    }
}

// ---------------------------------------------------------------------------------------
// Every subscription's events, on the writing instance and on another
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn comment_added_reaches_subscribers_on_both_instances() {
    let w = pair().await;
    let vars = json!({ "slug": w.slug });
    let mut here = subscribed(&w.one, json!({}), "1", COMMENT_ADDED, vars.clone()).await;
    let mut there = subscribed(&w.two, bearer(&w.alice.access), "1", COMMENT_ADDED, vars).await;
    w.wait_for_subscriptions(1).await;

    // Written on each instance in turn.
    for (writer, body) in [(&w.one, "from one"), (&w.two, "from two")] {
        let id = comment(writer, &w.bob, &w.slug, body).await;
        let expected = next(
            "1",
            json!({"commentAdded": {
                "id": id, "body": body, "author": {"username": "bob"}, "article": {"slug": w.slug},
            }}),
        );
        all_receive(&mut [&mut here, &mut there], &expected).await;
    }
}

#[tokio::test]
async fn comment_deleted_emits_the_comments_global_id_on_both_instances() {
    let w = pair().await;
    let vars = json!({ "slug": w.slug });
    let mut here = subscribed(&w.one, json!({}), "d", COMMENT_DELETED, vars.clone()).await;
    let mut there = subscribed(&w.two, json!({}), "d", COMMENT_DELETED, vars).await;
    w.wait_for_subscriptions(1).await;

    // Adding a comment is not a deletion: the first message is the deletion's.
    let id = comment(&w.one, &w.bob, &w.slug, "soon gone").await;
    let deleted = ok(
        &w.two,
        DELETE_COMMENT,
        json!({ "id": id }),
        Some(&w.bob.access),
    )
    .await;
    assert_eq!(deleted, json!({ "deleteComment": id }));
    let expected = next("d", json!({ "commentDeleted": id }));
    all_receive(&mut [&mut here, &mut there], &expected).await;
}

#[tokio::test]
async fn article_updated_follows_edits_and_favorites_on_both_instances() {
    let w = pair().await;
    let vars = json!({ "slug": w.slug });
    // bob on one instance (his own viewerHasFavorited), anonymous on the other.
    let mut bobs = subscribed(
        &w.one,
        bearer(&w.bob.access),
        "u",
        ARTICLE_UPDATED,
        vars.clone(),
    )
    .await;
    let mut anon = subscribed(&w.two, json!({}), "u", ARTICLE_UPDATED, vars).await;
    w.wait_for_subscriptions(1).await;
    let article = |description: &str, count: i64, favorited: bool| {
        next(
            "u",
            json!({"articleUpdated": {
                "slug": w.slug, "title": "Shared", "description": description,
                "favoritesCount": count, "viewerHasFavorited": favorited,
            }}),
        )
    };

    let input = json!({"slug": w.slug, "input": {"description": "edited"}});
    ok(&w.one, UPDATE, input, Some(&w.alice.access)).await;
    all_receive(&mut [&mut bobs, &mut anon], &article("edited", 0, false)).await;

    let data = ok(
        &w.two,
        FAVORITE,
        json!({"slug": w.slug}),
        Some(&w.bob.access),
    )
    .await;
    assert_eq!(data["favoriteArticle"]["favoritesCount"], 1);
    assert_eq!(bobs.next_json().await, article("edited", 1, true));
    assert_eq!(anon.next_json().await, article("edited", 1, false));

    let data = ok(
        &w.one,
        UNFAVORITE,
        json!({"slug": w.slug}),
        Some(&w.bob.access),
    )
    .await;
    assert_eq!(data["unfavoriteArticle"]["favoritesCount"], 0);
    all_receive(&mut [&mut bobs, &mut anon], &article("edited", 0, false)).await;
}

#[tokio::test]
async fn notification_added_brings_each_kind_on_both_instances() {
    let w = pair().await;
    // For ARTICLE_PUBLISHED: alice follows bob (a notification for bob, not for her).
    follow(&w.one, &w.alice, "bob").await;
    let mut here = subscribed(
        &w.one,
        bearer(&w.alice.access),
        "n",
        NOTIFICATION_ADDED,
        json!({}),
    )
    .await;
    let mut there = subscribed(
        &w.two,
        bearer(&w.alice.access),
        "n",
        NOTIFICATION_ADDED,
        json!({}),
    )
    .await;
    w.wait_for_subscriptions(1).await;
    let notification = |id: &str, kind: &str, article: Option<&str>, comment: Option<&str>| {
        next(
            "n",
            json!({"notificationAdded": {
                "id": id, "kind": kind, "actor": {"username": "bob"},
                "article": article.map(|slug| json!({ "slug": slug })),
                "comment": comment.map(|body| json!({ "body": body })),
                "readAt": null,
            }}),
        )
    };

    follow(&w.one, &w.bob, "alice").await;
    let got = [here.next_json().await, there.next_json().await];
    let id = newest_notification(&w.one, &w.alice).await;
    assert_eq!(
        got,
        [(); 2].map(|()| notification(&id, "NEW_FOLLOWER", None, None))
    );

    comment(&w.two, &w.bob, &w.slug, "nice").await;
    let got = [here.next_json().await, there.next_json().await];
    let id = newest_notification(&w.one, &w.alice).await;
    let expected = notification(&id, "COMMENT_ADDED", Some(&w.slug), Some("nice"));
    assert_eq!(got, [expected.clone(), expected]);

    ok(
        &w.one,
        FAVORITE,
        json!({"slug": w.slug}),
        Some(&w.bob.access),
    )
    .await;
    let got = [here.next_json().await, there.next_json().await];
    let id = newest_notification(&w.one, &w.alice).await;
    let expected = notification(&id, "ARTICLE_FAVORITED", Some(&w.slug), None);
    assert_eq!(got, [expected.clone(), expected]);

    let bobs = publish(&w.two, &w.bob, "By bob").await;
    let got = [here.next_json().await, there.next_json().await];
    let id = newest_notification(&w.one, &w.alice).await;
    let expected = notification(&id, "ARTICLE_PUBLISHED", Some(&bobs), None);
    assert_eq!(got, [expected.clone(), expected]);
}

// ---------------------------------------------------------------------------------------
// What a subscription hears, and when it ends
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_subscriber_to_one_article_hears_nothing_of_another() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let watched = publish(&server, &alice, "Watched").await;
    let other = publish(&server, &alice, "Other").await;
    let vars = json!({ "slug": watched });
    let mut client = server.ws_ready(json!({})).await;
    client.subscribe("c", COMMENT_ADDED, vars.clone()).await;
    client.subscribe("d", COMMENT_DELETED, vars.clone()).await;
    client.subscribe("u", ARTICLE_UPDATED, vars).await;
    server.wait_for_subscriptions(3).await;

    // Every kind of event, on the other article.
    let id = comment(&server, &bob, &other, "elsewhere").await;
    ok(
        &server,
        DELETE_COMMENT,
        json!({ "id": id }),
        Some(&bob.access),
    )
    .await;
    let input = json!({"slug": other, "input": {"body": "edited"}});
    ok(&server, UPDATE, input, Some(&alice.access)).await;
    ok(&server, FAVORITE, json!({"slug": other}), Some(&bob.access)).await;
    ok(
        &server,
        DELETE_ARTICLE,
        json!({"slug": other}),
        Some(&alice.access),
    )
    .await;
    client.expect_silence(QUIET).await;

    // The socket and its subscriptions still work: the next message is the watched
    // article's (events reach the hub in commit order).
    let id = comment(&server, &bob, &watched, "here").await;
    assert_eq!(
        client.next_json().await,
        next(
            "c",
            json!({"commentAdded": {
                "id": id, "body": "here", "author": {"username": "bob"}, "article": {"slug": watched},
            }}),
        )
    );
    server.wait_for_subscriptions(3).await;
}

#[tokio::test]
async fn article_updated_follows_the_article_through_a_slug_change() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let old = publish(&server, &alice, "Old title").await;
    let vars = json!({ "slug": old });
    let mut client = server.ws_ready(json!({})).await;
    client
        .subscribe(
            "u",
            "subscription($slug: String!) { articleUpdated(slug: $slug) { slug title body } }",
            vars.clone(),
        )
        .await;
    client.subscribe("c", COMMENT_ADDED, vars).await;
    server.wait_for_subscriptions(2).await;

    let input = json!({"slug": old, "input": {"title": "New title"}});
    let data = ok(&server, UPDATE, input, Some(&alice.access)).await;
    let new = data["updateArticle"]["slug"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert_eq!(
        client.next_json().await,
        next(
            "u",
            json!({"articleUpdated": {"slug": new, "title": "New title", "body": "b"}})
        )
    );

    // Edited again through the new slug, and commented on: still heard.
    let input = json!({"slug": new, "input": {"body": "second edit"}});
    ok(&server, UPDATE, input, Some(&alice.access)).await;
    assert_eq!(
        client.next_json().await,
        next(
            "u",
            json!({"articleUpdated": {"slug": new, "title": "New title", "body": "second edit"}})
        )
    );
    let id = comment(&server, &bob, &new, "after the rename").await;
    assert_eq!(
        client.next_json().await,
        next(
            "c",
            json!({"commentAdded": {
                "id": id, "body": "after the rename", "author": {"username": "bob"}, "article": {"slug": new},
            }}),
        )
    );

    // The old slug names nothing now.
    client
        .subscribe("old", COMMENT_ADDED, json!({ "slug": old }))
        .await;
    let answer = client.next_json().await;
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{answer}"
    );
    assert_eq!(client.next_json().await, complete("old"));
}

#[tokio::test]
async fn deleting_the_article_completes_its_subscriptions() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let doomed = publish(&server, &alice, "Doomed").await;
    let kept = publish(&server, &alice, "Kept").await;
    let vars = json!({ "slug": doomed });
    let mut client = server.ws_ready(bearer(&alice.access)).await;
    client.subscribe("added", COMMENT_ADDED, vars.clone()).await;
    client
        .subscribe("updated", ARTICLE_UPDATED, vars.clone())
        .await;
    client.subscribe("deleted", COMMENT_DELETED, vars).await;
    client
        .subscribe("kept", COMMENT_ADDED, json!({ "slug": kept }))
        .await;
    client.subscribe("n", NOTIFICATION_ADDED, json!({})).await;
    server.wait_for_subscriptions(5).await;
    comment(&server, &alice, &doomed, "first").await;
    assert_eq!(client.next_json().await["id"], "added");

    ok(
        &server,
        DELETE_ARTICLE,
        json!({"slug": doomed}),
        Some(&alice.access),
    )
    .await;
    assert_eq!(
        next_messages(&mut client, 3).await,
        sorted(vec![
            complete("added"),
            complete("updated"),
            complete("deleted")
        ])
    );
    server.wait_for_subscriptions(2).await;

    // The others go on; the completed ids may be used again.
    let id = comment(&server, &bob, &kept, "still here").await;
    let mut got = next_messages(&mut client, 2).await;
    let note = got
        .iter()
        .position(|m| m["id"] == "n")
        .expect("a notification");
    let note = got.remove(note);
    assert_eq!(
        note["payload"]["data"]["notificationAdded"]["kind"], "COMMENT_ADDED",
        "{note}"
    );
    assert_eq!(
        got,
        vec![next(
            "kept",
            json!({"commentAdded": {
                "id": id, "body": "still here", "author": {"username": "bob"}, "article": {"slug": kept},
            }}),
        )]
    );
    client
        .subscribe("added", COMMENT_ADDED, json!({ "slug": kept }))
        .await;
    server.wait_for_subscriptions(3).await;
}

#[tokio::test]
async fn an_unknown_slug_gives_not_found_then_complete() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let slug = publish(&server, &alice, "Real").await;
    let mut client = server.ws_ready(json!({})).await;
    client
        .subscribe(
            "1",
            "subscription { commentAdded(articleSlug: \"missing\") { body } }",
            json!({}),
        )
        .await;
    // As graphql-ws's reference server does for a resolver error: a `next` with the
    // error at the field's path, then `complete`.
    assert_eq!(
        client.next_json().await,
        json!({"id": "1", "type": "next", "payload": {"data": null, "errors": [{
            "message": "No such article.",
            "locations": [{"line": 1, "column": 16}],
            "path": ["commentAdded"],
            "extensions": {"code": "NOT_FOUND"},
        }]}})
    );
    assert_eq!(client.next_json().await, complete("1"));
    server.wait_for_subscriptions(0).await;
    for query in [
        COMMENT_DELETED,
        "subscription($slug: String!) { articleUpdated(slug: $slug) { slug } }",
    ] {
        client
            .subscribe("2", query, json!({"slug": "missing"}))
            .await;
        let answer = client.next_json().await;
        assert_eq!(
            answer["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
            "{answer}"
        );
        assert_eq!(client.next_json().await, complete("2"));
    }

    // The id is free again.
    client
        .subscribe("1", COMMENT_ADDED, json!({ "slug": slug }))
        .await;
    server.wait_for_subscriptions(1).await;
    let id = comment(&server, &alice, &slug, "ok").await;
    assert_eq!(
        client.next_json().await["payload"]["data"]["commentAdded"]["id"],
        id
    );
}

#[tokio::test]
async fn an_invalid_subscription_gets_one_error_message_and_no_complete() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let slug = publish(&server, &alice, "Real").await;
    let mut client = server.ws_ready(json!({})).await;
    let query = "subscription($slug: String!) { commentAdded(articleSlug: $slug) { nope } }";
    client.subscribe("v", query, json!({ "slug": slug })).await;
    let error = client.next_json().await;
    assert_eq!(error["id"], "v", "{error}");
    assert_eq!(error["type"], "error", "{error}");
    let errors = error["payload"].as_array().expect("an array of errors");
    assert_eq!(errors.len(), 1, "{error}");
    assert_eq!(
        errors[0],
        json!({
            "message": "Unknown field \"nope\" on type \"Comment\".",
            "locations": [{"line": 1, "column": column(query, "nope")}],
            "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
        })
    );
    // Several validation errors come in one message.
    client
        .subscribe(
            "w",
            "subscription { commentAdded { nope nada } }",
            json!({}),
        )
        .await;
    let error = client.next_json().await;
    assert_eq!(
        (&error["id"], &error["type"]),
        (&json!("w"), &json!("error")),
        "{error}"
    );
    let errors = error["payload"].as_array().expect("an array of errors");
    assert!(errors.len() > 1, "{error}");
    for e in errors {
        assert_eq!(
            e["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{error}"
        );
        assert!(e.get("path").is_none(), "{error}");
    }
    // No `complete` follows an `error`.
    client.expect_silence(QUIET).await;
    server.wait_for_subscriptions(0).await;

    // The socket lives on, and the id is free again.
    client
        .subscribe("v", COMMENT_ADDED, json!({ "slug": slug }))
        .await;
    server.wait_for_subscriptions(1).await;
    let id = comment(&server, &alice, &slug, "valid now").await;
    assert_eq!(
        client.next_json().await["payload"]["data"]["commentAdded"]["id"],
        id
    );
}

// ---------------------------------------------------------------------------------------
// Authentication and guards
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_anonymous_socket_gets_public_events_but_not_notifications() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let slug = publish(&server, &alice, "Public").await;
    let mut client = server.ws_ready(json!({})).await;
    client
        .subscribe("n", "subscription { notificationAdded { id } }", json!({}))
        .await;
    assert_eq!(
        client.next_json().await,
        json!({"id": "n", "type": "next", "payload": {"data": null, "errors": [{
            "message": "Sign in first.",
            "locations": [{"line": 1, "column": 16}],
            "path": ["notificationAdded"],
            "extensions": {"code": "UNAUTHENTICATED"},
        }]}})
    );
    assert_eq!(client.next_json().await, complete("n"));

    client
        .subscribe("c", COMMENT_ADDED, json!({ "slug": slug }))
        .await;
    server.wait_for_subscriptions(1).await;
    let id = comment(&server, &alice, &slug, "for everyone").await;
    assert_eq!(
        client.next_json().await,
        next(
            "c",
            json!({"commentAdded": {
                "id": id, "body": "for everyone", "author": {"username": "alice"}, "article": {"slug": slug},
            }}),
        )
    );
}

#[tokio::test]
async fn connection_init_takes_the_token_in_each_documented_form() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let token = &alice.access;
    let mut clients = Vec::new();
    for init in [
        json!({ "authorization": format!("Bearer {token}") }),
        json!({ "Authorization": format!("Bearer {token}") }),
        json!({ "token": token }),
        json!({ "token": format!("Bearer {token}") }),
    ] {
        let query = "subscription { notificationAdded { kind actor { username } } }";
        clients.push(subscribed(&server, init, "n", query, json!({})).await);
    }
    server.wait_for_subscriptions(4).await;
    follow(&server, &bob, "alice").await;
    let expected = next(
        "n",
        json!({"notificationAdded": {"kind": "NEW_FOLLOWER", "actor": {"username": "bob"}}}),
    );
    for client in &mut clients {
        assert_eq!(client.next_json().await, expected);
    }
}

#[tokio::test]
async fn an_invalid_token_in_connection_init_closes_with_4403() {
    let server = TestServer::start(&[]).await;
    let carol = server.register("carol").await;
    // A token of a session that has ended.
    ok(
        &server,
        "mutation { logout }",
        json!({}),
        Some(&carol.access),
    )
    .await;
    for init in [
        bearer("cdt_a_not-a-real-token"),
        bearer(&carol.access),
        bearer(&carol.refresh),
        json!({ "token": "not-a-real-token" }),
        json!({ "authorization": "Basic YWxpY2U6c2VjcmV0" }),
        json!({ "authorization": "Bearer" }),
        json!({ "authorization": 42 }),
        json!({ "token": null }),
    ] {
        let mut client = server.ws().await;
        client
            .send(json!({ "type": "connection_init", "payload": init }))
            .await;
        let reason = client.expect_close(4403).await;
        assert!(reason.starts_with("Forbidden"), "{init}: {reason}");
    }
}

#[tokio::test]
async fn a_user_never_receives_another_users_notifications() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    follow(&server, &bob, "carol").await;
    let query = "subscription { notificationAdded { kind actor { username } } }";
    let mut alices = subscribed(&server, bearer(&alice.access), "n", query, json!({})).await;
    let mut bobs = subscribed(&server, bearer(&bob.access), "n", query, json!({})).await;
    let mut carols = subscribed(&server, bearer(&carol.access), "n", query, json!({})).await;
    server.wait_for_subscriptions(3).await;
    let note = |kind: &str, actor: &str| {
        next(
            "n",
            json!({"notificationAdded": {"kind": kind, "actor": {"username": actor}}}),
        )
    };

    // Only bob follows carol; carol hears nothing of her own article.
    publish(&server, &carol, "By carol").await;
    // Only the followed user hears of a follow.
    follow(&server, &carol, "alice").await;
    follow(&server, &alice, "bob").await;

    assert_eq!(alices.next_json().await, note("NEW_FOLLOWER", "carol"));
    assert_eq!(bobs.next_json().await, note("ARTICLE_PUBLISHED", "carol"));
    assert_eq!(bobs.next_json().await, note("NEW_FOLLOWER", "alice"));
    for client in [&mut alices, &mut bobs, &mut carols] {
        client.expect_silence(QUIET).await;
    }
}

#[tokio::test]
async fn field_guards_apply_per_subscriber() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let carol = server.register("carol").await;
    let slug = publish(&server, &alice, "Guarded").await;
    let query = "subscription($slug: String!) { commentAdded(articleSlug: $slug) { id viewerCanDelete author { username email } } }";
    let vars = json!({ "slug": slug });
    let mut bobs = subscribed(&server, bearer(&bob.access), "c", query, vars.clone()).await;
    let mut carols = subscribed(&server, bearer(&carol.access), "c", query, vars.clone()).await;
    let mut anon = subscribed(&server, json!({}), "c", query, vars).await;
    server.wait_for_subscriptions(3).await;
    let id = comment(&server, &bob, &slug, "mine").await;

    // The comment's author sees his email and may delete it.
    assert_eq!(
        bobs.next_json().await,
        next(
            "c",
            json!({"commentAdded": {"id": id, "viewerCanDelete": true, "author": {"username": "bob", "email": "bob@example.com"}}}),
        )
    );
    // Others get what HTTP gives them: email null with a FORBIDDEN error at its path.
    let http = server
        .gql(
            "query($id: ID!) { node(id: $id) { ... on Comment { author { email } } } }",
            json!({ "id": id }),
            Some(&carol.access),
        )
        .await;
    assert_eq!(
        http["data"]["node"]["author"]["email"],
        Value::Null,
        "{http}"
    );
    assert_eq!(error_code(&http), "FORBIDDEN", "{http}");
    for client in [&mut carols, &mut anon] {
        let got = client.next_json().await;
        assert_eq!(
            got,
            json!({"id": "c", "type": "next", "payload": {
                "data": {"commentAdded": {"id": id, "viewerCanDelete": false, "author": {"username": "bob", "email": null}}},
                "errors": [{
                    "message": http["errors"][0]["message"],
                    "locations": [{"line": 1, "column": column(query, "email")}],
                    "path": ["commentAdded", "author", "email"],
                    "extensions": http["errors"][0]["extensions"],
                }],
            }})
        );
    }
}

// ---------------------------------------------------------------------------------------
// Revocation
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn logout_ends_the_sessions_subscriptions_and_closes_its_sockets_with_4403() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let elsewhere = login(&server, &alice).await;
    let bob = server.register("bob").await;
    let slug = publish(&server, &alice, "Hers").await;
    let vars = json!({ "slug": slug });
    // Two sockets on the session that signs out (one with no operation), one on her other
    // session, one anonymous.
    let mut leaving = subscribed(
        &server,
        bearer(&alice.access),
        "n",
        NOTIFICATION_ADDED,
        json!({}),
    )
    .await;
    leaving.subscribe("c", COMMENT_ADDED, vars.clone()).await;
    let mut idle = server.ws_ready(bearer(&alice.access)).await;
    let mut staying = subscribed(
        &server,
        bearer(&elsewhere.access),
        "n",
        "subscription { notificationAdded { kind } }",
        json!({}),
    )
    .await;
    let mut anon = subscribed(
        &server,
        json!({}),
        "c",
        "subscription($slug: String!) { commentAdded(articleSlug: $slug) { body } }",
        vars,
    )
    .await;
    server.wait_for_subscriptions(4).await;

    let data = ok(
        &server,
        "mutation { logout }",
        json!({}),
        Some(&alice.access),
    )
    .await;
    assert_eq!(data, json!({ "logout": true }));
    assert_eq!(
        next_messages(&mut leaving, 2).await,
        sorted(vec![revoked("n"), revoked("c")])
    );
    assert_eq!(leaving.expect_close(4403).await, REVOKED_REASON);
    assert_eq!(idle.expect_close(4403).await, REVOKED_REASON);
    server.wait_for_subscriptions(2).await;

    // Her other session and the anonymous socket go on.
    comment(&server, &bob, &slug, "still there?").await;
    assert_eq!(
        staying.next_json().await,
        next("n", json!({"notificationAdded": {"kind": "COMMENT_ADDED"}}))
    );
    assert_eq!(
        anon.next_json().await,
        next("c", json!({"commentAdded": {"body": "still there?"}}))
    );
}

#[tokio::test]
async fn logout_on_one_instance_closes_the_sessions_socket_on_another() {
    let w = pair().await;
    let mut client = subscribed(
        &w.two,
        bearer(&w.alice.access),
        "n",
        NOTIFICATION_ADDED,
        json!({}),
    )
    .await;
    client
        .subscribe("u", ARTICLE_UPDATED, json!({ "slug": w.slug }))
        .await;
    let mut bobs = subscribed(
        &w.two,
        bearer(&w.bob.access),
        "n",
        "subscription { notificationAdded { kind } }",
        json!({}),
    )
    .await;
    w.two.wait_for_subscriptions(3).await;

    ok(
        &w.one,
        "mutation { logout }",
        json!({}),
        Some(&w.alice.access),
    )
    .await;
    assert_eq!(
        next_messages(&mut client, 2).await,
        sorted(vec![revoked("n"), revoked("u")])
    );
    assert_eq!(client.expect_close(4403).await, REVOKED_REASON);
    w.two.wait_for_subscriptions(1).await;

    follow(&w.one, &w.alice_again().await, "bob").await;
    assert_eq!(
        bobs.next_json().await,
        next("n", json!({"notificationAdded": {"kind": "NEW_FOLLOWER"}}))
    );
}

#[tokio::test]
async fn logout_over_the_socket_closes_it() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let mut client = subscribed(
        &server,
        bearer(&alice.access),
        "n",
        NOTIFICATION_ADDED,
        json!({}),
    )
    .await;
    server.wait_for_subscriptions(1).await;
    client
        .subscribe("m", "mutation { logout }", json!({}))
        .await;
    let mut messages = Vec::new();
    let reason = loop {
        match client.next_frame().await {
            Frame::Json(message) => messages.push(message),
            Frame::Closed(code, reason) => {
                assert_eq!(code, 4403, "{reason}");
                break reason;
            }
            Frame::Ended => panic!("ended without a close frame after {messages:?}"),
        }
    };
    assert_eq!(reason, REVOKED_REASON);
    // The mutation's result, unless the revocation overtook it.
    let answered = sorted(vec![
        revoked("n"),
        next("m", json!({"logout": true})),
        complete("m"),
    ]);
    let overtaken = sorted(vec![revoked("n"), revoked("m")]);
    let messages = sorted(messages);
    assert!(
        messages == answered || messages == overtaken,
        "{messages:#?}"
    );
    let http = server
        .gql("{ viewer { username } }", json!({}), Some(&alice.access))
        .await;
    assert_eq!(error_code(&http), "UNAUTHENTICATED", "{http}");
    server.wait_for_subscriptions(0).await;
}

impl Pair {
    /// alice on a new session.
    async fn alice_again(&self) -> Account {
        login(&self.one, &self.alice).await
    }
}

#[tokio::test]
async fn change_password_closes_the_other_sessions_sockets_but_not_its_own() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let other = login(&server, &alice).await;
    let bob = server.register("bob").await;
    let query = "subscription { notificationAdded { kind actor { username } } }";
    let mut own = subscribed(&server, bearer(&alice.access), "n", query, json!({})).await;
    let mut others = subscribed(&server, bearer(&other.access), "n", query, json!({})).await;
    server.wait_for_subscriptions(2).await;

    let vars = json!({"c": alice.password, "n": "a brand new password"});
    let data = ok(&server, CHANGE_PASSWORD, vars, Some(&alice.access)).await;
    assert!(data["changePassword"]["accessToken"].is_string(), "{data}");
    assert_eq!(others.next_json().await, revoked("n"));
    assert_eq!(others.expect_close(4403).await, REVOKED_REASON);
    server.wait_for_subscriptions(1).await;

    // The session that changed the password keeps its socket (its old access token is
    // replaced, which does not matter to an open socket).
    own.expect_silence(QUIET).await;
    follow(&server, &bob, "alice").await;
    assert_eq!(
        own.next_json().await,
        next(
            "n",
            json!({"notificationAdded": {"kind": "NEW_FOLLOWER", "actor": {"username": "bob"}}}),
        )
    );
}

#[tokio::test]
async fn refreshing_the_session_keeps_its_socket_open() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let slug = publish(&server, &alice, "Hers").await;
    let query = "subscription { notificationAdded { kind actor { username } } }";
    let mut client = subscribed(&server, bearer(&alice.access), "n", query, json!({})).await;
    server.wait_for_subscriptions(1).await;

    let data = ok(&server, REFRESH, json!({"t": alice.refresh}), None).await;
    let fresh = data["refreshSession"]["accessToken"].as_str().unwrap();
    // The old access token is done over HTTP...
    let old = server
        .gql("{ viewer { username } }", json!({}), Some(&alice.access))
        .await;
    assert_eq!(error_code(&old), "UNAUTHENTICATED", "{old}");
    // ...but the socket stays, on the same session.
    client.expect_silence(QUIET).await;
    follow(&server, &bob, "alice").await;
    assert_eq!(
        client.next_json().await,
        next(
            "n",
            json!({"notificationAdded": {"kind": "NEW_FOLLOWER", "actor": {"username": "bob"}}}),
        )
    );
    // A new socket with the new token is the same user.
    let mut again = subscribed(&server, bearer(fresh), "n", query, json!({})).await;
    server.wait_for_subscriptions(2).await;
    ok(
        &server,
        FAVORITE,
        json!({ "slug": slug }),
        Some(&bob.access),
    )
    .await;
    let expected = next(
        "n",
        json!({"notificationAdded": {"kind": "ARTICLE_FAVORITED", "actor": {"username": "bob"}}}),
    );
    all_receive(&mut [&mut client, &mut again], &expected).await;
}

#[tokio::test]
async fn reusing_a_refresh_token_revokes_the_session_and_closes_its_socket() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let mut client = subscribed(
        &server,
        bearer(&alice.access),
        "n",
        NOTIFICATION_ADDED,
        json!({}),
    )
    .await;
    server.wait_for_subscriptions(1).await;
    ok(&server, REFRESH, json!({"t": alice.refresh}), None).await;
    client.expect_silence(QUIET).await;

    // The same refresh token again: a stolen token, the whole session ends.
    let reused = server.gql(REFRESH, json!({"t": alice.refresh}), None).await;
    assert_eq!(error_code(&reused), "UNAUTHENTICATED", "{reused}");
    assert_eq!(client.next_json().await, revoked("n"));
    assert_eq!(client.expect_close(4403).await, REVOKED_REASON);
    server.wait_for_subscriptions(0).await;
}

#[tokio::test]
async fn an_expired_access_token_does_not_close_an_open_socket() {
    // The access token's lifetime (15 minutes, `ACCESS_TOKEN_TTL`) is not configurable:
    // expire it in the database, as tests/api/sessions.rs does. Keep-alives every 50 ms
    // prove that they do not check the token again either.
    let server = TestServer::start(&[("WS_KEEPALIVE_MS", "50")]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let query = "subscription { notificationAdded { kind actor { username } } }";
    let mut client = subscribed(&server, bearer(&alice.access), "n", query, json!({})).await;
    server.wait_for_subscriptions(1).await;

    connect(&server.database_url())
        .await
        .batch_execute(
            "UPDATE sessions SET access_expires_at = now() - interval '1 second' \
             WHERE user_id = (SELECT id FROM users WHERE username = 'alice')",
        )
        .await
        .unwrap();
    let http = server
        .gql("{ viewer { username } }", json!({}), Some(&alice.access))
        .await;
    assert_eq!(error_code(&http), "UNAUTHENTICATED", "{http}");
    // A new socket cannot start with it...
    let mut refused = server.ws().await;
    refused
        .send(json!({ "type": "connection_init", "payload": bearer(&alice.access) }))
        .await;
    refused.expect_close(4403).await;

    // ...but the open one goes on.
    client.expect_silence(QUIET).await;
    follow(&server, &bob, "alice").await;
    assert_eq!(
        client.next_json().await,
        next(
            "n",
            json!({"notificationAdded": {"kind": "NEW_FOLLOWER", "actor": {"username": "bob"}}}),
        )
    );
}

// ---------------------------------------------------------------------------------------
// Fan-out cost
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn one_event_is_one_batched_load_whatever_the_number_of_subscribers() {
    const ANONYMOUS: usize = 50;
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let carol = server.register("carol").await;
    let dave = server.register("dave").await;
    let erin = server.register("erin").await;
    let frank = server.register("frank").await;
    let slug = publish(&server, &alice, "Popular").await;
    follow(&server, &dave, "carol").await;
    follow(&server, &frank, "carol").await;
    let query = "subscription($slug: String!) { commentAdded(articleSlug: $slug) { body author { username viewerIsFollowing } } }";
    let vars = json!({ "slug": slug });
    let expected = |body: &str, following: bool| {
        next(
            "c",
            json!({"commentAdded": {"body": body, "author": {"username": "carol", "viewerIsFollowing": following}}}),
        )
    };

    // One signed-in subscriber.
    let mut daves = subscribed(&server, bearer(&dave.access), "c", query, vars.clone()).await;
    server.wait_for_subscriptions(1).await;
    let before = server.state.hub.statements();
    comment(&server, &carol, &slug, "one").await;
    assert_eq!(daves.next_json().await, expected("one", true));
    let with_one = server.state.hub.statements() - before;

    // Fifty anonymous subscribers and two more signed-in ones join.
    let mut signed_in = vec![
        (
            subscribed(&server, bearer(&erin.access), "c", query, vars.clone()).await,
            false,
        ),
        (
            subscribed(&server, bearer(&frank.access), "c", query, vars.clone()).await,
            true,
        ),
    ];
    let mut anonymous = Vec::with_capacity(ANONYMOUS);
    for _ in 0..ANONYMOUS {
        anonymous.push(subscribed(&server, json!({}), "c", query, vars.clone()).await);
    }
    server.wait_for_subscriptions(ANONYMOUS + 3).await;
    let before = server.state.hub.statements();
    comment(&server, &carol, &slug, "many").await;
    assert_eq!(daves.next_json().await, expected("many", true));
    for (client, following) in &mut signed_in {
        assert_eq!(client.next_json().await, expected("many", *following));
    }
    for client in &mut anonymous {
        assert_eq!(client.next_json().await, expected("many", false));
    }
    let with_many = server.state.hub.statements() - before;

    // Fifty more anonymous subscribers: the same statements again.
    let mut more = Vec::with_capacity(ANONYMOUS);
    for _ in 0..ANONYMOUS {
        more.push(subscribed(&server, json!({}), "c", query, vars.clone()).await);
    }
    server.wait_for_subscriptions(2 * ANONYMOUS + 3).await;
    let before = server.state.hub.statements();
    comment(&server, &carol, &slug, "more").await;
    assert_eq!(daves.next_json().await, expected("more", true));
    for client in anonymous.iter_mut().chain(&mut more) {
        assert_eq!(client.next_json().await, expected("more", false));
    }
    let with_more = server.state.hub.statements() - before;

    // The comment, its author, the viewers' follows.
    assert_eq!(with_one, 3);
    // Once per level on each shard of the hub that has a subscriber (the anonymous ones
    // load no follows): connections land on every shard, so never more than that, and
    // never more with more subscribers.
    let shards = server.state.hub.shards();
    assert!(
        with_many >= with_one && with_many <= with_one * shards,
        "one batched load per level per shard: {with_many} statements on {shards} shards"
    );
    assert_eq!(with_more, with_many, "the same with fifty more subscribers");
}

// ---------------------------------------------------------------------------------------
// Queries and mutations over the socket
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn queries_and_mutations_run_over_the_socket_with_its_authentication() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let input = json!({"input": {"title": "Tagged", "description": "d", "body": "b", "tags": ["rust", "live"]}});
    let data = ok(&server, CREATE, input, Some(&alice.access)).await;
    let slug = data["createArticle"]["slug"].as_str().unwrap().to_owned();

    // A query: the same answer as over HTTP, then complete.
    let tags = "query { popularTags { name } }";
    let mut anon = subscribed(&server, json!({}), "q", tags, json!({})).await;
    let http = server.gql(tags, json!({}), None).await;
    assert_eq!(
        http["data"]["popularTags"].as_array().unwrap().len(),
        2,
        "{http}"
    );
    assert_eq!(
        anon.next_json().await,
        json!({"id": "q", "type": "next", "payload": http})
    );
    assert_eq!(anon.next_json().await, complete("q"));

    // A mutation as the socket's user, heard by the same socket's subscription.
    let mutation = "mutation($slug: String!, $body: String!) { addComment(articleSlug: $slug, body: $body) { body author { username } } }";
    let vars = json!({"slug": slug, "body": "over the socket"});
    let mut bobs = subscribed(&server, bearer(&bob.access), "c", "subscription($slug: String!) { commentAdded(articleSlug: $slug) { body author { username } } }", json!({ "slug": slug })).await;
    server.wait_for_subscriptions(1).await;
    bobs.subscribe("m", mutation, vars.clone()).await;
    let comment = json!({"body": "over the socket", "author": {"username": "bob"}});
    assert_eq!(
        next_messages(&mut bobs, 3).await,
        sorted(vec![
            next("m", json!({ "addComment": comment })),
            complete("m"),
            next("c", json!({ "commentAdded": comment })),
        ])
    );
    let count = ok(
        &server,
        "query($slug: String!) { article(slug: $slug) { commentsCount } }",
        json!({ "slug": slug }),
        None,
    )
    .await;
    assert_eq!(count["article"]["commentsCount"], 1);

    // Anonymous: refused as over HTTP.
    anon.subscribe("m", mutation, vars.clone()).await;
    let http = server.gql(mutation, vars, None).await;
    assert_eq!(error_code(&http), "UNAUTHENTICATED", "{http}");
    assert_eq!(
        anon.next_json().await,
        json!({"id": "m", "type": "next", "payload": http})
    );
    assert_eq!(anon.next_json().await, complete("m"));
}

/// The backend of the instance's LISTEN connection other than `except`, if there is one.
async fn listener_pid(db: &tokio_postgres::Client, except: i32) -> Option<i32> {
    db.query_opt(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
         AND query LIKE 'LISTEN %' AND pid <> $1",
        &[&except],
    )
    .await
    .unwrap()
    .map(|row| row.get(0))
}

#[tokio::test]
async fn a_session_revoked_while_the_listener_reconnects_still_loses_its_sockets() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let query = "subscription { notificationAdded { kind actor { username } } }";
    let mut client = subscribed(&server, bearer(&alice.access), "n", query, json!({})).await;
    server.wait_for_subscriptions(1).await;

    // Cut the instance's LISTEN connection and sign out before it is back (it waits at
    // least 100 ms before reconnecting).
    let db = connect(&server.database_url()).await;
    let old = listener_pid(&db, 0).await.expect("the instance listens");
    db.execute("SELECT pg_terminate_backend($1)", &[&old])
        .await
        .unwrap();
    ok(
        &server,
        "mutation { logout }",
        json!({}),
        Some(&alice.access),
    )
    .await;
    assert_eq!(
        listener_pid(&db, old).await,
        None,
        "the logout committed while nobody listened"
    );
    let started = std::time::Instant::now();
    while listener_pid(&db, old).await.is_none() {
        assert!(
            started.elapsed() < crate::live::PATIENCE,
            "the listener came back"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let http = server
        .gql("{ viewer { username } }", json!({}), Some(&alice.access))
        .await;
    assert_eq!(error_code(&http), "UNAUTHENTICATED", "{http}");

    // The session is over: its socket must not go on hearing alice's notifications (nor
    // run operations as her).
    follow(&server, &bob, "alice").await;
    assert_eq!(client.next_json().await, revoked("n"));
    assert_eq!(client.expect_close(4403).await, REVOKED_REASON);
}

#[tokio::test]
async fn a_subscription_named_in_a_document_of_several_runs_with_its_fragments() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let slug = publish(&server, &alice, "Named").await;
    let mut client = server.ws_ready(bearer(&alice.access)).await;
    client
        .send(json!({"id": "1", "type": "subscribe", "payload": {
            "query": ORDERED, "operationName": "Live", "variables": {"slug": slug},
        }}))
        .await;
    server.wait_for_subscriptions(1).await;
    let id = comment(&server, &alice, &slug, "named").await;
    let message = client.next_json().await;
    let comment = &message["payload"]["data"]["commentAdded"];
    assert!(comment["updatedAt"].is_string(), "{message}");
    assert_eq!(
        message,
        next(
            "1",
            json!({"commentAdded": {
                "updatedAt": comment["updatedAt"], "body": "named", "id": id,
                "author": {"username": "alice", "id": alice.id}, "viewerCanDelete": true,
            }}),
        )
    );
}

/// A document whose subscription selects fields out of alphabetical order, through a
/// fragment and an inline fragment, next to another operation.
const ORDERED: &str = "query Other { popularTags { name } } \
    subscription Live($slug: String!) { commentAdded(articleSlug: $slug) { \
    updatedAt ...Parts author { username id } ... on Comment { viewerCanDelete } } } \
    fragment Parts on Comment { body id }";

/// Asserts that `fields` appear in this order in `text`'s `data`.
fn assert_in_order(text: &str, fields: &[&str]) {
    let data = &text[text.find("\"data\"").expect("data")..];
    let at = |field: &str| {
        data.find(&format!("\"{field}\""))
            .unwrap_or_else(|| panic!("{field} in {text}"))
    };
    assert!(
        fields.windows(2).all(|w| at(w[0]) < at(w[1])),
        "expected {fields:?} in this order: {text}"
    );
}

#[tokio::test]
async fn results_over_the_socket_keep_the_selection_order() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let slug = publish(&server, &alice, "Ordered").await;
    let mut client = server.ws_ready(bearer(&alice.access)).await;

    // HTTP keeps the order...
    let viewer = "query { viewer { username bio id } }";
    let http = server
        .gql_response(viewer, json!({}), Some(&alice.access), "application/json")
        .await;
    assert_in_order(&http.text(), &["username", "bio", "id"]);
    // ...and so must a query's result over the socket...
    client.subscribe("q", viewer, json!({})).await;
    assert_in_order(&client.next_text().await, &["username", "bio", "id"]);
    assert_eq!(client.next_json().await, complete("q"));

    // ...and a subscription's events, fragments in place.
    client
        .send(json!({"id": "1", "type": "subscribe", "payload": {
            "query": ORDERED, "operationName": "Live", "variables": {"slug": slug},
        }}))
        .await;
    server.wait_for_subscriptions(1).await;
    comment(&server, &alice, &slug, "in order").await;
    let text = client.next_text().await;
    assert_in_order(
        &text,
        &[
            "updatedAt",
            "body",
            "id",
            "author",
            "username",
            "viewerCanDelete",
        ],
    );
}

#[tokio::test]
async fn a_subscription_must_select_exactly_one_root_field() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let slug = publish(&server, &alice, "Real").await;
    let mut client = server.ws_ready(json!({})).await;
    for (id, query) in [
        (
            "two",
            "subscription($slug: String!) { a: commentAdded(articleSlug: $slug) { id } b: articleUpdated(slug: $slug) { id } }",
        ),
        (
            "spread",
            "subscription($slug: String!) { ...F commentDeleted(articleSlug: $slug) } fragment F on Subscription { articleUpdated(slug: $slug) { id } }",
        ),
        ("introspection", "subscription { __typename }"),
    ] {
        client.subscribe(id, query, json!({ "slug": slug })).await;
        let error = client.next_json().await;
        assert_eq!(
            (&error["id"], &error["type"]),
            (&json!(id), &json!("error")),
            "{error}"
        );
        assert_eq!(
            error["payload"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{error}"
        );
    }
    // The same field twice under one response key is one root field.
    client
        .subscribe(
            "same",
            "subscription($slug: String!) { commentAdded(articleSlug: $slug) { id } commentAdded(articleSlug: $slug) { body } }",
            json!({ "slug": slug }),
        )
        .await;
    server.wait_for_subscriptions(1).await;
}

#[tokio::test]
async fn an_article_deleted_while_the_listener_reconnects_still_completes_its_subscriptions() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let slug = publish(&server, &alice, "Doomed").await;
    let mut client = subscribed(
        &server,
        json!({}),
        "c",
        COMMENT_ADDED,
        json!({ "slug": slug }),
    )
    .await;
    server.wait_for_subscriptions(1).await;

    let db = connect(&server.database_url()).await;
    let old = listener_pid(&db, 0).await.expect("the instance listens");
    db.execute("SELECT pg_terminate_backend($1)", &[&old])
        .await
        .unwrap();
    ok(
        &server,
        DELETE_ARTICLE,
        json!({ "slug": slug }),
        Some(&alice.access),
    )
    .await;
    assert_eq!(
        listener_pid(&db, old).await,
        None,
        "the deletion committed while nobody listened"
    );
    assert_eq!(client.next_json().await, complete("c"));
    server.wait_for_subscriptions(0).await;
}

#[tokio::test]
async fn a_reused_id_never_gets_the_previous_operations_messages() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let first = publish(&server, &alice, "First").await;
    let second = publish(&server, &alice, "Second").await;
    let mut client = server.ws_ready(json!({})).await;
    let query = "subscription($slug: String!) { commentAdded(articleSlug: $slug) { body } }";
    for _ in 0..5 {
        client.subscribe("x", query, json!({ "slug": first })).await;
        client.send(json!({ "id": "x", "type": "complete" })).await;
    }
    client
        .subscribe("x", query, json!({ "slug": second }))
        .await;
    // Once this query is answered, the connection has read every message before it;
    // once the hub has settled, it has applied what they asked.
    client
        .subscribe("barrier", "{ __typename }", json!({}))
        .await;
    assert_eq!(
        client.next_json().await,
        next("barrier", json!({"__typename": "Query"}))
    );
    assert_eq!(client.next_json().await, complete("barrier"));
    server.state.hub.settled().await;
    assert_eq!(server.state.hub.subscriptions(), 1);
    comment(&server, &alice, &first, "on the first").await;
    comment(&server, &alice, &second, "on the second").await;
    assert_eq!(
        client.next_json().await,
        next("x", json!({"commentAdded": {"body": "on the second"}}))
    );
    client.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_socket_runs_a_bounded_number_of_operations_at_once() {
    let server = TestServer::start(&[("WS_MAX_OPERATIONS", "2")]).await;
    let alice = server.register("alice").await;
    let slug = publish(&server, &alice, "Busy").await;
    let mut client = server.ws_ready(json!({})).await;
    client
        .subscribe("a", COMMENT_ADDED, json!({ "slug": slug }))
        .await;
    client
        .subscribe("b", COMMENT_ADDED, json!({ "slug": slug }))
        .await;
    client
        .subscribe("c", COMMENT_ADDED, json!({ "slug": slug }))
        .await;
    let refused = client.next_json().await;
    assert_eq!(
        (&refused["id"], &refused["type"]),
        (&json!("c"), &json!("error")),
        "{refused}"
    );
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "BAD_REQUEST",
        "{refused}"
    );
    server.wait_for_subscriptions(2).await;
    // Once one is over, another may start.
    client.send(json!({ "id": "a", "type": "complete" })).await;
    client
        .subscribe("c", "{ popularTags { name } }", json!({}))
        .await;
    assert_eq!(
        client.next_json().await,
        next("c", json!({"popularTags": []}))
    );
    assert_eq!(client.next_json().await, complete("c"));
}

#[tokio::test]
async fn queries_over_the_socket_check_the_token_each_time_while_subscriptions_go_on() {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let query = "subscription { notificationAdded { kind } }";
    let mut client = subscribed(&server, bearer(&alice.access), "n", query, json!({})).await;
    server.wait_for_subscriptions(1).await;
    client
        .subscribe("q1", "{ viewer { username } }", json!({}))
        .await;
    assert_eq!(
        client.next_json().await,
        next("q1", json!({"viewer": {"username": "alice"}}))
    );
    assert_eq!(client.next_json().await, complete("q1"));

    connect(&server.database_url())
        .await
        .batch_execute(
            "UPDATE sessions SET access_expires_at = now() - interval '1 second' \
             WHERE user_id = (SELECT id FROM users WHERE username = 'alice')",
        )
        .await
        .unwrap();
    // A query or mutation is authenticated as over HTTP: the expired token is refused...
    client
        .subscribe("q2", "{ viewer { username } }", json!({}))
        .await;
    let refused = client.next_json().await;
    assert_eq!(
        (&refused["id"], &refused["type"]),
        (&json!("q2"), &json!("error")),
        "{refused}"
    );
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{refused}"
    );
    // ...while the subscription goes on.
    follow(&server, &bob, "alice").await;
    assert_eq!(
        client.next_json().await,
        next("n", json!({"notificationAdded": {"kind": "NEW_FOLLOWER"}}))
    );
}
