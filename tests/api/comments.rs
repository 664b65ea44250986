//! Comments: addComment and deleteComment, `Article.commentsCount` and `Article.comments`
//! (oldest first, paged both ways), comments as `Node`s, what deleting an article takes
//! with it, and the guard matrix (anonymous, the comment's author, the article's author,
//! someone else, an admin).

use conduit::{
    domain::{accounts, policy::Role},
    graphql::node::{NodeKind, global_id},
};
use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, error_code, field_errors};

const COMMENT: &str = "id body createdAt updatedAt author { username } \
    article { slug commentsCount } viewerCanDelete";

fn add_mutation() -> String {
    format!(
        "mutation($slug: String!, $body: String!) \
         {{ addComment(articleSlug: $slug, body: $body) {{ {COMMENT} }} }}"
    )
}

const DELETE: &str = "mutation($id: ID!) { deleteComment(id: $id) }";

const NODE: &str = "query($id: ID!) { node(id: $id) { id ... on Comment { body } } }";

/// Creates an article titled `title`, asserting success; returns `{id slug}`.
async fn create_article(app: &TestApp, who: &Account, title: &str) -> Value {
    let body = app
        .gql(
            "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id slug } }",
            json!({"input": {"title": title, "description": "", "body": "Body"}}),
            Some(&who.access),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["createArticle"].clone()
}

/// Runs addComment with `token`; the whole response.
async fn try_add(app: &TestApp, token: Option<&str>, slug: &str, text: &str) -> Value {
    app.gql(&add_mutation(), json!({"slug": slug, "body": text}), token)
        .await
}

/// `who` comments `text` on `slug`, asserting success; returns the comment.
async fn add(app: &TestApp, who: &Account, slug: &str, text: &str) -> Value {
    let body = try_add(app, Some(&who.access), slug, text).await;
    assert!(body.get("errors").is_none(), "{text}: {body}");
    body["data"]["addComment"].clone()
}

/// Runs deleteComment on `id` with `token`; the whole response.
async fn try_delete(app: &TestApp, token: Option<&str>, id: &Value) -> Value {
    app.gql(DELETE, json!({ "id": id }), token).await
}

/// The article's `commentsCount`, and its comments' bodies with `totalCount`, read
/// anonymously (asserting there are no errors).
async fn comments_of(app: &TestApp, slug: &str) -> Value {
    let body = app
        .gql(
            "query($slug: String!) { article(slug: $slug) \
             { commentsCount comments(first: 100) { totalCount nodes { body } } } }",
            json!({ "slug": slug }),
            None,
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let article = &body["data"]["article"];
    let bodies: Vec<Value> = article["comments"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].clone())
        .collect();
    assert_eq!(
        article["commentsCount"], article["comments"]["totalCount"],
        "totalCount is commentsCount: {body}"
    );
    json!({"count": article["commentsCount"], "bodies": bodies})
}

/// `node(id:)` with `token`; the whole response.
async fn node(app: &TestApp, token: Option<&str>, id: &Value) -> Value {
    app.gql(NODE, json!({ "id": id }), token).await
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
async fn add_comment_returns_the_whole_comment() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let article = create_article(&app, &jane, "Commented").await;

    let comment = add(&app, &john, "commented", "Nice *post*, jane!").await;
    assert_eq!(
        without(&comment, &["id", "createdAt", "updatedAt"]),
        json!({
            "body": "Nice *post*, jane!",
            "author": {"username": "john"},
            "article": {"slug": "commented", "commentsCount": 1},
            "viewerCanDelete": true
        })
    );
    let id = comment["id"].as_str().expect("an ID");
    assert!(!id.is_empty());
    assert_ne!(comment["id"], article["id"], "comments have their own IDs");
    assert_ne!(id, john.id, "comments have their own IDs");
    assert!(comment["createdAt"].as_str().unwrap().ends_with('Z'));
    assert!(instant(&comment["updatedAt"]) >= instant(&comment["createdAt"]));

    // Everyone reads it on the article, and by its ID.
    assert_eq!(
        comments_of(&app, "commented").await,
        json!({"count": 1, "bodies": ["Nice *post*, jane!"]})
    );
    let by_article = app
        .gql(
            &format!(
                "query($slug: String!) {{ article(slug: $slug) {{ comments {{ nodes {{ {COMMENT} }} }} }} }}"
            ),
            json!({"slug": "commented"}),
            Some(&john.access),
        )
        .await;
    assert_eq!(
        by_article,
        json!({"data": {"article": {"comments": {"nodes": [comment]}}}})
    );
    let by_node = app
        .gql(
            &format!("query($id: ID!) {{ node(id: $id) {{ ... on Comment {{ {COMMENT} }} }} }}"),
            json!({"id": comment["id"]}),
            Some(&john.access),
        )
        .await;
    assert_eq!(by_node, json!({"data": {"node": comment}}));

    // A second comment counts too; the article's author may comment on it as well.
    let second = add(&app, &jane, "commented", "Thanks!").await;
    assert_eq!(second["article"]["commentsCount"], 2);
    assert_eq!(second["author"]["username"], "jane");
    assert_ne!(second["id"], comment["id"]);
    assert_eq!(
        comments_of(&app, "commented").await,
        json!({"count": 2, "bodies": ["Nice *post*, jane!", "Thanks!"]})
    );
}

#[tokio::test]
async fn comment_bodies_have_1_to_10000_characters_not_only_spaces() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    create_article(&app, &jane, "Strict").await;

    let bad = [
        String::new(),
        " ".to_owned(),
        "  \n\t  ".to_owned(),
        "\u{3000}".to_owned(), // an ideographic space is whitespace too
        "x".repeat(10_001),
        "é".repeat(10_001),
    ];
    for text in &bad {
        let body = try_add(&app, Some(&john.access), "strict", text).await;
        let shown = text.chars().take(8).collect::<String>();
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{shown:?}: {body}");
        assert_eq!(error_fields(&body), ["body"], "{shown:?}: {body}");
        assert_eq!(body["data"], Value::Null, "{shown:?}");
    }
    assert_eq!(
        comments_of(&app, "strict").await,
        json!({"count": 0, "bodies": []}),
        "a refused comment writes nothing"
    );
    let unread = app
        .gql(
            "{ viewer { unreadNotificationsCount } }",
            json!({}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        unread,
        json!({"data": {"viewer": {"unreadNotificationsCount": 0}}}),
        "a refused comment notifies no one"
    );

    // The bounds themselves are fine; the limit counts characters, not bytes.
    let good = ["x".to_owned(), "é".repeat(10_000)];
    for text in &good {
        let comment = add(&app, &john, "strict", text).await;
        assert_eq!(comment["body"], json!(text), "stored as given");
    }
    let read = comments_of(&app, "strict").await;
    assert_eq!(read["count"], 2);
    assert_eq!(read["bodies"], json!(good));
}

#[tokio::test]
async fn comments_need_a_signed_in_user_then_an_existing_article() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    create_article(&app, &jane, "There").await;
    let cases = [
        (None, "there", "Hello", "UNAUTHENTICATED"),
        (None, "missing", "Hello", "UNAUTHENTICATED"),
        (None, "there", "", "UNAUTHENTICATED"),
        (Some(jane.access.as_str()), "missing", "Hello", "NOT_FOUND"),
        (Some(jane.access.as_str()), "", "Hello", "NOT_FOUND"),
    ];
    for (token, slug, text, code) in cases {
        let body = try_add(&app, token, slug, text).await;
        let signed_in = token.is_some();
        assert_eq!(
            error_code(&body),
            code,
            "{slug:?} {text:?} signed in: {signed_in}: {body}"
        );
        assert_eq!(body["data"], Value::Null, "{body}");
    }
    assert_eq!(
        comments_of(&app, "there").await,
        json!({"count": 0, "bodies": []})
    );
}

