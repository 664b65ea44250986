//! Bulk demo data (`conduit seed`, and the small set a development server starts with).
//!
//! Every table is filled by a few set-based statements (`INSERT … SELECT … FROM
//! generate_series(…)`), never row by row, in one transaction. Choices are deterministic
//! pseudo-random functions of a row's ordinal (`hashint8extended(ordinal, salt)`), and the
//! text comes from the word lists below, rendered into SQL arrays.
//!
//! What a seed writes:
//! - **users**: usernames like `ada_lovelace1042` and emails like
//!   `ada.lovelace1042@example.com`, where the number is the row's id (taken from the
//!   table's identity sequence), so they are unique, also across runs and ignoring case;
//!   every one has the password [`DEMO_PASSWORD`] (one argon2 hash, computed once by the
//!   caller). Most have a bio and an avatar URL. They joined over the past year, at distinct
//!   microseconds.
//! - **articles**: human-looking titles, a description, a Markdown body of 3–6 paragraphs and
//!   1–4 tags out of [`TAGS`] (some tags far more popular than others); the slug is the
//!   slugified title, `-`, the id. Published over the past year at distinct microseconds,
//!   each by a user who had joined by then (early users write more).
//! - **comments**, **favorites**, **follows**: each after both of its ends existed. Some
//!   articles and some users are far more popular than others. Favorites and follows are
//!   distinct pairs and nobody follows themself; the numbers asked for are met exactly
//!   unless they come close to the number of possible pairs (`users × articles` favorites,
//!   `users × (users − 1)` follows), when there may be fewer.
//! - **notifications**: `new_follower` for every follow; `comment_added` and
//!   `article_favorited` for comments and favorites of someone else's article in the last
//!   14 days; most of those older than three days are read.
//! - the **counters** (`followers_count`, `following_count`, `favorites_count`,
//!   `comments_count`) are written with the rows, counted from the relations chosen first in
//!   temporary tables, then set again from the real rows by set-based `UPDATE`s (which change
//!   nothing unless something is off); the new articles' tags are added to
//!   `tags.articles_count`. Finally `VACUUM (ANALYZE)`.
//!
//! Speed: foreign keys checked row by row cost more than the inserts themselves, so the
//! foreign keys of the filled tables are dropped for the load and added back, exactly as
//! they were (`pg_get_constraintdef`), before commit, each checking every row in one pass.
//! The filled tables are therefore locked until the seed commits: run a big seed when
//! nobody is using the database.
//!
//! Existing data: a seed adds to whatever is there. New rows relate only to each other (a
//! seeded user follows and favorites seeded users and articles), so counters of existing
//! rows stay as they are and stay right. [`seed_if_empty`] seeds only into an empty `users`
//! table (the development server's demo data).

use diesel::{OptionalExtension, QueryableByName, sql_query, sql_types::Text};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

use super::{DbError, notifications::kind};

/// The password of every seeded account.
pub const DEMO_PASSWORD: &str = "conduit-demo";

/// Tag names, most popular first.
pub const TAGS: [&str; 30] = [
    "webdev",
    "javascript",
    "rust",
    "programming",
    "react",
    "typescript",
    "postgresql",
    "devops",
    "graphql",
    "python",
    "css",
    "testing",
    "architecture",
    "career",
    "opensource",
    "performance",
    "security",
    "databases",
    "kubernetes",
    "docker",
    "design",
    "productivity",
    "beginners",
    "tutorial",
    "linux",
    "cloud",
    "mobile",
    "accessibility",
    "machine-learning",
    "go",
];

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Radia",
    "Tim",
    "Frances",
    "Edsger",
    "Hedy",
    "John",
    "Katherine",
    "Donald",
    "Sophie",
    "Guido",
    "Annie",
    "Bjarne",
    "Carol",
    "Niklaus",
    "Joan",
    "Larry",
    "Evelyn",
    "Yukihiro",
    "Mary",
    "Rasmus",
    "Jean",
    "Brendan",
    "Lynn",
    "Anders",
    "Susan",
    "James",
    "Karen",
    "Leslie",
    "Fran",
    "Ivan",
    "Adele",
    "Claude",
    "Priya",
    "Kwame",
    "Mei",
    "Olu",
    "Sofia",
    "Mateo",
    "Amara",
    "Jonas",
    "Noor",
    "Tariq",
];

