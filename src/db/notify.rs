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
