//! The instance's one LISTEN connection: a dedicated connection (outside the pool) that
//! hears every notification committed on one channel and passes its payload on, in
//! commit order. What a payload means is the consumer's business (the subscription hub
//! reads it as a domain event); the sending side is [`super::notify`]. The same
//! connection also listens on the [`Wakers`]' channels, whose notifications only wake
//! someone (the outbox workers: a message was queued).
//!
//! **The gap.** If the connection is lost, the listener reconnects (backing off from
//! 100 ms to 5 s) and LISTENs again. Notifications committed while it was away are not
//! replayed: PostgreSQL keeps them only for connected listeners. The listener says so
//! ([`Heard::Reconnected`]), so that the consumer can check what it may have missed. A
//! half-open connection is found by a health check every [`HEALTH_CHECK`].
//!
//! May call: nothing outside `db`.

use std::{pin::pin, time::Duration};

use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};

use super::DbError;

/// What the listener passes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// The payload of a committed notification.
    Payload(String),
    /// The listener reconnected after losing its connection: notifications committed
    /// meanwhile were not heard.
    Reconnected,
}

/// How often the listener checks that its connection is alive (a half-open connection
/// would otherwise go unnoticed).
pub const HEALTH_CHECK: Duration = Duration::from_secs(15);

/// Called with a notification's payload on its channel, and with `None` after a
/// reconnection (notifications may have been missed: wake up and look).
pub type Wake = std::sync::Arc<dyn Fn(Option<&str>) + Send + Sync>;

/// Channels whose notifications wake someone instead of being passed on as events.
#[derive(Clone, Default)]
pub struct Wakers(pub Vec<(&'static str, Wake)>);

impl std::fmt::Debug for Wakers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let channels: Vec<_> = self.0.iter().map(|(channel, _)| *channel).collect();
        f.debug_tuple("Wakers").field(&channels).finish()
    }
}

impl Wakers {
    fn wake(&self, channel: &str, payload: Option<&str>) -> bool {
        let mut woke = false;
        for (_, wake) in self
            .0
            .iter()
            .filter(|(c, _)| channel.is_empty() || *c == channel)
        {
            wake(payload);
            woke = true;
        }
        woke
    }
}

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Listens on `channel` (and the `wakers`' channels) of `database_url` until `events`
/// closes. `listening` is told once the first LISTEN is in place.
pub async fn run(
    database_url: String,
    channel: &'static str,
    wakers: Wakers,
    timeout: Duration,
    events: mpsc::UnboundedSender<Heard>,
    listening: oneshot::Sender<()>,
) {
    let mut listening = Some(listening);
    let mut backoff = BACKOFF_MIN;
    let mut lost = false;
    loop {
        match connect(&database_url, channel, &wakers, timeout).await {
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
                    wakers.wake("", None);
                }
                backoff = BACKOFF_MIN;
                if let Err(err) = listen(&mut conn, timeout, &events, &wakers).await {
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

async fn connect(
    url: &str,
    channel: &str,
    wakers: &Wakers,
    timeout: Duration,
) -> anyhow::Result<AsyncPgConnection> {
    let mut conn = tokio::time::timeout(timeout, super::tls::establish(url))
        .await
        .map_err(|_| anyhow::anyhow!("connecting timed out"))??;
    let channels = std::iter::once(channel).chain(wakers.0.iter().map(|(c, _)| *c));
    for channel in channels {
        tokio::time::timeout(timeout, listen_on(&mut conn, channel))
            .await
            .map_err(|_| anyhow::anyhow!("LISTEN timed out"))??;
    }
    Ok(conn)
}

/// `LISTEN` on `channel` (a constant identifier of the caller's).
async fn listen_on(conn: &mut AsyncPgConnection, channel: &str) -> Result<(), DbError> {
    diesel::sql_query(format!("LISTEN {channel}"))
        .execute(conn)
        .await?;
    Ok(())
}

/// Forwards notifications until the connection fails or `events` closes.
async fn listen(
    conn: &mut AsyncPgConnection,
    timeout: Duration,
    events: &mpsc::UnboundedSender<Heard>,
    wakers: &Wakers,
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
                        if wakers.wake(&notification.channel, Some(&notification.payload)) {
                            continue;
                        }
                        if events.send(Heard::Payload(notification.payload)).is_err() {
                            return Ok(());
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