const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Perlman",
    "Berners",
    "Allen",
    "Dijkstra",
    "Lamarr",
    "McCarthy",
    "Johnson",
    "Knuth",
    "Wilson",
    "Rossum",
    "Easley",
    "Stroustrup",
    "Shaw",
    "Wirth",
    "Clarke",
    "Wall",
    "Berezin",
    "Matsumoto",
    "Keller",
    "Lerdorf",
    "Sammet",
    "Eich",
    "Conway",
    "Hejlsberg",
    "Kare",
    "Gosling",
    "Jones",
    "Lamport",
    "Okafor",
    "Sutherland",
    "Goldberg",
    "Shannon",
    "Patel",
    "Mensah",
    "Chen",
    "Adeyemi",
    "Rossi",
    "Garcia",
    "Nwosu",
    "Berg",
    "Haddad",
    "Khan",
];

const EMAIL_DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];

const BIO_ROLES: &[&str] = &[
    "Backend engineer",
    "Frontend developer",
    "Product designer",
    "Data engineer",
    "Site reliability engineer",
    "Indie hacker",
    "Technical writer",
    "CS student",
    "Engineering manager",
    "Open-source maintainer",
    "Mobile developer",
    "Security researcher",
];

const BIO_TAILS: &[&str] = &[
    " who writes about databases.",
    " based in Lisbon.",
    ". Coffee, code and long walks.",
    " building tools for developers.",
    ". Opinions are my own.",
    " learning Rust one borrow at a time.",
    " at a small startup.",
    ". Previously at a big bank.",
    " who loves a good postmortem.",
    ". Talks about testing a lot.",
    " working remotely from Nairobi.",
    ". Writing things down so I remember them.",
];

const TITLE_OPENERS: &[&str] = &[
    "A gentle introduction to",
    "Lessons learned from",
    "Notes on",
    "Rethinking",
    "The hidden cost of",
    "Getting started with",
    "Ten years of",
    "Debugging",
    "Scaling",
    "Testing",
    "Why we moved to",
    "What I wish I knew about",
    "Building",
    "Understanding",
    "A field guide to",
    "Shipping",
    "Measuring",
    "Designing",
    "Refactoring",
    "Living with",
];

const ADJECTIVES: &[&str] = &[
    "async",
    "distributed",
    "small",
    "legacy",
    "reactive",
    "typed",
    "offline-first",
    "serverless",
    "modular",
    "accessible",
    "resilient",
    "event-driven",
    "incremental",
    "immutable",
    "real-time",
    "boring",
];

const NOUNS: &[&str] = &[
    "APIs",
    "databases",
    "queues",
    "design systems",
    "caches",
    "monoliths",
    "microservices",
    "state machines",
    "build pipelines",
    "search indexes",
    "dashboards",
    "mobile apps",
    "data models",
    "feature flags",
    "test suites",
    "schemas",
    "CLIs",
    "web components",
];

const TITLE_ENDINGS: &[&str] = &[
    "",
    "",
    " in Rust",
    " with PostgreSQL",
    " at scale",
    " on a budget",
    ": a case study",
    " for small teams",
    " in production",
    " without the hype",
    " the hard way",
];

const DESCRIPTION_LEADS: &[&str] = &[
    "What we learned about",
    "A practical look at",
    "Notes and code on",
    "Everything I got wrong about",
    "A short tour of",
    "Hard-won lessons on",
    "An opinionated guide to",
    "The trade-offs behind",
    "How we think about",
    "A checklist for",
];

const DESCRIPTION_ENDINGS: &[&str] = &[
    ".",
    " after two years in production.",
    ", with examples.",
    ", and what to do instead.",
    " for teams of any size.",
    ", from first prototype to on-call.",
];

const HEADINGS: &[&str] = &[
    "Background",
    "The problem",
    "What we tried first",
    "A better approach",
    "Trade-offs",
    "Measuring it",
    "In production",
    "What went wrong",
    "Lessons learned",
    "Next steps",
    "Further reading",
    "Wrapping up",
];

const SENTENCES: &[&str] = &[
    "It started, as these things do, with a pager alert at three in the morning.",
    "The first version was simple, and for a while simple was enough.",
    "Nobody on the team had measured it before, so we started there.",
    "Most of the time went into waiting on the network, not into our code.",
    "We wrote the smallest test that failed, and the fix followed from it.",
    "The documentation was right, but it answered a different question.",
    "A cache hides a slow query until the day it does not.",
    "We kept the old path running next to the new one for two weeks.",
    "Every dashboard looked green while users were timing out.",
    "The real constraint turned out to be the team, not the technology.",
    "Reading the source took an afternoon and saved us a month.",
    "Naming things carefully made the next three changes trivial.",
    "We moved the check into the database, where it could not be skipped.",
    "Half of the work was deleting code that nobody called any more.",
    "Batching the writes cut the latency in half.",
    "The migration ran in minutes because we had rehearsed it twice.",
    "A feature flag let us roll back without a deploy.",
    "Our users did not care about the architecture; they cared that it was fast.",
    "Each retry made the outage a little worse.",
    "The bug was in the one place we were sure it could not be.",
    "We added an index and the graph fell off a cliff, in the good way.",
    "Pair programming on the hard parts paid for itself.",
    "The type checker caught what the review missed.",
    "Logs without request ids are just noise.",
    "It is tempting to rewrite everything; we rewrote one module.",
    "The benchmark lied until we ran it on production-sized data.",
    "Small pull requests got reviewed; big ones got approved.",
    "We wrote down the decision so that future us would know why.",
    "Backpressure is a feature, not a failure.",
    "After a week the new design felt obvious, which is the best sign.",
    "The error messages are part of the interface.",
    "Nothing is as permanent as a temporary workaround.",
    "We timed every step and sorted the list.",
    "The on-call rotation got quieter the month after.",
    "A good default beats a good option.",
    "The hardest part was agreeing on what done meant.",
    "We shipped it on a Tuesday and went home on time.",
    "There is still a lot to do, and that is fine.",
    "Start with the data model; the rest follows.",
    "In hindsight, the warning signs were all in the logs.",
];

