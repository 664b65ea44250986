//! GraphQL over HTTP: media types, statuses and request validation.

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::json;

use crate::helpers::TestApp;

const JSON: &str = "application/json";
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

fn post(content_type: Option<&str>) -> axum::http::request::Builder {
    let mut builder = Request::post("/graphql");
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder
}

#[tokio::test]
async fn post_query_answers_in_the_negotiated_media_type() {
    let app = TestApp::spawn().await;
    let body = r#"{"query":"{ __typename viewer { username } }"}"#;
    for (accept, expected) in [
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        ("*/*", JSON),
        (
            "application/graphql-response+json, application/json;q=0.9",
            JSON,
        ),
    ] {
        let response = app.post_json(accept, body).await;
        assert_eq!(response.status, StatusCode::OK, "{accept}");
        assert_eq!(response.header("content-type"), Some(expected), "{accept}");
        assert_eq!(
            response.json(),
            json!({"data": {"__typename": "Query", "viewer": null}})
        );
    }

    let no_accept = app
        .send(
            Request::post("/graphql")
                .header("content-type", "application/json; charset=utf-8")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(no_accept.status, StatusCode::OK);
    assert_eq!(no_accept.header("content-type"), Some(JSON));
}

#[tokio::test]
async fn unacceptable_accept_is_406() {
    let app = TestApp::spawn().await;
    let response = app
        .post_json("application/xml", r#"{"query":"{ __typename }"}"#)
        .await;
    assert_eq!(response.status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(response.first_error_code(), "NOT_ACCEPTABLE");
}

#[tokio::test]
async fn malformed_requests_are_400_whatever_the_media_type() {
    let app = TestApp::spawn().await;
    let cases = [
        r#"{ "not a JSON"#,
        r#"{"notquery":"{ __typename }"}"#,
        r#"{"query": 0}"#,
        r#"{"query": ["array"]}"#,
        r#"{"query":"{ __typename }", "operationName": false}"#,
        r#"{"query":"{ __typename }", "variables": "string"}"#,
        r#"{"query":"{ __typename }", "extensions": ["array"]}"#,
        "",
    ];
    for body in cases {
        for accept in [GRAPHQL_RESPONSE, JSON] {
            let response = app.post_json(accept, body).await;
            assert_eq!(
                response.status,
                StatusCode::BAD_REQUEST,
                "{body}: {}",
                response.text()
            );
            assert_eq!(response.header("content-type"), Some(accept));
            assert_eq!(response.first_error_code(), "BAD_REQUEST", "{body}");
            assert!(response.json().get("data").is_none(), "{body}");
        }
    }
}

#[tokio::test]
async fn document_errors_are_400_under_graphql_response_json_and_200_under_json() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({"query": "{"}), "GRAPHQL_PARSE_FAILED"),
        (
            json!({"query": "{ notAField }"}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            json!({"query": "query A { __typename }", "operationName": "B"}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            json!({"query": "query C($id: ID!) { __typename }", "variables": {"id": null}}),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (json!({"query": "subscription { x }"}), "BAD_REQUEST"),
    ];
    for (body, code) in cases {
        let body = body.to_string();
        let strict = app.post_json(GRAPHQL_RESPONSE, &body).await;
        assert_eq!(
            strict.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            strict.text()
        );
        assert_eq!(strict.header("content-type"), Some(GRAPHQL_RESPONSE));
        assert_eq!(strict.first_error_code(), code, "{body}");
        assert!(
            strict.json().get("data").is_none(),
            "{body}: no data entry when nothing ran"
        );

        let legacy = app.post_json(JSON, &body).await;
        assert_eq!(legacy.status, StatusCode::OK, "{body}: {}", legacy.text());
        assert_eq!(legacy.first_error_code(), code, "{body}");
    }
}

#[tokio::test]
async fn null_and_map_parameters_are_allowed() {
    let app = TestApp::spawn().await;
    for body in [
        json!({"query": "{ __typename }", "variables": null, "operationName": null, "extensions": null}),
        json!({"query": "query Q { __typename }", "operationName": "Q", "extensions": {"some": "value"}}),
        json!({"query": "query T($name: String!) { __type(name: $name) { name } }", "variables": {"name": "Query"}}),
    ] {
        let response = app.post_json(GRAPHQL_RESPONSE, &body.to_string()).await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "{body}: {}",
            response.text()
        );
        assert!(
            response.json().get("errors").is_none(),
            "{}",
            response.text()
        );
    }
}

#[tokio::test]
async fn parse_errors_report_locations() {
    let app = TestApp::spawn().await;
    let response = app.post_json(JSON, r#"{"query":"{ viewer { "}"#).await;
    let error = &response.json()["errors"][0];
    assert_eq!(error["extensions"]["code"], "GRAPHQL_PARSE_FAILED");
    assert!(error["locations"][0]["line"].is_number(), "{error}");
}

#[tokio::test]
async fn get_runs_queries_with_json_variables() {
    let app = TestApp::spawn().await;
    let response = app
        .send(
            Request::get(
                "/graphql?query=query%20T(%24n%3AString!)%7B__type(name%3A%24n)%7Bname%7D%7D\
                 &variables=%7B%22n%22%3A%22User%22%7D",
            )
            .header("accept", GRAPHQL_RESPONSE)
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(
        response.json(),
        json!({"data": {"__type": {"name": "User"}}})
    );

    let no_accept = app
        .send(
            Request::get("/graphql?query=%7B__typename%7D")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(no_accept.status, StatusCode::OK);
    assert_eq!(no_accept.header("content-type"), Some(JSON));
}

#[tokio::test]
async fn get_with_invalid_variables_is_a_request_error() {
    let app = TestApp::spawn().await;
    let response = app
        .send(
            Request::get("/graphql?query=%7B__typename%7D&variables=%7Bnot-json")
                .header("accept", GRAPHQL_RESPONSE)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.first_error_code(), "BAD_REQUEST");
}

#[tokio::test]
async fn mutations_over_get_are_405_with_allow_post() {
    let app = TestApp::spawn().await;
    for (uri, accept) in [
        (
            "/graphql?query=mutation%20%7B%20__typename%20%7D",
            GRAPHQL_RESPONSE,
        ),
        ("/graphql?query=mutation%20%7B%20__typename%20%7D", JSON),
        // A named mutation, alone, without operationName.
        ("/graphql?query=mutation%20M%20%7B%20logout%20%7D", JSON),
        (
            "/graphql?query=query%20A%7B__typename%7D%20mutation%20B%7B__typename%7D&operationName=B",
            JSON,
        ),
    ] {
        let response = app
            .send(
                Request::get(uri)
                    .header("accept", accept)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED, "{uri}");
        assert_eq!(response.header("allow"), Some("POST"));
        assert_eq!(response.first_error_code(), "METHOD_NOT_ALLOWED");
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let app = TestApp::with_config(&[("BODY_LIMIT_BYTES", "1024")]).await;
    let big = json!({"query": format!("{{ __typename }} # {}", "x".repeat(2000))}).to_string();
    let declared = app.post_json(JSON, &big).await;
    assert_eq!(declared.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(declared.first_error_code(), "PAYLOAD_TOO_LARGE");

    // Without Content-Length (chunked), the limit still holds while reading.
    let chunks: Vec<Result<String, std::io::Error>> =
        vec![Ok(big[..600].to_owned()), Ok(big[600..].to_owned())];
    let streamed = app
        .send(
            Request::post("/graphql")
                .header("content-type", JSON)
                .body(Body::from_stream(futures_util::stream::iter(chunks)))
                .unwrap(),
        )
        .await;
    assert_eq!(streamed.status, StatusCode::PAYLOAD_TOO_LARGE);

    let small = app.post_json(JSON, r#"{"query":"{ __typename }"}"#).await;
    assert_eq!(small.status, StatusCode::OK);
}

#[tokio::test]
async fn unsupported_media_types_are_415() {
    let app = TestApp::spawn().await;
    for content_type in [
        "application/xml",
        "application/json; charset=latin1",
        "application/graphql",
    ] {
        let response = app
            .send(
                post(Some(content_type))
                    .body(Body::from(r#"{"query":"{ __typename }"}"#))
                    .unwrap(),
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
        assert_eq!(response.first_error_code(), "UNSUPPORTED_MEDIA_TYPE");
    }
}

#[tokio::test]
async fn simple_content_types_are_blocked_as_csrf_without_a_preflight_header() {
    let app = TestApp::spawn().await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
    ] {
        let response = app
            .send(
                post(content_type)
                    .body(Body::from(r#"{"query":"{ __typename }"}"#))
                    .unwrap(),
            )
            .await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{content_type:?}");
        assert_eq!(response.first_error_code(), "BAD_REQUEST");
        assert!(
            response.text().contains("cross-site request forgery"),
            "{}",
            response.text()
        );
    }
    // With a preflight-forcing header it is no CSRF risk, but still not JSON.
    let response = app
        .send(
            post(Some("text/plain"))
                .header("apollo-require-preflight", "true")
                .body(Body::from(r#"{"query":"{ __typename }"}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(response.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn batches_run_each_operation_and_are_bounded() {
    let app = TestApp::with_config(&[("BATCH_LIMIT", "2")]).await;
    let response = app
        .post_json(JSON, r#"[{"query":"{ __typename }"},{"query":"{ nope }"}]"#)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    assert_eq!(body[0], json!({"data": {"__typename": "Query"}}));
    assert_eq!(
        body[1]["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );

    let too_many = app
        .post_json(
            GRAPHQL_RESPONSE,
            r#"[{"query":"{ __typename }"},{"query":"{ __typename }"},{"query":"{ __typename }"}]"#,
        )
        .await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    assert_eq!(too_many.first_error_code(), "BATCH_LIMIT_EXCEEDED");

    let empty = app.post_json(GRAPHQL_RESPONSE, "[]").await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn other_methods_are_405() {
    let app = TestApp::spawn().await;
    let response = app
        .send(Request::put("/graphql").body(Body::from("{}")).unwrap())
        .await;
    assert_eq!(response.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn response_fields_come_in_selection_order() {
    // Sibling fields resolve concurrently and finish in any order; the response still
    // lists them as selected, through aliases, fragments and lists.
    let app = TestApp::spawn().await;
    let query = "query { tags: popularTags(first: 3) { articlesCount name } \
                 list: articles(first: 2) { pageInfo { hasNextPage } ...Total } \
                 typename: __typename } \
                 fragment Total on ArticleConnection { totalCount nodes { slug } }";
    let response = app
        .gql_response(query, serde_json::json!({}), None, "application/json")
        .await;
    assert_eq!(
        response.text(),
        r#"{"data":{"tags":[],"list":{"pageInfo":{"hasNextPage":false},"totalCount":0,"nodes":[]},"typename":"Query"}}"#
    );
}
