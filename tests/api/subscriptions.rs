//! Subscriptions end to end: a real WebSocket client against the served router.

use serde_json::json;

use crate::live::{TestServer, bearer};

const CREATE: &str =
    "mutation($input: CreateArticleInput!) { createArticle(input: $input) { slug } }";
const COMMENT: &str = "mutation($slug: String!, $body: String!) { addComment(articleSlug: $slug, body: $body) { id body } }";

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