// Pages of `Article.comments`.

const PAGE: &str = "totalCount edges { cursor node { body } } nodes { body } \
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }";

fn page_query() -> String {
    format!(
        "query($slug: String!, $first: Int, $after: String, $last: Int, $before: String) \
         {{ article(slug: $slug) {{ commentsCount \
         page: comments(first: $first, after: $after, last: $last, before: $before) {{ {PAGE} }} }} }}"
    )
}

/// One page of the comments on `slug`; asserts there are no errors, that edges, nodes
/// and the page's cursors agree and that `totalCount` is `commentsCount`.
async fn fetch_page(app: &TestApp, slug: &str, mut vars: Value) -> Value {
    vars["slug"] = json!(slug);
    let body = app.gql(&page_query(), vars.clone(), None).await;
    assert!(body.get("errors").is_none(), "{vars}: {body}");
    let article = &body["data"]["article"];
    let page = article["page"].clone();
    assert_eq!(page["totalCount"], article["commentsCount"], "{body}");
    let edges = page["edges"].as_array().unwrap();
    let from_edges: Vec<&Value> = edges.iter().map(|e| &e["node"]).collect();
    let nodes: Vec<&Value> = page["nodes"].as_array().unwrap().iter().collect();
    assert_eq!(from_edges, nodes, "edges and nodes agree: {page}");
    let info = &page["pageInfo"];
    let first = edges.first().map_or(Value::Null, |e| e["cursor"].clone());
    let last = edges.last().map_or(Value::Null, |e| e["cursor"].clone());
    assert_eq!(info["startCursor"], first, "{page}");
    assert_eq!(info["endCursor"], last, "{page}");
    page
}

