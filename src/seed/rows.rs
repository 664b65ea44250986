//! The real rows, written from the temporary tables of [`super::relations`]: users,
//! articles and comments with their text (out of [`super::words`]), follows, favorites and
//! their counters, and the notifications they cause. Which notification a follow, favorite
//! or comment creates, and for whom, is the domain's rule ([`notifications::notice`]); the
//! seed only renders it into one `INSERT … SELECT` per kind. Calls [`super::sql`],
//! [`super::words`] and `domain::notifications`.

use super::{
    sql::{after, choose, pick, text_array, unit},
    words::*,
};
use crate::domain::notifications::{self, Cause};

/// The users, with names, emails, bios and avatars, and their follow counters; `$1` is
/// the password hash they all share.
pub(super) fn users_sql() -> String {
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

/// The articles, with titles, slugs, bodies, tags and their favorite and comment counters.
pub(super) fn articles_sql() -> String {
    let title = phrase(TITLE_OPENERS, TITLE_ENDINGS, 20);
    let description = phrase(DESCRIPTION_LEADS, DESCRIPTION_ENDINGS, 24);
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

/// An article's `lead adjective noun ending`, each word chosen by the article's ordinal with
/// its own salt, from `salt` on.
fn phrase(leads: &[&str], endings: &[&str], salt: u32) -> String {
    format!(
        "{} || ' ' || {} || ' ' || {} || {}",
        choose(leads, "a.n", salt),
        choose(ADJECTIVES, "a.n", salt + 1),
        choose(NOUNS, "a.n", salt + 2),
        choose(endings, "a.n", salt + 3),
    )
}

/// The comments, with their text, in the order they were written.
pub(super) fn comments_sql() -> String {
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

/// The follows, in primary key order.
pub(super) const FOLLOWS_SQL: &str = "\
    INSERT INTO follows (follower_id, followee_id, created_at) \
    SELECT follower_id, followee_id, created_at FROM seed_follows \
    ORDER BY follower_id, followee_id";

/// The favorites, in primary key order.
pub(super) const FAVORITES_SQL: &str = "\
    INSERT INTO favorites (user_id, article_id, created_at) \
    SELECT user_id, article_id, created_at FROM seed_favorites \
    ORDER BY user_id, article_id";

/// What the seeded notifications come from, in the order they are written: a cause's
/// parties as columns of `from`, when it happened (`at`) and the key [`read_at`] draws on.
/// The first needs no articles.
const SOURCES: [(Cause<&str>, &str, &str, &str); 3] = [
    (
        Cause::Follow {
            follower: "f.follower_id",
            followee: "f.followee_id",
        },
        "seed_follows AS f",
        "f.created_at",
        "hashint8extended(f.follower_id, f.followee_id)",
    ),
    (
        Cause::Comment {
            comment: "c.id",
            commenter: "c.author_id",
            article: "c.article_id",
            author: "a.author_id",
        },
        "comments AS c JOIN seed_articles AS a ON a.id = c.article_id",
        "c.created_at",
        "c.id",
    ),
    (
        Cause::Favorite {
            user: "f.user_id",
            article: "f.article_id",
            author: "a.author_id",
        },
        "seed_favorites AS f JOIN seed_articles AS a ON a.id = f.article_id",
        "f.created_at",
        "hashint8extended(f.user_id, f.article_id)",
    ),
];

/// The notification statements, each with its step name (`<kind> notifications`): the
/// follows', then, when there are `articles`, the comments' and the favorites'.
pub(super) fn notifications_sql(articles: bool) -> impl Iterator<Item = (String, String)> {
    let sources = if articles {
        &SOURCES[..]
    } else {
        &SOURCES[..1]
    };
    sources
        .iter()
        .map(|&(cause, from, at, read_key)| notices_sql(cause, from, at, read_key))
}

/// One `INSERT … SELECT` of what the domain's [`notifications::notice`] makes of `cause`:
/// its recipient, kind, actor and what it concerns, never where the recipient is the actor.
/// Notices about an article only when [`RECENT`]. Returns the step name and the statement.
fn notices_sql(cause: Cause<&str>, from: &str, at: &str, read_key: &str) -> (String, String) {
    let notice = notifications::notice(cause);
    let kind = format!("'{}'", notice.kind);
    let mut columns = vec!["recipient_id", "kind", "actor_id"];
    let mut values = vec![notice.recipient, kind.as_str(), notice.actor];
    if let Some(article) = notice.article {
        columns.push("article_id");
        values.push(article);
    }
    if let Some(comment) = notice.comment {
        columns.push("comment_id");
        values.push(comment);
    }
    let recent = match notice.article {
        Some(_) => format!(" AND {at} > now() - interval '{RECENT}'"),
        None => String::new(),
    };
    let sql = format!(
        "INSERT INTO notifications ({columns}, created_at, read_at) \
         SELECT {values}, {at}, {read_at} \
         FROM {from} \
         WHERE {recipient} <> {actor}{recent} \
         ORDER BY {at}",
        columns = columns.join(", "),
        values = values.join(", "),
        read_at = read_at(at, read_key),
        recipient = notice.recipient,
        actor = notice.actor,
    );
    (format!("{} notifications", notice.kind), sql)
}

/// Comments and favorites notify their article's author only when this recent (follows
/// always do): older notifications would be read, and are rarely looked at.
const RECENT: &str = "14 days";

/// When a notification created at `at` was read: most older than three days are.
fn read_at(at: &str, key: &str) -> String {
    format!(
        "CASE WHEN {at} < now() - interval '3 days' AND {} < 9 \
         THEN least(now(), {at} + interval '1 minute' * (1 + {})) END",
        pick(key, 90, 10),
        pick(key, 91, 2880)
    )
}