const COMMENT_SENTENCES: &[&str] = &[
    "Great write-up!",
    "This saved me hours, thank you.",
    "Have you tried doing it with a single query?",
    "We hit exactly the same problem last year.",
    "I disagree with the second section, but it is well argued.",
    "Bookmarked.",
    "Could you share the benchmark code?",
    "A diagram would help here.",
    "Clear and to the point.",
    "How did this work out after a few months?",
    "Sharing this with my team.",
    "What about the failure case when the network drops?",
    "This is the explanation I was looking for.",
    "Nice, but it does not scale past one machine.",
    "Small nit: the link at the end is broken.",
    "Thanks for writing the trade-offs down honestly.",
    "We went the other way and regretted it.",
    "Any plans for a follow-up post?",
    "The last paragraph is the important one.",
    "Simple and effective.",
    "I learned something today.",
    "Did you measure memory use as well?",
    "Strong agree on the testing part.",
    "Interesting approach!",
    "This matches what we see in production.",
];

/// Microseconds in the year the seeded history spans.
const YEAR_US: u64 = 365 * 24 * 3600 * 1_000_000;

/// Advisory lock held by a seed's transaction ("seed" in ASCII), so two seeds run one after
/// the other and [`seed_if_empty`] seeds once however many servers start at once.
const SEED_LOCK_KEY: i64 = 0x7365_6564;

/// The most rows of one kind a seed writes: larger numbers in a [`SeedPlan`] count as this
/// (it keeps the SQL arithmetic within `bigint`).
pub const MAX_ROWS: u32 = 100_000_000;

/// How many rows to seed; each at most [`MAX_ROWS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedPlan {
    /// Users.
    pub users: u32,
    /// Articles (none without users).
    pub articles: u32,
    /// Comments (none without articles).
    pub comments: u32,
    /// Favorites: distinct (user, article) pairs.
    pub favorites: u32,
    /// Follows: distinct (follower, followee) pairs of two different users.
    pub follows: u32,
}

impl SeedPlan {
    /// The small set a development server starts with on an empty database.
    pub const DEMO: SeedPlan = SeedPlan {
        users: 30,
        articles: 100,
        comments: 300,
        favorites: 400,
        follows: 150,
    };

    fn clamped(&self) -> SeedPlan {
        SeedPlan {
            users: self.users.min(MAX_ROWS),
            articles: self.articles.min(MAX_ROWS),
            comments: self.comments.min(MAX_ROWS),
            favorites: self.favorites.min(MAX_ROWS),
            follows: self.follows.min(MAX_ROWS),
        }
    }
}

/// What a seed wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeedReport {
    /// Users inserted.
    pub users: u64,
    /// Articles inserted.
    pub articles: u64,
    /// Comments inserted.
    pub comments: u64,
    /// Favorites inserted.
    pub favorites: u64,
    /// Follows inserted.
    pub follows: u64,
    /// Notifications inserted.
    pub notifications: u64,
    /// Distinct tags on the new articles.
    pub tags: u64,
    /// The email of one seeded user (the first), to sign in with [`DEMO_PASSWORD`].
    pub example_email: Option<String>,
}

/// Seeds `plan` into the database, adding to what is there; every new user gets
/// `password_hash`. One transaction, then `VACUUM (ANALYZE)`.
pub async fn seed(
    conn: &mut AsyncPgConnection,
    plan: &SeedPlan,
    password_hash: &str,
) -> Result<SeedReport, DbError> {
    let report = conn
        .transaction::<_, DbError, _>(async |tx| {
            lock(tx).await?;
            write(tx, plan, password_hash).await
        })
        .await?;
    analyze(conn).await?;
    Ok(report)
}

