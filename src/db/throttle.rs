//! The sign-in throttle's table (`auth_throttle`): one GCRA arrival time per namespaced
//! key, shared by every instance on the database. One statement per attempt, the
//! `auth_throttle_attempt` function of the migration, which checks and spends every key
//! of the attempt atomically (all or nothing) and now and then deletes expired rows.
//! The keys and limits are `ratelimit::throttle`'s.

use diesel::sql_types::{Array, Double, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::DbError;

#[derive(diesel::QueryableByName)]
struct Verdict {
    #[diesel(sql_type = Double)]
    wait: f64,
    #[diesel(sql_type = Nullable<Text>)]
    refused: Option<String>,
}

/// An attempt the throttle refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// Seconds until the attempt would pass.
    pub wait_secs: f64,
    /// The key that needs the longest wait.
    pub key: String,
}

/// One attempt against `keys`, each with its emission interval in seconds (60 / attempts
/// a minute; keys must be distinct): `Ok(())` when it passes (each key spent one), else
/// how long until it would (nothing spent).
pub async fn attempt(
    mut conn: &AsyncPgConnection,
    keys: &[String],
    intervals: &[f64],
) -> Result<Result<(), Refused>, DbError> {
    let verdict: Verdict =
        diesel::sql_query("SELECT wait, refused FROM auth_throttle_attempt($1, $2)")
            .bind::<Array<Text>, _>(keys)
            .bind::<Array<Double>, _>(intervals)
            .get_result(&mut conn)
            .await?;
    Ok(match verdict {
        Verdict {
            wait,
            refused: Some(key),
        } if wait > 0.0 => Err(Refused {
            wait_secs: wait,
            key,
        }),
        _ => Ok(()),
    })
}
