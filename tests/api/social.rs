//! Follows, favorites, the feed, article filters and popular tags.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, error_code, field_errors};

const PROFILE: &str = "username isViewer viewerIsFollowing followersCount followingCount";

fn follow_mutation(name: &str) -> String {
    format!("mutation($username: String!) {{ {name}(username: $username) {{ {PROFILE} }} }}")
}

fn favorite_mutation(name: &str) -> String {
    format!(
        "mutation($slug: String!) {{ {name}(slug: $slug) {{ slug favoritesCount viewerHasFavorited }} }}"
    )
}

/// Runs followUser/unfollowUser (`name`) on `username` as `who`; the whole body.
async fn follow(app: &TestApp, name: &str, who: &Account, username: &str) -> Value {
    app.gql(
        &follow_mutation(name),
        json!({ "username": username }),
        Some(&who.access),
    )
    .await
}

/// Runs favoriteArticle/unfavoriteArticle (`name`) on `slug` as `who`; the whole body.
async fn favorite(app: &TestApp, name: &str, who: &Account, slug: &str) -> Value {
    app.gql(
        &favorite_mutation(name),
        json!({ "slug": slug }),
        Some(&who.access),
    )
    .await
}

/// Creates an article, asserting success; returns its slug.
async fn create(app: &TestApp, who: &Account, title: &str, tags: &[&str]) -> String {
    let body = app
        .gql(
            "mutation($input: CreateArticleInput!) { createArticle(input: $input) { slug } }",
            json!({"input": {"title": title, "description": "", "body": "Body", "tags": tags}}),
            Some(&who.access),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["createArticle"]["slug"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// `{ totalCount, slugs }` of an `ArticleConnection` selected as `{ totalCount nodes { slug } }`.
fn slugs(connection: &Value) -> Value {
    let slugs: Vec<&Value> = connection["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("not a connection: {connection}"))
        .iter()
        .map(|n| &n["slug"])
        .collect();
    json!({"totalCount": connection["totalCount"], "slugs": slugs})
}

fn expect_slugs(slugs: &[&str]) -> Value {
    json!({"totalCount": slugs.len(), "slugs": slugs})
}

#[tokio::test]
async fn follow_and_unfollow_return_the_user_and_are_idempotent() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let followed = json!({"data": {"followUser": {
        "username": "jane", "isViewer": false, "viewerIsFollowing": true,
        "followersCount": 1, "followingCount": 0
    }}});
    assert_eq!(follow(&app, "followUser", &john, "jane").await, followed);
    assert_eq!(
        follow(&app, "followUser", &john, "jane").await,
        followed,
        "twice is once"
    );
    let viewer = app
        .gql(
            &format!("{{ viewer {{ {PROFILE} }} }}"),
            json!({}),
            Some(&john.access),
        )
        .await;
    assert_eq!(
        viewer["data"]["viewer"],
        json!({"username": "john", "isViewer": true, "viewerIsFollowing": false,
               "followersCount": 0, "followingCount": 1})
    );

    let unfollowed = json!({"data": {"unfollowUser": {
        "username": "jane", "isViewer": false, "viewerIsFollowing": false,
        "followersCount": 0, "followingCount": 0
    }}});
    assert_eq!(
        follow(&app, "unfollowUser", &john, "jane").await,
        unfollowed
    );
    assert_eq!(
        follow(&app, "unfollowUser", &john, "jane").await,
        unfollowed,
        "twice is once"
    );
    let counts = app
        .gql(
            &format!("{{ user(username: \"john\") {{ {PROFILE} }} }}"),
            json!({}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        counts["data"]["user"],
        json!({"username": "john", "isViewer": false, "viewerIsFollowing": false,
               "followersCount": 0, "followingCount": 0})
    );
}

#[tokio::test]
async fn following_yourself_is_bad_input_and_unknown_users_are_not_found() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let body = follow(&app, "followUser", &jane, "jane").await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["data"], Value::Null);
    let fields: Vec<String> = field_errors(&body).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["username"]);

    for name in ["followUser", "unfollowUser"] {
        let body = follow(&app, name, &jane, "nobody").await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{name}: {body}");
        assert_eq!(body["data"], Value::Null);
    }
    let me = app
        .gql(
            &format!("{{ viewer {{ {PROFILE} }} }}"),
            json!({}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        me["data"]["viewer"],
        json!({"username": "jane", "isViewer": true, "viewerIsFollowing": false,
               "followersCount": 0, "followingCount": 0})
    );
}

#[tokio::test]
async fn viewer_is_following_depends_on_the_viewer_and_the_direction() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let alice = app.register("alice").await;
    follow(&app, "followUser", &john, "jane").await;
    let query = "{ jane: user(username: \"jane\") { viewerIsFollowing } \
                   john: user(username: \"john\") { viewerIsFollowing } }";
    let cases = [
        (
            Some(&john),
            json!({"jane": {"viewerIsFollowing": true}, "john": {"viewerIsFollowing": false}}),
        ),
        (
            Some(&jane),
            json!({"jane": {"viewerIsFollowing": false}, "john": {"viewerIsFollowing": false}}),
        ),
        (
            Some(&alice),
            json!({"jane": {"viewerIsFollowing": false}, "john": {"viewerIsFollowing": false}}),
        ),
        (
            None,
            json!({"jane": {"viewerIsFollowing": false}, "john": {"viewerIsFollowing": false}}),
        ),
    ];
    for (who, expected) in cases {
        let body = app
            .gql(query, json!({}), who.map(|a| a.access.as_str()))
            .await;
        assert_eq!(body, json!({ "data": expected }), "{who:?}");
    }
}

#[tokio::test]
async fn followers_and_following_list_the_newest_follow_first() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    // Follow order differs from registration order.
    for who in [&alice, &bob, &john] {
        follow(&app, "followUser", who, "jane").await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    for name in ["bob", "alice"] {
        follow(&app, "followUser", &jane, name).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let query = "{ user(username: \"jane\") { followersCount followingCount \
                   followers { totalCount nodes { username } edges { node { username } } } \
                   following { totalCount nodes { username } } } }";
    let body = app.gql(query, json!({}), None).await;
    let names =
        |list: &[&str]| -> Vec<Value> { list.iter().map(|n| json!({ "username": n })).collect() };
    let edges = |list: &[&str]| -> Vec<Value> {
        list.iter()
            .map(|n| json!({"node": { "username": n }}))
            .collect()
    };
    assert_eq!(
        body,
        json!({"data": {"user": {
            "followersCount": 3,
            "followingCount": 2,
            "followers": {
                "totalCount": 3,
                "nodes": names(&["john", "bob", "alice"]),
                "edges": edges(&["john", "bob", "alice"])
            },
            "following": {"totalCount": 2, "nodes": names(&["alice", "bob"])}
        }}})
    );

    // Following again after an unfollow is a new follow: it moves to the front.
    follow(&app, "unfollowUser", &alice, "jane").await;
    tokio::time::sleep(Duration::from_millis(2)).await;
    follow(&app, "followUser", &alice, "jane").await;
    // Following again while following changes nothing.
    follow(&app, "followUser", &bob, "jane").await;
    let body = app
        .gql(
            "{ user(username: \"jane\") { followers { totalCount nodes { username } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        body["data"]["user"]["followers"],
        json!({"totalCount": 3, "nodes": names(&["alice", "john", "bob"])})
    );
}

#[tokio::test]
async fn favorites_are_counted_per_article_flagged_per_viewer_and_idempotent() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let alice = app.register("alice").await;
    create(&app, &jane, "Liked", &[]).await;
    let state = |name: &str, count: i64, mine: bool| json!({"data": {name: {"slug": "liked", "favoritesCount": count, "viewerHasFavorited": mine}}});

    assert_eq!(
        favorite(&app, "favoriteArticle", &john, "liked").await,
        state("favoriteArticle", 1, true)
    );
    assert_eq!(
        favorite(&app, "favoriteArticle", &john, "liked").await,
        state("favoriteArticle", 1, true),
        "twice is once"
    );
    assert_eq!(
        favorite(&app, "favoriteArticle", &alice, "liked").await,
        state("favoriteArticle", 2, true)
    );

    let query = "{ article(slug: \"liked\") { slug favoritesCount viewerHasFavorited } }";
    for (who, mine) in [(Some(&jane), false), (Some(&john), true), (None, false)] {
        let body = app
            .gql(query, json!({}), who.map(|a| a.access.as_str()))
            .await;
        assert_eq!(body, state("article", 2, mine), "{who:?}");
    }

    assert_eq!(
        favorite(&app, "unfavoriteArticle", &john, "liked").await,
        state("unfavoriteArticle", 1, false)
    );
    assert_eq!(
        favorite(&app, "unfavoriteArticle", &john, "liked").await,
        state("unfavoriteArticle", 1, false),
        "twice is once"
    );
    let body = app.gql(query, json!({}), Some(&alice.access)).await;
    assert_eq!(body, state("article", 1, true));

    for name in ["favoriteArticle", "unfavoriteArticle"] {
        let body = favorite(&app, name, &john, "no-such-article").await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{name}: {body}");
        assert_eq!(body["data"], Value::Null);
    }
}

#[tokio::test]
async fn favorite_articles_list_the_newest_article_first() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let alice = app.register("alice").await;
    for title in ["One", "Two", "Three", "Four"] {
        create(&app, &jane, title, &[]).await;
    }
    // Favorited in another order than they were written.
    for slug in ["three", "one", "four"] {
        favorite(&app, "favoriteArticle", &john, slug).await;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    favorite(&app, "favoriteArticle", &alice, "two").await;

    let body = app
        .gql(
            "{ user(username: \"john\") { favoriteArticles { totalCount nodes { slug } } } \
               articles(favoritedBy: \"john\") { totalCount nodes { slug } } }",
            json!({}),
            None,
        )
        .await;
    let expected = expect_slugs(&["four", "three", "one"]);
    assert_eq!(
        slugs(&body["data"]["user"]["favoriteArticles"]),
        expected,
        "{body}"
    );
    assert_eq!(slugs(&body["data"]["articles"]), expected);
}

#[tokio::test]
async fn article_filters_combine_with_and() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let alice = app.register("alice").await;
    create(&app, &jane, "J1", &["rust"]).await;
    create(&app, &jane, "J2", &["rust", "web"]).await;
    create(&app, &john, "K1", &["Rust"]).await;
    create(&app, &jane, "J3", &["web"]).await;
    create(&app, &john, "K2", &[]).await;
    for slug in ["j1", "k1", "j3"] {
        favorite(&app, "favoriteArticle", &alice, slug).await;
    }

    let query = "query($tag: String, $author: String, $favoritedBy: String) { \
                 articles(tag: $tag, author: $author, favoritedBy: $favoritedBy) \
                 { totalCount nodes { slug } } }";
    let cases: [(Value, &[&str]); 14] = [
        (json!({}), &["k2", "j3", "k1", "j2", "j1"]),
        (json!({"tag": "rust"}), &["k1", "j2", "j1"]),
        (json!({"tag": "RUST"}), &["k1", "j2", "j1"]),
        (json!({"tag": "web"}), &["j3", "j2"]),
        (json!({"author": "jane"}), &["j3", "j2", "j1"]),
        (json!({"author": "john"}), &["k2", "k1"]),
        (json!({"author": "jane", "tag": "rust"}), &["j2", "j1"]),
        (json!({"favoritedBy": "alice"}), &["j3", "k1", "j1"]),
        (
            json!({"favoritedBy": "alice", "tag": "rust"}),
            &["k1", "j1"],
        ),
        (
            json!({"favoritedBy": "alice", "author": "jane", "tag": "web"}),
            &["j3"],
        ),
        (json!({"favoritedBy": "jane"}), &[]),
        (json!({"author": "alice"}), &[]),
        (json!({"tag": "nope"}), &[]),
        (json!({"author": "john", "tag": "web"}), &[]),
    ];
    for (vars, expected) in cases {
        let body = app.gql(query, vars.clone(), None).await;
        assert!(body.get("errors").is_none(), "{vars}: {body}");
        assert_eq!(
            slugs(&body["data"]["articles"]),
            expect_slugs(expected),
            "{vars}"
        );
    }
}

