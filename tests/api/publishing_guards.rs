//! The guard matrix: every publishing mutation and every viewer flag, for an anonymous
//! visitor, the owner (the article's author, or the followed user), another user and an
//! admin; Article flags both through `article(slug:)` and through `node(id:)`.

use conduit::domain::{accounts, policy::Role};
use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, error_code, field_errors};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Owner,
    Other,
    Admin,
}

use Who::{Admin, Anonymous, Other, Owner};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Refused(&'static str),
}

use Outcome::{Allowed, Refused};

const UNAUTHENTICATED: Outcome = Refused("UNAUTHENTICATED");
const FORBIDDEN: Outcome = Refused("FORBIDDEN");

/// jane owns everything, john is someone else, boss is an admin.
struct World {
    app: TestApp,
    jane: Account,
    john: Account,
    boss: Account,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::spawn().await;
        let jane = app.register("jane").await;
        let john = app.register("john").await;
        let boss = app.register("boss").await;
        accounts::set_role(&app.state.pool, "boss", Role::Admin)
            .await
            .unwrap();
        Self {
            app,
            jane,
            john,
            boss,
        }
    }

    fn token(&self, who: Who) -> Option<&str> {
        match who {
            Anonymous => None,
            Owner => Some(&self.jane.access),
            Other => Some(&self.john.access),
            Admin => Some(&self.boss.access),
        }
    }

    async fn run(&self, who: Who, query: &str, vars: Value) -> Value {
        self.app.gql(query, vars, self.token(who)).await
    }

    /// jane writes an article; returns `{id slug}`.
    async fn article_by_jane(&self, title: &str) -> Value {
        let body = self
            .run(
                Owner,
                "mutation($input: CreateArticleInput!) { createArticle(input: $input) { id slug } }",
                json!({"input": {"title": title, "description": "d", "body": "Original body"}}),
            )
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        body["data"]["createArticle"].clone()
    }

    /// `article(slug:)` selecting `fields`, anonymously.
    async fn read(&self, slug: &str, fields: &str) -> Value {
        let body = self
            .run(
                Anonymous,
                &format!("query($slug: String!) {{ article(slug: $slug) {{ {fields} }} }}"),
                json!({ "slug": slug }),
            )
            .await;
        body["data"]["article"].clone()
    }
}

/// Asserts `body` (from mutation `field`, run as `who`) has the `expected` outcome.
fn check(body: &Value, field: &str, who: Who, expected: Outcome) {
    match expected {
        Allowed => {
            assert!(body.get("errors").is_none(), "{field} as {who:?}: {body}");
            assert!(!body["data"][field].is_null(), "{field} as {who:?}: {body}");
        }
        Refused(code) => {
            assert_eq!(error_code(body), code, "{field} as {who:?}: {body}");
            assert_eq!(body["data"], Value::Null, "{field} as {who:?}: {body}");
        }
    }
}

#[tokio::test]
async fn create_article_needs_a_signed_in_user() {
    let w = World::new().await;
    let query = "mutation($input: CreateArticleInput!) { createArticle(input: $input) \
                 { slug author { username } viewerCanUpdate viewerCanDelete } }";
    let table = [
        (Anonymous, UNAUTHENTICATED, None),
        (Owner, Allowed, Some("jane")),
        (Other, Allowed, Some("john")),
        (Admin, Allowed, Some("boss")),
    ];
    for (who, expected, author) in table {
        let vars =
            json!({"input": {"title": format!("By {who:?}"), "description": "", "body": "b"}});
        let body = w.run(who, query, vars).await;
        check(&body, "createArticle", who, expected);
        if let Some(author) = author {
            assert_eq!(body["data"]["createArticle"]["author"]["username"], author);
            assert_eq!(body["data"]["createArticle"]["viewerCanUpdate"], true);
            assert_eq!(body["data"]["createArticle"]["viewerCanDelete"], true);
        }
    }
    let count = w
        .run(Anonymous, "{ articles { totalCount } }", json!({}))
        .await;
    assert_eq!(count["data"]["articles"]["totalCount"], 3, "{count}");
    assert_eq!(w.read("by-anonymous", "slug").await, Value::Null);
}

#[tokio::test]
async fn update_article_is_for_the_author_alone_not_even_an_admin() {
    let w = World::new().await;
    w.article_by_jane("Guarded").await;
    let query = "mutation($slug: String!, $input: UpdateArticleInput!) \
                 { updateArticle(slug: $slug, input: $input) { slug body } }";
    // The owner goes last: the refusals must leave the original body.
    let table = [
        (Anonymous, UNAUTHENTICATED),
        (Other, FORBIDDEN),
        (Admin, FORBIDDEN),
        (Owner, Allowed),
    ];
    for (who, expected) in table {
        let edited = format!("edited by {who:?}");
        let body = w
            .run(
                who,
                query,
                json!({"slug": "guarded", "input": {"body": edited, "title": format!("Title by {who:?}")}}),
            )
            .await;
        check(&body, "updateArticle", who, expected);
        let now = w.read("guarded", "body").await;
        if expected == Allowed {
            assert_eq!(
                body["data"]["updateArticle"],
                json!({"slug": "title-by-owner", "body": "edited by Owner"})
            );
            assert_eq!(now, Value::Null, "the old slug is gone");
        } else {
            assert_eq!(now, json!({"body": "Original body"}), "{who:?} changed it");
        }
    }
}

