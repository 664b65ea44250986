//! Persisted queries: Apollo's APQ protocol over POST, GET and WebSocket, stored in
//! PostgreSQL so that every instance serves what any instance registered; the safelist
//! mode loaded from a GraphQL Code Generator manifest; the off mode.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use conduit::graphql::persisted::sha256_hex;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, TestResponse, database_url, error_code, test_config},
    live::TestServer,
};

const TAGS: &str = "query Tags { popularTags { name } }";
const STRICT: &str = "application/graphql-response+json";

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

/// POSTs a persisted-query request: the hash, and the text when given.
async fn post(app: &TestApp, query: Option<&str>, hash: &str) -> TestResponse {
    let mut body = json!({ "extensions": persisted(hash) });
    if let Some(query) = query {
        body["query"] = json!(query);
    }
    app.post_json(STRICT, &body.to_string()).await
}

/// GETs a persisted-query request by hash alone, as Apollo Client's
/// `useGETForHashedQueries` does.
async fn get(app: &TestApp, hash: &str, variables: Value) -> TestResponse {
    let query = serde_urlencoded::to_string([
        ("extensions", persisted(hash).to_string()),
        ("variables", variables.to_string()),
    ])
    .unwrap();
    app.send(
        Request::get(format!("/graphql?{query}"))
            .header("accept", STRICT)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

fn assert_tags(response: &TestResponse) {
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.json(), json!({"data": {"popularTags": []}}));
}

/// A request error: 400 (under `application/graphql-response+json`) with `code`.
fn assert_refused(response: &TestResponse, code: &str) {
    assert_eq!(
        response.status,
        StatusCode::BAD_REQUEST,
        "{}",
        response.text()
    );
    assert_eq!(response.first_error_code(), code);
}

fn assert_not_found(response: &TestResponse) {
    // 200 whatever the media type: the client reads the error and sends the text.
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    let body = response.json();
    assert_eq!(error_code(&body), "PERSISTED_QUERY_NOT_FOUND", "{body}");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
}

#[tokio::test]
async fn apq_registers_on_first_use_then_runs_by_hash_over_post_and_get() {
    let app = TestApp::spawn().await;
    let hash = sha256_hex(TAGS);
    assert_not_found(&post(&app, None, &hash).await);
    assert_not_found(&get(&app, &hash, json!({})).await);
    // The client sends the text with the hash: it runs and is stored.
    assert_tags(&post(&app, Some(TAGS), &hash).await);
    assert_tags(&post(&app, None, &hash).await);
    assert_tags(&get(&app, &hash, json!({})).await);
    // Uppercase hex names the same document.
    assert_tags(&post(&app, None, &hash.to_uppercase()).await);
    // Variables apply to a stored document as to any other.
    let article = "query A($slug: String!) { article(slug: $slug) { title } }";
    let article_hash = sha256_hex(article);
    let body = json!({"query": article, "variables": {"slug": "nope"}, "extensions": persisted(&article_hash)});
    let first = app.post_json(STRICT, &body.to_string()).await;
    assert_eq!(
        first.json(),
        json!({"data": {"article": null}}),
        "{}",
        first.text()
    );
    let again = get(&app, &article_hash, json!({"slug": "still-nope"})).await;
    assert_eq!(again.json(), json!({"data": {"article": null}}));
}

#[tokio::test]
async fn a_document_registered_on_one_instance_runs_on_another() {
    let first = TestApp::spawn().await;
    let second = TestApp::sharing(&first, &[]);
    let hash = sha256_hex(TAGS);
    assert_not_found(&post(&second, None, &hash).await);
    assert_tags(&post(&first, Some(TAGS), &hash).await);
    assert_tags(&post(&second, None, &hash).await);
}

#[tokio::test]
async fn only_documents_that_match_their_hash_and_validate_are_stored() {
    let app = TestApp::spawn().await;
    // A hash that is not the text's: refused, nothing stored under either.
    let wrong = sha256_hex("{ something else }");
    let response = post(&app, Some(TAGS), &wrong).await;
    assert_refused(&response, "BAD_REQUEST");
    assert_not_found(&post(&app, None, &wrong).await);
    assert_not_found(&post(&app, None, &sha256_hex(TAGS)).await);
    // A document that fails validation runs nowhere and is not stored.
    let invalid = "{ notAField }";
    let response = post(&app, Some(invalid), &sha256_hex(invalid)).await;
    assert_eq!(response.first_error_code(), "GRAPHQL_VALIDATION_FAILED");
    assert_not_found(&post(&app, None, &sha256_hex(invalid)).await);
    // Malformed extensions are request errors.
    for extensions in [
        json!({"persistedQuery": {"version": 2, "sha256Hash": sha256_hex(TAGS)}}),
        json!({"persistedQuery": {"version": 1, "sha256Hash": "abc"}}),
        json!({"persistedQuery": "yes"}),
    ] {
        let body = json!({ "extensions": extensions });
        let response = app.post_json(STRICT, &body.to_string()).await;
        assert_refused(&response, "BAD_REQUEST");
    }
    // A normal query still runs.
    assert_eq!(
        app.query("{ popularTags { name } }").await,
        json!({"data": {"popularTags": []}})
    );
}

#[tokio::test]
async fn persisted_documents_pass_the_same_limits_and_method_rules() {
    let first = TestApp::spawn().await;
    let deep =
        "{ articles(first: 1) { nodes { author { articles(first: 1) { nodes { title } } } } } }";
    let hash = sha256_hex(deep);
    assert_eq!(post(&first, Some(deep), &hash).await.status, StatusCode::OK);
    // An instance with a lower depth limit refuses the stored document.
    let strict = TestApp::sharing(&first, &[("QUERY_MAX_DEPTH", "3")]);
    let response = post(&strict, None, &hash).await;
    assert_refused(&response, "DEPTH_LIMIT_EXCEEDED");
    // A stored mutation cannot run over GET.
    let alice = first.register("alice").await;
    let mutation = "mutation { logout }";
    let hash = sha256_hex(mutation);
    let mut request = Request::post("/graphql")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", alice.access))
        .body(Body::from(
            json!({"query": mutation, "extensions": persisted(&hash)}).to_string(),
        ))
        .unwrap();
    request
        .headers_mut()
        .insert("accept", STRICT.parse().unwrap());
    let stored = first.send(request).await;
    assert_eq!(stored.status, StatusCode::OK, "{}", stored.text());
    let response = get(&first, &hash, json!({})).await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_tags(&post(&first, Some(TAGS), &sha256_hex(TAGS)).await);
}

/// A manifest as GraphQL Code Generator's client preset writes it.
fn manifest(documents: &[&str]) -> tempfile_path::TempPath {
    let map: serde_json::Map<String, Value> = documents
        .iter()
        .map(|d| (sha256_hex(d), json!(d)))
        .collect();
    tempfile_path::TempPath::with(&Value::Object(map).to_string())
}

/// A file removed when dropped.
mod tempfile_path {
    pub struct TempPath(pub std::path::PathBuf);

    impl TempPath {
        pub fn with(contents: &str) -> Self {
            let path = std::env::temp_dir().join(format!(
                "conduit-manifest-{}.json",
                uuid::Uuid::new_v4().simple()
            ));
            std::fs::write(&path, contents).unwrap();
            Self(path)
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[tokio::test]
async fn safelist_mode_runs_only_the_manifest() {
    let listed = manifest(&[TAGS, "subscription { notificationAdded { id } }"]);
    let path = listed.0.to_str().unwrap().to_owned();
    let server = TestServer::start(&[
        ("PERSISTED_QUERIES", "safelist"),
        ("PERSISTED_QUERIES_MANIFEST", &path),
    ])
    .await;
    // By hash, by hash and text, by text alone: listed documents run.
    let hash = sha256_hex(TAGS);
    assert_tags(&post(&server, None, &hash).await);
    assert_tags(&post(&server, Some(TAGS), &hash).await);
    assert_tags(&get(&server, &hash, json!({})).await);
    let by_text = server
        .post_json(STRICT, &json!({"query": TAGS}).to_string())
        .await;
    assert_tags(&by_text);
    // Anything else is refused, and cannot be registered.
    let other = "{ popularTags { name articlesCount } }";
    for response in [
        server
            .post_json(STRICT, &json!({"query": other}).to_string())
            .await,
        post(&server, Some(other), &sha256_hex(other)).await,
    ] {
        assert_refused(&response, "PERSISTED_QUERY_NOT_IN_LIST");
    }
    // An unlisted hash alone too: the client is not invited to send a text that would be
    // refused anyway.
    assert_refused(
        &post(&server, None, &sha256_hex(other)).await,
        "PERSISTED_QUERY_NOT_IN_LIST",
    );
    // The same over WebSocket.
    let mut ws = server.ws_ready(json!({})).await;
    ws.subscribe("1", other, json!({})).await;
    let message = ws.next_json().await;
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(
        message["payload"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_IN_LIST"
    );
    ws.subscribe("2", "", json!({})).await;
    // A hash without a `query` key, as urql's persisted exchange sends subscriptions.
    ws.send(json!({"id": "3", "type": "subscribe", "payload": {
        "extensions": persisted(&hash)
    }}))
    .await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        let message = ws.next_json().await;
        seen.push((message["id"].clone(), message["type"].clone()));
    }
    assert!(seen.contains(&(json!("3"), json!("next"))), "{seen:?}");
    assert!(seen.contains(&(json!("3"), json!("complete"))), "{seen:?}");
    assert!(seen.contains(&(json!("2"), json!("error"))), "{seen:?}");
    // A normal listed query still runs after every refusal.
    assert_tags(&post(&server, None, &hash).await);
}

#[tokio::test]
async fn a_manifest_whose_hashes_do_not_match_is_refused_at_start() {
    let bad = tempfile_path::TempPath::with(&json!({ "0".repeat(64): TAGS }).to_string());
    let not_json = tempfile_path::TempPath::with("[1, 2]");
    for (manifest, complaint) in [
        (&bad, "is not the SHA-256"),
        (&not_json, "is not a persisted-documents manifest"),
    ] {
        let config = test_config(
            &database_url("unused"),
            &[
                ("PERSISTED_QUERIES", "safelist"),
                ("PERSISTED_QUERIES_MANIFEST", manifest.0.to_str().unwrap()),
            ],
        );
        let err = conduit::AppState::new(config).err().expect("refused");
        assert!(err.to_string().contains(complaint), "{err}");
    }
}

#[tokio::test]
async fn with_persisted_queries_off_a_hash_alone_is_not_supported() {
    let app = TestApp::with_config(&[("PERSISTED_QUERIES", "off")]).await;
    let hash = sha256_hex(TAGS);
    let response = post(&app, None, &hash).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(response.first_error_code(), "PERSISTED_QUERY_NOT_SUPPORTED");
    assert_eq!(
        response.json()["errors"][0]["message"],
        "PersistedQueryNotSupported"
    );
    // The text runs as usual.
    assert_tags(&post(&app, Some(TAGS), &hash).await);
}

#[tokio::test]
async fn the_store_is_bounded_and_expires_registrations() {
    let app = TestApp::spawn().await;
    let db = crate::helpers::connect(&app.database_url()).await;
    // An expired registration, and the table otherwise full (5000 rows).
    let old = sha256_hex("{ __typename }");
    db.execute(
        "INSERT INTO persisted_queries (hash, document, created_at) \
         VALUES ($1, '{ __typename }', now() - interval '25 hours')",
        &[&old],
    )
    .await
    .unwrap();
    db.batch_execute(
        "INSERT INTO persisted_queries (hash, document) \
         SELECT md5(i::text) || md5((i + 1)::text), '{ __typename }' \
         FROM generate_series(1, 4999) AS i",
    )
    .await
    .unwrap();
    // Full: the document runs, and is not stored; the expired row goes.
    let hash = sha256_hex(TAGS);
    assert_tags(&post(&app, Some(TAGS), &hash).await);
    let count = |sql: &'static str| {
        let db = &db;
        async move { db.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(count("SELECT count(*) FROM persisted_queries").await, 4999);
    let fresh = TestApp::sharing(&app, &[]);
    assert_not_found(&post(&fresh, None, &hash).await);
    // With room again, it is stored.
    assert_tags(&post(&fresh, Some(TAGS), &hash).await);
    assert_tags(&post(&TestApp::sharing(&app, &[]), None, &hash).await);
    assert_eq!(count("SELECT count(*) FROM persisted_queries").await, 5000);
}

async fn stored_rows(app: &TestApp) -> i64 {
    let db = crate::helpers::connect(&app.database_url()).await;
    let row = db
        .query_one("SELECT count(*) FROM persisted_queries", &[])
        .await
        .unwrap();
    row.get(0)
}

#[tokio::test]
async fn expired_documents_stop_answering_at_expiry() {
    let app = TestApp::spawn().await;
    // A row past its 24 hours that no registration has deleted yet does not answer.
    let old = "{ old: popularTags { name } }";
    let db = crate::helpers::connect(&app.database_url()).await;
    db.execute(
        "INSERT INTO persisted_queries (hash, document, created_at) \
         VALUES ($1, $2, now() - interval '24 hours 1 second')",
        &[&sha256_hex(old), &old],
    )
    .await
    .unwrap();
    assert_not_found(&post(&app, None, &sha256_hex(old)).await);
    // A document registered now answers, from this instance's cache and from the table,
    // until its expiry: then neither answers.
    let hash = sha256_hex(TAGS);
    assert_tags(&post(&app, Some(TAGS), &hash).await);
    let other = TestApp::sharing(&app, &[]);
    assert_tags(&post(&app, None, &hash).await);
    assert_tags(&post(&other, None, &hash).await);
    app.state.clock.advance(chrono::Duration::hours(24));
    assert_not_found(&post(&app, None, &hash).await);
    other.state.clock.advance(chrono::Duration::hours(24));
    assert_not_found(&post(&other, None, &hash).await);
    // Registered again, it answers again.
    assert_tags(&post(&app, Some(TAGS), &hash).await);
    assert_tags(&post(&app, None, &hash).await);
}

#[tokio::test]
async fn the_cache_holds_only_what_the_store_took() {
    let app = TestApp::spawn().await;
    let db = crate::helpers::connect(&app.database_url()).await;
    db.batch_execute(
        "INSERT INTO persisted_queries (hash, document) \
         SELECT md5(i::text) || md5((i + 1)::text), '{ __typename }' \
         FROM generate_series(1, 5000) AS i",
    )
    .await
    .unwrap();
    // Full: the document runs and is not stored, so not even this instance answers the
    // hash alone.
    let hash = sha256_hex(TAGS);
    assert_tags(&post(&app, Some(TAGS), &hash).await);
    assert_not_found(&post(&app, None, &hash).await);
    assert_eq!(stored_rows(&app).await, 5000);
}

fn aliased(i: usize) -> String {
    format!("{{ t{i}: popularTags {{ name }} }}")
}

#[tokio::test]
async fn registrations_are_limited_per_client() {
    let app = TestApp::with_config(&[("PERSISTED_QUERY_REGISTRATIONS_PER_MINUTE", "2")]).await;
    // Ten new documents at once from one client: all run, two are stored.
    let documents: Vec<String> = (0..10).map(aliased).collect();
    let runs = documents.iter().map(|doc| {
        let app = &app;
        async move { post(app, Some(doc), &sha256_hex(doc)).await }
    });
    for response in futures_util::future::join_all(runs).await {
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        assert!(
            response.json().get("errors").is_none(),
            "{}",
            response.text()
        );
    }
    assert_eq!(stored_rows(&app).await, 2);
    let mut answered = 0;
    for doc in &documents {
        let response = post(&app, None, &sha256_hex(doc)).await;
        if response.json().get("errors").is_none() {
            answered += 1;
        } else {
            assert_not_found(&response);
        }
    }
    assert_eq!(answered, 2);
    // A signed-in user registers from a bucket of their own.
    let jane = app.register("jane").await;
    let mine = aliased(99);
    let body = json!({ "query": mine, "extensions": persisted(&sha256_hex(&mine)) });
    let response = app
        .send(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {}", jane.access))
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(stored_rows(&app).await, 3);
    // Each refusal is counted.
    let metrics = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .text();
    let line = "conduit_rate_limited_total{limit=\"persisted_registration\"} 8";
    assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
}

/// `documentId` (the GraphQL-over-HTTP persisted-documents draft) over POST or GET.
async fn by_document_id(app: &TestApp, id: &str, get: bool) -> TestResponse {
    if get {
        let query = serde_urlencoded::to_string([("documentId", id)]).unwrap();
        let request = Request::get(format!("/graphql?{query}")).header("accept", STRICT);
        app.send(request.body(Body::empty()).unwrap()).await
    } else {
        app.post_json(STRICT, &json!({ "documentId": id }).to_string())
            .await
    }
}

#[tokio::test]
async fn sha256_prefixed_hashes_work_in_the_manifest_apq_and_document_id() {
    // The client preset's manifest form: keys "sha256:<hex>".
    let prefixed = format!("sha256:{}", sha256_hex(TAGS));
    let manifest = tempfile_path::TempPath::with(&json!({ prefixed.clone(): TAGS }).to_string());
    let path = manifest.0.to_str().unwrap().to_owned();
    let safelisted = TestServer::start(&[
        ("PERSISTED_QUERIES", "safelist"),
        ("PERSISTED_QUERIES_MANIFEST", &path),
    ])
    .await;
    assert_tags(&post(&safelisted, None, &prefixed).await);
    assert_tags(&post(&safelisted, None, &sha256_hex(TAGS)).await);
    assert_tags(&by_document_id(&safelisted, &prefixed, false).await);
    assert_tags(&by_document_id(&safelisted, &prefixed, true).await);
    let other = format!("sha256:{}", sha256_hex("{ __typename }"));
    assert_refused(
        &by_document_id(&safelisted, &other, false).await,
        "PERSISTED_QUERY_NOT_IN_LIST",
    );

    // APQ registration by a prefixed hash; then the document by documentId.
    let app = TestApp::spawn().await;
    assert_not_found(&by_document_id(&app, &prefixed, false).await);
    assert_tags(&post(&app, Some(TAGS), &prefixed).await);
    assert_tags(&by_document_id(&app, &prefixed, true).await);
    assert_tags(
        &by_document_id(
            &app,
            &prefixed.to_ascii_uppercase().replace("SHA256:", "sha256:"),
            false,
        )
        .await,
    );
    // Anything but a SHA-256 is refused as a bad request.
    for bad in [
        "md5:abc",
        "sha256:xyz",
        "",
        &format!("sha256:{}", "a".repeat(65)),
    ] {
        assert_refused(&by_document_id(&app, bad, false).await, "BAD_REQUEST");
    }
}

#[tokio::test]
async fn a_manifest_key_that_is_no_sha256_is_refused_at_start() {
    let manifest = tempfile_path::TempPath::with(&json!({ "md5:abc": TAGS }).to_string());
    let err = conduit::AppState::new(test_config(
        &database_url("unused"),
        &[
            ("PERSISTED_QUERIES", "safelist"),
            ("PERSISTED_QUERIES_MANIFEST", manifest.0.to_str().unwrap()),
        ],
    ))
    .err()
    .expect("refused");
    assert!(format!("{err:#}").contains("is not a SHA-256"), "{err:#}");
}
