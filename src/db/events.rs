//! Announcing committed writes: `pg_notify` inside the writer's transaction. PostgreSQL
//! delivers the notification to every listener only when (and if) the transaction commits.

use diesel::sql_types::Text;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::DbError;
use crate::events::{CHANNEL, Event};

/// Queues `event` for delivery when the surrounding transaction commits (at once outside
/// a transaction).
pub async fn publish(conn: &mut AsyncPgConnection, event: &Event) -> Result<(), DbError> {
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(CHANNEL)
        .bind::<Text, _>(event.payload())
        .execute(conn)
        .await?;
    Ok(())
}

/// `LISTEN` on the events channel, for the instance's listener connection.
pub async fn listen(conn: &mut AsyncPgConnection) -> Result<(), DbError> {
    diesel::sql_query(format!("LISTEN {CHANNEL}"))
        .execute(conn)
        .await?;
    Ok(())
}
