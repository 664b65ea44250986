//! Demo and load-test data: `conduit seed`, and the small set a development server starts
//! with. Tooling, not runtime: only `main` uses this module. It may call `domain` (the
//! password hasher, the notification rule) and `db` (connections, plain table queries such
//! as [`db::users::any`]); it writes its bulk SQL itself, set-based statements no runtime
//! query needs, in this order (`write`):
//! - `relations`: who is who and who did what, in temporary tables;
//! - `rows`: the real rows, with text from `words` and notifications by the domain's rule;
//! - `sql`: the expression builders all of them share.
//!
//! Every table is filled by a few set-based statements (`INSERT … SELECT … FROM
//! generate_series(…)`), never row by row, in one transaction. Choices are deterministic
//! pseudo-random functions of a row's ordinal (`hashint8extended(ordinal, salt)`), and the
//! text comes from the word lists, rendered into SQL arrays.
//!
//! What a seed writes:
//! - **users**: usernames like `ada_lovelace1042` and emails like
//!   `ada.lovelace1042@example.com`, where the number is the row's id (taken from the
//!   table's identity sequence), so they are unique, also across runs and ignoring case;
//!   every one has the password [`DEMO_PASSWORD`] (one argon2 hash, computed once by the
//!   caller). Most have a bio and an avatar URL. They joined over the past year, at distinct
//!   microseconds.
//! - **articles**: human-looking titles, a description, a Markdown body of 3–6 paragraphs and
//!   1–4 tags out of a list of 30 (some tags far more popular than others); the slug is the
//!   slugified title, `-`, the id. Published over the past year at distinct microseconds,
//!   each by a user who had joined by then (early users write more).
//! - **comments**, **favorites**, **follows**: each after both of its ends existed. Some
//!   articles and some users are far more popular than others. Favorites and follows are
//!   distinct pairs and nobody follows themself; the numbers asked for are met exactly
//!   unless they come close to the number of possible pairs (`users × articles` favorites,
//!   `users × (users − 1)` follows), when there may be fewer.
//! - **notifications**: what `domain::notifications::notice` makes of every follow, and of
//!   the comments and favorites of the last 14 days (`new_follower`, `comment_added`,
//!   `article_favorited`; never to the actor); most of those older than three days are read.
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

use std::time::Instant;

use anyhow::Context;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::{
    db::{self, DbError, PgPool},
    domain::password::Passwords,
};

mod relations;
mod rows;
mod sql;
mod words;
mod write;

/// The password of every seeded account.
pub const DEMO_PASSWORD: &str = "conduit-demo";

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
            write::write(tx, plan, password_hash).await
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
            if db::users::any(tx).await? {
                return Ok(None);
            }
            write::write(tx, plan, password_hash).await.map(Some)
        })
        .await?;
    if report.is_some() {
        analyze(conn).await?;
    }
    Ok(report)
}

/// Takes the seed lock for the rest of the transaction.
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

/// The development server's demo data: seeds [`SeedPlan::DEMO`] when the `users` table is
/// empty, logging one line that says so and how to sign in.
pub async fn demo(pool: &PgPool, passwords: &Passwords) -> anyhow::Result<()> {
    let started = Instant::now();
    if db::users::any(&mut *db::connect(pool).await?).await? {
        return Ok(());
    }
    // No pooled connection is held while hashing.
    let hash = passwords.hash(DEMO_PASSWORD.to_owned()).await?;
    let mut conn = db::connect(pool).await?;
    let Some(report) = seed_if_empty(&mut conn, &SeedPlan::DEMO, &hash).await? else {
        return Ok(());
    };
    let email = report.example_email.as_deref().unwrap_or_default();
    tracing::info!(
        users = report.users,
        articles = report.articles,
        comments = report.comments,
        favorites = report.favorites,
        follows = report.follows,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "seeded demo data into the empty database (DEMO_DATA=true): sign in as {email} \
         (or any seeded user) with the password {DEMO_PASSWORD}"
    );
    Ok(())
}

/// `conduit seed`: adds `plan`'s rows to the (migrated) database at `database_url`. Every
/// seeded user's password is [`DEMO_PASSWORD`], hashed once.
pub async fn run(database_url: &str, plan: &SeedPlan) -> anyhow::Result<SeedReport> {
    let hash = Passwords::new(1).hash(DEMO_PASSWORD.to_owned()).await?;
    let mut conn = db::tls::establish(database_url)
        .await
        .context("connecting to the database")?;
    seed(&mut conn, plan, &hash).await.context("seeding")
}