fn bodies(page: &Value) -> Vec<String> {
    page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["body"].as_str().unwrap().to_owned())
        .collect()
}

/// `who` writes comments "Comment 1".."Comment n" on `slug`; returns their bodies.
async fn seed(app: &TestApp, who: &Account, slug: &str, n: usize) -> Vec<String> {
    let mut written = Vec::new();
    for i in 1..=n {
        let text = format!("Comment {i}");
        add(app, who, slug, &text).await;
        written.push(text);
    }
    written
}

/// Walks forwards with `first: size`; returns the pages' bodies.
async fn walk_forward(app: &TestApp, slug: &str, size: usize, total: usize) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut after = Value::Null;
    let mut seen = 0;
    for _ in 0..=total {
        let page = fetch_page(app, slug, json!({"first": size, "after": after})).await;
        let got = bodies(&page);
        assert_eq!(got.len(), size.min(total - seen), "after {seen}: {page}");
        seen += got.len();
        assert_eq!(page["totalCount"], total, "{page}");
        let info = &page["pageInfo"];
        assert_eq!(info["hasNextPage"], seen < total, "after {seen}: {page}");
        assert_eq!(info["hasPreviousPage"], !after.is_null(), "{page}");
        pages.push(got);
        if seen >= total {
            let past = fetch_page(
                app,
                slug,
                json!({"first": size, "after": info["endCursor"]}),
            )
            .await;
            assert!(bodies(&past).is_empty(), "{past}");
            assert_eq!(past["pageInfo"]["hasNextPage"], false, "{past}");
            return pages;
        }
        after = info["endCursor"].clone();
    }
    panic!("the forward walk did not end: {pages:?}");
}

/// Walks backwards from the end with `last: size`; returns the pages' bodies in the
/// order they were fetched.
async fn walk_backward(app: &TestApp, slug: &str, size: usize, total: usize) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut before = Value::Null;
    let mut seen = 0;
    for _ in 0..=total {
        let page = fetch_page(app, slug, json!({"last": size, "before": before})).await;
        let got = bodies(&page);
        assert_eq!(got.len(), size.min(total - seen), "after {seen}: {page}");
        seen += got.len();
        assert_eq!(page["totalCount"], total, "{page}");
        let info = &page["pageInfo"];
        assert_eq!(
            info["hasPreviousPage"],
            seen < total,
            "after {seen}: {page}"
        );
        assert_eq!(info["hasNextPage"], !before.is_null(), "{page}");
        pages.push(got);
        if seen >= total {
            return pages;
        }
        before = info["startCursor"].clone();
    }
    panic!("the backward walk did not end: {pages:?}");
}

