//! The pool's per-connection settings, migrations under concurrency, and database creation.

use diesel::{QueryableByName, sql_types::Text};
use diesel_async::RunQueryDsl;

use crate::helpers::{DatabaseGuard, TestApp, admin_execute, connect, database_exists};

#[derive(QueryableByName)]
struct Settings {
    #[diesel(sql_type = Text)]
    statement_timeout: String,
    #[diesel(sql_type = Text)]
    application_name: String,
}

#[tokio::test]
async fn every_pooled_connection_has_statement_timeout_and_application_name() {
    let app = TestApp::with_config(&[("DATABASE_STATEMENT_TIMEOUT_MS", "1234")]).await;
    let mut first = conduit::db::connect(&app.state.pool).await.unwrap();
    let mut second = conduit::db::connect(&app.state.pool).await.unwrap();
    for conn in [&mut first, &mut second] {
        let settings: Settings = diesel::sql_query(
            "SELECT current_setting('statement_timeout') AS statement_timeout, \
             current_setting('application_name') AS application_name",
        )
        .get_result(&mut **conn)
        .await
        .unwrap();
        assert_eq!(settings.statement_timeout, "1234ms");
        assert_eq!(settings.application_name, "conduit");
    }
}

#[tokio::test]
async fn a_missing_database_is_created_and_migrated() {
    let db = DatabaseGuard::unique("conduit_test_created");
    conduit::db::bootstrap::prepare(&db.url, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    let admin = connect(&crate::helpers::database_url("postgres")).await;
    assert!(database_exists(&admin, &db.name).await);
    assert_eq!(applied_migrations(&db.url).await, migration_count());

    // A second start finds it ready and applies nothing.
    let applied = conduit::db::bootstrap::prepare(&db.url, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert!(applied.is_empty(), "{applied:?}");
}

#[tokio::test]
async fn concurrent_migrations_apply_each_migration_once() {
    let db = DatabaseGuard::unique("conduit_test_concurrent");
    admin_execute(&format!("CREATE DATABASE {}", db.name))
        .await
        .unwrap();
    let runs = (0..4).map(|_| conduit::db::bootstrap::run_migrations(&db.url));
    let results = futures_util::future::join_all(runs).await;
    let applied: usize = results
        .into_iter()
        .map(|r| r.expect("migration run").len())
        .sum();
    assert_eq!(applied, migration_count());
    assert_eq!(applied_migrations(&db.url).await, migration_count());
}

async fn applied_migrations(url: &str) -> usize {
    let client = connect(url).await;
    let row = client
        .query_one("SELECT count(*) FROM __diesel_schema_migrations", &[])
        .await
        .unwrap();
    row.get::<_, i64>(0) as usize
}

fn migration_count() -> usize {
    std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_dir())
        .count()
}

#[tokio::test]
async fn a_signed_in_mutation_needs_only_one_pooled_connection_at_a_time() {
    // The session lookup takes the request's read connection; the mutation's transaction
    // needs one too. With a pool of one, holding the first while waiting for the second
    // would fail after the pool wait.
    let app = TestApp::with_config(&[
        ("DATABASE_POOL_SIZE", "1"),
        ("DATABASE_POOL_WAIT_MS", "300"),
    ])
    .await;
    let jane = app.register("jane").await;
    // Two root fields: the first one's nested read takes the read connection again
    // before the second one's transaction needs a connection.
    let body = app
        .gql(
            "mutation { a: createArticle(input: {title: \"One pool\", description: \"\", \
             body: \"b\"}) { slug author { username } } \
             b: createArticle(input: {title: \"One pool\", description: \"\", body: \"b\"}) \
             { slug } }",
            serde_json::json!({}),
            Some(&jane.access),
        )
        .await;
    assert_eq!(
        body,
        serde_json::json!({"data": {
            "a": {"slug": "one-pool", "author": {"username": "jane"}},
            "b": {"slug": "one-pool-2"},
        }})
    );
}

#[tokio::test]
async fn a_connection_dropped_inside_a_transaction_is_closed_and_its_locks_released() {
    use diesel_async::AsyncConnection;

    let app = TestApp::with_config(&[("DATABASE_POOL_SIZE", "1")]).await;
    app.register("jane").await;
    {
        let mut conn = conduit::db::connect(&app.state.pool).await.unwrap();
        // What a cancelled request leaves: a transaction holding a row lock, never ended.
        let unfinished = conn.transaction::<(), diesel::result::Error, _>(async |tx| {
            diesel::sql_query("SELECT 1 FROM users FOR UPDATE")
                .execute(tx)
                .await?;
            std::future::pending::<()>().await;
            Ok(())
        });
        tokio::time::timeout(std::time::Duration::from_millis(500), unfinished)
            .await
            .expect_err("never finishes");
    }
    // The row is free again right away, not when the pool next hands the connection out.
    let other = connect(&app.database_url()).await;
    other
        .batch_execute("SET lock_timeout = '3s'; BEGIN; SELECT 1 FROM users FOR UPDATE; COMMIT")
        .await
        .expect("the abandoned transaction's lock is released");
    // The pool (of one) still serves, outside any transaction.
    let body = app.query("{ user(username: \"jane\") { username } }").await;
    assert_eq!(body["data"]["user"]["username"], "jane", "{body}");
    let idle_in_transaction: i64 = other
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND state LIKE 'idle in transaction%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(idle_in_transaction, 0);
}
