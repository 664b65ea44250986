//! RealWorld articles: createArticle, updateArticle, deleteArticle, `article(slug:)`,
//! `User.articles`, and articles as `Node`s.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, field_errors};

const ARTICLE: &str = "id slug title description body tags createdAt updatedAt \
    author { id username } favoritesCount viewerHasFavorited viewerCanUpdate viewerCanDelete";

fn create_mutation() -> String {
    format!(
        "mutation($input: CreateArticleInput!) {{ createArticle(input: $input) {{ {ARTICLE} }} }}"
    )
}

fn update_mutation() -> String {
    format!(
        "mutation($slug: String!, $input: UpdateArticleInput!) \
         {{ updateArticle(slug: $slug, input: $input) {{ {ARTICLE} }} }}"
    )
}

const DELETE: &str = "mutation($slug: String!) { deleteArticle(slug: $slug) }";

/// Creates an article from a whole input, asserting success.
async fn create_with(app: &TestApp, token: &str, input: Value) -> Value {
    let body = app
        .gql(&create_mutation(), json!({ "input": input }), Some(token))
        .await;
    assert!(body.get("errors").is_none(), "{input}: {body}");
    body["data"]["createArticle"].clone()
}

async fn create(app: &TestApp, token: &str, title: &str, tags: &[&str]) -> Value {
    let input =
        json!({"title": title, "description": "A description", "body": "A body", "tags": tags});
    create_with(app, token, input).await
}

/// `article(slug:)` as seen with `token`; asserts there are no errors.
async fn article(app: &TestApp, slug: &str, token: Option<&str>) -> Value {
    let query = format!("query($slug: String!) {{ article(slug: $slug) {{ {ARTICLE} }} }}");
    let body = app.gql(&query, json!({ "slug": slug }), token).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["article"].clone()
}