#[tokio::test]
async fn comments_are_listed_oldest_first_20_at_a_time_by_default() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    create_article(&app, &jane, "Busy").await;
    let written = seed(&app, &john, "busy", 25).await;

    let default = fetch_page(&app, "busy", json!({})).await;
    assert_eq!(bodies(&default), written[..20].to_vec());
    assert_eq!(default["totalCount"], 25);
    assert_eq!(default["pageInfo"]["hasNextPage"], true);
    assert_eq!(default["pageInfo"]["hasPreviousPage"], false);

    let rest = fetch_page(
        &app,
        "busy",
        json!({"after": default["pageInfo"]["endCursor"]}),
    )
    .await;
    assert_eq!(bodies(&rest), written[20..].to_vec());
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);

    let newest = fetch_page(&app, "busy", json!({"last": 3})).await;
    assert_eq!(
        bodies(&newest),
        written[22..].to_vec(),
        "last: 3 is the newest three, still oldest first"
    );
    assert_eq!(newest["pageInfo"]["hasPreviousPage"], true);

    let everything = fetch_page(&app, "busy", json!({"first": 100})).await;
    assert_eq!(bodies(&everything), written);
}

#[tokio::test]
async fn comment_pages_walk_forwards_and_backwards_without_gaps() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    create_article(&app, &jane, "Walked").await;
    let written = seed(&app, &john, "walked", 7).await;
    let c = |i: usize| written[i - 1].clone();

    let forward = walk_forward(&app, "walked", 2, 7).await;
    assert_eq!(
        forward,
        vec![
            vec![c(1), c(2)],
            vec![c(3), c(4)],
            vec![c(5), c(6)],
            vec![c(7)]
        ]
    );
    let backward = walk_backward(&app, "walked", 3, 7).await;
    assert_eq!(
        backward,
        vec![vec![c(5), c(6), c(7)], vec![c(2), c(3), c(4)], vec![c(1)]]
    );
    let whole: Vec<String> = backward.into_iter().rev().flatten().collect();
    assert_eq!(whole, written);
}

#[tokio::test]
async fn comments_written_at_the_same_instant_are_ordered_by_id_both_ways() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    create_article(&app, &jane, "Tied").await;
    let written = seed(&app, &john, "tied", 7).await;
    crate::helpers::connect(&app.database_url())
        .await
        .batch_execute("UPDATE comments SET created_at = '2026-01-01T00:00:00Z'")
        .await
        .unwrap();
    assert_eq!(walk_forward(&app, "tied", 3, 7).await.concat(), written);
    let backward = walk_backward(&app, "tied", 2, 7).await;
    let whole: Vec<String> = backward.into_iter().rev().flatten().collect();
    assert_eq!(whole, written);
}

#[tokio::test]
async fn comment_page_arguments_are_validated() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    create_article(&app, &jane, "One").await;
    create_article(&app, &jane, "Two").await;
    seed(&app, &jane, "one", 2).await;
    seed(&app, &jane, "two", 2).await;
    let query = page_query();

    let mut cases = Vec::new();
    for arg in ["first", "last"] {
        for value in [0, -1, 101] {
            cases.push((json!({"slug": "one", arg: value}), arg));
        }
    }
    for arg in ["after", "before"] {
        cases.push((json!({"slug": "one", arg: "garbage"}), arg));
    }
    // A cursor belongs to its own article's list.
    let other = fetch_page(&app, "two", json!({"first": 1})).await;
    let cursor = other["pageInfo"]["endCursor"].clone();
    cases.push((json!({"slug": "one", "after": cursor}), "after"));
    cases.push((json!({"slug": "one", "before": cursor}), "before"));
    for (vars, field) in cases {
        let body = app.gql(&query, vars.clone(), None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{vars}: {body}");
        assert_eq!(error_fields(&body), [field], "{vars}: {body}");
    }
    // The same cursor works on its own article.
    let own = fetch_page(&app, "two", json!({"after": cursor})).await;
    assert_eq!(bodies(&own), ["Comment 2"]);
}

