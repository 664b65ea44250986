//! register, login, updateViewer, user(username) and the set-role command.

use serde_json::json;

use crate::helpers::{
    AUTH_FIELDS, DatabaseGuard, TestApp, conduit_command, error_code, field_errors,
};

fn register_mutation() -> String {
    format!("mutation($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_FIELDS} }} }}")
}

fn login_mutation() -> String {
    format!("mutation($input: LoginInput!) {{ login(input: $input) {{ {AUTH_FIELDS} }} }}")
}

#[tokio::test]
async fn register_signs_the_new_account_in() {
    let app = TestApp::spawn().await;
    let body = app
        .gql(
            &register_mutation(),
            json!({"input": {"username": "Jane_Doe", "email": "Jane@Example.com", "password": "correct horse"}}),
            None,
        )
        .await;
    let payload = &body["data"]["register"];
    assert_eq!(payload["user"]["username"], "Jane_Doe");
    assert_eq!(
        payload["user"]["email"], "Jane@Example.com",
        "email is visible to the new session"
    );
    assert_eq!(payload["user"]["isViewer"], true);
    assert!(
        payload["accessToken"]
            .as_str()
            .unwrap()
            .starts_with("cdt_a_")
    );
    assert!(
        payload["refreshToken"]
            .as_str()
            .unwrap()
            .starts_with("cdt_r_")
    );
    assert!(
        payload["accessTokenExpiresAt"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );

    let token = payload["accessToken"].as_str().unwrap();
    let viewer = app
        .gql(
            "{ viewer { username email role isViewer bio image createdAt } }",
            json!({}),
            Some(token),
        )
        .await;
    assert_eq!(viewer["data"]["viewer"]["username"], "Jane_Doe");
    assert_eq!(viewer["data"]["viewer"]["role"], "USER");
    assert_eq!(viewer["data"]["viewer"]["isViewer"], true);
    assert_eq!(viewer["data"]["viewer"]["bio"], serde_json::Value::Null);
}

#[tokio::test]
async fn register_rejects_bad_input_with_field_errors() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            json!({"username": "ab", "email": "a@example.com", "password": "12345678"}),
            vec!["username"],
        ),
        (
            json!({"username": "x".repeat(33), "email": "a@example.com", "password": "12345678"}),
            vec!["username"],
        ),
        (
            json!({"username": "has space", "email": "a@example.com", "password": "12345678"}),
            vec!["username"],
        ),
        (
            json!({"username": "okname", "email": "not-an-email", "password": "12345678"}),
            vec!["email"],
        ),
        (
            json!({"username": "okname", "email": "a@example.com", "password": "1234567"}),
            vec!["password"],
        ),
        (
            json!({"username": "okname", "email": "a@example.com", "password": "x".repeat(129)}),
            vec!["password"],
        ),
        (
            json!({"username": "ab", "email": "nope", "password": "short"}),
            vec!["username", "email", "password"],
        ),
    ];
    for (input, fields) in cases {
        let body = app
            .gql(&register_mutation(), json!({"input": input}), None)
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["data"], serde_json::Value::Null);
        let got: Vec<String> = field_errors(&body).into_iter().map(|(f, _)| f).collect();
        assert_eq!(got, fields, "{input}");
    }
    // Every refusal came before hashing (a 129-character password included).
    assert_eq!(app.state.passwords.hashes(), 0);
}