/// Seeds `plan` only if the `users` table is empty (checked under the seed lock, so
/// servers starting at once seed once). `None` when there were users already.
pub async fn seed_if_empty(
    conn: &mut AsyncPgConnection,
    plan: &SeedPlan,
    password_hash: &str,
) -> Result<Option<SeedReport>, DbError> {
    let report = conn
        .transaction::<_, DbError, _>(async |tx| {
            lock(tx).await?;
            if has_users(tx).await? {
                return Ok(None);
            }
            write(tx, plan, password_hash).await.map(Some)
        })
        .await?;
    if report.is_some() {
        analyze(conn).await?;
    }
    Ok(report)
}

/// True when the `users` table has at least one row.
pub async fn has_users(conn: &mut AsyncPgConnection) -> Result<bool, DbError> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    let row: Found = sql_query("SELECT EXISTS (SELECT 1 FROM users) AS found")
        .get_result(conn)
        .await?;
    Ok(row.found)
}

async fn lock(tx: &mut AsyncPgConnection) -> Result<(), DbError> {
    tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({SEED_LOCK_KEY})"))
        .await?;
    Ok(())
}

/// `VACUUM (ANALYZE)`, after the commit: fresh statistics for the planner, and a
/// visibility map so counts and lookups can use index-only scans, as on a settled
/// database.
async fn analyze(conn: &mut AsyncPgConnection) -> Result<(), DbError> {
    conn.batch_execute(
        "VACUUM (ANALYZE) users, articles, tags, comments, favorites, follows, notifications",
    )
    .await?;
    Ok(())
}

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

fn log_step(step: &str, rows: u64, started: std::time::Instant) {
    let elapsed_ms = started.elapsed().as_millis() as u64;
    tracing::debug!(step, rows, elapsed_ms, "seed step");
}

