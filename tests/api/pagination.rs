//! Relay connections: argument validation, default and maximum page sizes, and walks
//! forwards and backwards without gaps or duplicates.

use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, error_code, field_errors};

const PAGE_FIELDS: &str = "totalCount edges { cursor node { slug } } nodes { slug } \
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }";

const ARGS: &str = "$first: Int, $after: String, $last: Int, $before: String";
const PASS: &str = "first: $first, after: $after, last: $last, before: $before";

fn articles_query() -> String {
    format!(
        "query({ARGS}, $tag: String) {{ page: articles({PASS}, tag: $tag) {{ {PAGE_FIELDS} }} }}"
    )
}

fn feed_query() -> String {
    format!("query({ARGS}) {{ page: feed({PASS}) {{ {PAGE_FIELDS} }} }}")
}

/// Creates `n` articles titled "Article 1".."Article n" as fast as possible; returns
/// their slugs in creation order.
async fn seed(app: &TestApp, who: &Account, n: usize) -> Vec<String> {
    let mut slugs = Vec::new();
    for i in 1..=n {
        let body = app
            .gql(
                "mutation($input: CreateArticleInput!) { createArticle(input: $input) { slug } }",
                json!({"input": {"title": format!("Article {i}"), "description": "", "body": "b"}}),
                Some(&who.access),
            )
            .await;
        let slug = body["data"]["createArticle"]["slug"].as_str();
        assert_eq!(slug, Some(format!("article-{i}").as_str()), "{body}");
        slugs.push(format!("article-{i}"));
    }
    slugs
}

/// Runs `query` and returns the `page` connection, asserting there are no errors and
/// that edges, nodes and the page's cursors agree.
async fn fetch_page(app: &TestApp, query: &str, vars: Value, token: Option<&str>) -> Value {
    let body = app.gql(query, vars.clone(), token).await;
    assert!(body.get("errors").is_none(), "{vars}: {body}");
    let page = body["data"]["page"].clone();
    let edges = page["edges"].as_array().unwrap();
    let from_edges: Vec<&Value> = edges.iter().map(|e| &e["node"]).collect();
    let nodes: Vec<&Value> = page["nodes"].as_array().unwrap().iter().collect();
    assert_eq!(from_edges, nodes, "edges and nodes agree: {page}");
    let info = &page["pageInfo"];
    if edges.is_empty() {
        assert_eq!(info["startCursor"], Value::Null, "{page}");
        assert_eq!(info["endCursor"], Value::Null, "{page}");
    } else {
        assert_eq!(info["startCursor"], edges[0]["cursor"], "{page}");
        assert_eq!(
            info["endCursor"],
            edges[edges.len() - 1]["cursor"],
            "{page}"
        );
    }
    page
}

