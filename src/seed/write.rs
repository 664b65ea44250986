//! One seed's statements in order, inside the caller's transaction: the temporary tables of
//! [`super::relations`], then, with the foreign keys of the filled tables dropped, the real
//! rows of [`super::rows`], then the foreign keys added back (each checking every row in
//! one pass) and the counters set again from the real rows. The bulk maintenance SQL (the
//! foreign keys, the counters, the tags) is the seed's own: no runtime query does it.
//! Calls `db` for its error type only.

use diesel::{OptionalExtension, QueryableByName, sql_query, sql_types::Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use super::{SeedPlan, SeedReport, relations, rows};
use crate::db::DbError;

/// Runs a statement built here (numbers and word lists only, nothing from outside) and
/// returns how many rows it wrote; logs its duration at debug level as `step`.
async fn run(tx: &mut AsyncPgConnection, step: &str, sql: &str) -> Result<u64, DbError> {
    let started = std::time::Instant::now();
    let rows = sql_query(sql).execute(tx).await? as u64;
    log_step(step, rows, started);
    Ok(rows)
}

/// [`run`] with `$1` bound to `text`.
async fn run_bound(
    tx: &mut AsyncPgConnection,
    step: &str,
    sql: &str,
    text: &str,
) -> Result<u64, DbError> {
    let started = std::time::Instant::now();
    let rows = sql_query(sql).bind::<Text, _>(text).execute(tx).await? as u64;
    log_step(step, rows, started);
    Ok(rows)
}

/// Logs one step: its rows and how long it took, at debug level.
fn log_step(step: &str, rows: u64, started: std::time::Instant) {
    let elapsed_ms = started.elapsed().as_millis() as u64;
    tracing::debug!(step, rows, elapsed_ms, "seed step");
}

/// Writes `plan`'s rows (clamped to [`super::MAX_ROWS`]); every new user gets
/// `password_hash`.
pub(super) async fn write(
    tx: &mut AsyncPgConnection,
    plan: &SeedPlan,
    password_hash: &str,
) -> Result<SeedReport, DbError> {
    let mut report = SeedReport::default();
    let plan = &plan.clamped();
    let users = u64::from(plan.users);
    if users == 0 {
        return Ok(report);
    }
    let articles = u64::from(plan.articles);
    // No timeout for the big statements; commit without waiting for the WAL flush (a crash
    // loses the seed, which can be run again).
    tx.batch_execute(
        "SET LOCAL statement_timeout = 0; SET LOCAL synchronous_commit = off; \
         SET LOCAL work_mem = '64MB'; SET LOCAL maintenance_work_mem = '256MB'; \
         CREATE TEMP TABLE seed_users (n bigint PRIMARY KEY, id bigint NOT NULL, \
             created_at timestamptz NOT NULL) ON COMMIT DROP; \
         CREATE TEMP TABLE seed_articles (n bigint PRIMARY KEY, id bigint NOT NULL, \
             author_id bigint NOT NULL, created_at timestamptz NOT NULL) ON COMMIT DROP; \
         CREATE TEMP TABLE seed_follows (follower_id bigint NOT NULL, \
             followee_id bigint NOT NULL, created_at timestamptz NOT NULL) ON COMMIT DROP; \
         CREATE TEMP TABLE seed_favorites (user_id bigint NOT NULL, article_id bigint NOT NULL, \
             created_at timestamptz NOT NULL) ON COMMIT DROP; \
         CREATE TEMP TABLE seed_comments (g bigint NOT NULL, article_id bigint NOT NULL, \
             author_id bigint NOT NULL, created_at timestamptz NOT NULL) ON COMMIT DROP",
    )
    .await?;

    // First who is who and who did what, in temporary tables: then every row is written
    // once, counters included.
    run(tx, "seed_users", &relations::seed_users_sql(users)).await?;
    tx.batch_execute("ANALYZE seed_users").await?;
    run(
        tx,
        "seed_follows",
        &relations::seed_follows_sql(users, plan.follows),
    )
    .await?;
    if articles > 0 {
        run(
            tx,
            "seed_articles",
            &relations::seed_articles_sql(users, articles),
        )
        .await?;
        tx.batch_execute("ANALYZE seed_articles").await?;
        run(
            tx,
            "seed_comments",
            &relations::seed_comments_sql(users, articles, plan.comments),
        )
        .await?;
        run(
            tx,
            "seed_favorites",
            &relations::seed_favorites_sql(users, articles, plan.favorites),
        )
        .await?;
    }

    // Foreign keys are checked row by row on insert, which costs more than the inserts;
    // checked once per constraint when added back, they cost little.
    tx.batch_execute(DROP_FOREIGN_KEYS_SQL).await?;
    report.users = run_bound(tx, "users", &rows::users_sql(), password_hash).await?;
    report.follows = run(tx, "follows", rows::FOLLOWS_SQL).await?;
    if articles > 0 {
        report.articles = run(tx, "articles", &rows::articles_sql()).await?;
        report.favorites = run(tx, "favorites", rows::FAVORITES_SQL).await?;
        report.comments = run(tx, "comments", &rows::comments_sql()).await?;
    }
    for (step, sql) in rows::notifications_sql(articles > 0) {
        report.notifications += run(tx, &step, &sql).await?;
    }
    let started = std::time::Instant::now();
    tx.batch_execute(ADD_FOREIGN_KEYS_SQL).await?;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "seed: foreign keys added back"
    );

    // The counters were written from the temporary tables; set them again from the real
    // rows (changing nothing unless something is off).
    let follows = [
        ("followers_count", "follows", "followee_id"),
        ("following_count", "follows", "follower_id"),
    ];
    run(
        tx,
        "user counters",
        &recount_sql("users", "seed_users", follows),
    )
    .await?;
    if articles > 0 {
        let counted = [
            ("favorites_count", "favorites", "article_id"),
            ("comments_count", "comments", "article_id"),
        ];
        let sql = recount_sql("articles", "seed_articles", counted);
        run(tx, "article counters", &sql).await?;
        report.tags = run(tx, "tags", TAGS_SQL).await?;
    }

    #[derive(QueryableByName)]
    struct Email {
        #[diesel(sql_type = Text)]
        email: String,
    }
    let example: Option<Email> = sql_query(
        "SELECT u.email FROM users u JOIN seed_users s ON s.id = u.id ORDER BY s.n LIMIT 1",
    )
    .get_result(tx)
    .await
    .optional()?;
    report.example_email = example.map(|row| row.email);
    Ok(report)
}

