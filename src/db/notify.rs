//! `pg_notify` inside the writer's transaction: PostgreSQL delivers a notification to
//! every listener only when (and if) the transaction commits. What to announce, and on
//! which channel, is the caller's business; the LISTEN side is [`super::listen`].
//!
//! May call: nothing outside `db`.

use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::DbError;

/// Queues `payload` on `channel` for delivery when the surrounding transaction commits
/// (at once outside a transaction).
pub async fn notify(
    conn: &mut AsyncPgConnection,
    channel: &str,
    payload: &str,
) -> Result<(), DbError> {
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(channel)
        .bind::<Text, _>(payload)
        .execute(conn)
        .await?;
    Ok(())
}

/// Queues every payload of `payloads` on `channel`, in order, in one statement (none when
/// there are none), for delivery when the surrounding transaction commits.
pub async fn notify_all(
    conn: &mut AsyncPgConnection,
    channel: &str,
    payloads: &[String],
) -> Result<(), DbError> {
    if payloads.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "SELECT pg_notify($1, payload) FROM unnest($2::text[]) WITH ORDINALITY AS p(payload, n) \
         ORDER BY n",
    )
    .bind::<Text, _>(channel)
    .bind::<diesel::sql_types::Array<Text>, _>(payloads)
    .execute(conn)
    .await?;
    Ok(())
}
