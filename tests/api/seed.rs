//! Seed data: `conduit seed` through the binary, the demo set through the library, and a
//! development server that starts with demo data. Each checks the counts, that every
//! counter equals what it counts, and that seeded users can sign in.

use conduit::{
    domain::validation,
    seed::{self, DEMO_PASSWORD, SeedPlan},
};
use serde_json::{Value, json};

use crate::helpers::{
    AUTH_FIELDS, DatabaseGuard, ServerProcess, TestApp, conduit_command, connect, http_request,
};

/// Every counter against the rows it counts, in one query: users whose follow counters are
/// off, articles whose favorite or comment counters are off, tags whose count is off (or
/// that are missing, or left over).
const COUNTER_MISMATCHES: &str = "SELECT \
    (SELECT count(*) FROM users AS u \
     WHERE u.followers_count <> (SELECT count(*) FROM follows AS f WHERE f.followee_id = u.id) \
        OR u.following_count <> (SELECT count(*) FROM follows AS f WHERE f.follower_id = u.id)), \
    (SELECT count(*) FROM articles AS a \
     WHERE a.favorites_count <> (SELECT count(*) FROM favorites AS f WHERE f.article_id = a.id) \
        OR a.comments_count <> (SELECT count(*) FROM comments AS c WHERE c.article_id = a.id)), \
    (SELECT count(*) FROM tags AS t \
     FULL JOIN (SELECT name, count(*)::int AS n FROM articles, unnest(tags) AS name \
                GROUP BY name) AS r ON r.name = t.name \
     WHERE t.articles_count IS DISTINCT FROM r.n)";

/// Rows per table: users, articles, comments, favorites, follows, notifications.
const TABLE_COUNTS: &str = "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM articles), \
    (SELECT count(*) FROM comments), (SELECT count(*) FROM favorites), \
    (SELECT count(*) FROM follows), (SELECT count(*) FROM notifications)";

/// The foreign keys, as PostgreSQL prints them (the seed drops and re-adds them).
const FOREIGN_KEYS: &str = "SELECT conrelid::regclass::text || ' ' || conname || ' ' || \
    pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' ORDER BY 1";

async fn row_of_counts(client: &tokio_postgres::Client, sql: &str) -> Vec<i64> {
    let row = client.query_one(sql, &[]).await.unwrap();
    (0..row.len()).map(|i| row.get::<_, i64>(i)).collect()
}

async fn strings(client: &tokio_postgres::Client, sql: &str) -> Vec<String> {
    let rows = client.query(sql, &[]).await.unwrap();
    rows.iter().map(|row| row.get(0)).collect()
}

