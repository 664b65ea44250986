//! The new-device sign-in notice: queued with the session a sign-in starts, in its
//! transaction, unless the user already had a session from the same user agent.

use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::Origin;
use crate::db::DbError;

/// Queues, as outbox message `message_id`, the "New sign-in to your account" mail
/// (`domain::mail::Mail::NewSignIn`'s payload, built here in SQL: the time, the user
/// agent, the client IP) to user `user_id`, unless another of their sessions than
/// `session_id` (live or ended, not yet pruned) has the same user agent (none and none
/// count as the same). One statement. Returns whether it was queued.
pub async fn queue_new_device_notice(
    conn: &mut AsyncPgConnection,
    user_id: i64,
    session_id: i64,
    origin: Origin<'_>,
    message_id: Uuid,
) -> Result<bool, DbError> {
    let client_ip = origin.client_ip.map(|ip| ip.to_string());
    let queued = diesel::sql_query(
        "INSERT INTO outbox (id, queue, kind, payload) \
         SELECT $1, 'email', 'email.new_sign_in', json_build_object('to', u.email, \
           'mail', json_build_object('template', 'new_sign_in', 'username', u.username, \
           'at', now(), 'user_agent', $4::text, 'client_ip', $5::text))::text \
         FROM users u WHERE u.id = $2 AND NOT EXISTS ( \
           SELECT 1 FROM sessions s WHERE s.user_id = $2 AND s.id <> $3 \
             AND s.user_agent IS NOT DISTINCT FROM $4::text)",
    )
    .bind::<SqlUuid, _>(message_id)
    .bind::<BigInt, _>(user_id)
    .bind::<BigInt, _>(session_id)
    .bind::<Nullable<Text>, _>(origin.user_agent)
    .bind::<Nullable<Text>, _>(client_ip)
    .execute(conn)
    .await?;
    Ok(queued > 0)
}