async fn write(
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
    run(tx, "seed_users", &seed_users_sql(users)).await?;
    tx.batch_execute("ANALYZE seed_users").await?;
    run(tx, "seed_follows", &seed_follows_sql(users, plan.follows)).await?;
    if articles > 0 {
        run(tx, "seed_articles", &seed_articles_sql(users, articles)).await?;
        tx.batch_execute("ANALYZE seed_articles").await?;
        run(
            tx,
            "seed_comments",
            &seed_comments_sql(users, articles, plan.comments),
        )
        .await?;
        run(
            tx,
            "seed_favorites",
            &seed_favorites_sql(users, articles, plan.favorites),
        )
        .await?;
    }

    // Foreign keys are checked row by row on insert, which costs more than the inserts;
    // checked once per constraint when added back, they cost little.
    tx.batch_execute(DROP_FOREIGN_KEYS_SQL).await?;
    report.users = run_bound(tx, "users", &users_sql(), password_hash).await?;
    report.follows = run(tx, "follows", FOLLOWS_SQL).await?;
    if articles > 0 {
        report.articles = run(tx, "articles", &articles_sql()).await?;
        report.favorites = run(tx, "favorites", FAVORITES_SQL).await?;
        report.comments = run(tx, "comments", &comments_sql()).await?;
    }
    report.notifications = run(
        tx,
        "new_follower notifications",
        &new_follower_notifications_sql(),
    )
    .await?;
    if articles > 0 {
        report.notifications += run(
            tx,
            "comment_added notifications",
            &comment_notifications_sql(),
        )
        .await?;
        report.notifications += run(
            tx,
            "article_favorited notifications",
            &favorite_notifications_sql(),
        )
        .await?;
    }
    let started = std::time::Instant::now();
    tx.batch_execute(ADD_FOREIGN_KEYS_SQL).await?;
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "seed: foreign keys added back"
    );

    // The counters were written from the temporary tables; set them again from the real
    // rows (changing nothing unless something is off).
    run(tx, "user counters", USER_COUNTERS_SQL).await?;
    if articles > 0 {
        run(tx, "article counters", ARTICLE_COUNTERS_SQL).await?;
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

// --- SQL builders. Everything interpolated is a number or a constant word list. ---------

/// `hashint8extended(key, salt)` made non-negative: a deterministic pseudo-random bigint.
fn hash(key: &str, salt: u32) -> String {
    format!("(hashint8extended(({key})::bigint, {salt}) & 9223372036854775807)")
}

/// A deterministic pseudo-random integer in `0..n`.
fn pick(key: &str, salt: u32, n: impl std::fmt::Display) -> String {
    format!("mod({}, {n})", hash(key, salt))
}

/// A deterministic pseudo-random float in `[0, 1)`.
fn unit(key: &str, salt: u32) -> String {
    format!(
        "((hashint8extended(({key})::bigint, {salt}) & 4503599627370495)::float8 \
         / 4503599627370496.0)"
    )
}

/// `words` as an SQL `text[]` literal.
fn text_array(words: &[&str]) -> String {
    let list: Vec<String> = words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', "''")))
        .collect();
    format!("ARRAY[{}]::text[]", list.join(", "))
}

/// One of `words`, chosen by `key` and `salt`.
fn choose(words: &[&str], key: &str, salt: u32) -> String {
    format!(
        "({})[1 + {}]",
        text_array(words),
        pick(key, salt, words.len())
    )
}

/// A point in the past year: `offset_us` microseconds after a year ago.
fn year_start_plus(offset_us: &str) -> String {
    format!("(now() - interval '365 days' + ({offset_us}) * interval '1 microsecond')")
}

/// A time between `since` and now, skewed towards `since` by `power`.
fn after(since: &str, key: &str, salt: u32, power: u32) -> String {
    format!(
        "({since} + (now() - {since}) * power({}, {power}))",
        unit(key, salt)
    )
}

/// When a notification created at `at` was read: most older than three days are.
fn read_at(at: &str, key: &str) -> String {
    format!(
        "CASE WHEN {at} < now() - interval '3 days' AND {} < 9 \
         THEN least(now(), {at} + interval '1 minute' * (1 + {})) END",
        pick(key, 90, 10),
        pick(key, 91, 2880)
    )
}

/// Ordinal `n` joined at a distinct microsecond of its own slice of the year; the first
/// user joined exactly a year ago, so every article can have an author who joined before.
fn seed_users_sql(users: u64) -> String {
    let slice = YEAR_US / users;
    format!(
        "INSERT INTO seed_users (n, id, created_at) \
         SELECT g, nextval(pg_get_serial_sequence('users', 'id')), {} \
         FROM generate_series(1::bigint, {users}) AS g",
        year_start_plus(&format!(
            "(g - 1) * {slice} + CASE WHEN g = 1 THEN 0 ELSE {} END",
            pick("g", 1, slice)
        ))
    )
}

fn users_sql() -> String {
    let first = choose(FIRST_NAMES, "s.n", 2);
    let last = choose(LAST_NAMES, "s.n", 3);
    format!(
        "INSERT INTO users (id, username, email, password_hash, bio, image, created_at, \
             updated_at, followers_count, following_count) \
         OVERRIDING SYSTEM VALUE \
         SELECT s.id, u.username, \
             lower(p.first) || '.' || lower(p.last) || s.id || '@' || {domain}, \
             $1, \
             CASE WHEN {has_bio} < 7 THEN {role} || {tail} END, \
             CASE WHEN {has_image} < 6 \
                 THEN 'https://api.dicebear.com/9.x/identicon/svg?seed=' || u.username END, \
             s.created_at, s.created_at, coalesce(fr.n, 0), coalesce(fg.n, 0) \
         FROM seed_users AS s \
         LEFT JOIN (SELECT followee_id AS id, count(*)::int AS n FROM seed_follows \
                    GROUP BY followee_id) AS fr ON fr.id = s.id \
         LEFT JOIN (SELECT follower_id AS id, count(*)::int AS n FROM seed_follows \
                    GROUP BY follower_id) AS fg ON fg.id = s.id \
         CROSS JOIN LATERAL (SELECT {first} AS first, {last} AS last) AS p \
         CROSS JOIN LATERAL (SELECT CASE {pattern} \
             WHEN 0 THEN lower(p.first) || '_' || lower(p.last) \
             WHEN 1 THEN lower(p.first || p.last) \
             WHEN 2 THEN p.first || '-' || p.last \
             ELSE lower(p.first) END || s.id AS username) AS u \
         ORDER BY s.n",
        domain = choose(EMAIL_DOMAINS, "s.n", 4),
        has_bio = pick("s.n", 5, 10),
        role = choose(BIO_ROLES, "s.n", 6),
        tail = choose(BIO_TAILS, "s.n", 7),
        has_image = pick("s.n", 8, 10),
        pattern = pick("s.n", 9, 4),
    )
}

/// Article `n` is published in its own slice of the year, by one of the users who had
/// joined by then (so early users write more), at least a minute after they joined.
fn seed_articles_sql(users: u64, articles: u64) -> String {
    let slice = YEAR_US / articles;
    format!(
        "INSERT INTO seed_articles (n, id, author_id, created_at) \
         SELECT g, nextval(pg_get_serial_sequence('articles', 'id')), u.id, \
             greatest({at}, u.created_at + interval '1 minute') \
         FROM generate_series(1::bigint, {articles}) AS g \
         JOIN seed_users AS u ON u.n = 1 + {author}",
        at = year_start_plus(&format!("(g - 1) * {slice} + {}", pick("g", 10, slice))),
        author = pick(
            "g",
            11,
            format!("greatest(1, (g - 1) * {users} / {articles})")
        ),
    )
}

fn articles_sql() -> String {
    let title = format!(
        "{} || ' ' || {} || ' ' || {} || {}",
        choose(TITLE_OPENERS, "a.n", 20),
        choose(ADJECTIVES, "a.n", 21),
        choose(NOUNS, "a.n", 22),
        choose(TITLE_ENDINGS, "a.n", 23),
    );
    let description = format!(
        "{} || ' ' || {} || ' ' || {} || {}",
        choose(DESCRIPTION_LEADS, "a.n", 24),
        choose(ADJECTIVES, "a.n", 25),
        choose(NOUNS, "a.n", 26),
        choose(DESCRIPTION_ENDINGS, "a.n", 27),
    );
    // 3–6 paragraphs of 2–4 sentences; every other one after the first under a heading.
    let key = "a.n * 8 + j";
    let body = format!(
        "(SELECT string_agg(\
             CASE WHEN j % 2 = 1 AND j > 1 THEN '## ' || {heading} || E'\\n\\n' ELSE '' END \
             || {s1} || ' ' || {s2} \
             || CASE WHEN {more} > 0 THEN ' ' || {s3} ELSE '' END \
             || CASE WHEN {more} > 1 THEN ' ' || {s4} ELSE '' END, \
             E'\\n\\n' ORDER BY j) \
         FROM generate_series(1, 3 + {paragraphs}) AS j)",
        heading = choose(HEADINGS, key, 30),
        s1 = choose(SENTENCES, key, 31),
        s2 = choose(SENTENCES, key, 32),
        s3 = choose(SENTENCES, key, 33),
        s4 = choose(SENTENCES, key, 34),
        more = pick(key, 35, 3),
        paragraphs = pick("a.n", 36, 4),
    );
    // 1–4 distinct tags: a popular start, then steps coprime with 30 (so never a repeat).
    let tags = format!(
        "ARRAY(SELECT ({list})[1 + mod(floor({n} * power({start}, 2))::bigint + i * \
             (ARRAY[1, 7, 11, 13, 17, 19, 23, 29])[1 + {step}], {n})] \
         FROM generate_series(0, {extra}) AS i ORDER BY i)",
        list = text_array(&TAGS),
        n = TAGS.len(),
        start = unit("a.n", 37),
        step = pick("a.n", 38, 8),
        extra = pick("a.n", 39, 4),
    );
    format!(
        "INSERT INTO articles (id, author_id, slug, title, description, body, tags, \
             created_at, updated_at, favorites_count, comments_count) \
         OVERRIDING SYSTEM VALUE \
         SELECT a.id, a.author_id, \
             trim(both '-' from regexp_replace(lower(t.title), '[^a-z0-9]+', '-', 'g')) \
                 || '-' || a.id, \
             t.title, {description}, {body}, {tags}, a.created_at, \
             CASE WHEN {edited} = 0 THEN {edited_at} ELSE a.created_at END, \
             coalesce(fav.n, 0), coalesce(com.n, 0) \
         FROM seed_articles AS a \
         LEFT JOIN (SELECT article_id AS id, count(*)::int AS n FROM seed_favorites \
                    GROUP BY article_id) AS fav ON fav.id = a.id \
         LEFT JOIN (SELECT article_id AS id, count(*)::int AS n FROM seed_comments \
                    GROUP BY article_id) AS com ON com.id = a.id \
         CROSS JOIN LATERAL (SELECT {title} AS title) AS t \
         ORDER BY a.n",
        edited = pick("a.n", 40, 5),
        edited_at = after("a.created_at", "a.n", 41, 3),
    )
}

/// An article by popularity: a rank skewed towards 0 (`floor(articles × u²)`), spread over
/// the articles by a permutation (Fibonacci hashing: `rank × m mod articles`, `m` coprime
/// with `articles`), so popular articles are of every age and every article has some
/// chance. Comments and favorites share it: the same articles are popular for both.
fn popular_article(key: &str, salt: u32, articles: u64) -> String {
    format!(
        "1 + mod(floor({articles} * power({}, 2))::bigint * {}, {articles})",
        unit(key, salt),
        coprime_multiplier(articles),
    )
}

/// The integer nearest `n × 0.618…` (the golden ratio's fraction) that is coprime with `n`.
fn coprime_multiplier(n: u64) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let mut m = ((n as f64 * 0.618_033_988_75).round() as u64).max(1);
    while gcd(m, n) != 1 {
        m += 1;
    }
    m
}