/// Signs in through the API and returns the username the session belongs to.
async fn login(app: &TestApp, email: &str) -> String {
    let body = app
        .gql(
            &format!(
                "mutation($input: LoginInput!) {{ login(input: $input) {{ {AUTH_FIELDS} }} }}"
            ),
            json!({"input": {"email": email, "password": DEMO_PASSWORD}}),
            None,
        )
        .await;
    let token = body["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();
    let body = app
        .gql("{ viewer { username } }", json!({}), Some(&token))
        .await;
    body["data"]["viewer"]["username"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned()
}

/// Runs `conduit seed` with `args` on `url`, asserts success and returns its output.
fn seed_command(url: &str, args: &[&str]) -> String {
    let mut all = vec!["seed"];
    all.extend_from_slice(args);
    let output = conduit_command(&all, &[("DATABASE_URL", url), ("RUST_LOG", "warn")])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Checks the rules every seeded row follows.
async fn assert_seeded_rows_are_valid(client: &tokio_postgres::Client) {
    for username in strings(client, "SELECT username FROM users").await {
        assert_eq!(validation::username(&username), None, "{username}");
    }
    for email in strings(client, "SELECT email FROM users").await {
        assert_eq!(validation::email(&email), None, "{email}");
    }
    let checks = row_of_counts(
        client,
        "SELECT \
            (SELECT count(*) FROM articles WHERE cardinality(tags) NOT BETWEEN 1 AND 4), \
            (SELECT count(*) - count(DISTINCT created_at) FROM articles), \
            (SELECT count(*) FROM articles AS a JOIN users AS u ON u.id = a.author_id \
             WHERE a.created_at < u.created_at OR a.created_at > now()), \
            (SELECT count(*) FROM comments AS c JOIN articles AS a ON a.id = c.article_id \
             WHERE c.created_at < a.created_at), \
            (SELECT count(*) FROM favorites AS f JOIN articles AS a ON a.id = f.article_id \
             WHERE f.created_at < a.created_at)",
    )
    .await;
    assert_eq!(
        checks, [0; 5],
        "tags, article times, authors, comments, favorites"
    );
}

#[tokio::test]
async fn seed_command_adds_the_requested_rows_with_exact_counters() {
    let app = TestApp::spawn().await;
    let url = app.database_url();
    let client = connect(&url).await;
    // Someone is there already: seeding adds to what exists.
    let jane = app.register("jane").await;
    let foreign_keys = strings(&client, FOREIGN_KEYS).await;

    let args = [
        "--users",
        "40",
        "--articles",
        "120",
        "--comments",
        "300",
        "--favorites",
        "500",
        "--follows",
        "150",
    ];
    let stdout = tokio::task::spawn_blocking(move || seed_command(&url, &args))
        .await
        .unwrap();
    assert!(
        stdout.contains("40 users, 120 articles, 300 comments, 500 favorites, 150 follows"),
        "{stdout}"
    );
    assert!(stdout.contains(DEMO_PASSWORD), "{stdout}");
    let email = stdout
        .split("Example login: email ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("{stdout}"))
        .to_owned();

    let counts = row_of_counts(&client, TABLE_COUNTS).await;
    assert_eq!(counts[..5], [41, 120, 300, 500, 150]);
    assert!(counts[5] > 0, "notifications");
    assert_eq!(row_of_counts(&client, COUNTER_MISMATCHES).await, [0, 0, 0]);
    assert_eq!(strings(&client, FOREIGN_KEYS).await, foreign_keys);
    assert_seeded_rows_are_valid(&client).await;

    // A seeded user signs in with the demo password; the existing one still can too.
    let username = login(&app, &email).await;
    let owner = client
        .query_one("SELECT username FROM users WHERE email = $1", &[&email])
        .await
        .unwrap();
    assert_eq!(owner.get::<_, String>(0), username);
    let body = app
        .gql(
            "mutation($input: LoginInput!) { login(input: $input) { user { username } } }",
            json!({"input": {"email": jane.email, "password": jane.password}}),
            None,
        )
        .await;
    assert_eq!(body["data"]["login"]["user"]["username"], "jane");

    // A second run adds more, colliding with nothing.
    let url = app.database_url();
    tokio::task::spawn_blocking(move || {
        seed_command(
            &url,
            &[
                "--users",
                "10",
                "--articles",
                "20",
                "--comments",
                "30",
                "--favorites",
                "40",
                "--follows",
                "20",
            ],
        )
    })
    .await
    .unwrap();
    let counts = row_of_counts(&client, TABLE_COUNTS).await;
    assert_eq!(counts[..5], [51, 140, 330, 540, 170]);
    assert_eq!(row_of_counts(&client, COUNTER_MISMATCHES).await, [0, 0, 0]);
    assert_seeded_rows_are_valid(&client).await;
}

#[tokio::test]
async fn the_demo_set_is_seeded_once_and_its_users_can_sign_in() {
    let app = TestApp::spawn().await;
    let hash = app
        .state
        .passwords
        .hash(DEMO_PASSWORD.to_owned())
        .await
        .unwrap();
    let mut conn = conduit::db::connect(&app.state.pool).await.unwrap();
    let report = seed::seed_if_empty(&mut conn, &SeedPlan::DEMO, &hash)
        .await
        .unwrap()
        .expect("an empty database is seeded");
    let plan = SeedPlan::DEMO;
    assert_eq!(
        [
            report.users,
            report.articles,
            report.comments,
            report.favorites,
            report.follows
        ],
        [
            plan.users,
            plan.articles,
            plan.comments,
            plan.favorites,
            plan.follows
        ]
        .map(u64::from)
    );
    assert!(report.notifications > 0 && report.tags > 0, "{report:?}");
    // Not twice.
    assert_eq!(
        seed::seed_if_empty(&mut conn, &SeedPlan::DEMO, &hash)
            .await
            .unwrap(),
        None
    );
    drop(conn);

    let client = connect(&app.database_url()).await;
    assert_eq!(row_of_counts(&client, COUNTER_MISMATCHES).await, [0, 0, 0]);
    assert_seeded_rows_are_valid(&client).await;

    let email = report.example_email.expect("an example email");
    let username = login(&app, &email).await;
    let body = app
        .gql(
            "query($u: String!) { articles(first: 1) { totalCount } \
             user(username: $u) { username } }",
            json!({"u": username}),
            None,
        )
        .await;
    assert_eq!(body["data"]["articles"]["totalCount"], 100, "{body}");
    assert_eq!(body["data"]["user"]["username"], username.as_str());
}

fn articles_total(server: &ServerProcess) -> Value {
    let query = r#"{"query":"{ articles(first: 1) { totalCount } }"}"#;
    let (status, body) = http_request(
        server.addr,
        &format!(
            "POST /graphql HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{query}",
            query.len()
        ),
    );
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["data"]["articles"]["totalCount"].clone()
}

#[test]
fn a_development_server_with_demo_data_starts_with_articles() {
    let db = DatabaseGuard::unique("conduit_test_demo");
    let vars = [("DATABASE_URL", db.url.as_str()), ("DEMO_DATA", "true")];
    let server = ServerProcess::start(&vars);
    let total = articles_total(&server);
    assert!(total.as_i64().is_some_and(|n| n > 0), "{total}");
    let lines = server.log_lines_with("seeded demo data");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(DEMO_PASSWORD), "{}", lines[0]);
    drop(server);

    // The next start finds users and seeds nothing more.
    let server = ServerProcess::start(&vars);
    assert_eq!(articles_total(&server), total);
    assert!(server.log_lines_with("seeded demo data").is_empty());
}