#[tokio::test]
async fn usernames_and_emails_are_unique_ignoring_case() {
    let app = TestApp::spawn().await;
    app.register("jane").await;
    let body = app
        .gql(
            &register_mutation(),
            json!({"input": {"username": "JANE", "email": "JANE@example.COM", "password": "12345678"}}),
            None,
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    assert_eq!(
        field_errors(&body),
        vec![
            ("username".to_owned(), "is already taken".to_owned()),
            ("email".to_owned(), "is already registered".to_owned())
        ]
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_fail_alike_and_both_verify() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let before = app.state.passwords.verifications();

    let wrong_password = app
        .gql(
            &login_mutation(),
            json!({"input": {"email": jane.email, "password": "not her password"}}),
            None,
        )
        .await;
    let unknown_email = app
        .gql(
            &login_mutation(),
            json!({"input": {"email": "nobody@example.com", "password": "whatever1"}}),
            None,
        )
        .await;
    assert_eq!(error_code(&wrong_password), "UNAUTHENTICATED");
    assert_eq!(
        wrong_password["errors"], unknown_email["errors"],
        "same error, same message"
    );
    assert_eq!(
        app.state.passwords.verifications() - before,
        2,
        "the unknown email ran a dummy verify"
    );

    let ok = app
        .gql(
            &login_mutation(),
            json!({"input": {"email": "JANE@EXAMPLE.COM", "password": jane.password}}),
            None,
        )
        .await;
    assert_eq!(ok["data"]["login"]["user"]["username"], "jane", "{ok}");
    assert_eq!(ok["data"]["login"]["user"]["email"], "jane@example.com");
}

#[tokio::test]
async fn update_viewer_changes_only_what_is_given() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    app.register("taken").await;
    let update = "mutation($input: UpdateViewerInput!) { updateViewer(input: $input) { username email bio image } }";

    let body = app
        .gql(
            update,
            json!({"input": {"bio": "Writer", "image": "https://cdn.example/j.png"}}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        body["data"]["updateViewer"],
        json!({"username": "jane", "email": "jane@example.com", "bio": "Writer", "image": "https://cdn.example/j.png"})
    );

    let body = app
        .gql(
            update,
            json!({"input": {"username": "jane2"}}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        body["data"]["updateViewer"]["bio"], "Writer",
        "omitted fields are untouched"
    );
    assert_eq!(body["data"]["updateViewer"]["username"], "jane2");

    let body = app
        .gql(update, json!({"input": {"bio": null}}), Some(&jane.access))
        .await;
    assert_eq!(
        body["data"]["updateViewer"]["bio"],
        serde_json::Value::Null,
        "null clears"
    );
    assert_eq!(
        body["data"]["updateViewer"]["image"],
        "https://cdn.example/j.png"
    );

    let body = app
        .gql(
            update,
            json!({"input": {"username": "TAKEN", "email": "bad", "image": "ftp://x"}}),
            Some(&jane.access),
        )
        .await;
    let fields: Vec<String> = field_errors(&body).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["email", "image"], "format errors first: {body}");
    let body = app
        .gql(
            update,
            json!({"input": {"username": "TAKEN"}}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        field_errors(&body),
        vec![("username".to_owned(), "is already taken".to_owned())]
    );

    // Keeping one's own username (in another case) is fine.
    let body = app
        .gql(
            update,
            json!({"input": {"username": "JANE2"}}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(body["data"]["updateViewer"]["username"], "JANE2", "{body}");

    let anonymous = app.gql(update, json!({"input": {"bio": "x"}}), None).await;
    assert_eq!(error_code(&anonymous), "UNAUTHENTICATED");
}

#[tokio::test]
async fn user_by_username_ignores_case() {
    let app = TestApp::spawn().await;
    app.register("jane").await;
    let body = app
        .gql("{ user(username: \"JANE\") { username } }", json!({}), None)
        .await;
    assert_eq!(body["data"]["user"]["username"], "jane");
    let body = app
        .gql(
            "{ user(username: \"nobody\") { username } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(body["data"]["user"], serde_json::Value::Null);
}

#[test]
fn set_role_command_promotes_and_reports_unknown_users() {
    let db = DatabaseGuard::unique("conduit_test_set_role");
    let vars = [("DATABASE_URL", db.url.as_str()), ("RUST_LOG", "warn")];
    let output = conduit_command(&["user", "set-role", "nobody", "admin"], &vars)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("No user named nobody"));

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = crate::helpers::connect(&db.url).await;
        client
            .batch_execute("INSERT INTO users (username, email, password_hash) VALUES ('Jane', 'j@example.com', 'x')")
            .await
            .unwrap();
    });
    let output = conduit_command(&["user", "set-role", "jane", "admin"], &vars)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let role: String = rt.block_on(async {
        let client = crate::helpers::connect(&db.url).await;
        client
            .query_one("SELECT role FROM users", &[])
            .await
            .unwrap()
            .get(0)
    });
    assert_eq!(role, "admin");
}

#[tokio::test]
async fn non_ascii_emails_can_sign_in() {
    let app = TestApp::spawn().await;
    let email = "İlker@example.com";
    let body = app
        .gql(
            &register_mutation(),
            json!({"input": {"username": "ilker", "email": email, "password": "12345678"}}),
            None,
        )
        .await;
    assert!(body["data"]["register"].is_object(), "{body}");
    let login = app
        .gql(
            &login_mutation(),
            json!({"input": {"email": email, "password": "12345678"}}),
            None,
        )
        .await;
    assert_eq!(
        login["data"]["login"]["user"]["username"], "ilker",
        "{login}"
    );
}

#[tokio::test]
async fn a_unique_violation_past_the_check_is_still_a_field_error() {
    use conduit::db::users::{NewUser, Taken, UserWriteError, insert};
    let app = TestApp::spawn().await;
    let mut conn = conduit::db::connect(&app.state.pool).await.unwrap();
    let first = NewUser {
        username: "race",
        email: "race@example.com",
        password_hash: "x",
    };
    insert(&mut conn, &first).await.unwrap();
    let same_name = NewUser {
        username: "RACE",
        email: "other@example.com",
        password_hash: "x",
    };
    assert!(matches!(
        insert(&mut conn, &same_name).await,
        Err(UserWriteError::Taken(Taken::Username))
    ));
    let same_email = NewUser {
        username: "other",
        email: "RACE@example.com",
        password_hash: "x",
    };
    assert!(matches!(
        insert(&mut conn, &same_email).await,
        Err(UserWriteError::Taken(Taken::Email))
    ));
}
