//! No input makes work grow faster than its size: every input path, sent the largest
//! value the body limit allows, is refused with its code and field before any per-item
//! work. "Before any per-item work" is read from `domain::validation::Steps`, the count of
//! list items and characters the input checks read (process-wide: each test runs in its
//! own process under nextest), never from a clock.

use conduit::domain::validation::Steps;
use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, error_code, field_errors};

/// The default `BODY_LIMIT_BYTES`.
const BODY_LIMIT: usize = 1_048_576;

/// The longest string a request under the default body limit can carry, next to the
/// document and the other variables.
const LONGEST: usize = BODY_LIMIT - 4_096;

/// Most steps a refusal may take: the small valid fields sent next to the huge one.
const FEW: u64 = 200;

const CREATE: &str =
    "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id } }";
const UPDATE: &str = "mutation($slug: String!, $input: UpdateArticleInput!) { updateArticle(slug: $slug, input: $input) { id } }";
const REGISTER: &str =
    "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }";
const UPDATE_VIEWER: &str =
    "mutation($input: UpdateViewerInput!) { updateViewer(input: $input) { id } }";

fn huge() -> String {
    "x".repeat(LONGEST)
}

/// `n` distinct tags, as short as they come (`0`, `1`, … in hex).
fn distinct_tags(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{i:x}")).collect()
}

/// Runs an operation and returns its JSON answer with the validation steps it took.
async fn counted(
    app: &TestApp,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> (Value, u64) {
    let body = json!({"query": query, "variables": variables}).to_string();
    assert!(body.len() <= BODY_LIMIT, "{} bytes", body.len());
    let before = Steps::total();
    let answer = app.gql(query, variables, token).await;
    (answer, Steps::total() - before)
}

/// Asserts `answer` is BAD_USER_INPUT naming `field` (and no data), refused in at most
/// `FEW` steps.
fn assert_refused(answer: &Value, steps: u64, field: &str) {
    let shown: String = answer.to_string().chars().take(300).collect();
    assert_eq!(error_code(answer), "BAD_USER_INPUT", "{shown}");
    let fields: Vec<String> = field_errors(answer).into_iter().map(|(f, _)| f).collect();
    assert!(fields.iter().any(|f| f == field), "{field} in {fields:?}");
    assert!(steps <= FEW, "{field}: {steps} validation steps");
    assert!(answer.to_string().len() < 2_000, "the input is not echoed");
}

async fn author(app: &TestApp) -> (Account, String) {
    let jane = app.register("jane").await;
    let (created, _) = counted(
        app,
        CREATE,
        json!({"input": {"title": "Mine", "description": "d", "body": "b"}}),
        Some(&jane.access),
    )
    .await;
    assert!(
        created["data"]["createArticle"]["id"].is_string(),
        "{created}"
    );
    (jane, "mine".to_owned())
}

async fn assert_still_serving(app: &TestApp) {
    assert_eq!(
        app.query("{ __typename }").await,
        json!({"data": {"__typename": "Query"}})
    );
}

#[tokio::test]
async fn create_article_with_100000_distinct_tags_is_refused_before_reading_one() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let input =
        json!({"title": "T", "description": "d", "body": "b", "tags": distinct_tags(100_000)});
    let (answer, steps) =
        counted(&app, CREATE, json!({ "input": input }), Some(&jane.access)).await;
    assert_refused(&answer, steps, "tags");
    assert_eq!(field_errors(&answer)[0].1, "at most 10 tags");
    // Eleven copies of one tag are eleven tags: counted as sent, before deduplication.
    let input = json!({"title": "T", "description": "d", "body": "b", "tags": vec!["rust"; 11]});
    let (answer, steps) =
        counted(&app, CREATE, json!({ "input": input }), Some(&jane.access)).await;
    assert_refused(&answer, steps, "tags");
    let count = app.query("{ articles { totalCount } }").await;
    assert_eq!(count["data"]["articles"]["totalCount"], 0, "{count}");
}