#[tokio::test]
async fn each_article_in_a_list_gets_its_own_comments() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    for title in ["None", "One", "Three"] {
        create_article(&app, &jane, title).await;
    }
    // Interleaved, so each article's comments are not contiguous in the table.
    add(&app, &john, "three", "three-1").await;
    add(&app, &jane, "one", "one-1").await;
    add(&app, &john, "three", "three-2").await;
    add(&app, &jane, "three", "three-3").await;

    let query = "query($first: Int, $last: Int) { articles { nodes { slug commentsCount \
                 comments(first: $first, last: $last) { totalCount nodes { body author { username } } \
                 pageInfo { hasNextPage hasPreviousPage } } } } }";
    let comment = |text: &str, by: &str| json!({"body": text, "author": {"username": by}});
    let article = |slug: &str, count: usize, nodes: Vec<Value>, next: bool, previous: bool| {
        json!({
            "slug": slug,
            "commentsCount": count,
            "comments": {
                "totalCount": count,
                "nodes": nodes,
                "pageInfo": {"hasNextPage": next, "hasPreviousPage": previous}
            }
        })
    };
    let first_two = app.gql(query, json!({"first": 2}), None).await;
    assert_eq!(
        first_two,
        json!({"data": {"articles": {"nodes": [
            article("three", 3, vec![comment("three-1", "john"), comment("three-2", "john")], true, false),
            article("one", 1, vec![comment("one-1", "jane")], false, false),
            article("none", 0, vec![], false, false),
        ]}}})
    );
    let last_two = app.gql(query, json!({"last": 2}), None).await;
    assert_eq!(
        last_two,
        json!({"data": {"articles": {"nodes": [
            article("three", 3, vec![comment("three-2", "john"), comment("three-3", "jane")], false, true),
            article("one", 1, vec![comment("one-1", "jane")], false, false),
            article("none", 0, vec![], false, false),
        ]}}})
    );
}

#[tokio::test]
async fn delete_comment_takes_it_away() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    create_article(&app, &jane, "Regrets").await;
    let kept = add(&app, &john, "regrets", "First thought").await;
    let gone = add(&app, &john, "regrets", "Second thought").await;
    assert_eq!(
        comments_of(&app, "regrets").await,
        json!({"count": 2, "bodies": ["First thought", "Second thought"]})
    );

    let body = try_delete(&app, Some(&john.access), &gone["id"]).await;
    assert_eq!(body, json!({"data": {"deleteComment": gone["id"]}}));
    assert_eq!(
        comments_of(&app, "regrets").await,
        json!({"count": 1, "bodies": ["First thought"]})
    );
    for token in [None, Some(john.access.as_str())] {
        assert_eq!(
            node(&app, token, &gone["id"]).await,
            json!({"data": {"node": null}})
        );
        let nodes = app
            .gql(
                "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                json!({"ids": [gone["id"], kept["id"]]}),
                token,
            )
            .await;
        assert_eq!(
            nodes,
            json!({"data": {"nodes": [null, {"id": kept["id"]}]}})
        );
    }

    // Its ID names nothing now.
    let again = try_delete(&app, Some(&john.access), &gone["id"]).await;
    assert_eq!(error_code(&again), "NOT_FOUND", "{again}");
    assert_eq!(again["data"], Value::Null);
    assert_eq!(comments_of(&app, "regrets").await["count"], 1);
}

#[tokio::test]
async fn delete_comment_ids_must_name_a_comment() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let boss = app.register("boss").await;
    accounts::set_role(&app.state.pool, "boss", Role::Admin)
        .await
        .unwrap();
    let article = create_article(&app, &jane, "Target").await;
    add(&app, &jane, "target", "Stays").await;
    let unknown_comment = json!(global_id(NodeKind::Comment, 999_999).as_str());
    let notification = json!(global_id(NodeKind::Notification, 1).as_str());
    let cases = [
        (article["id"].clone(), "BAD_USER_INPUT"),
        (json!(jane.id), "BAD_USER_INPUT"),
        (notification, "BAD_USER_INPUT"),
        (json!("garbage"), "BAD_USER_INPUT"),
        (json!(""), "BAD_USER_INPUT"),
        (unknown_comment, "NOT_FOUND"),
    ];
    for token in [&jane.access, &boss.access] {
        for (id, code) in &cases {
            let body = try_delete(&app, Some(token), id).await;
            assert_eq!(error_code(&body), *code, "{id}: {body}");
            if *code == "BAD_USER_INPUT" {
                assert_eq!(error_fields(&body), ["id"], "{id}: {body}");
            }
            assert_eq!(body["data"], Value::Null);
        }
    }
    // Anonymous callers learn nothing about the ID.
    for (id, _) in &cases {
        let body = try_delete(&app, None, id).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{id}: {body}");
    }
    assert_eq!(
        comments_of(&app, "target").await,
        json!({"count": 1, "bodies": ["Stays"]}),
        "the article and its comment are untouched"
    );
}