/// The slugs of a page, in order.
fn page_slugs(page: &Value) -> Vec<String> {
    page["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["slug"].as_str().unwrap().to_owned())
        .collect()
}

fn newest_first(slugs: &[String]) -> Vec<String> {
    slugs.iter().rev().cloned().collect()
}

/// The distinct `fieldErrors` fields of the first error, sorted.
fn error_fields(body: &Value) -> Vec<String> {
    let mut fields: Vec<String> = field_errors(body).into_iter().map(|(f, _)| f).collect();
    fields.sort();
    fields.dedup();
    fields
}

/// Walks `query` forwards with `first: size`, checking `hasNextPage` on every page;
/// returns the pages' slugs.
async fn walk_forward(
    app: &TestApp,
    query: &str,
    extra: Value,
    token: Option<&str>,
    size: usize,
    total: usize,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut after = Value::Null;
    let mut seen = 0;
    for _ in 0..=total {
        let mut vars = json!({"first": size, "after": after});
        for (k, v) in extra.as_object().unwrap() {
            vars[k] = v.clone();
        }
        let page = fetch_page(app, query, vars, token).await;
        let slugs = page_slugs(&page);
        assert_eq!(slugs.len(), size.min(total - seen), "after {seen}: {page}");
        seen += slugs.len();
        assert_eq!(page["totalCount"], total, "{page}");
        assert_eq!(
            page["pageInfo"]["hasNextPage"],
            seen < total,
            "after {seen} of {total}: {page}"
        );
        pages.push(slugs);
        if seen >= total {
            // Past the end: an empty page without a next one.
            let mut vars = json!({"first": size, "after": page["pageInfo"]["endCursor"]});
            for (k, v) in extra.as_object().unwrap() {
                vars[k] = v.clone();
            }
            let past = fetch_page(app, query, vars, token).await;
            assert_eq!(page_slugs(&past), Vec::<String>::new(), "{past}");
            assert_eq!(past["pageInfo"]["hasNextPage"], false, "{past}");
            return pages;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    panic!("the forward walk did not end: {pages:?}");
}

/// Walks `query` backwards from the end with `last: size`, checking `hasPreviousPage`
/// on every page; returns the pages' slugs in the order they were fetched.
async fn walk_backward(
    app: &TestApp,
    query: &str,
    token: Option<&str>,
    size: usize,
    total: usize,
) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut before = Value::Null;
    let mut seen = 0;
    for _ in 0..=total {
        let page = fetch_page(app, query, json!({"last": size, "before": before}), token).await;
        let slugs = page_slugs(&page);
        assert_eq!(slugs.len(), size.min(total - seen), "after {seen}: {page}");
        seen += slugs.len();
        assert_eq!(page["totalCount"], total, "{page}");
        assert_eq!(
            page["pageInfo"]["hasPreviousPage"],
            seen < total,
            "after {seen} of {total}: {page}"
        );
        pages.push(slugs);
        if seen >= total {
            return pages;
        }
        before = page["pageInfo"]["startCursor"].clone();
    }
    panic!("the backward walk did not end: {pages:?}");
}

#[tokio::test]
async fn a_forward_walk_visits_every_article_once_newest_first() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let created = seed(&app, &jane, 7).await;
    let pages = walk_forward(&app, &articles_query(), json!({}), None, 2, 7).await;
    let expected = newest_first(&created);
    assert_eq!(
        pages,
        vec![
            expected[0..2].to_vec(),
            expected[2..4].to_vec(),
            expected[4..6].to_vec(),
            expected[6..7].to_vec()
        ]
    );
    assert_eq!(pages.concat(), expected);
}

#[tokio::test]
async fn a_backward_walk_visits_every_article_once_from_the_oldest() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let created = seed(&app, &jane, 7).await;
    let pages = walk_backward(&app, &articles_query(), None, 2, 7).await;
    let s = |i: usize| created[i - 1].clone();
    // Each page is newest first within itself; the walk goes towards the newest.
    assert_eq!(
        pages,
        vec![
            vec![s(2), s(1)],
            vec![s(4), s(3)],
            vec![s(6), s(5)],
            vec![s(7)]
        ]
    );
    let whole: Vec<String> = pages.into_iter().rev().flatten().collect();
    assert_eq!(whole, newest_first(&created));
}

#[tokio::test]
async fn equal_timestamps_are_ordered_by_id_in_both_directions() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let created = seed(&app, &jane, 7).await;
    // Force a complete tie on created_at: only the id can order the list now.
    crate::helpers::connect(&app.database_url())
        .await
        .batch_execute("UPDATE articles SET created_at = '2026-01-01T00:00:00Z'")
        .await
        .unwrap();
    let forward = walk_forward(&app, &articles_query(), json!({}), None, 2, 7).await;
    assert_eq!(forward.concat(), newest_first(&created));
    let backward = walk_backward(&app, &articles_query(), None, 3, 7).await;
    let whole: Vec<String> = backward.into_iter().rev().flatten().collect();
    assert_eq!(whole, newest_first(&created));
}