/// Most comments come soon after the article; popular articles get more.
fn seed_comments_sql(users: u64, articles: u64, comments: u32) -> String {
    format!(
        "INSERT INTO seed_comments (g, article_id, author_id, created_at) \
         SELECT c.g, a.id, u.id, {at} \
         FROM (SELECT g, {article} AS an, 1 + {author} AS un \
               FROM generate_series(1::bigint, {comments}) AS g) AS c \
         JOIN seed_articles AS a ON a.n = c.an \
         JOIN seed_users AS u ON u.n = c.un",
        article = popular_article("g", 64, articles),
        author = pick("g", 65, users),
        at = after("greatest(a.created_at, u.created_at)", "c.g", 66, 3),
    )
}

/// The comments, with their text, in the order they were written.
fn comments_sql() -> String {
    format!(
        "INSERT INTO comments (article_id, author_id, body, created_at, updated_at) \
         SELECT c.article_id, c.author_id, \
             {s1} || CASE WHEN {more} > 0 THEN ' ' || {s2} ELSE '' END \
                 || CASE WHEN {more} > 1 THEN ' ' || {s3} ELSE '' END, \
             c.created_at, c.created_at \
         FROM seed_comments AS c \
         ORDER BY c.created_at",
        s1 = choose(COMMENT_SENTENCES, "c.g", 60),
        s2 = choose(COMMENT_SENTENCES, "c.g", 61),
        s3 = choose(COMMENT_SENTENCES, "c.g", 62),
        more = pick("c.g", 63, 4),
    )
}