/// Remembers the foreign keys of the loaded tables (their definitions as PostgreSQL
/// prints them), then drops them.
const DROP_FOREIGN_KEYS_SQL: &str = concat!(
    "CREATE TEMP TABLE seed_foreign_keys ON COMMIT DROP AS \
     SELECT conrelid::regclass::text AS tbl, conname, pg_get_constraintdef(oid) AS def \
     FROM pg_constraint \
     WHERE contype = 'f' AND conrelid = ANY (",
    "ARRAY['articles', 'follows', 'favorites', 'comments', 'notifications']",
    "::regclass[]); \
     DO $$ DECLARE r record; BEGIN \
         FOR r IN SELECT * FROM seed_foreign_keys LOOP \
             EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname); \
         END LOOP; \
     END $$"
);

/// Adds the dropped foreign keys back, as they were; each checks every row in one pass.
const ADD_FOREIGN_KEYS_SQL: &str = "\
    DO $$ DECLARE r record; BEGIN \
        FOR r IN SELECT * FROM seed_foreign_keys LOOP \
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', r.tbl, r.conname, r.def); \
        END LOOP; \
    END $$";

/// Sets `table`'s two counters of the rows listed in `seeded` again from the rows they
/// count, where they differ: each counter is (column, counted table, its key column).
fn recount_sql(table: &str, seeded: &str, counters: [(&str, &str, &str); 2]) -> String {
    let [(first, ..), (second, ..)] = counters;
    let joins: Vec<String> = counters
        .iter()
        .enumerate()
        .map(|(i, (_, counted, key))| {
            format!(
                "LEFT JOIN (SELECT r.{key} AS id, count(*)::int AS n FROM {counted} AS r \
                            WHERE r.{key} IN (SELECT id FROM {seeded}) \
                            GROUP BY r.{key}) AS n{i} ON n{i}.id = s.id"
            )
        })
        .collect();
    format!(
        "UPDATE {table} AS t \
         SET {first} = c.n0, {second} = c.n1 \
         FROM (SELECT s.id, coalesce(n0.n, 0) AS n0, coalesce(n1.n, 0) AS n1 \
               FROM {seeded} AS s {joins}) AS c \
         WHERE t.id = c.id AND (t.{first}, t.{second}) IS DISTINCT FROM (c.n0, c.n1)",
        joins = joins.join(" "),
    )
}

/// The seeded articles' tags, added to `tags.articles_count` in name order (the order the
/// article writes lock them in). Returns the number of distinct tags.
const TAGS_SQL: &str = "\
    INSERT INTO tags (name, articles_count) \
    SELECT t.name, count(*)::int \
    FROM seed_articles AS s \
    JOIN articles AS a ON a.id = s.id \
    CROSS JOIN unnest(a.tags) AS t(name) \
    GROUP BY t.name ORDER BY t.name \
    ON CONFLICT (name) DO UPDATE SET articles_count = tags.articles_count + excluded.articles_count";
