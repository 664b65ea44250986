//! Input the database or the type system cannot take is refused with a code, and a
//! failure deep inside (a broken database) reaches the client masked: no SQL, no panic
//! text, no stack. Each is followed by a query that still succeeds.

use serde_json::json;

use crate::helpers::{TestApp, connect, error_code};

const STRICT: &str = "application/graphql-response+json";

async fn assert_still_serving(app: &TestApp) {
    assert_eq!(
        app.query("{ __typename }").await,
        json!({"data": {"__typename": "Query"}})
    );
}

#[tokio::test]
async fn text_with_a_nul_character_is_bad_user_input_before_anything_runs() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let literal = json!({"query": r#"{ article(slug: "a\u0000b") { id } }"#});
    let response = app.post_json(STRICT, &literal.to_string()).await;
    assert_eq!(response.status, 400, "{}", response.text());
    assert_eq!(response.first_error_code(), "BAD_USER_INPUT");
    assert!(response.json().get("data").is_none());
    // Through variables, in a mutation: nothing is written.
    let body = app
        .gql(
            "mutation($input: CreateArticleInput!) { createArticle(input: $input) { article { id } } }",
            json!({"input": {"title": "T\u{0}", "description": "d", "body": "b", "tagList": []}}),
            Some(&alice.access),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let count = app.query("{ articles { totalCount } }").await;
    assert_eq!(count["data"]["articles"]["totalCount"], 0, "{count}");
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn an_int_outside_32_bits_is_bad_user_input() {
    let app = TestApp::spawn().await;
    for (query, variables) in [
        ("{ popularTags(first: 3000000000) { name } }", json!({})),
        (
            "query($n: Int) { popularTags(first: $n) { name } }",
            json!({"n": 3_000_000_000u64}),
        ),
    ] {
        let body = app.gql(query, variables, None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    }
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_broken_database_is_a_masked_internal_error() {
    let app = TestApp::spawn().await;
    // Break the database under the running server.
    let db = connect(&app.database_url()).await;
    db.batch_execute("ALTER TABLE tags RENAME TO tags_gone")
        .await
        .unwrap();
    let response = app
        .post_json(
            STRICT,
            &json!({"query": "{ popularTags { name } }"}).to_string(),
        )
        .await;
    let text = response.text();
    let body = response.json();
    assert_eq!(error_code(&body), "INTERNAL_SERVER_ERROR", "{body}");
    assert_eq!(body["errors"][0]["message"], "Internal server error");
    assert_eq!(
        body["errors"][0]["extensions"],
        json!({"code": "INTERNAL_SERVER_ERROR"})
    );
    for leak in [
        "tags",
        "relation",
        "SELECT",
        "does not exist",
        "diesel",
        "panicked",
        ".rs:",
    ] {
        assert!(!text.contains(leak), "{leak:?} leaked: {text}");
    }
    db.batch_execute("ALTER TABLE tags_gone RENAME TO tags")
        .await
        .unwrap();
    assert_eq!(
        app.query("{ popularTags { name } }").await,
        json!({"data": {"popularTags": []}})
    );
}