/// Up to `wanted` distinct pairs out of a quarter more candidates, in candidate order.
fn candidates(wanted: u32) -> u64 {
    let wanted = u64::from(wanted);
    wanted + wanted / 4 + 100
}

/// Anyone favorites popular articles, some time after both existed.
fn seed_favorites_sql(users: u64, articles: u64, favorites: u32) -> String {
    let since = "greatest(a.created_at, u.created_at)";
    format!(
        "INSERT INTO seed_favorites (user_id, article_id, created_at) \
         SELECT user_id, article_id, created_at FROM ( \
             SELECT DISTINCT ON (u.id, a.id) c.g, u.id AS user_id, a.id AS article_id, \
                 {at} AS created_at \
             FROM (SELECT g, {article} AS an, 1 + {user} AS un \
                   FROM generate_series(1::bigint, {candidates}) AS g) AS c \
             JOIN seed_articles AS a ON a.n = c.an \
             JOIN seed_users AS u ON u.n = c.un \
             ORDER BY u.id, a.id, c.g) AS d \
         ORDER BY g LIMIT {favorites}",
        at = after(since, "c.g", 70, 2),
        article = popular_article("g", 71, articles),
        user = pick("g", 72, users),
        candidates = candidates(favorites),
    )
}

/// Followers are anyone; followees are skewed towards the earliest users.
fn seed_follows_sql(users: u64, follows: u32) -> String {
    let since = "greatest(r.created_at, e.created_at)";
    format!(
        "INSERT INTO seed_follows (follower_id, followee_id, created_at) \
         SELECT follower_id, followee_id, created_at FROM ( \
             SELECT DISTINCT ON (r.id, e.id) c.g, r.id AS follower_id, e.id AS followee_id, \
                 {at} AS created_at \
             FROM (SELECT g, 1 + {follower} AS rn, \
                       1 + floor({users} * power({popular}, 2))::bigint AS en \
                   FROM generate_series(1::bigint, {candidates}) AS g) AS c \
             JOIN seed_users AS r ON r.n = c.rn \
             JOIN seed_users AS e ON e.n = c.en \
             WHERE c.rn <> c.en \
             ORDER BY r.id, e.id, c.g) AS d \
         ORDER BY g LIMIT {follows}",
        at = after(since, "c.g", 80, 1),
        follower = pick("g", 81, users),
        popular = unit("g", 82),
        candidates = candidates(follows),
    )
}

fn new_follower_notifications_sql() -> String {
    format!(
        "INSERT INTO notifications (recipient_id, kind, actor_id, created_at, read_at) \
         SELECT f.followee_id, '{kind}', f.follower_id, f.created_at, {read_at} \
         FROM seed_follows AS f \
         ORDER BY f.created_at",
        kind = kind::NEW_FOLLOWER,
        read_at = read_at(
            "f.created_at",
            "hashint8extended(f.follower_id, f.followee_id)"
        ),
    )
}

fn comment_notifications_sql() -> String {
    format!(
        "INSERT INTO notifications \
             (recipient_id, kind, actor_id, article_id, comment_id, created_at, read_at) \
         SELECT a.author_id, '{kind}', c.author_id, c.article_id, c.id, c.created_at, {read_at} \
         FROM comments AS c JOIN seed_articles AS a ON a.id = c.article_id \
         WHERE c.author_id <> a.author_id AND c.created_at > now() - interval '{RECENT}' \
         ORDER BY c.created_at",
        kind = kind::COMMENT_ADDED,
        read_at = read_at("c.created_at", "c.id"),
    )
}