/// Every article's slug, newest first, and the total count.
async fn all_slugs(app: &TestApp) -> (Vec<String>, i64) {
    let body = app
        .gql(
            "{ articles(first: 100) { totalCount nodes { slug } } }",
            json!({}),
            None,
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let slugs = body["data"]["articles"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["slug"].as_str().unwrap().to_owned())
        .collect();
    (
        slugs,
        body["data"]["articles"]["totalCount"].as_i64().unwrap(),
    )
}

/// `value` without the given top-level keys.
fn without(value: &Value, keys: &[&str]) -> Value {
    let mut value = value.clone();
    for key in keys {
        value.as_object_mut().unwrap().remove(*key);
    }
    value
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

#[tokio::test]
async fn create_article_returns_the_whole_article() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let created = create_with(
        &app,
        &jane.access,
        json!({
            "title": "Hello, World!",
            "description": "A first post",
            "body": "# Hi\n\nThere.",
            "tags": [" Rust ", "rust", "GraphQL"]
        }),
    )
    .await;
    assert_eq!(
        without(&created, &["id", "createdAt", "updatedAt"]),
        json!({
            "slug": "hello-world",
            "title": "Hello, World!",
            "description": "A first post",
            "body": "# Hi\n\nThere.",
            "tags": ["rust", "graphql"],
            "author": {"id": jane.id, "username": "jane"},
            "favoritesCount": 0,
            "viewerHasFavorited": false,
            "viewerCanUpdate": true,
            "viewerCanDelete": true
        })
    );
    assert!(created["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_ne!(created["id"], json!(jane.id), "articles have their own IDs");
    assert!(created["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(instant(&created["updatedAt"]) >= instant(&created["createdAt"]));

    // Anyone reads the same article by its slug; only the viewer flags differ.
    let mut expected = created.clone();
    expected["viewerCanUpdate"] = json!(false);
    expected["viewerCanDelete"] = json!(false);
    assert_eq!(article(&app, "hello-world", None).await, expected);
    assert_eq!(
        article(&app, "hello-world", Some(&jane.access)).await,
        created
    );
    assert_eq!(all_slugs(&app).await, (vec!["hello-world".to_owned()], 1));
}

#[tokio::test]
async fn unknown_slugs_read_as_null() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            "{ article(slug: \"no-such-article\") { slug } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(body, json!({"data": {"article": null}}));
}

#[tokio::test]
async fn slugs_are_transliterated_and_numbered_on_collision() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let cases = [
        (&jane, "Hello World", "hello-world"),
        (&jane, "Hello World", "hello-world-2"),
        (&jane, "hello   WORLD!", "hello-world-3"),
        // Slugs are global: another author's title collides too.
        (&john, "Hello, World", "hello-world-4"),
        (&jane, "Crème Brûlée", "creme-brulee"),
        (
            &jane,
            "  Rust & GraphQL: 2024 Edition  ",
            "rust-graphql-2024-edition",
        ),
        (&jane, "A", "a"),
    ];
    for (who, title, slug) in cases {
        let created = create(&app, &who.access, title, &[]).await;
        assert_eq!(created["slug"], slug, "{title}");
        let read = article(&app, slug, None).await;
        assert_eq!(read["id"], created["id"], "{slug} resolves to its article");
    }
    let (_, total) = all_slugs(&app).await;
    assert_eq!(total, 7);
}

#[tokio::test]
async fn a_title_without_slug_characters_is_bad_input() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    for title in ["!!!", "—", "  ?  "] {
        let body = app
            .gql(
                &create_mutation(),
                json!({"input": {"title": title, "description": "", "body": "Body"}}),
                Some(&jane.access),
            )
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{title}: {body}");
        assert_eq!(error_fields(&body), ["title"], "{title}");
        assert_eq!(body["data"], Value::Null);
    }
    assert_eq!(all_slugs(&app).await, (vec![], 0));
}

#[tokio::test]
async fn tags_are_trimmed_lowercased_and_deduplicated_in_order() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let cases = [
        (
            json!([" Rust ", "rust", "GraphQL"]),
            json!(["rust", "graphql"]),
        ),
        (
            json!(["b", "A", "c", "a", "B", " C"]),
            json!(["b", "a", "c"]),
        ),
        (json!(["ÉCOLE", "école"]), json!(["école"])),
        (json!([]), json!([])),
    ];
    for (i, (given, expected)) in cases.into_iter().enumerate() {
        let input =
            json!({"title": format!("Tags {i}"), "description": "", "body": "b", "tags": given});
        let created = create_with(&app, &jane.access, input).await;
        assert_eq!(created["tags"], expected, "{given}");
        let read = article(&app, created["slug"].as_str().unwrap(), None).await;
        assert_eq!(read["tags"], expected, "{given}, read back");
    }
    // Tags may be omitted.
    let input = json!({"title": "No tags", "description": "", "body": "b"});
    assert_eq!(
        create_with(&app, &jane.access, input).await["tags"],
        json!([])
    );
}

#[tokio::test]
async fn invalid_create_input_is_refused_with_field_errors_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let valid = json!({"title": "Valid", "description": "d", "body": "b", "tags": ["t"]});
    let eleven: Vec<String> = (0..11).map(|i| format!("tag{i}")).collect();
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"title": ""}), vec!["title"]),
        (json!({"title": "   "}), vec!["title"]),
        (json!({"title": "x".repeat(201)}), vec!["title"]),
        (json!({"title": "!!!"}), vec!["title"]),
        (
            json!({"description": "x".repeat(1001)}),
            vec!["description"],
        ),
        (json!({"body": ""}), vec!["body"]),
        (json!({"body": "x".repeat(100_001)}), vec!["body"]),
        (json!({"tags": eleven}), vec!["tags"]),
        (json!({"tags": [""]}), vec!["tags"]),
        (json!({"tags": ["ok", "   "]}), vec!["tags"]),
        (json!({"tags": ["x".repeat(33)]}), vec!["tags"]),
        (
            json!({"title": " ", "body": "", "tags": ["y".repeat(33)]}),
            vec!["body", "tags", "title"],
        ),
    ];
    for (patch, fields) in cases {
        let mut input = valid.clone();
        for (key, value) in patch.as_object().unwrap() {
            input[key] = value.clone();
        }
        let body = app
            .gql(
                &create_mutation(),
                json!({ "input": input }),
                Some(&jane.access),
            )
            .await;
        let shown: String = patch.to_string().chars().take(80).collect();
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{shown}: {body}");
        assert_eq!(body["data"], Value::Null, "{shown}");
        assert_eq!(error_fields(&body), fields, "{shown}");
    }
    assert_eq!(all_slugs(&app).await, (vec![], 0), "nothing was written");
    let tags = app
        .gql("{ popularTags { name articlesCount } }", json!({}), None)
        .await;
    assert_eq!(tags, json!({"data": {"popularTags": []}}));
}

