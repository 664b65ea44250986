//! Who is who and who did what: the statements that fill the seed's temporary tables
//! (`seed_users`, `seed_articles`, `seed_comments`, `seed_favorites`, `seed_follows`) with
//! ids, authors and times only, before any real row is written. Popularity is skewed: early
//! users write more, some articles and users are far more popular than others.
//! Calls only [`super::sql`].

use super::sql::{after, pick, unit, year_start_plus};

/// Microseconds in the year the seeded history spans.
const YEAR_US: u64 = 365 * 24 * 3600 * 1_000_000;

/// Ordinal `n` joined at a distinct microsecond of its own slice of the year; the first
/// user joined exactly a year ago, so every article can have an author who joined before.
pub(super) fn seed_users_sql(users: u64) -> String {
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

/// Article `n` is published in its own slice of the year, by one of the users who had
/// joined by then (so early users write more), at least a minute after they joined.
pub(super) fn seed_articles_sql(users: u64, articles: u64) -> String {
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
pub(super) fn seed_comments_sql(users: u64, articles: u64, comments: u32) -> String {
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

/// Up to `wanted` distinct pairs out of a quarter more candidates, in candidate order.
fn candidates(wanted: u32) -> u64 {
    let wanted = u64::from(wanted);
    wanted + wanted / 4 + 100
}

/// Anyone favorites popular articles, some time after both existed.
pub(super) fn seed_favorites_sql(users: u64, articles: u64, favorites: u32) -> String {
    let draw = format!(
        "1 + {} AS ln, {} AS rn",
        pick("g", 72, users),
        popular_article("g", 71, articles)
    );
    format!(
        "INSERT INTO seed_favorites (user_id, article_id, created_at) {}",
        distinct_pairs(
            &draw,
            "JOIN seed_users AS l ON l.n = c.ln JOIN seed_articles AS r ON r.n = c.rn",
            &after("greatest(l.created_at, r.created_at)", "c.g", 70, 2),
            favorites,
        )
    )
}

/// Followers are anyone; followees are skewed towards the earliest users.
pub(super) fn seed_follows_sql(users: u64, follows: u32) -> String {
    let draw = format!(
        "1 + {} AS ln, 1 + floor({users} * power({}, 2))::bigint AS rn",
        pick("g", 81, users),
        unit("g", 82)
    );
    format!(
        "INSERT INTO seed_follows (follower_id, followee_id, created_at) {}",
        distinct_pairs(
            &draw,
            "JOIN seed_users AS l ON l.n = c.ln JOIN seed_users AS r ON r.n = c.rn \
             WHERE c.ln <> c.rn",
            &after("greatest(l.created_at, r.created_at)", "c.g", 80, 1),
            follows,
        )
    )
}

/// Up to `wanted` distinct pairs `(l.id, r.id, at)`, in candidate order, out of
/// [`candidates`]: `draw` gives each candidate `g` the ordinals `ln` and `rn` of its ends,
/// and `ends` joins them to their rows `l` and `r` (and may leave some out).
fn distinct_pairs(draw: &str, ends: &str, at: &str, wanted: u32) -> String {
    format!(
        "SELECT l_id, r_id, created_at FROM ( \
             SELECT DISTINCT ON (l.id, r.id) c.g, l.id AS l_id, r.id AS r_id, \
                 {at} AS created_at \
             FROM (SELECT g, {draw} \
                   FROM generate_series(1::bigint, {candidates}) AS g) AS c \
             {ends} \
             ORDER BY l.id, r.id, c.g) AS d \
         ORDER BY g LIMIT {wanted}",
        candidates = candidates(wanted),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