#[tokio::test]
async fn delete_article_is_for_the_author_or_an_admin() {
    let w = World::new().await;
    let table = [
        (Anonymous, UNAUTHENTICATED),
        (Owner, Allowed),
        (Other, FORBIDDEN),
        (Admin, Allowed),
    ];
    for (who, expected) in table {
        let article = w.article_by_jane(&format!("Target {who:?}")).await;
        let slug = article["slug"].as_str().unwrap();
        let body = w
            .run(
                who,
                "mutation($slug: String!) { deleteArticle(slug: $slug) }",
                json!({ "slug": slug }),
            )
            .await;
        check(&body, "deleteArticle", who, expected);
        let after = w.read(slug, "id").await;
        if expected == Allowed {
            assert_eq!(body["data"]["deleteArticle"], article["id"]);
            assert_eq!(after, Value::Null, "{who:?} deleted it");
        } else {
            assert_eq!(after, json!({"id": article["id"]}), "{who:?} could not");
        }
    }
}

#[tokio::test]
async fn favorites_need_a_signed_in_user_and_nothing_more() {
    let w = World::new().await;
    w.article_by_jane("Liked").await;
    for (name, mine, step) in [
        ("favoriteArticle", true, 1),
        ("unfavoriteArticle", false, -1),
    ] {
        let query = format!(
            "mutation($slug: String!) {{ {name}(slug: $slug) {{ favoritesCount viewerHasFavorited }} }}"
        );
        let mut count: i64 = if step > 0 { 0 } else { 3 };
        let table = [
            (Anonymous, UNAUTHENTICATED),
            (Owner, Allowed),
            (Other, Allowed),
            (Admin, Allowed),
        ];
        for (who, expected) in table {
            let body = w.run(who, &query, json!({"slug": "liked"})).await;
            check(&body, name, who, expected);
            if expected == Allowed {
                count += step;
                assert_eq!(
                    body["data"][name],
                    json!({"favoritesCount": count, "viewerHasFavorited": mine}),
                    "{name} as {who:?}"
                );
            }
            assert_eq!(
                w.read("liked", "favoritesCount").await,
                json!({ "favoritesCount": count })
            );
        }
    }
}

#[tokio::test]
async fn follows_need_a_signed_in_user_who_is_someone_else() {
    let w = World::new().await;
    let profile = "username viewerIsFollowing isViewer followersCount";
    let follow = format!(
        "mutation($username: String!) {{ followUser(username: $username) {{ {profile} }} }}"
    );
    let unfollow = format!(
        "mutation($username: String!) {{ unfollowUser(username: $username) {{ {profile} }} }}"
    );
    let table = [
        (Anonymous, UNAUTHENTICATED, 0),
        (Owner, Refused("BAD_USER_INPUT"), 0),
        (Other, Allowed, 1),
        (Admin, Allowed, 2),
    ];
    for (who, expected, followers) in table {
        let body = w.run(who, &follow, json!({"username": "jane"})).await;
        check(&body, "followUser", who, expected);
        match expected {
            Allowed => assert_eq!(
                body["data"]["followUser"],
                json!({"username": "jane", "viewerIsFollowing": true, "isViewer": false, "followersCount": followers})
            ),
            Refused("BAD_USER_INPUT") => {
                let fields: Vec<String> = field_errors(&body).into_iter().map(|(f, _)| f).collect();
                assert_eq!(fields, ["username"], "{body}");
            }
            Refused(_) => {}
        }
        let count = w
            .run(
                Anonymous,
                "{ user(username: \"jane\") { followersCount } }",
                json!({}),
            )
            .await;
        assert_eq!(
            count["data"]["user"]["followersCount"], followers,
            "{who:?}"
        );
    }

    // Unfollowing oneself is not specified by the contract, so the owner is left out.
    let table = [
        (Anonymous, UNAUTHENTICATED, 2),
        (Other, Allowed, 1),
        (Admin, Allowed, 0),
    ];
    for (who, expected, followers) in table {
        let body = w.run(who, &unfollow, json!({"username": "jane"})).await;
        check(&body, "unfollowUser", who, expected);
        if expected == Allowed {
            assert_eq!(
                body["data"]["unfollowUser"],
                json!({"username": "jane", "viewerIsFollowing": false, "isViewer": false, "followersCount": followers})
            );
        }
        let count = w
            .run(
                Anonymous,
                "{ user(username: \"jane\") { followersCount } }",
                json!({}),
            )
            .await;
        assert_eq!(
            count["data"]["user"]["followersCount"], followers,
            "{who:?}"
        );
    }
}