fn favorite_notifications_sql() -> String {
    format!(
        "INSERT INTO notifications \
             (recipient_id, kind, actor_id, article_id, created_at, read_at) \
         SELECT a.author_id, '{kind}', f.user_id, f.article_id, f.created_at, {read_at} \
         FROM seed_favorites AS f JOIN seed_articles AS a ON a.id = f.article_id \
         WHERE f.user_id <> a.author_id AND f.created_at > now() - interval '{RECENT}' \
         ORDER BY f.created_at",
        kind = kind::ARTICLE_FAVORITED,
        read_at = read_at("f.created_at", "hashint8extended(f.user_id, f.article_id)"),
    )
}

/// Comments and favorites notify their article's author only when this recent (follows
/// always do): older notifications would be read, and are rarely looked at.
const RECENT: &str = "14 days";

/// The follows, in primary key order.
const FOLLOWS_SQL: &str = "\
    INSERT INTO follows (follower_id, followee_id, created_at) \
    SELECT follower_id, followee_id, created_at FROM seed_follows \
    ORDER BY follower_id, followee_id";

/// The favorites, in primary key order.
const FAVORITES_SQL: &str = "\
    INSERT INTO favorites (user_id, article_id, created_at) \
    SELECT user_id, article_id, created_at FROM seed_favorites \
    ORDER BY user_id, article_id";

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

/// The seeded users' follow counters, from the follows.
const USER_COUNTERS_SQL: &str = "\
    UPDATE users AS u \
    SET followers_count = c.followers, following_count = c.following \
    FROM (SELECT s.id, coalesce(fr.n, 0) AS followers, coalesce(fg.n, 0) AS following \
          FROM seed_users AS s \
          LEFT JOIN (SELECT f.followee_id AS id, count(*)::int AS n FROM follows AS f \
                     WHERE f.followee_id IN (SELECT id FROM seed_users) \
                     GROUP BY f.followee_id) AS fr ON fr.id = s.id \
          LEFT JOIN (SELECT f.follower_id AS id, count(*)::int AS n FROM follows AS f \
                     WHERE f.follower_id IN (SELECT id FROM seed_users) \
                     GROUP BY f.follower_id) AS fg ON fg.id = s.id) AS c \
    WHERE u.id = c.id \
      AND (u.followers_count, u.following_count) IS DISTINCT FROM (c.followers, c.following)";

/// The seeded articles' favorite and comment counters, from the favorites and comments.
const ARTICLE_COUNTERS_SQL: &str = "\
    UPDATE articles AS a \
    SET favorites_count = c.favorites, comments_count = c.comments \
    FROM (SELECT s.id, coalesce(fav.n, 0) AS favorites, coalesce(com.n, 0) AS comments \
          FROM seed_articles AS s \
          LEFT JOIN (SELECT f.article_id AS id, count(*)::int AS n FROM favorites AS f \
                     WHERE f.article_id IN (SELECT id FROM seed_articles) \
                     GROUP BY f.article_id) AS fav ON fav.id = s.id \
          LEFT JOIN (SELECT m.article_id AS id, count(*)::int AS n FROM comments AS m \
                     WHERE m.article_id IN (SELECT id FROM seed_articles) \
                     GROUP BY m.article_id) AS com ON com.id = s.id) AS c \
    WHERE a.id = c.id \
      AND (a.favorites_count, a.comments_count) IS DISTINCT FROM (c.favorites, c.comments)";

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_lists_fit_the_validation_rules() {
        use crate::domain::validation;
        for tag in TAGS {
            assert_eq!(
                validation::tags(&[tag.to_owned()]),
                Ok(vec![tag.to_owned()])
            );
        }
        let longest_name = FIRST_NAMES.iter().map(|n| n.len()).max().unwrap()
            + 1
            + LAST_NAMES.iter().map(|n| n.len()).max().unwrap();
        // Room for ids up to 10^11 in a 32-character username.
        assert!(
            longest_name + 11 <= validation::USERNAME_MAX,
            "{longest_name}"
        );
        for word in FIRST_NAMES.iter().chain(LAST_NAMES) {
            assert!(word.chars().all(|c| c.is_ascii_alphabetic()), "{word}");
        }
    }

    #[test]
    fn popularity_is_a_permutation() {
        for n in [1, 2, 3, 10, 100, 360, 1_000, 50_000] {
            let m = coprime_multiplier(n);
            let mut hit = vec![false; n as usize];
            for rank in 0..n {
                hit[(rank * m % n) as usize] = true;
            }
            assert!(hit.iter().all(|h| *h), "{n}");
        }
    }

    #[test]
    fn pair_candidates_leave_room_for_duplicates() {
        assert_eq!(candidates(0), 100);
        assert_eq!(candidates(400), 600);
    }
}
