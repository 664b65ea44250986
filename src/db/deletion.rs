//! Deleting an account and everything of theirs (`deleteAccount`), keeping every counter
//! of the rows that stay true. Run it in the caller's transaction.
//!
//! Foreign keys cascade from `users` to everything that references it (sessions and
//! their used refresh tokens, notifications as recipient and actor, and any table added
//! later with `ON DELETE CASCADE`), but the counters other rows keep are maintained by
//! the writes, not by triggers (only `article_total` has triggers, which a cascade fires
//! too): a cascade would leave `articles.favorites_count`, `articles.comments_count`,
//! `users.followers_count`/`following_count` and `tags.articles_count` too high. So the
//! rows that carry counters are deleted here first, each statement adjusting the counters
//! of exactly the rows it deleted (`DELETE ... RETURNING` feeding an `UPDATE`, so a
//! concurrent unfollow or unfavorite is never counted twice), and the user last.

use diesel::{
    prelude::*,
    sql_types::{BigInt, Text},
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::{DbError, IdPair, schema::users};

/// What deleting an account removed that others may be following live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deleted {
    /// The user's articles (deleted with their comments, favorites and notifications).
    pub articles: Vec<i64>,
    /// The user's comments on other users' articles, as `(comment, article)`.
    pub comments: Vec<(i64, i64)>,
    /// Other users' articles whose favorites count went down.
    pub unfavorited: Vec<i64>,
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Follows both ways; each other user loses a follower or a followed user (or both).
const FOLLOWS: &str = "\
WITH gone AS (
    DELETE FROM follows WHERE follower_id = $1 OR followee_id = $1
    RETURNING follower_id, followee_id
), per AS (
    SELECT CASE WHEN follower_id = $1 THEN followee_id ELSE follower_id END AS other,
           count(*) FILTER (WHERE follower_id = $1)::int AS followers_lost,
           count(*) FILTER (WHERE followee_id = $1)::int AS following_lost
    FROM gone GROUP BY 1
)
UPDATE users SET followers_count = users.followers_count - per.followers_lost,
                 following_count = users.following_count - per.following_lost
FROM per WHERE users.id = per.other";

/// The user's favorites; the other users' articles they were on count one less.
const FAVORITES: &str = "\
WITH gone AS (DELETE FROM favorites WHERE user_id = $1 RETURNING article_id)
UPDATE articles SET favorites_count = articles.favorites_count - 1
FROM gone WHERE articles.id = gone.article_id AND articles.author_id <> $1
RETURNING articles.id";

/// The user's comments; the other users' articles they were on count that many less.
const COMMENTS: &str = "\
WITH gone AS (DELETE FROM comments WHERE author_id = $1 RETURNING id, article_id),
per AS (SELECT article_id, count(*)::int AS n FROM gone GROUP BY article_id),
counted AS (
    UPDATE articles SET comments_count = articles.comments_count - per.n
    FROM per WHERE articles.id = per.article_id AND articles.author_id <> $1
    RETURNING articles.id
)
SELECT gone.id AS a, gone.article_id AS b FROM gone JOIN counted ON counted.id = gone.article_id";

/// Locks the tags of the user's articles in name order, as `db::tags::adjust` does, so
/// that this and a concurrent article write queue instead of deadlocking.
const LOCK_TAGS: &str = "\
SELECT name FROM tags
WHERE name IN (SELECT unnest(tags) FROM articles WHERE author_id = $1)
ORDER BY name FOR UPDATE";

/// The user's articles (their comments, favorites and notifications cascade, and the
/// `article_total` triggers count them); each tag counts its articles among them less.
const ARTICLES: &str = "\
WITH gone AS (DELETE FROM articles WHERE author_id = $1 RETURNING id, tags),
per AS (
    SELECT name, count(*)::int AS n FROM gone, unnest(gone.tags) AS name GROUP BY name
),
counted AS (
    UPDATE tags SET articles_count = tags.articles_count - per.n
    FROM per WHERE tags.name = per.name
)
SELECT id FROM gone";

/// Deletes user `user_id` and everything of theirs, adjusting the counters of the rows
/// that stay; `None` (and nothing deleted) when there is no such user. The user's row is
/// locked first: a concurrent write referencing them (a favorite, a follow, a comment)
/// waits, then fails on its foreign key, instead of slipping past the counters.
pub async fn delete_user(
    conn: &mut AsyncPgConnection,
    user_id: i64,
) -> Result<Option<Deleted>, DbError> {
    let locked: Option<i64> = users::table
        .find(user_id)
        .select(users::id)
        .for_update()
        .first(conn)
        .await
        .optional()?;
    if locked.is_none() {
        return Ok(None);
    }
    diesel::sql_query(FOLLOWS)
        .bind::<BigInt, _>(user_id)
        .execute(conn)
        .await?;
    let unfavorited: Vec<Id> = diesel::sql_query(FAVORITES)
        .bind::<BigInt, _>(user_id)
        .load(conn)
        .await?;
    let comments: Vec<IdPair> = diesel::sql_query(COMMENTS)
        .bind::<BigInt, _>(user_id)
        .load(conn)
        .await?;
    let tags: Vec<Name> = diesel::sql_query(LOCK_TAGS)
        .bind::<BigInt, _>(user_id)
        .load(conn)
        .await?;
    let articles: Vec<Id> = diesel::sql_query(ARTICLES)
        .bind::<BigInt, _>(user_id)
        .load(conn)
        .await?;
    if !tags.is_empty() {
        // Tags no article carries any more are forgotten, as `db::tags::adjust` does.
        let names: Vec<String> = tags.into_iter().map(|t| t.name).collect();
        diesel::sql_query("DELETE FROM tags WHERE name = ANY($1) AND articles_count <= 0")
            .bind::<diesel::sql_types::Array<Text>, _>(names)
            .execute(conn)
            .await?;
    }
    // Sessions, used refresh tokens and notifications (as recipient and actor) cascade.
    diesel::delete(users::table.find(user_id))
        .execute(conn)
        .await?;
    Ok(Some(Deleted {
        articles: articles.into_iter().map(|r| r.id).collect(),
        comments: comments.into_iter().map(|r| (r.a, r.b)).collect(),
        unfavorited: unfavorited.into_iter().map(|r| r.id).collect(),
    }))
}