#[tokio::test]
async fn deleting_an_article_deletes_its_comments_and_favorites() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    create_article(&app, &jane, "Doomed").await;
    create_article(&app, &jane, "Survivor").await;
    let doomed = [
        add(&app, &john, "doomed", "one").await,
        add(&app, &jane, "doomed", "two").await,
    ];
    let survivor = add(&app, &john, "survivor", "three").await;
    for slug in ["doomed", "survivor"] {
        let body = app
            .gql(
                "mutation($slug: String!) { favoriteArticle(slug: $slug) { slug } }",
                json!({ "slug": slug }),
                Some(&john.access),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
    }

    let body = app
        .gql(
            "mutation { deleteArticle(slug: \"doomed\") }",
            json!({}),
            Some(&jane.access),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    for comment in &doomed {
        assert_eq!(
            node(&app, Some(&john.access), &comment["id"]).await,
            json!({"data": {"node": null}}),
            "{comment}"
        );
        let body = try_delete(&app, Some(&john.access), &comment["id"]).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    }
    assert_eq!(
        node(&app, None, &survivor["id"]).await,
        json!({"data": {"node": {"id": survivor["id"], "body": "three"}}})
    );
    assert_eq!(
        comments_of(&app, "survivor").await,
        json!({"count": 1, "bodies": ["three"]})
    );
    let favorites = app
        .gql(
            "{ user(username: \"john\") { favoriteArticles { totalCount nodes { slug } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        favorites,
        json!({"data": {"user": {"favoriteArticles": {"totalCount": 1, "nodes": [{"slug": "survivor"}]}}}})
    );
}

// The guard matrix.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    /// The comment's author (john).
    Commenter,
    /// The article's author (jane), who did not write the comment.
    ArticleAuthor,
    /// Someone else (mary).
    Other,
    /// An admin (boss).
    Admin,
}

use Who::{Admin, Anonymous, ArticleAuthor, Commenter, Other};

const EVERYONE: [Who; 5] = [Anonymous, Commenter, ArticleAuthor, Other, Admin];

struct World {
    app: TestApp,
    jane: Account,
    john: Account,
    mary: Account,
    boss: Account,
}

impl World {
    /// jane has written the article "guarded".
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let jane = app.register("jane").await;
        let john = app.register("john").await;
        let mary = app.register("mary").await;
        let boss = app.register("boss").await;
        accounts::set_role(&app.state.pool, "boss", Role::Admin)
            .await
            .unwrap();
        create_article(&app, &jane, "Guarded").await;
        Self {
            app,
            jane,
            john,
            mary,
            boss,
        }
    }

    fn account(&self, who: Who) -> Option<&Account> {
        match who {
            Anonymous => None,
            Commenter => Some(&self.john),
            ArticleAuthor => Some(&self.jane),
            Other => Some(&self.mary),
            Admin => Some(&self.boss),
        }
    }

    fn token(&self, who: Who) -> Option<&str> {
        self.account(who).map(|a| a.access.as_str())
    }

    async fn run(&self, who: Who, query: &str, vars: Value) -> Value {
        self.app.gql(query, vars, self.token(who)).await
    }

    /// john comments `text` on "guarded"; returns the comment.
    async fn comment_by_john(&self, text: &str) -> Value {
        add(&self.app, &self.john, "guarded", text).await
    }
}

#[tokio::test]
async fn add_comment_needs_a_signed_in_user_and_nothing_more() {
    let w = World::new().await;
    let table = [
        (Anonymous, None),
        (Commenter, Some("john")),
        (ArticleAuthor, Some("jane")),
        (Other, Some("mary")),
        (Admin, Some("boss")),
    ];
    let mut expected = Vec::new();
    for (who, author) in table {
        let text = format!("By {who:?}");
        let body = try_add(&w.app, w.token(who), "guarded", &text).await;
        match author {
            None => {
                assert_eq!(error_code(&body), "UNAUTHENTICATED", "{who:?}: {body}");
                assert_eq!(body["data"], Value::Null, "{who:?}");
            }
            Some(author) => {
                assert!(body.get("errors").is_none(), "{who:?}: {body}");
                expected.push(json!(text));
                let comment = &body["data"]["addComment"];
                assert_eq!(
                    without(comment, &["id", "createdAt", "updatedAt"]),
                    json!({
                        "body": text,
                        "author": {"username": author},
                        "article": {"slug": "guarded", "commentsCount": expected.len()},
                        "viewerCanDelete": true
                    }),
                    "{who:?}"
                );
            }
        }
        assert_eq!(
            comments_of(&w.app, "guarded").await,
            json!({"count": expected.len(), "bodies": expected.clone()}),
            "after {who:?}"
        );
    }
}