#[tokio::test]
async fn limits_are_inclusive_and_count_characters() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let ten: Vec<String> = (0..10).map(|i| format!("tag{i}")).collect();
    let cases = [
        json!({"title": "x".repeat(200), "description": "", "body": "b"}),
        json!({"title": format!("  {}  ", "y".repeat(200)), "description": "d", "body": "b"}),
        json!({"title": "é".repeat(200), "description": "d", "body": "b"}),
        json!({"title": "Long description", "description": "d".repeat(1000), "body": "b"}),
        json!({"title": "Long body", "description": "d", "body": "b".repeat(100_000)}),
        json!({"title": "Short body", "description": "d", "body": "b"}),
        json!({"title": "Ten tags", "description": "d", "body": "b", "tags": ten}),
        json!({"title": "Long tags", "description": "d", "body": "b",
               "tags": ["t".repeat(32), format!(" {} ", "u".repeat(32)), "ü".repeat(32)]}),
    ];
    for input in &cases {
        let created = create_with(&app, &jane.access, input.clone()).await;
        assert_eq!(created["description"], input["description"]);
        assert_eq!(created["body"], input["body"]);
    }
    let long_tags = article(&app, "long-tags", None).await;
    assert_eq!(
        long_tags["tags"],
        json!(["t".repeat(32), "u".repeat(32), "ü".repeat(32)])
    );
    assert_eq!(
        article(&app, "ten-tags", None).await["tags"]
            .as_array()
            .unwrap()
            .len(),
        10
    );
    assert_eq!(all_slugs(&app).await.1, cases.len() as i64);
}