#[tokio::test]
async fn page_sizes_default_to_20_and_go_from_1_to_100() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let created = seed(&app, &jane, 25).await;
    let expected = newest_first(&created);
    let q = articles_query();

    let default = fetch_page(&app, &q, json!({}), None).await;
    assert_eq!(page_slugs(&default), expected[..20].to_vec());
    assert_eq!(default["pageInfo"]["hasNextPage"], true);
    assert_eq!(default["totalCount"], 25);

    let cases = [
        (
            json!({"first": 1}),
            expected[..1].to_vec(),
            "hasNextPage",
            true,
        ),
        (
            json!({"first": 24}),
            expected[..24].to_vec(),
            "hasNextPage",
            true,
        ),
        (json!({"first": 25}), expected.clone(), "hasNextPage", false),
        (
            json!({"first": 100}),
            expected.clone(),
            "hasNextPage",
            false,
        ),
        (
            json!({"last": 1}),
            expected[24..].to_vec(),
            "hasPreviousPage",
            true,
        ),
        (
            json!({"last": 24}),
            expected[1..].to_vec(),
            "hasPreviousPage",
            true,
        ),
        (
            json!({"last": 25}),
            expected.clone(),
            "hasPreviousPage",
            false,
        ),
        (
            json!({"last": 100}),
            expected.clone(),
            "hasPreviousPage",
            false,
        ),
    ];
    for (vars, slugs, flag, more) in cases {
        let got = fetch_page(&app, &q, vars.clone(), None).await;
        assert_eq!(page_slugs(&got), slugs, "{vars}");
        assert_eq!(got["pageInfo"][flag], more, "{vars}: {got}");
        assert_eq!(got["totalCount"], 25, "{vars}");
    }

    // The default applies after a cursor too.
    let after_first = fetch_page(
        &app,
        &q,
        json!({"after": default["edges"][0]["cursor"]}),
        None,
    )
    .await;
    assert_eq!(page_slugs(&after_first), expected[1..21].to_vec());
    assert_eq!(after_first["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn filtered_lists_page_within_the_filter() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let mut tagged = Vec::new();
    for i in 1..=9 {
        let tags: Vec<&str> = if i % 2 == 1 {
            vec!["odd"]
        } else {
            vec!["even"]
        };
        let body = app
            .gql(
                "mutation($input: CreateArticleInput!) { createArticle(input: $input) { slug } }",
                json!({"input": {"title": format!("Post {i}"), "description": "", "body": "b", "tags": tags}}),
                Some(&jane.access),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        if i % 2 == 1 {
            tagged.push(format!("post-{i}"));
        }
    }
    let pages = walk_forward(&app, &articles_query(), json!({"tag": "ODD"}), None, 2, 5).await;
    assert_eq!(pages.concat(), newest_first(&tagged));
}

#[tokio::test]
async fn the_feed_and_user_lists_page_both_ways() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let created = seed(&app, &jane, 5).await;
    let body = app
        .gql(
            "mutation { followUser(username: \"jane\") { username } }",
            json!({}),
            Some(&john.access),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    let feed = feed_query();
    let forward = walk_forward(&app, &feed, json!({}), Some(&john.access), 2, 5).await;
    assert_eq!(forward.concat(), newest_first(&created));
    let backward = walk_backward(&app, &feed, Some(&john.access), 2, 5).await;
    let whole: Vec<String> = backward.into_iter().rev().flatten().collect();
    assert_eq!(whole, newest_first(&created));

    let user_articles = format!(
        "query({ARGS}) {{ user(username: \"jane\") {{ page: articles({PASS}) {{ {PAGE_FIELDS} }} }} }}"
    );
    let mut after = Value::Null;
    let mut walked = Vec::new();
    for _ in 0..5 {
        let body = app
            .gql(&user_articles, json!({"first": 2, "after": after}), None)
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        let connection = &body["data"]["user"]["page"];
        walked.extend(page_slugs(connection));
        if connection["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = connection["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(walked, newest_first(&created));
}

#[tokio::test]
async fn followers_page_newest_follow_first() {
    let app = TestApp::spawn().await;
    app.register("star").await;
    let mut fans = Vec::new();
    for i in 1..=5 {
        let fan = app.register(&format!("fan{i}")).await;
        let body = app
            .gql(
                "mutation { followUser(username: \"star\") { followersCount } }",
                json!({}),
                Some(&fan.access),
            )
            .await;
        assert_eq!(body["data"]["followUser"]["followersCount"], i, "{body}");
        fans.push(format!("fan{i}"));
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let query = format!(
        "query({ARGS}) {{ user(username: \"star\") {{ followers({PASS}) {{ totalCount \
         nodes {{ username }} pageInfo {{ hasNextPage hasPreviousPage endCursor startCursor }} }} }} }}"
    );
    let mut after = Value::Null;
    let mut walked: Vec<String> = Vec::new();
    let mut flags = Vec::new();
    for _ in 0..5 {
        let body = app
            .gql(&query, json!({"first": 2, "after": after}), None)
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        let followers = &body["data"]["user"]["followers"];
        assert_eq!(followers["totalCount"], 5);
        walked.extend(
            followers["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["username"].as_str().unwrap().to_owned()),
        );
        flags.push(followers["pageInfo"]["hasNextPage"].as_bool().unwrap());
        if !flags[flags.len() - 1] {
            break;
        }
        after = followers["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(walked, newest_first(&fans));
    assert_eq!(flags, [true, true, false]);
}

/// Every connection of the contract that takes first/last, with a way to reach it.
fn connection_queries() -> Vec<(&'static str, String)> {
    let user = |field: &str| {
        format!(
            "query({ARGS}) {{ user(username: \"jane\") {{ {field}({PASS}) {{ totalCount }} }} }}"
        )
    };
    vec![
        (
            "articles",
            format!("query({ARGS}) {{ articles({PASS}) {{ totalCount }} }}"),
        ),
        (
            "feed",
            format!("query({ARGS}) {{ feed({PASS}) {{ totalCount }} }}"),
        ),
        ("User.articles", user("articles")),
        ("User.favoriteArticles", user("favoriteArticles")),
        ("User.followers", user("followers")),
        ("User.following", user("following")),
    ]
}

#[tokio::test]
async fn page_sizes_outside_1_to_100_are_bad_user_input() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    seed(&app, &jane, 1).await;
    for (name, query) in connection_queries() {
        for arg in ["first", "last"] {
            for value in [0, -1, 101, 1000] {
                let vars = json!({ arg: value });
                let body = app.gql(&query, vars.clone(), Some(&jane.access)).await;
                assert_eq!(error_code(&body), "BAD_USER_INPUT", "{name} {vars}: {body}");
                assert_eq!(error_fields(&body), [arg], "{name} {vars}: {body}");
            }
            for value in [1, 100] {
                let vars = json!({ arg: value });
                let body = app.gql(&query, vars.clone(), Some(&jane.access)).await;
                assert!(body.get("errors").is_none(), "{name} {vars}: {body}");
            }
        }
        let vars = json!({"first": 2, "last": 2});
        let body = app.gql(&query, vars.clone(), Some(&jane.access)).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{name} {vars}: {body}");
        let fields = error_fields(&body);
        assert!(
            !fields.is_empty() && fields.iter().all(|f| f == "first" || f == "last"),
            "{name}: {body}"
        );
    }
}

#[tokio::test]
async fn malformed_cursors_are_bad_user_input() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    seed(&app, &jane, 2).await;
    let garbage = [
        "garbage",
        "bm90IGEgY3Vyc29y", // base64 of "not a cursor"
        "%%%",
        "YXJ0aWNsZXM6",
    ];
    for (name, query) in connection_queries() {
        for arg in ["after", "before"] {
            for cursor in garbage {
                let vars = json!({ arg: cursor });
                let body = app.gql(&query, vars.clone(), Some(&jane.access)).await;
                assert_eq!(error_code(&body), "BAD_USER_INPUT", "{name} {vars}: {body}");
                assert_eq!(error_fields(&body), [arg], "{name} {vars}: {body}");
            }
        }
    }
}

#[tokio::test]
async fn cursors_from_another_list_are_bad_user_input() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    for (title, tag) in [("A1", "a"), ("B1", "b"), ("A2", "a"), ("B2", "b")] {
        let body = app
            .gql(
                "mutation($input: CreateArticleInput!) { createArticle(input: $input) { slug } }",
                json!({"input": {"title": title, "description": "", "body": "b", "tags": [tag]}}),
                Some(&jane.access),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let body = app
        .gql(
            "mutation { followUser(username: \"jane\") { username } }",
            json!({}),
            Some(&john.access),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    let articles = articles_query();
    let feed = feed_query();
    let followers = format!(
        "query({ARGS}) {{ page: user(username: \"jane\") {{ followers({PASS}) {{ edges {{ cursor }} }} }} }}"
    );
    let cursor_of = |body: &Value, path: &[&str]| -> Value {
        let mut v = &body["data"];
        for p in path {
            v = &v[*p];
        }
        let cursor = v["edges"][0]["cursor"].clone();
        assert!(cursor.is_string(), "{body}");
        cursor
    };
    let token = Some(john.access.as_str());
    let articles_cursor = cursor_of(
        &app.gql(&articles, json!({"first": 1}), token).await,
        &["page"],
    );
    let tag_a_cursor = cursor_of(
        &app.gql(&articles, json!({"first": 1, "tag": "a"}), token)
            .await,
        &["page"],
    );
    let follower_cursor = cursor_of(
        &app.gql(&followers, json!({"first": 1}), token).await,
        &["page", "followers"],
    );

    // Each cursor works on its own list.
    let own = [
        (&articles, json!({"after": articles_cursor})),
        (&articles, json!({"after": tag_a_cursor, "tag": "a"})),
        (&followers, json!({"before": follower_cursor})),
    ];
    for (query, vars) in own {
        let body = app.gql(query, vars.clone(), token).await;
        assert!(body.get("errors").is_none(), "{vars}: {body}");
    }

    let foreign = [
        (
            "user cursor on articles",
            &articles,
            "after",
            json!({"after": follower_cursor}),
        ),
        (
            "user cursor on articles",
            &articles,
            "before",
            json!({"before": follower_cursor}),
        ),
        (
            "articles cursor on feed",
            &feed,
            "after",
            json!({"after": articles_cursor}),
        ),
        (
            "articles cursor on feed",
            &feed,
            "before",
            json!({"before": articles_cursor}),
        ),
        (
            "tag a cursor on tag b",
            &articles,
            "after",
            json!({"after": tag_a_cursor, "tag": "b"}),
        ),
        (
            "tag a cursor on tag b",
            &articles,
            "before",
            json!({"before": tag_a_cursor, "tag": "b"}),
        ),
        (
            "articles cursor on followers",
            &followers,
            "after",
            json!({"after": articles_cursor}),
        ),
    ];
    for (what, query, arg, vars) in foreign {
        let body = app.gql(query, vars, token).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{what}: {body}");
        assert_eq!(error_fields(&body), [arg], "{what}: {body}");
    }
}