#[tokio::test]
async fn update_article_with_100000_distinct_tags_is_refused_before_reading_one() {
    let app = TestApp::spawn().await;
    let (jane, slug) = author(&app).await;
    let input = json!({"tags": distinct_tags(100_000)});
    let (answer, steps) = counted(
        &app,
        UPDATE,
        json!({"slug": slug, "input": input}),
        Some(&jane.access),
    )
    .await;
    assert_refused(&answer, steps, "tags");
}

#[tokio::test]
async fn a_bigger_body_limit_makes_a_bigger_tag_list_no_more_work() {
    let limit = 4 * BODY_LIMIT;
    let app = TestApp::with_config(&[("BODY_LIMIT_BYTES", &limit.to_string())]).await;
    let jane = app.register("jane").await;
    let input =
        json!({"title": "T", "description": "d", "body": "b", "tags": distinct_tags(450_000)});
    let variables = json!({ "input": input });
    assert!(
        variables.to_string().len() > 3 * BODY_LIMIT,
        "a bigger attack"
    );
    let before = Steps::total();
    let answer = app.gql(CREATE, variables, Some(&jane.access)).await;
    assert_refused(&answer, Steps::total() - before, "tags");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tag_attack_repeated_in_parallel_is_refused_every_time_without_work() {
    // A long pool wait: eight megabyte-sized requests at once on an unoptimised build may
    // keep the pool's connections busy for a while; that is not what is tested here.
    let app = TestApp::with_config(&[
        ("DATABASE_POOL_SIZE", "8"),
        ("DATABASE_POOL_WAIT_MS", "60000"),
    ])
    .await;
    let jane = app.register("jane").await;
    let input =
        json!({"title": "T", "description": "d", "body": "b", "tags": distinct_tags(100_000)});
    let variables = json!({ "input": input });
    let before = Steps::total();
    let answers = futures_util::future::join_all(
        (0..8).map(|_| app.gql(CREATE, variables.clone(), Some(&jane.access))),
    )
    .await;
    let steps = Steps::total() - before;
    for answer in &answers {
        assert_refused(answer, 0, "tags");
    }
    assert!(steps <= 8 * FEW, "{steps} steps for 8 refusals");
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn huge_article_texts_are_refused_unread() {
    let app = TestApp::spawn().await;
    let (jane, slug) = author(&app).await;
    let valid = json!({"title": "T", "description": "d", "body": "b"});
    for field in ["title", "description", "body"] {
        let mut input = valid.clone();
        input[field] = json!(huge());
        let (answer, steps) =
            counted(&app, CREATE, json!({ "input": input }), Some(&jane.access)).await;
        assert_refused(&answer, steps, field);
        let input = json!({ field: huge() });
        let (answer, steps) = counted(
            &app,
            UPDATE,
            json!({"slug": slug, "input": input}),
            Some(&jane.access),
        )
        .await;
        assert_refused(&answer, steps, field);
    }
    // A title of spaces around a huge word: refused on its length, never transliterated
    // into a slug.
    let input = json!({"title": format!("  {}  ", huge().get(8..).unwrap()), "description": "d", "body": "b"});
    let (answer, steps) =
        counted(&app, CREATE, json!({ "input": input }), Some(&jane.access)).await;
    assert_refused(&answer, steps, "title");
    let count = app.query("{ articles { totalCount } }").await;
    assert_eq!(count["data"]["articles"]["totalCount"], 1, "{count}");
}

#[tokio::test]
async fn a_huge_comment_is_refused_unread() {
    let app = TestApp::spawn().await;
    let (jane, slug) = author(&app).await;
    let (answer, steps) = counted(
        &app,
        "mutation($slug: String!, $body: String!) { addComment(articleSlug: $slug, body: $body) { id } }",
        json!({"slug": slug, "body": huge()}),
        Some(&jane.access),
    )
    .await;
    assert_refused(&answer, steps, "body");
}

#[tokio::test]
async fn huge_registration_fields_are_refused_unread_and_unhashed() {
    let app = TestApp::spawn().await;
    let valid =
        json!({"username": "jane", "email": "jane@example.com", "password": "correct horse"});
    for field in ["username", "email", "password"] {
        let mut input = valid.clone();
        input[field] = json!(huge());
        let (answer, steps) = counted(&app, REGISTER, json!({ "input": input }), None).await;
        assert_refused(&answer, steps, field);
    }
    let users = app.query("{ nodes(ids: []) { id } }").await;
    assert_eq!(users["data"]["nodes"], json!([]), "{users}");
}

#[tokio::test]
async fn huge_profile_fields_are_refused_unread() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    for field in ["username", "email", "bio", "image"] {
        let (answer, steps) = counted(
            &app,
            UPDATE_VIEWER,
            json!({"input": { field: huge() }}),
            Some(&jane.access),
        )
        .await;
        assert_refused(&answer, steps, field);
    }
}

#[tokio::test]
async fn huge_passwords_are_refused_before_hashing() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let (answer, steps) = counted(
        &app,
        "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { accessToken } }",
        json!({"c": jane.password, "n": huge()}),
        Some(&jane.access),
    )
    .await;
    assert_refused(&answer, steps, "newPassword");
    let (answer, steps) = counted(
        &app,
        "mutation($input: LoginInput!) { login(input: $input) { accessToken } }",
        json!({"input": {"email": jane.email, "password": huge()}}),
        None,
    )
    .await;
    assert_eq!(error_code(&answer), "UNAUTHENTICATED", "{answer}");
    assert!(steps <= FEW, "login: {steps} steps");
}