#[tokio::test]
async fn unknown_authors_and_favoriters_give_an_empty_connection() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    create(&app, &jane, "Something", &["t"]).await;
    let query = "query($author: String, $favoritedBy: String) { \
                 articles(author: $author, favoritedBy: $favoritedBy) { totalCount \
                 edges { cursor node { slug } } nodes { slug } \
                 pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
    let empty = json!({"data": {"articles": {
        "totalCount": 0, "edges": [], "nodes": [],
        "pageInfo": {"hasNextPage": false, "hasPreviousPage": false, "startCursor": null, "endCursor": null}
    }}});
    for vars in [
        json!({"author": "nobody"}),
        json!({"favoritedBy": "nobody"}),
        json!({"author": "jane", "favoritedBy": "nobody"}),
    ] {
        assert_eq!(app.gql(query, vars.clone(), None).await, empty, "{vars}");
    }
}

#[tokio::test]
async fn the_feed_shows_followed_authors_newest_first() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    follow(&app, "followUser", &john, "jane").await;
    follow(&app, "followUser", &john, "alice").await;
    create(&app, &jane, "Jane Early", &[]).await;
    create(&app, &alice, "Alice Post", &[]).await;
    create(&app, &bob, "Bob Post", &[]).await;
    create(&app, &john, "John Own", &[]).await;
    create(&app, &jane, "Jane Late", &[]).await;

    let feed = "{ feed { totalCount nodes { slug } } }";
    let body = app.gql(feed, json!({}), Some(&john.access)).await;
    assert_eq!(
        slugs(&body["data"]["feed"]),
        expect_slugs(&["jane-late", "alice-post", "jane-early"]),
        "{body}"
    );
    let body = app.gql(feed, json!({}), Some(&jane.access)).await;
    assert_eq!(
        slugs(&body["data"]["feed"]),
        expect_slugs(&[]),
        "jane follows no one"
    );

    follow(&app, "unfollowUser", &john, "alice").await;
    let body = app.gql(feed, json!({}), Some(&john.access)).await;
    assert_eq!(
        slugs(&body["data"]["feed"]),
        expect_slugs(&["jane-late", "jane-early"])
    );

    let anonymous = app.gql(feed, json!({}), None).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED", "{anonymous}");
    assert_eq!(anonymous["data"], Value::Null);
}