#[tokio::test]
async fn update_changes_only_the_given_fields_and_moves_the_slug() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let original = create_with(
        &app,
        &jane.access,
        json!({"title": "Original Title", "description": "Old d", "body": "Old b", "tags": ["a", "b"]}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(5)).await;

    let body = app
        .gql(
            &update_mutation(),
            json!({"slug": "original-title", "input": {"title": "New Title"}}),
            Some(&jane.access),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let renamed = body["data"]["updateArticle"].clone();
    let mut expected = original.clone();
    expected["slug"] = json!("new-title");
    expected["title"] = json!("New Title");
    assert_eq!(
        without(&renamed, &["updatedAt"]),
        without(&expected, &["updatedAt"]),
        "only the title and slug changed"
    );
    assert!(instant(&renamed["updatedAt"]) > instant(&original["updatedAt"]));
    assert_eq!(renamed["createdAt"], original["createdAt"]);
    assert_eq!(article(&app, "original-title", None).await, Value::Null);
    assert_eq!(
        article(&app, "new-title", Some(&jane.access)).await,
        renamed
    );

    // The other fields; tags replace the list, normalised like on creation.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let body = app
        .gql(
            &update_mutation(),
            json!({"slug": "new-title", "input": {"description": "New d", "body": "New b", "tags": [" X ", "x", "Y"]}}),
            Some(&jane.access),
        )
        .await;
    let edited = body["data"]["updateArticle"].clone();
    assert!(body.get("errors").is_none(), "{body}");
    let mut expected = renamed.clone();
    expected["description"] = json!("New d");
    expected["body"] = json!("New b");
    expected["tags"] = json!(["x", "y"]);
    assert_eq!(
        without(&edited, &["updatedAt"]),
        without(&expected, &["updatedAt"])
    );
    assert!(instant(&edited["updatedAt"]) > instant(&renamed["updatedAt"]));
    let tags = app
        .gql("{ popularTags { name articlesCount } }", json!({}), None)
        .await;
    assert_eq!(
        tags["data"]["popularTags"],
        json!([{"name": "x", "articlesCount": 1}, {"name": "y", "articlesCount": 1}]),
        "the old tags no longer count"
    );

    // An empty input succeeds and changes nothing.
    let body = app
        .gql(
            &update_mutation(),
            json!({"slug": "new-title", "input": {}}),
            Some(&jane.access),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    assert_eq!(
        without(&body["data"]["updateArticle"], &["updatedAt"]),
        without(&edited, &["updatedAt"])
    );

    // The same title again keeps the slug (it does not collide with itself).
    let body = app
        .gql(
            &update_mutation(),
            json!({"slug": "new-title", "input": {"title": "New Title"}}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(body["data"]["updateArticle"]["slug"], "new-title", "{body}");

    // An empty tag list clears the tags.
    let body = app
        .gql(
            &update_mutation(),
            json!({"slug": "new-title", "input": {"tags": []}}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(body["data"]["updateArticle"]["tags"], json!([]), "{body}");
    assert_eq!(all_slugs(&app).await, (vec!["new-title".to_owned()], 1));
}

#[tokio::test]
async fn a_new_title_that_collides_gets_a_numbered_slug() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    create(&app, &jane.access, "First", &[]).await;
    let second = create(&app, &jane.access, "Second", &[]).await;
    let body = app
        .gql(
            &update_mutation(),
            json!({"slug": "second", "input": {"title": "First"}}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(body["data"]["updateArticle"]["slug"], "first-2", "{body}");
    assert_eq!(body["data"]["updateArticle"]["id"], second["id"]);
    assert_eq!(article(&app, "second", None).await, Value::Null);
    assert_eq!(article(&app, "first", None).await["title"], "First");
}

#[tokio::test]
async fn invalid_updates_and_unknown_slugs_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let original = create(&app, &jane.access, "Stable", &["keep"]).await;
    let eleven: Vec<String> = (0..11).map(|i| format!("tag{i}")).collect();
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"title": ""}), vec!["title"]),
        (json!({"title": "   "}), vec!["title"]),
        (json!({"title": "!!!"}), vec!["title"]),
        (json!({"title": "x".repeat(201)}), vec!["title"]),
        (
            json!({"description": "x".repeat(1001)}),
            vec!["description"],
        ),
        (json!({"body": ""}), vec!["body"]),
        (json!({"body": "x".repeat(100_001)}), vec!["body"]),
        (json!({"tags": eleven}), vec!["tags"]),
        (json!({"tags": ["x".repeat(33)]}), vec!["tags"]),
        (json!({"tags": [" "]}), vec!["tags"]),
        (
            json!({"title": "Fine", "body": "", "tags": [""]}),
            vec!["body", "tags"],
        ),
    ];
    for (input, fields) in cases {
        let body = app
            .gql(
                &update_mutation(),
                json!({"slug": "stable", "input": input}),
                Some(&jane.access),
            )
            .await;
        let shown: String = input.to_string().chars().take(80).collect();
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{shown}: {body}");
        assert_eq!(body["data"], Value::Null, "{shown}");
        assert_eq!(error_fields(&body), fields, "{shown}");
    }
    assert_eq!(
        article(&app, "stable", Some(&jane.access)).await,
        original,
        "nothing changed"
    );

    let body = app
        .gql(
            &update_mutation(),
            json!({"slug": "no-such-article", "input": {"body": "x"}}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert_eq!(body["data"], Value::Null);
    let body = app
        .gql(
            DELETE,
            json!({"slug": "no-such-article"}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    assert_eq!(body["data"], Value::Null);
}

#[tokio::test]
async fn delete_removes_the_article_everywhere() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let doomed = create(&app, &jane.access, "Doomed", &["rust", "web"]).await;
    let kept = create(&app, &jane.access, "Kept", &["rust"]).await;
    let favorite = "mutation($slug: String!) { favoriteArticle(slug: $slug) { favoritesCount } }";
    for slug in ["doomed", "kept"] {
        let body = app
            .gql(favorite, json!({ "slug": slug }), Some(&john.access))
            .await;
        assert_eq!(
            body["data"]["favoriteArticle"]["favoritesCount"], 1,
            "{body}"
        );
    }
    let tags = "{ popularTags { name articlesCount } }";
    assert_eq!(
        app.gql(tags, json!({}), None).await["data"]["popularTags"],
        json!([{"name": "rust", "articlesCount": 2}, {"name": "web", "articlesCount": 1}])
    );

    let body = app
        .gql(DELETE, json!({"slug": "doomed"}), Some(&jane.access))
        .await;
    assert_eq!(body, json!({"data": {"deleteArticle": doomed["id"]}}));

    assert_eq!(article(&app, "doomed", None).await, Value::Null);
    let node = app
        .gql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({"id": doomed["id"]}),
            None,
        )
        .await;
    assert_eq!(node, json!({"data": {"node": null}}));
    let nodes = app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({"ids": [doomed["id"], kept["id"]]}),
            None,
        )
        .await;
    assert_eq!(
        nodes,
        json!({"data": {"nodes": [null, {"id": kept["id"]}]}})
    );
    assert_eq!(all_slugs(&app).await, (vec!["kept".to_owned()], 1));
    assert_eq!(
        app.gql(tags, json!({}), None).await["data"]["popularTags"],
        json!([{"name": "rust", "articlesCount": 1}]),
        "counts drop; a tag of no article is not popular"
    );
    let favorites = app
        .gql(
            "{ user(username: \"john\") { favoriteArticles { totalCount nodes { slug } } } \
               articles(favoritedBy: \"john\") { totalCount nodes { slug } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        favorites["data"],
        json!({
            "user": {"favoriteArticles": {"totalCount": 1, "nodes": [{"slug": "kept"}]}},
            "articles": {"totalCount": 1, "nodes": [{"slug": "kept"}]}
        })
    );
    let jane_articles = app
        .gql(
            "{ user(username: \"jane\") { articles { totalCount nodes { slug } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        jane_articles["data"]["user"]["articles"],
        json!({"totalCount": 1, "nodes": [{"slug": "kept"}]})
    );

    // Deleting it again: it is gone.
    let again = app
        .gql(DELETE, json!({"slug": "doomed"}), Some(&jane.access))
        .await;
    assert_eq!(error_code(&again), "NOT_FOUND", "{again}");
    assert_eq!(again["data"], Value::Null);
}

#[tokio::test]
async fn user_articles_are_the_authors_own_newest_first() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    create(&app, &jane.access, "Jane One", &[]).await;
    create(&app, &john.access, "John One", &[]).await;
    create(&app, &jane.access, "Jane Two", &[]).await;
    create(&app, &jane.access, "Jane Three", &[]).await;
    let body = app
        .gql(
            "{ jane: user(username: \"jane\") { articles { totalCount nodes { slug author { username } } } } \
               john: user(username: \"john\") { articles { totalCount nodes { slug } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        body,
        json!({"data": {
            "jane": {"articles": {"totalCount": 3, "nodes": [
                {"slug": "jane-three", "author": {"username": "jane"}},
                {"slug": "jane-two", "author": {"username": "jane"}},
                {"slug": "jane-one", "author": {"username": "jane"}}
            ]}},
            "john": {"articles": {"totalCount": 1, "nodes": [{"slug": "john-one"}]}}
        }})
    );
}

#[tokio::test]
async fn articles_are_nodes_beside_users() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let first = create(&app, &jane.access, "First Node", &["n"]).await;
    let second = create(&app, &john.access, "Second Node", &[]).await;

    let node = app
        .gql(
            "query($id: ID!) { node(id: $id) { __typename id ... on Article { slug title tags author { username } } } }",
            json!({"id": first["id"]}),
            None,
        )
        .await;
    assert_eq!(
        node,
        json!({"data": {"node": {
            "__typename": "Article", "id": first["id"], "slug": "first-node",
            "title": "First Node", "tags": ["n"], "author": {"username": "jane"}
        }}})
    );

    let nodes = app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id \
               ... on User { username } ... on Article { slug } } }",
            json!({"ids": [jane.id, first["id"], second["id"], john.id]}),
            None,
        )
        .await;
    assert_eq!(
        nodes,
        json!({"data": {"nodes": [
            {"__typename": "User", "id": jane.id, "username": "jane"},
            {"__typename": "Article", "id": first["id"], "slug": "first-node"},
            {"__typename": "Article", "id": second["id"], "slug": "second-node"},
            {"__typename": "User", "id": john.id, "username": "john"}
        ]}})
    );
}