#[tokio::test]
async fn delete_comment_is_for_the_comment_author_or_an_admin() {
    let w = World::new().await;
    let table = [
        (Anonymous, Some("UNAUTHENTICATED")),
        (ArticleAuthor, Some("FORBIDDEN")),
        (Other, Some("FORBIDDEN")),
        (Commenter, None),
        (Admin, None),
    ];
    for (who, refusal) in table {
        let comment = w.comment_by_john(&format!("Target of {who:?}")).await;
        let before = comments_of(&w.app, "guarded").await["count"]
            .as_i64()
            .unwrap();
        let body = w.run(who, DELETE, json!({"id": comment["id"]})).await;
        let after = comments_of(&w.app, "guarded").await["count"]
            .as_i64()
            .unwrap();
        let by_node = node(&w.app, None, &comment["id"]).await;
        match refusal {
            Some(code) => {
                assert_eq!(error_code(&body), code, "{who:?}: {body}");
                assert_eq!(body["data"], Value::Null, "{who:?}");
                assert_eq!(after, before, "{who:?} could not delete it");
                assert_eq!(
                    by_node["data"]["node"]["id"], comment["id"],
                    "{who:?} could not delete it: {by_node}"
                );
            }
            None => {
                assert_eq!(
                    body,
                    json!({"data": {"deleteComment": comment["id"]}}),
                    "{who:?}"
                );
                assert_eq!(after, before - 1, "{who:?} deleted it");
                assert_eq!(by_node, json!({"data": {"node": null}}), "{who:?}");
            }
        }
    }
}

#[tokio::test]
async fn comment_viewer_can_delete_follows_the_same_policy_on_every_path() {
    let w = World::new().await;
    let comment = w.comment_by_john("Flagged").await;
    // jane hears of it: her notification carries the comment too.
    let fields = "id viewerCanDelete";
    let by_article = format!(
        "query($slug: String!) {{ article(slug: $slug) {{ comments {{ nodes {{ {fields} }} }} }} }}"
    );
    let in_list = format!("{{ articles {{ nodes {{ comments {{ nodes {{ {fields} }} }} }} }} }}");
    let by_node =
        format!("query($id: ID!) {{ node(id: $id) {{ ... on Comment {{ {fields} }} }} }}");
    let by_nodes =
        format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Comment {{ {fields} }} }} }}");
    let table = [
        (Anonymous, false),
        (Commenter, true),
        (ArticleAuthor, false),
        (Other, false),
        (Admin, true),
    ];
    assert_eq!(table.map(|(who, _)| who), EVERYONE);
    for (who, can) in table {
        let expected = json!({"id": comment["id"], "viewerCanDelete": can});
        let paths = [
            (
                w.run(who, &by_article, json!({"slug": "guarded"})).await,
                json!({"article": {"comments": {"nodes": [expected]}}}),
            ),
            (
                w.run(who, &in_list, json!({})).await,
                json!({"articles": {"nodes": [{"comments": {"nodes": [expected]}}]}}),
            ),
            (
                w.run(who, &by_node, json!({"id": comment["id"]})).await,
                json!({"node": expected}),
            ),
            (
                w.run(who, &by_nodes, json!({"ids": [comment["id"]]})).await,
                json!({"nodes": [expected]}),
            ),
        ];
        for (body, data) in paths {
            assert_eq!(body, json!({ "data": data }), "{who:?}");
        }
    }
    // The article's author also reaches it through her notification.
    let body = w
        .run(
            ArticleAuthor,
            &format!("{{ viewer {{ notifications {{ nodes {{ comment {{ {fields} }} }} }} }} }}"),
            json!({}),
        )
        .await;
    assert_eq!(
        body,
        json!({"data": {"viewer": {"notifications": {"nodes": [
            {"comment": {"id": comment["id"], "viewerCanDelete": false}}
        ]}}}})
    );
}