#[tokio::test]
async fn too_many_node_ids_are_refused_before_decoding_one() {
    // With the complexity limit out of reach, the resolver's own count refuses them.
    let app = TestApp::with_config(&[("QUERY_MAX_COMPLEXITY", "100000000")]).await;
    let jane = app.register("jane").await;
    let ids: Vec<&str> = vec![jane.id.as_str(); LONGEST / (jane.id.len() + 3)];
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    let (answer, steps) = counted(&app, query, json!({ "ids": ids }), None).await;
    assert_refused(&answer, steps, "ids");
    // Under the default limit, the document is refused before it runs.
    let app = TestApp::sharing(&app, &[]);
    let (answer, steps) = counted(&app, query, json!({ "ids": ids }), None).await;
    assert_eq!(error_code(&answer), "COMPLEXITY_LIMIT_EXCEEDED", "{answer}");
    assert!(steps <= FEW, "{steps} steps");
}

#[tokio::test]
async fn too_many_notification_ids_are_refused_before_decoding_one() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    // Well-formed notification IDs (`Notification:1`), each of which would decode.
    let id = "Tm90aWZpY2F0aW9uOjE";
    let ids: Vec<&str> = vec![id; LONGEST / (id.len() + 3)];
    let (answer, steps) = counted(
        &app,
        "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }",
        json!({ "ids": ids }),
        Some(&jane.access),
    )
    .await;
    assert_refused(&answer, steps, "ids");
}

#[tokio::test]
async fn huge_ids_and_cursors_are_refused_undecoded() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let (answer, steps) = counted(
        &app,
        "query($id: ID!) { node(id: $id) { id } }",
        json!({"id": huge()}),
        None,
    )
    .await;
    assert_refused(&answer, steps, "id");
    let (answer, steps) = counted(
        &app,
        "mutation($id: ID!) { deleteComment(id: $id) }",
        json!({"id": huge()}),
        Some(&jane.access),
    )
    .await;
    assert_refused(&answer, steps, "id");
    for (field, query) in [
        (
            "after",
            "query($c: String) { articles(first: 5, after: $c) { totalCount } }",
        ),
        (
            "before",
            "query($c: String) { articles(last: 5, before: $c) { totalCount } }",
        ),
    ] {
        let (answer, steps) = counted(&app, query, json!({"c": huge()}), None).await;
        assert_refused(&answer, steps, field);
    }
}