#[tokio::test]
async fn popular_tags_are_most_used_first_then_by_name() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    create(&app, &jane, "A", &["rust", "web", "zeta"]).await;
    create(&app, &john, "B", &["RUST", "Web"]).await;
    create(&app, &jane, "C", &["rust", "alpha"]).await;
    create(&app, &john, "D", &["beta"]).await;

    let tags = |n: &[(&str, i64)]| -> Value {
        n.iter()
            .map(|(name, count)| json!({"name": name, "articlesCount": count}))
            .collect()
    };
    let body = app
        .gql("{ popularTags { name articlesCount } }", json!({}), None)
        .await;
    assert_eq!(
        body,
        json!({"data": {"popularTags": tags(&[
            ("rust", 3), ("web", 2), ("alpha", 1), ("beta", 1), ("zeta", 1)
        ])}})
    );
    let body = app
        .gql(
            "{ popularTags(first: 3) { name articlesCount } }",
            json!({}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        body["data"]["popularTags"],
        tags(&[("rust", 3), ("web", 2), ("alpha", 1)])
    );
}

#[tokio::test]
async fn popular_tags_default_to_twenty() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let names: Vec<String> = (0..25).map(|i| format!("t{i:02}")).collect();
    for (i, chunk) in names.chunks(10).enumerate() {
        let chunk: Vec<&str> = chunk.iter().map(String::as_str).collect();
        create(&app, &jane, &format!("Chunk {i}"), &chunk).await;
    }
    // One tag used twice goes first.
    create(&app, &jane, "Again", &["t24"]).await;
    let body = app
        .gql("{ popularTags { name articlesCount } }", json!({}), None)
        .await;
    let got = body["data"]["popularTags"].as_array().unwrap();
    assert_eq!(got.len(), 20, "{body}");
    assert_eq!(got[0], json!({"name": "t24", "articlesCount": 2}));
    let rest: Vec<Value> = names[..19]
        .iter()
        .map(|n| json!({"name": n, "articlesCount": 1}))
        .collect();
    assert_eq!(got[1..], rest[..]);
}
