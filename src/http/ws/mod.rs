//! GraphQL over WebSocket on the GraphQL URL: Conduit's own connection handler.
//!
//! async-graphql's stock handler closes with 1002/1011 where graphql-transport-ws wants
//! 4400/4401/4403, silently replaces a stream on a duplicate id, has no init timeout and
//! closes idle sockets with 3008 without pinging. This one follows PROTOCOL.md exactly
//! (see [`protocol::close`] for every close code) and adds what a production server
//! needs: authentication in `connection_init`, revocation, bounded per-connection queues,
//! a cap on operations per socket, caps on sockets per client IP, per user and per
//! instance ([`caps`]), an idle timeout for anonymous sockets, keep-alive pings, a message
//! size cap and a clean 1001 on shutdown.
//!
//! This file owns the socket and its loop (reading, keep-alive, shutdown, closing);
//! `session` what `connection_init` establishes, `operations` each operation's life.
//! Queries and mutations sent over the socket run through the operation pipeline
//! ([`crate::graphql::execution`]) on the connection's task as HTTP requests would:
//! authenticated again each time with the `connection_init` token, within the request
//! timeout. Subscriptions pass the same pipeline and are handed to the instance's
//! [`Hub`], which runs them with the viewer the socket was acknowledged as. It may call
//! the pipeline, the hub, `domain::sessions` and `db` (session checks).

pub mod caps;
mod operations;
pub mod protocol;
mod session;

use std::{collections::HashMap, sync::Arc, time::Duration};

