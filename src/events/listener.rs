//! The instance's one LISTEN connection: a dedicated connection (outside the pool) that
//! hears every committed event and passes it to the hub, in commit order.
//!
//! **The gap.** If the connection is lost, the listener reconnects (backing off from
//! 100 ms to 5 s) and LISTENs again. Events committed while it was away are not replayed:
//! PostgreSQL keeps notifications only for connected listeners. Subscriptions stay open
//! and resume with the next event; revocations and deletions are not lost, though: the hub
//! then checks the sessions and articles its sockets depend on ([`Heard::Reconnected`]). A half-open connection is found by a health check every
//! [`HEALTH_CHECK`].

use std::{pin::pin, time::Duration};

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};

use super::{Event, Heard};
use crate::db;

/// How often the listener checks that its connection is alive (a half-open connection
/// would otherwise go unnoticed).
pub const HEALTH_CHECK: Duration = Duration::from_secs(15);

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Listens on `database_url` until `events` closes. `listening` is told once the first
/// LISTEN is in place.
pub async fn run(
    database_url: String,
    timeout: Duration,
    events: mpsc::UnboundedSender<Heard>,
    listening: oneshot::Sender<()>,
) {
    let mut listening = Some(listening);
    let mut backoff = BACKOFF_MIN;
    let mut lost = false;
    loop {
        match connect(&database_url, timeout).await {
            Ok(mut conn) => {
                if let Some(tx) = listening.take() {
                    let _ = tx.send(());
                }
                if lost {
                    tracing::warn!(
                        "event listener reconnected; events committed while it was \
                         disconnected were not delivered"
                    );
                    if events.send(Heard::Reconnected).is_err() {
                        return;
                    }
                }
                backoff = BACKOFF_MIN;
                if let Err(err) = listen(&mut conn, timeout, &events).await {
                    tracing::warn!(error = %err, "event listener lost its connection");
                }
                if events.is_closed() {
                    return;
                }
                lost = true;
            }
            Err(err) => {
                // Sockets may be open meanwhile (the server starts anyway): the first
                // connection that works is a reconnection too.
                lost = true;
                tracing::warn!(error = %err, retry_ms = backoff.as_millis() as u64, "event listener cannot connect");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
        if events.is_closed() {
            return;
        }
    }
}

async fn connect(url: &str, timeout: Duration) -> anyhow::Result<AsyncPgConnection> {
    let mut conn = tokio::time::timeout(timeout, AsyncPgConnection::establish(url))
        .await
        .map_err(|_| anyhow::anyhow!("connecting timed out"))??;
    tokio::time::timeout(timeout, db::events::listen(&mut conn))
        .await
        .map_err(|_| anyhow::anyhow!("LISTEN timed out"))??;
    Ok(conn)
}

/// Forwards notifications until the connection fails or `events` closes.
async fn listen(
    conn: &mut AsyncPgConnection,
    timeout: Duration,
    events: &mpsc::UnboundedSender<Heard>,
) -> anyhow::Result<()> {
    loop {
        {
            let mut notifications = pin!(conn.notifications_stream());
            let deadline = tokio::time::sleep(HEALTH_CHECK);
            let mut deadline = pin!(deadline);
            loop {
                tokio::select! {
                    notification = notifications.next() => {
                        let Some(notification) = notification else {
                            anyhow::bail!("the connection closed");
                        };
                        let notification = notification?;
                        match Event::parse(&notification.payload) {
                            Ok(event) => {
                                if events.send(Heard::Event(event)).is_err() {
                                    return Ok(());
                                }
                            }
                            Err(err) => tracing::warn!(
                                error = %err,
                                payload = notification.payload,
                                "ignoring an unreadable event"
                            ),
                        }
                    }
                    () = &mut deadline => break,
                    () = events.closed() => return Ok(()),
                }
            }
        }
        // Quiet for a while: make sure the connection is still there. Notifications that
        // arrive meanwhile wait in the connection's channel.
        tokio::time::timeout(timeout, diesel::sql_query("SELECT 1").execute(conn))
            .await
            .map_err(|_| anyhow::anyhow!("health check timed out"))??;
    }
}
