//! The sign-in throttle's table (`auth_throttle`): one GCRA arrival time per namespaced
//! key, shared by every instance on the database. One statement per attempt, the
//! `auth_throttle_attempt` function of the migration, which checks and spends every key
//! of the attempt atomically (all or nothing) and now and then deletes expired rows.
//! The keys and limits are `ratelimit::throttle`'s. Keys are folded with the database's
//! own `lower()`, the fold the account lookups use (`lower(email) = lower($1)`), so every
//! spelling that reaches one account spends that account's keys (Rust's `to_lowercase`
//! differs from it, e.g. for `İ`).

use diesel::sql_types::{Array, Double, Integer, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::DbError;

#[derive(diesel::QueryableByName)]
struct Verdict {
    #[diesel(sql_type = Double)]
    wait: f64,
    #[diesel(sql_type = Nullable<Integer>)]
    position: Option<i32>,
}

/// An attempt the throttle refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// Seconds until the attempt would pass.
    pub wait_secs: f64,
    /// The index in `keys` of the key that needs the longest wait.
    pub index: Option<usize>,
}

/// One attempt against `keys`, each with its emission interval in seconds (60 / attempts
/// a minute; keys must be distinct): `Ok(())` when it passes (each key spent one), else
/// how long until it would (nothing spent).
pub async fn attempt(
    mut conn: &AsyncPgConnection,
    keys: &[String],
    intervals: &[f64],
) -> Result<Result<(), Refused>, DbError> {
    let verdict: Verdict = diesel::sql_query(
        "WITH k AS (SELECT ARRAY(SELECT lower(key) FROM unnest($1::text[]) \
             WITH ORDINALITY AS t(key, n) ORDER BY n) AS keys) \
             SELECT wait, array_position(k.keys, refused) AS position \
             FROM k, auth_throttle_attempt(k.keys, $2)",
    )
    .bind::<Array<Text>, _>(keys)
    .bind::<Array<Double>, _>(intervals)
    .get_result(&mut conn)
    .await?;
    Ok(match verdict {
        Verdict { wait, position } if wait > 0.0 => Err(Refused {
            wait_secs: wait,
            index: position.and_then(|p| usize::try_from(p - 1).ok()),
        }),
        _ => Ok(()),
    })
}