use async_graphql::Executor;
use axum::{
    extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use futures_util::{StreamExt, stream::FuturesUnordered};
use tokio::{sync::mpsc, time::MissedTickBehavior};

pub use self::caps::SocketCaps;
use self::{
    caps::UserSlot,
    operations::{Op, OpKind, RunningQuery},
    protocol::{ClientMessage, Protocol, close},
    session::{Registration, Session},
};
use super::{
    graphql::{EndpointState, GraphqlEndpoint},
    lifecycle::Lifecycle,
    limits, negotiate, reply,
};
use crate::{
    domain::devices::UserAgent,
    error::{AppError, ErrorCode},
    graphql::subscription::{Command, ConnSignals, Hub, Outbox},
    metrics::ConnectionLimit,
    ratelimit::ClientIp,
};

/// What the WebSockets of `/graphql` share, one per instance (built by the composition
/// root).
pub struct Sockets {
    /// The instance's live subscriptions.
    pub hub: Hub,
    /// Shutdown signalling and the count of open WebSockets.
    pub lifecycle: Lifecycle,
    /// The limits and timers.
    pub config: WebSocketConfig,
    /// The open sockets per client IP, per user and in all.
    pub caps: Arc<SocketCaps>,
}

/// WebSocket (subscription) limits and timers.
#[derive(Debug, Clone, Copy)]
pub struct WebSocketConfig {
    /// How long a new socket may wait before `connection_init` (`WS_INIT_TIMEOUT_MS`, 3 s).
    pub init_timeout: Duration,
    /// How often the server pings (`WS_KEEPALIVE_MS`, 15 s). A socket that sends nothing
    /// back for a whole interval after a ping, and a write that stalls that long, end
    /// the connection.
    pub keepalive: Duration,
    /// Largest accepted message in bytes (`WS_MAX_MESSAGE_BYTES`, 64 KiB); larger closes
    /// the socket with 1009.
    pub max_message: usize,
    /// Messages queued per connection before it counts as too slow and is closed with
    /// 1013 (`WS_QUEUE_CAPACITY`, 256).
    pub queue_capacity: usize,
    /// Operations one socket may run at once (`WS_MAX_OPERATIONS`, 100); more get an
    /// `error` message.
    pub max_operations: usize,
    /// How long an anonymous socket may run no operation before it is closed with 1000
    /// (`WS_IDLE_TIMEOUT_MS`, 5 minutes).
    pub idle_timeout: Duration,
    /// Open sockets per client IP (`WS_MAX_PER_IP`, 256; IPv6 per /64); more are refused
    /// with 429 before the upgrade.
    pub max_per_ip: usize,
    /// Open sockets per signed-in user (`WS_MAX_PER_USER`, 32); more are closed with 4429
    /// at `connection_init`.
    pub max_per_user: usize,
    /// Open sockets on the instance (`WS_MAX_CONNECTIONS`, 10000); more are refused with
    /// 503 before the upgrade.
    pub max_connections: usize,
}

impl<E: Executor> GraphqlEndpoint<E> {
    /// Accepts a WebSocket upgrade on the GraphQL URL.
    pub(super) fn upgrade(
        self,
        ws: WebSocketUpgrade,
        ip: Option<ClientIp>,
        user_agent: Option<UserAgent>,
    ) -> Response {
        let slot = match self.state().sockets.caps.admit(ip.map(|ClientIp(ip)| ip)) {
            Ok(slot) => slot,
            Err(limit) => return refused(limit),
        };
        let limit = self.state().sockets.config.max_message;
        ws.protocols(protocol::SUBPROTOCOLS)
            // tungstenite's defaults reserve 128 KiB per socket for reading; messages here
            // are small, and larger ones still grow the buffer as needed.
            .read_buffer_size(READ_BUFFER)
            // Each message is written (and flushed) as it is sent.
            .write_buffer_size(0)
            // Over the limit, the handler closes with 1009 (the transport's own refusal,
            // past twice the limit, is turned into 1009 too).
            .max_message_size(limit.saturating_mul(2))
            .max_frame_size(limit.saturating_mul(2))
            .on_upgrade(move |socket| async move {
                let _slot = slot;
                let _open = self.state().sockets.lifecycle.socket();
                let protocol = socket
                    .protocol()
                    .and_then(|p| p.to_str().ok())
                    .and_then(Protocol::from_name);
                Connection::new(socket, self, ip, user_agent)
                    .run(protocol)
                    .await;
            })
    }
}

/// The answer to an upgrade over a cap: 429 per client IP, 503 per instance, both with
/// `Retry-After`.
fn refused(limit: ConnectionLimit) -> Response {
    if limit == ConnectionLimit::WsInstance {
        return limits::unavailable("The server is at its limit of WebSockets: try again shortly.");
    }
    let mut response = reply::error(
        negotiate::ResponseMedia::Json,
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        "Too many WebSockets from this address.",
    );
    let retry = HeaderValue::from(limits::RETRY_AFTER_SECONDS);
    response.headers_mut().insert(header::RETRY_AFTER, retry);
    response
}

/// The read buffer of each socket, in bytes.
const READ_BUFFER: usize = 4 * 1024;

/// Why the connection loop ended.
enum End {
    /// Close with this code and reason.
    Close(u16, String),
    /// The peer is gone (or stuck): drop the socket without a close frame.
    Drop,
    /// The client sent a close frame: the transport answers it (RFC 6455 §5.5.1).
    ClosedByClient,
}

/// One WebSocket connection.
struct Connection<E> {
    socket: WebSocket,
    endpoint: GraphqlEndpoint<E>,
    conn: u64,
    hub: Hub,
    /// Set once `connection_init` is accepted.
    session: Option<Session>,
    /// Running operations by number. Numbers are never reused, so a message about an
    /// operation that is over cannot reach a later one with the same client id.
    ops: HashMap<u64, Op>,
    /// Running operations' numbers by client id.
    ids: HashMap<String, u64>,
    next_op: u64,
    registration: Option<Registration>,
    /// The socket's place in its user's count (`WS_MAX_PER_USER`), once signed in.
    user_slot: Option<UserSlot>,
    /// The client's address, when known.
    ip: Option<ClientIp>,
    /// The upgrade request's User-Agent (kept by a session a mutation here signs in).
    user_agent: Option<UserAgent>,
}

impl<E: Executor> Connection<E> {
    fn new(
        socket: WebSocket,
        endpoint: GraphqlEndpoint<E>,
        ip: Option<ClientIp>,
        user_agent: Option<UserAgent>,
    ) -> Self {
        let hub = endpoint.state().sockets.hub.clone();
        Self {
            socket,
            conn: hub.next_conn(),
            hub,
            endpoint,
            session: None,
            ops: HashMap::new(),
            ids: HashMap::new(),
            next_op: 0,
            registration: None,
            user_slot: None,
            ip,
            user_agent,
        }
    }

    fn state(&self) -> &EndpointState {
        self.endpoint.state()
    }

    fn sockets(&self) -> &Sockets {
        &self.state().sockets
    }

    async fn run(mut self, protocol: Option<Protocol>) {
        let end = match protocol {
            Some(protocol) => self.serve(protocol).await,
            None => End::Close(
                close::SUBPROTOCOL_NOT_ACCEPTABLE,
                "Subprotocol not acceptable: use graphql-transport-ws or graphql-ws".into(),
            ),
        };
        self.registration.take();
        let timeout = self.sockets().config.keepalive;
        match end {
            End::Close(code, reason) => {
                let frame = CloseFrame {
                    code,
                    reason: Utf8Bytes::from(reason),
                };
                let _ =
                    tokio::time::timeout(timeout, self.socket.send(Message::Close(Some(frame))))
                        .await;
            }
            End::ClosedByClient => {
                // tungstenite queued the echo of the client's close frame; reading on
                // writes it out and then reports the end of the connection.
                let _ = tokio::time::timeout(timeout, async {
                    while self.socket.recv().await.is_some() {}
                })
                .await;
            }
            End::Drop => {}
        }
    }

    async fn serve(&mut self, protocol: Protocol) -> End {
        let config = self.sockets().config;
        let (queue, mut outgoing) = mpsc::channel(config.queue_capacity);
        let signals = Arc::new(ConnSignals::default());
        let outbox = Outbox {
            queue,
            signals: Arc::clone(&signals),
        };
        let stop = self.sockets().lifecycle.stopped();
        tokio::pin!(stop);
        let init_deadline = tokio::time::sleep(config.init_timeout);
        tokio::pin!(init_deadline);
        let mut keepalive = tokio::time::interval_at(
            tokio::time::Instant::now() + config.keepalive,
            config.keepalive,
        );
        // After a stall, one tick, not a burst: a burst would find the client silent.
        keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut heard = true;
        let mut running: FuturesUnordered<RunningQuery> = FuturesUnordered::new();
        let idle_deadline = tokio::time::sleep(config.idle_timeout);
        tokio::pin!(idle_deadline);

        loop {
            // The idle clock runs only while an anonymous socket runs nothing.
            let idle =
                self.ops.is_empty() && self.session.as_ref().is_some_and(|s| s.viewer.is_none());
            if !idle {
                let next = tokio::time::Instant::now() + config.idle_timeout;
                idle_deadline.as_mut().reset(next);
            }
            // Not biased: a steady stream of outgoing messages must not starve reading
            // (a client's pongs would go unread and it would look dead).
            tokio::select! {
                () = &mut stop => {
                    return End::Close(close::GOING_AWAY, "Server shutting down".into());
                }
                () = signals.notified() => {
                    if signals.revoked() {
                        return self.revoked(protocol).await;
                    }
                    if signals.overflowed() {
                        return End::Close(close::TRY_AGAIN_LATER, "Too slow: messages overflowed".into());
                    }
                }
                () = &mut init_deadline, if self.session.is_none() => {
                    return End::Close(close::INIT_TIMEOUT, "Connection initialisation timeout".into());
                }
                () = &mut idle_deadline, if idle => {
                    self.sockets().caps.closed_idle();
                    return End::Close(close::NORMAL, "Idle: no operation for WS_IDLE_TIMEOUT_MS".into());
                }
                _ = keepalive.tick() => {
                    if !heard {
                        tracing::info!(conn = self.conn, "WebSocket peer stopped answering; dropping it");
                        return End::Drop;
                    }
                    heard = false;
                    if self.send(Message::Ping(Default::default())).await.is_err() {
                        return End::Drop;
                    }
                    if self.session.is_some() && self.send_text(protocol.keepalive()).await.is_err() {
                        return End::Drop;
                    }
                }
                Some(message) = outgoing.recv() => {
                    if self.forward(protocol, message).await.is_err() {
                        return End::Drop;
                    }
                }
                Some((op, outcome)) = running.next(), if !running.is_empty() => {
                    if let Some(outcome) = outcome
                        && self.finish(protocol, op, outcome).await.is_err()
                    {
                        return End::Drop;
                    }
                }
                frame = self.socket.recv() => {
                    heard = true;
                    let text = match frame {
                        Some(Err(err)) if is_too_big(&err) => {
                            return End::Close(close::MESSAGE_TOO_BIG, format!("Message too big: at most {} bytes", config.max_message));
                        }
                        None | Some(Err(_)) => return End::Drop,
                        Some(Ok(Message::Close(_))) => return End::ClosedByClient,
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                        Some(Ok(Message::Binary(_))) => {
                            return End::Close(close::BAD_REQUEST, "Invalid message received: binary frames are not supported".into());
                        }
                        Some(Ok(Message::Text(text))) => text,
                    };
                    if text.len() > config.max_message {
                        return End::Close(close::MESSAGE_TOO_BIG, format!("Message too big: at most {} bytes", config.max_message));
                    }
                    let message = match ClientMessage::parse(protocol, text.as_str()) {
                        Ok(message) => message,
                        Err(reason) => return End::Close(close::BAD_REQUEST, truncate(reason)),
                    };
                    if let Some(end) = self.receive(protocol, message, &outbox, &mut running).await {
                        return end;
                    }
                }
            }
        }
    }

    /// Handles one client message; `Some` ends the connection.
    async fn receive(
        &mut self,
        protocol: Protocol,
        message: ClientMessage,
        outbox: &Outbox,
        running: &mut FuturesUnordered<RunningQuery>,
    ) -> Option<End> {
        match message {
            ClientMessage::Init(payload) => {
                if self.session.is_some() {
                    return Some(End::Close(
                        close::TOO_MANY_INITS,
                        "Too many initialisation requests".into(),
                    ));
                }
                match self.initialise(&payload, outbox).await {
                    Ok(()) => {}
                    Err(err) => {
                        let (code, reason) = match &err {
                            AppError::Unauthenticated(message) => {
                                (close::FORBIDDEN, format!("Forbidden: {message}"))
                            }
                            AppError::RateLimited { .. } => (
                                close::TOO_MANY_SOCKETS,
                                "Too many WebSockets for this user".into(),
                            ),
                            _ => (close::INTERNAL, "Internal server error: try again".into()),
                        };
                        if let Some(text) = protocol.connection_error(&reason) {
                            let _ = self.send_text(text).await;
                        }
                        return Some(End::Close(code, truncate(reason)));
                    }
                }
                if self.send_text(protocol.ack()).await.is_err() {
                    return Some(End::Drop);
                }
                // The legacy protocol keeps alive right after the ack, then periodically
                // (its client starts its timeout on the first `ka`).
                if protocol == Protocol::LegacyWs
                    && self.send_text(protocol.keepalive()).await.is_err()
                {
                    return Some(End::Drop);
                }
                None
            }
            ClientMessage::Subscribe { id, payload } => {
                let Some(session) = self.session.clone() else {
                    return Some(End::Close(close::UNAUTHORIZED, "Unauthorized".into()));
                };
                if self.ids.contains_key(&id) {
                    return Some(End::Close(
                        close::DUPLICATE_ID,
                        truncate(format!("Subscriber for {id} already exists")),
                    ));
                }
                let result = self.start(protocol, id, payload, session, running).await;
                result.err().map(|()| End::Drop)
            }
            ClientMessage::Complete { id } => {
                let op = self.ids.remove(&id)?;
                match self.ops.remove(&op).map(|op| op.kind) {
                    Some(OpKind::Query(abort)) => abort.abort(),
                    Some(OpKind::Subscription) => self.hub.send(Command::Stop {
                        conn: self.conn,
                        op,
                    }),
                    None => {}
                }
                // The legacy protocol confirms a `stop`; graphql-transport-ws does not.
                if protocol == Protocol::LegacyWs
                    && self.send_text(protocol.complete(&id)).await.is_err()
                {
                    return Some(End::Drop);
                }
                None
            }
            ClientMessage::Ping => self
                .send_text(protocol.pong())
                .await
                .err()
                .map(|()| End::Drop),
            ClientMessage::Pong => None,
            ClientMessage::Terminate => Some(End::Close(1000, "Terminated".into())),
        }
    }

    /// Writes one text frame.
    async fn send_text(&mut self, text: String) -> Result<(), ()> {
        self.send(Message::Text(Utf8Bytes::from(text))).await
    }

    /// Writes one frame, giving up on a peer that does not read for a keep-alive interval.
    async fn send(&mut self, message: Message) -> Result<(), ()> {
        let timeout: Duration = self.sockets().config.keepalive;
        match tokio::time::timeout(timeout, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }
}

/// True when the transport refused a message for its size.
fn is_too_big(err: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(inner) = source {
        if matches!(
            inner.downcast_ref::<tungstenite::Error>(),
            Some(tungstenite::Error::Capacity(_))
        ) {
            return true;
        }
        source = inner.source();
    }
    false
}

/// Close reasons are limited to 123 bytes.
fn truncate(mut reason: String) -> String {
    if reason.len() > 123 {
        let mut end = 120;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason.push_str("...");
    }
    reason
}