#[tokio::test]
async fn unknown_targets_are_unauthenticated_first_then_not_found() {
    let w = World::new().await;
    let mutations = [
        (
            "updateArticle",
            "mutation { updateArticle(slug: \"missing\", input: {body: \"x\"}) { slug } }",
        ),
        (
            "deleteArticle",
            "mutation { deleteArticle(slug: \"missing\") }",
        ),
        (
            "favoriteArticle",
            "mutation { favoriteArticle(slug: \"missing\") { slug } }",
        ),
        (
            "unfavoriteArticle",
            "mutation { unfavoriteArticle(slug: \"missing\") { slug } }",
        ),
        (
            "followUser",
            "mutation { followUser(username: \"missing\") { username } }",
        ),
        (
            "unfollowUser",
            "mutation { unfollowUser(username: \"missing\") { username } }",
        ),
    ];
    for (name, query) in mutations {
        for who in [Anonymous, Owner, Other, Admin] {
            let expected = if who == Anonymous {
                UNAUTHENTICATED
            } else {
                Refused("NOT_FOUND")
            };
            let body = w.run(who, query, json!({})).await;
            check(&body, name, who, expected);
        }
    }
}

const FLAGS: &str =
    "viewerCanUpdate viewerCanDelete viewerHasFavorited author { isViewer viewerIsFollowing }";

#[tokio::test]
async fn article_viewer_flags_follow_the_same_policies_on_every_path() {
    let w = World::new().await;
    let article = w.article_by_jane("Flagged").await;
    // john favorites the article and follows its author.
    let body = w
        .run(
            Other,
            "mutation { favoriteArticle(slug: \"flagged\") { slug } followUser(username: \"jane\") { username } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    let flags = |update: bool, delete: bool, favorited: bool, is_viewer: bool, following: bool| {
        json!({
            "viewerCanUpdate": update,
            "viewerCanDelete": delete,
            "viewerHasFavorited": favorited,
            "author": {"isViewer": is_viewer, "viewerIsFollowing": following}
        })
    };
    let table = [
        (Anonymous, flags(false, false, false, false, false)),
        (Owner, flags(true, true, false, true, false)),
        (Other, flags(false, false, true, false, true)),
        (Admin, flags(false, true, false, false, false)),
    ];
    let by_slug = format!("query($slug: String!) {{ article(slug: $slug) {{ {FLAGS} }} }}");
    let by_node = format!("query($id: ID!) {{ node(id: $id) {{ ... on Article {{ {FLAGS} }} }} }}");
    let by_nodes =
        format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Article {{ {FLAGS} }} }} }}");
    let in_list = format!("{{ articles {{ nodes {{ {FLAGS} }} }} }}");
    for (who, expected) in table {
        let paths = [
            (
                w.run(who, &by_slug, json!({"slug": "flagged"})).await,
                json!({"article": expected}),
            ),
            (
                w.run(who, &by_node, json!({"id": article["id"]})).await,
                json!({"node": expected}),
            ),
            (
                w.run(who, &by_nodes, json!({"ids": [article["id"]]})).await,
                json!({"nodes": [expected]}),
            ),
            (
                w.run(who, &in_list, json!({})).await,
                json!({"articles": {"nodes": [expected]}}),
            ),
        ];
        for (body, data) in paths {
            assert_eq!(body, json!({ "data": data }), "{who:?}");
        }
    }
}

#[tokio::test]
async fn user_viewer_flags_follow_the_same_policies_on_every_path() {
    let w = World::new().await;
    let body = w
        .run(
            Other,
            "mutation { followUser(username: \"jane\") { username } }",
            json!({}),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    let user_flags = "isViewer viewerIsFollowing";
    let table = [
        (Anonymous, false, false),
        (Owner, true, false),
        (Other, false, true),
        (Admin, false, false),
    ];
    let direct = format!("{{ user(username: \"jane\") {{ {user_flags} }} }}");
    let by_node =
        format!("query($id: ID!) {{ node(id: $id) {{ ... on User {{ {user_flags} }} }} }}");
    let by_nodes =
        format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on User {{ {user_flags} }} }} }}");
    let as_follower =
        format!("{{ user(username: \"john\") {{ following {{ nodes {{ {user_flags} }} }} }} }}");
    for (who, is_viewer, following) in table {
        let expected = json!({"isViewer": is_viewer, "viewerIsFollowing": following});
        let paths = [
            (
                w.run(who, &direct, json!({})).await,
                json!({"user": expected}),
            ),
            (
                w.run(who, &by_node, json!({"id": w.jane.id})).await,
                json!({"node": expected}),
            ),
            (
                w.run(who, &by_nodes, json!({"ids": [w.jane.id]})).await,
                json!({"nodes": [expected]}),
            ),
            (
                w.run(who, &as_follower, json!({})).await,
                json!({"user": {"following": {"nodes": [expected]}}}),
            ),
        ];
        for (body, data) in paths {
            assert_eq!(body, json!({ "data": data }), "{who:?}");
        }
    }
}