#[tokio::test]
async fn the_authors_email_stays_guarded_through_articles() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let created = create(&app, &jane.access, "Guarded Email", &[]).await;
    let direct = "{ article(slug: \"guarded-email\") { author { username email } } }";
    let node = "query($id: ID!) { node(id: $id) { ... on Article { author { username email } } } }";
    let vars = json!({"id": created["id"]});

    for query in [direct, node] {
        let mine = app.gql(query, vars.clone(), Some(&jane.access)).await;
        assert!(mine.get("errors").is_none(), "{mine}");
        let root = mine["data"].as_object().unwrap().values().next().unwrap();
        assert_eq!(
            root["author"],
            json!({"username": "jane", "email": "jane@example.com"})
        );

        for token in [Some(john.access.as_str()), None] {
            let theirs = app.gql(query, vars.clone(), token).await;
            let root = theirs["data"].as_object().unwrap().values().next().unwrap();
            assert_eq!(
                root["author"],
                json!({"username": "jane", "email": null}),
                "{theirs}"
            );
            assert_eq!(error_code(&theirs), "FORBIDDEN", "{theirs}");
            assert_eq!(theirs["errors"].as_array().unwrap().len(), 1);
        }
    }
}

/// `articles { totalCount }` unfiltered and by tag, with the rows counted directly in the
/// database, which the maintained counters must always agree with.
async fn totals(app: &TestApp) -> (Value, Value) {
    let body = app
        .gql(
            "{ all: articles { totalCount } rust: articles(tag: \"RUST \") { totalCount } \
               go: articles(tag: \"go\") { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let db = crate::helpers::connect(&app.database_url()).await;
    let row = db
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE 'rust' = ANY(tags)), \
                    count(*) FILTER (WHERE 'go' = ANY(tags)) FROM articles",
            &[],
        )
        .await
        .unwrap();
    let counted: [i64; 3] = [row.get(0), row.get(1), row.get(2)];
    let served = ["all", "rust", "go"].map(|list| body["data"][list]["totalCount"].clone());
    (json!(served), json!(counted))
}

