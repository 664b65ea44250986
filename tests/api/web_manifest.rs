//! The web app's own persisted-documents manifest, as GraphQL Code Generator's client
//! preset writes it (`web/src/gql/persisted-documents.json`, keys `sha256:<hex>`), is
//! Conduit's safelist: the server starts with it, and the app's documents run by
//! `documentId` (POST and GET), by APQ hash, by text, and over WebSocket by text.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use conduit::graphql::persisted::sha256_hex;
use serde_json::{Map, Value, json};

use crate::{helpers::TestResponse, live::TestServer};

/// The manifest the web app's build ships, committed with its generated code.
const MANIFEST: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/web/src/gql/persisted-documents.json"
);
const STRICT: &str = "application/graphql-response+json";

fn manifest() -> Map<String, Value> {
    let text = std::fs::read_to_string(MANIFEST).expect("web/src/gql/persisted-documents.json");
    serde_json::from_str(&text).expect("a JSON object")
}

/// The manifest's key and text of the operation that starts with `start`.
fn document(start: &str) -> (String, String) {
    manifest()
        .into_iter()
        .find_map(|(key, text)| {
            let text = text.as_str()?.to_owned();
            text.starts_with(start).then_some((key, text))
        })
        .unwrap_or_else(|| panic!("no document starting with {start:?} in {MANIFEST}"))
}

async fn safelisted() -> TestServer {
    TestServer::start(&[
        ("PERSISTED_QUERIES", "safelist"),
        ("PERSISTED_QUERIES_MANIFEST", MANIFEST),
    ])
    .await
}

fn assert_popular_tags(response: &TestResponse) {
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let body = response.json();
    assert!(body.get("errors").is_none(), "{body}");
    assert!(body["data"]["popularTags"].is_array(), "{body}");
}

#[test]
fn the_manifest_is_the_client_presets_prefixed_form() {
    let documents = manifest();
    assert!(
        documents.len() > 10,
        "the app's documents: {}",
        documents.len()
    );
    for (key, text) in &documents {
        let text = text.as_str().expect("a document text");
        assert_eq!(key, &format!("sha256:{}", sha256_hex(text)), "{text}");
    }
}

#[tokio::test]
async fn the_apps_documents_run_by_document_id_apq_hash_and_text() {
    let server = safelisted().await;
    let (key, text) = document("query PopularTags");

    let by_id = json!({ "documentId": key }).to_string();
    assert_popular_tags(&server.post_json(STRICT, &by_id).await);

    let query = serde_urlencoded::to_string([("documentId", key.as_str())]).unwrap();
    let get = Request::get(format!("/graphql?{query}")).header("accept", STRICT);
    assert_popular_tags(&server.send(get.body(Body::empty()).unwrap()).await);

    let apq = json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": key } } });
    assert_popular_tags(&server.post_json(STRICT, &apq.to_string()).await);

    let by_text = json!({ "query": text }).to_string();
    assert_popular_tags(&server.post_json(STRICT, &by_text).await);

    // Anything else is refused, however it is sent.
    let other = json!({ "query": "{ popularTags { name } }" }).to_string();
    let refused = server.post_json(STRICT, &other).await;
    assert_eq!(refused.first_error_code(), "PERSISTED_QUERY_NOT_IN_LIST");
    let unknown = format!("sha256:{}", sha256_hex("{ __typename }"));
    let refused = server
        .post_json(STRICT, &json!({ "documentId": unknown }).to_string())
        .await;
    assert_eq!(refused.first_error_code(), "PERSISTED_QUERY_NOT_IN_LIST");
}

#[tokio::test]
async fn the_apps_subscriptions_run_over_websocket_by_their_text() {
    // Set up over plain HTTP (the safelist holds only the app's documents).
    let server = TestServer::start(&[]).await;
    let jane = server.register("jane").await;
    let created = server
        .gql(
            "mutation($i: CreateArticleInput!) { createArticle(input: $i) { slug } }",
            json!({"i": {"title": "Live", "description": "d", "body": "b", "tags": []}}),
            Some(&jane.access),
        )
        .await;
    let slug = created["data"]["createArticle"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let server = TestServer::beside(
        &server,
        &[
            ("PERSISTED_QUERIES", "safelist"),
            ("PERSISTED_QUERIES_MANIFEST", MANIFEST),
        ],
    )
    .await;

    let (_, text) = document("subscription CommentDeleted");
    let mut ws = server.ws_ready(json!({})).await;
    ws.subscribe("1", &text, json!({ "slug": slug })).await;
    // Listed: accepted, so the server waits for events instead of answering an error.
    let frame = ws
        .next_frame_within(std::time::Duration::from_millis(300))
        .await;
    assert!(
        frame.is_none(),
        "a listed subscription is not refused: {frame:?}"
    );
    ws.subscribe(
        "2",
        "subscription { commentDeleted(articleSlug: \"x\") }",
        json!({}),
    )
    .await;
    let refused = ws.next_json().await;
    assert_eq!(refused["id"], "2", "{refused}");
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"], "PERSISTED_QUERY_NOT_IN_LIST",
        "{refused}"
    );
}
