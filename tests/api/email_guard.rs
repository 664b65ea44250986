//! `User.email` is for the user themself and admins, directly and through `node`/`nodes`.

use conduit::domain::{accounts, policy::Role};
use serde_json::{Value, json};

use crate::helpers::{Account, TestApp, error_code};

struct World {
    app: TestApp,
    jane: Account,
    john: Account,
    admin: Account,
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let john = app.register("john").await;
    let admin = app.register("boss").await;
    accounts::set_role(&app.state.pool, "boss", Role::Admin)
        .await
        .unwrap();
    World {
        app,
        jane,
        john,
        admin,
    }
}

/// jane's email as seen with `token`, through `query` (which selects `email` somewhere).
async fn jane_email(w: &World, token: Option<&str>, query: &str) -> Value {
    w.app
        .gql(
            query,
            json!({"id": w.jane.id, "ids": [w.jane.id, w.john.id]}),
            token,
        )
        .await
}

const DIRECT: &str = "query { user(username: \"jane\") { username email } }";
const NODE: &str = "query($id: ID!) { node(id: $id) { id ... on User { username email } } }";
const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on User { username email } } }";

#[tokio::test]
async fn self_and_admin_see_the_email() {
    let w = world().await;
    for token in [&w.jane.access, &w.admin.access] {
        let direct = jane_email(&w, Some(token), DIRECT).await;
        assert_eq!(
            direct,
            json!({"data": {"user": {"username": "jane", "email": "jane@example.com"}}})
        );
        let node = jane_email(&w, Some(token), NODE).await;
        assert_eq!(node["data"]["node"]["email"], "jane@example.com", "{node}");
        assert!(node.get("errors").is_none());
    }
    let admin_nodes = jane_email(&w, Some(&w.admin.access), NODES).await;
    assert_eq!(admin_nodes["data"]["nodes"][1]["email"], "john@example.com");
}

#[tokio::test]
async fn others_and_anonymous_get_null_and_forbidden_at_the_path() {
    let w = world().await;
    for token in [Some(w.john.access.as_str()), None] {
        let direct = jane_email(&w, token, DIRECT).await;
        assert_eq!(
            direct["data"]["user"],
            json!({"username": "jane", "email": null})
        );
        assert_eq!(error_code(&direct), "FORBIDDEN");
        assert_eq!(direct["errors"][0]["path"], json!(["user", "email"]));

        let node = jane_email(&w, token, NODE).await;
        assert_eq!(node["data"]["node"]["email"], Value::Null, "{node}");
        assert_eq!(node["data"]["node"]["username"], "jane");
        assert_eq!(error_code(&node), "FORBIDDEN");
        assert_eq!(node["errors"][0]["path"], json!(["node", "email"]));
    }
    let nodes = jane_email(&w, Some(&w.john.access), NODES).await;
    assert_eq!(nodes["data"]["nodes"][0]["email"], Value::Null, "{nodes}");
    assert_eq!(nodes["data"]["nodes"][1]["email"], "john@example.com");
    assert_eq!(nodes["errors"].as_array().unwrap().len(), 1);
    assert_eq!(nodes["errors"][0]["path"], json!(["nodes", 0, "email"]));
}

#[tokio::test]
async fn node_ids_are_validated_and_bounded() {
    let w = world().await;
    let garbage = w
        .app
        .gql("{ node(id: \"garbage\") { id } }", json!({}), None)
        .await;
    assert_eq!(error_code(&garbage), "BAD_USER_INPUT");
    assert_eq!(
        garbage["errors"][0]["extensions"]["fieldErrors"][0]["field"],
        "id"
    );

    // A well-formed ID of no user is null.
    let missing =
        conduit::graphql::node::global_id(conduit::graphql::node::NodeKind::User, 999_999);
    let body = w
        .app
        .gql(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({"id": missing.as_str()}),
            None,
        )
        .await;
    assert_eq!(body, json!({"data": {"node": null}}));
    let body = w
        .app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({"ids": [missing.as_str(), w.jane.id]}),
            None,
        )
        .await;
    assert_eq!(body["data"]["nodes"][0], Value::Null);
    assert_eq!(body["data"]["nodes"][1]["id"], w.jane.id.as_str());

    let too_many: Vec<&str> = std::iter::repeat_n(w.jane.id.as_str(), 101).collect();
    let body = w
        .app
        .gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({"ids": too_many}),
            None,
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn the_viewer_flags_follow_the_same_policy() {
    let w = world().await;
    let query = "{ user(username: \"jane\") { isViewer } viewer { isViewer username role } }";
    let mine = w.app.gql(query, json!({}), Some(&w.jane.access)).await;
    assert_eq!(
        mine["data"],
        json!({"user": {"isViewer": true}, "viewer": {"isViewer": true, "username": "jane", "role": "USER"}})
    );
    let theirs = w.app.gql(query, json!({}), Some(&w.admin.access)).await;
    assert_eq!(
        theirs["data"],
        json!({"user": {"isViewer": false}, "viewer": {"isViewer": true, "username": "boss", "role": "ADMIN"}})
    );
}