#[tokio::test]
async fn total_counts_follow_creates_retags_deletes_and_bulk_writes() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let check = async |expected: Value| {
        let (served, counted) = totals(&app).await;
        assert_eq!(served, expected, "served");
        assert_eq!(counted, expected, "counted in the database");
    };
    check(json!([0, 0, 0])).await;
    create(&app, &jane.access, "One", &["rust"]).await;
    create(&app, &jane.access, "Two", &["rust", "go"]).await;
    create(&app, &jane.access, "Three", &[]).await;
    check(json!([3, 2, 1])).await;

    let retag = app
        .gql(
            &update_mutation(),
            json!({"slug": "two", "input": {"tags": ["go"]}}),
            Some(&jane.access),
        )
        .await;
    assert!(retag.get("errors").is_none(), "{retag}");
    check(json!([3, 1, 1])).await;

    let deleted = app
        .gql(DELETE, json!({"slug": "one"}), Some(&jane.access))
        .await;
    assert!(deleted.get("errors").is_none(), "{deleted}");
    check(json!([2, 0, 1])).await;

    // Writers outside the API keep the total too: bulk inserts and deletes, a truncate.
    let db = crate::helpers::connect(&app.database_url()).await;
    db.batch_execute(
        "INSERT INTO articles (slug, title, description, body, author_id) \
         SELECT 'bulk-' || i, 'Bulk', 'd', 'b', (SELECT id FROM users) \
         FROM generate_series(1, 5) AS i",
    )
    .await
    .unwrap();
    check(json!([7, 0, 1])).await;
    db.batch_execute("DELETE FROM articles WHERE slug IN ('bulk-1', 'bulk-2', 'nothing')")
        .await
        .unwrap();
    check(json!([5, 0, 1])).await;
    db.batch_execute("TRUNCATE articles CASCADE").await.unwrap();
    let (served, _) = totals(&app).await;
    assert_eq!(served[0], 0, "a truncate resets the total: {served}");
}