#[tokio::test]
async fn huge_slugs_and_usernames_find_nothing_and_are_not_echoed() {
    let app = TestApp::spawn().await;
    let (jane, _) = author(&app).await;
    for mutation in [
        "mutation($s: String!) { deleteArticle(slug: $s) }",
        "mutation($s: String!) { favoriteArticle(slug: $s) { id } }",
        "mutation($s: String!) { followUser(username: $s) { id } }",
    ] {
        let (answer, _) = counted(&app, mutation, json!({"s": huge()}), Some(&jane.access)).await;
        assert_eq!(error_code(&answer), "NOT_FOUND", "{mutation}");
        assert!(
            answer.to_string().len() < 2_000,
            "{mutation}: the input is echoed"
        );
    }
    let (answer, _) = counted(
        &app,
        UPDATE,
        json!({"slug": huge(), "input": {"body": "new"}}),
        Some(&jane.access),
    )
    .await;
    assert_eq!(error_code(&answer), "NOT_FOUND", "{answer}");
    assert!(answer.to_string().len() < 2_000, "the slug is echoed");
    for query in [
        "query($s: String!) { article(slug: $s) { id } }",
        "query($s: String!) { user(username: $s) { id } }",
    ] {
        let (answer, _) = counted(&app, query, json!({"s": huge()}), None).await;
        assert!(answer.get("errors").is_none(), "{query}");
    }
}

#[tokio::test]
async fn huge_article_filters_are_refused_unread() {
    let app = TestApp::spawn().await;
    for (field, argument) in [
        ("tag", "tag"),
        ("author", "author"),
        ("favoritedBy", "favoritedBy"),
    ] {
        let query = format!("query($s: String!) {{ articles({argument}: $s) {{ totalCount }} }}");
        let (answer, steps) = counted(&app, &query, json!({"s": huge()}), None).await;
        assert_refused(&answer, steps, field);
    }
    // The longest real values still filter.
    let tag = "t".repeat(32);
    let (answer, _) = counted(
        &app,
        "query($s: String!) { articles(tag: $s) { totalCount } }",
        json!({"s": tag}),
        None,
    )
    .await;
    assert_eq!(answer["data"]["articles"]["totalCount"], 0, "{answer}");
}

#[tokio::test]
async fn deeply_nested_variables_are_refused_and_the_server_keeps_serving() {
    let app = TestApp::spawn().await;
    let depth = LONGEST / 2;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let body = format!(
        r#"{{"query": "query($ids: [ID!]!) {{ nodes(ids: $ids) {{ id }} }}", "variables": {{"ids": {nested}}}}}"#
    );
    let response = app.post_json("application/json", &body).await;
    let code = response.first_error_code();
    assert!(
        ["BAD_REQUEST", "BAD_USER_INPUT"].contains(&code.as_str()),
        "{code}: {}",
        response.text().chars().take(300).collect::<String>()
    );
    // Nested as deep as the token limit allows, in the document itself.
    let depth = 990;
    let query = format!(
        "{{ nodes(ids: {}{}) {{ id }} }}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let answer = app.gql(&query, json!({}), None).await;
    assert!(answer.get("errors").is_some(), "{answer}");
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn a_maximal_valid_article_passes_in_steps_linear_in_its_size() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let tags: Vec<String> = (0..10).map(|i| format!("{i}{}", "t".repeat(31))).collect();
    let input = json!({
        "title": "é".repeat(200),
        "description": "d".repeat(1_000),
        "body": "ü".repeat(100_000),
        "tags": tags,
    });
    let (answer, steps) =
        counted(&app, CREATE, json!({ "input": input }), Some(&jane.access)).await;
    assert!(
        answer["data"]["createArticle"]["id"].is_string(),
        "{answer}"
    );
    // Each character read about once (tags twice: before and after lower-casing).
    let size = 200 + 1_000 + 100_000 + 2 * 10 * 32 + 10;
    assert!(
        steps >= size as u64 && steps <= 2 * size as u64,
        "{steps} steps"
    );
}
