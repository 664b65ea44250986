//! GraphQL over WebSocket on the GraphQL URL: Conduit's own connection handler.
//!
//! async-graphql's stock handler closes with 1002/1011 where graphql-transport-ws wants
//! 4400/4401/4403, silently replaces a stream on a duplicate id, has no init timeout and
//! closes idle sockets with 3008 without pinging. This one follows PROTOCOL.md exactly
//! (see [`protocol::close`] for every close code) and adds what a production server
//! needs: authentication in `connection_init`, revocation, bounded per-connection queues,
//! keep-alive pings, a message size cap and a clean 1001 on shutdown.
//!
//! Queries and mutations sent over the socket run on the connection's task like HTTP
//! requests. Subscriptions are handed to the instance's [`Hub`], which runs them.

pub mod protocol;

use std::{collections::HashSet, future::Future, pin::Pin, sync::Arc, time::Duration};

use async_graphql::{
    Executor, ServerError,
    parser::{parse_query, types::OperationType},
};
use axum::{
    extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
    response::Response,
};
use futures_util::{StreamExt, stream::FuturesUnordered};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use self::protocol::{ClientMessage, Protocol, SubscribePayload, close};
use super::graphql::{GraphqlEndpoint, Outcome, Params};
use crate::{
    db::RequestDb,
    domain::{policy::Viewer, sessions},
    error::{AppError, ErrorCode},
    events::hub::{Command, ConnSignals, Hub, Inbox, Outbox, Outgoing},
    graphql::{error::coded_error, response_order},
    state::AppState,
};

impl<E: Executor> GraphqlEndpoint<E> {
    /// Accepts a WebSocket upgrade on the GraphQL URL.
    pub(super) fn upgrade(self, ws: WebSocketUpgrade) -> Response {
        let limit = self.state().config.websocket.max_message;
        // The transport refuses twice the limit outright; between the two, the handler
        // closes cleanly with 1009.
        ws.protocols(protocol::SUBPROTOCOLS)
            // tungstenite's defaults reserve 128 KiB per socket for reading; messages here
            // are small, and larger ones still grow the buffer as needed.
            .read_buffer_size(READ_BUFFER)
            // Each message is written (and flushed) as it is sent.
            .write_buffer_size(0)
            .max_message_size(limit.saturating_mul(2))
            .max_frame_size(limit.saturating_mul(2))
            .on_upgrade(move |socket| async move {
                let _open = self.state().lifecycle.socket();
                let protocol = socket
                    .protocol()
                    .and_then(|p| p.to_str().ok())
                    .and_then(Protocol::from_name);
                Connection::new(socket, self).run(protocol).await;
            })
    }
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

type Running = Pin<Box<dyn Future<Output = (String, Outcome)> + Send>>;

/// One WebSocket connection.
struct Connection<E> {
    socket: WebSocket,
    endpoint: GraphqlEndpoint<E>,
    id: u64,
    hub: Hub,
    /// Operations running (queries, mutations and subscriptions), by client id.
    active: HashSet<String>,
    /// Subscriptions' documents, to put their responses in selection order.
    documents: std::collections::HashMap<
        String,
        (
            async_graphql::parser::types::ExecutableDocument,
            Option<String>,
        ),
    >,
    /// Set once `connection_init` is accepted.
    viewer: Option<Option<Viewer>>,
    registered: bool,
}

impl<E: Executor> Connection<E> {
    fn new(socket: WebSocket, endpoint: GraphqlEndpoint<E>) -> Self {
        let hub = endpoint.state().hub.clone();
        Self {
            socket,
            id: hub.next_conn(),
            hub,
            endpoint,
            active: HashSet::new(),
            documents: Default::default(),
            viewer: None,
            registered: false,
        }
    }

    fn state(&self) -> &AppState {
        self.endpoint.state()
    }

    async fn run(mut self, protocol: Option<Protocol>) {
        let end = match protocol {
            Some(protocol) => self.serve(protocol).await,
            None => End::Close(
                close::SUBPROTOCOL_NOT_ACCEPTABLE,
                "Subprotocol not acceptable: use graphql-transport-ws or graphql-ws".into(),
            ),
        };
        if self.registered {
            self.hub.send(Command::Disconnect { conn: self.id });
        }
        let timeout = self.state().config.websocket.keepalive;
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
        let config = self.state().config.websocket;
        let (queue, mut outgoing) = mpsc::channel(config.queue_capacity);
        let signals = Arc::new(ConnSignals::default());
        let outbox = Outbox {
            queue,
            signals: Arc::clone(&signals),
        };
        let stop = self.state().lifecycle.stopped();
        tokio::pin!(stop);
        let init_deadline = tokio::time::sleep(config.init_timeout);
        tokio::pin!(init_deadline);
        let mut keepalive = tokio::time::interval_at(
            tokio::time::Instant::now() + config.keepalive,
            config.keepalive,
        );
        let mut heard = true;
        let mut running: FuturesUnordered<Running> = FuturesUnordered::new();

        loop {
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
                () = &mut init_deadline, if self.viewer.is_none() => {
                    return End::Close(close::INIT_TIMEOUT, "Connection initialisation timeout".into());
                }
                _ = keepalive.tick() => {
                    if !heard {
                        tracing::info!(conn = self.id, "WebSocket peer stopped answering; dropping it");
                        return End::Drop;
                    }
                    heard = false;
                    if self.send(Message::Ping(Default::default())).await.is_err() {
                        return End::Drop;
                    }
                    if self.viewer.is_some() && self.send_text(protocol.keepalive()).await.is_err() {
                        return End::Drop;
                    }
                }
                Some(message) = outgoing.recv() => {
                    if self.forward(protocol, message).await.is_err() {
                        return End::Drop;
                    }
                }
                Some((id, outcome)) = running.next(), if !running.is_empty() => {
                    if self.finish(protocol, id, outcome).await.is_err() {
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
        running: &mut FuturesUnordered<Running>,
    ) -> Option<End> {
        match message {
            ClientMessage::Init(payload) => {
                if self.viewer.is_some() {
                    return Some(End::Close(
                        close::TOO_MANY_INITS,
                        "Too many initialisation requests".into(),
                    ));
                }
                let state = self.state().clone();
                match authenticate(&state, &payload).await {
                    Ok(viewer) => {
                        self.viewer = Some(viewer);
                        self.registered = true;
                        let (registered, heard) = oneshot::channel();
                        self.hub.send(Command::Connect {
                            conn: self.id,
                            viewer,
                            outbox: outbox.clone(),
                            registered,
                        });
                        // A revocation the hub handled before it knew this connection
                        // would be missed: once it knows, look at the session once more.
                        if let Some(viewer) = viewer {
                            let _ = heard.await;
                            let state = self.state().clone();
                            match session_is_live(&state, viewer.session_id).await {
                                Ok(true) => {}
                                Ok(false) => {
                                    return Some(End::Close(
                                        close::FORBIDDEN,
                                        "Forbidden: the session has been revoked".into(),
                                    ));
                                }
                                Err(_) => {
                                    return Some(End::Close(
                                        close::INTERNAL,
                                        "Internal server error: try again".into(),
                                    ));
                                }
                            }
                        }
                        if self.send_text(protocol.ack()).await.is_err() {
                            return Some(End::Drop);
                        }
                        // The legacy protocol keeps alive right after the ack, then
                        // periodically (its client starts its timeout on the first `ka`).
                        if protocol == Protocol::LegacyWs
                            && self.send_text(protocol.keepalive()).await.is_err()
                        {
                            return Some(End::Drop);
                        }
                        None
                    }
                    Err(err) => {
                        let (code, reason) = match &err {
                            AppError::Unauthenticated(message) => {
                                (close::FORBIDDEN, format!("Forbidden: {message}"))
                            }
                            _ => (close::INTERNAL, "Internal server error: try again".into()),
                        };
                        if let Some(text) = protocol.connection_error(&reason) {
                            let _ = self.send_text(text).await;
                        }
                        Some(End::Close(code, reason))
                    }
                }
            }
            ClientMessage::Subscribe { id, payload } => {
                let Some(viewer) = self.viewer else {
                    return Some(End::Close(close::UNAUTHORIZED, "Unauthorized".into()));
                };
                if !self.active.insert(id.clone()) {
                    return Some(End::Close(
                        close::DUPLICATE_ID,
                        truncate(format!("Subscriber for {id} already exists")),
                    ));
                }
                self.start(protocol, id, payload, viewer, running)
                    .await
                    .err()
                    .map(|()| End::Drop)
            }
            ClientMessage::Complete { id } => {
                if !self.active.remove(&id) {
                    return None;
                }
                if self.documents.remove(&id).is_some() {
                    self.hub.send(Command::Stop {
                        conn: self.id,
                        id: id.clone(),
                    });
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

    /// Starts operation `id`.
    async fn start(
        &mut self,
        protocol: Protocol,
        id: String,
        payload: SubscribePayload,
        viewer: Option<Viewer>,
        running: &mut FuturesUnordered<Running>,
    ) -> Result<(), ()> {
        let document = match parse_query(&payload.query) {
            Ok(document) => document,
            Err(err) => {
                self.active.remove(&id);
                let error = crate::graphql::error::with_code(
                    ServerError::from(err),
                    ErrorCode::GraphqlParseFailed,
                );
                return self.send_text(protocol.error(&id, &[error])).await;
            }
        };
        let operation =
            response_order::operation(&document, payload.operation_name.as_deref()).map(|op| op.ty);
        if operation != Some(OperationType::Subscription) {
            // Queries and mutations run here, like HTTP requests (an unknown operation
            // name fails there with the usual error).
            let endpoint = self.endpoint.clone();
            let params = Params {
                query: Some(payload.query),
                operation_name: payload.operation_name,
                variables: payload.variables,
                extensions: payload.extensions,
            };
            running.push(Box::pin(async move {
                let db = RequestDb::new(&endpoint.state().pool);
                let outcome = endpoint.execute(params, false, viewer, &db).await;
                (id, outcome)
            }));
            return Ok(());
        }
        let inbox = Arc::new(Inbox::default());
        let mut request = async_graphql::Request::new(payload.query);
        request.set_parsed_query(document.clone());
        request.operation_name = payload.operation_name.clone();
        request.variables = payload.variables.unwrap_or_default();
        request.extensions = payload.extensions.unwrap_or_default();
        request.data.insert(self.hub.loaders());
        request.data.insert(Arc::clone(&inbox));
        if let Some(viewer) = viewer {
            request.data.insert(viewer);
        }
        let stream = self.endpoint.executor().execute_stream(request, None);
        self.documents
            .insert(id.clone(), (document, payload.operation_name));
        self.hub.send(Command::Start {
            conn: self.id,
            id,
            stream,
            inbox,
        });
        Ok(())
    }

    /// Writes what the hub sent for one of this connection's subscriptions.
    async fn forward(&mut self, protocol: Protocol, message: Outgoing) -> Result<(), ()> {
        match message {
            Outgoing::Next(id, mut response) => {
                let Some((document, operation)) = self.documents.get(&id) else {
                    return Ok(()); // completed by the client meanwhile
                };
                response_order::null_failed_fields(&mut response.data, &response.errors);
                response_order::restore(document, operation.as_deref(), &mut response.data);
                self.send_text(protocol.next(&id, &response)).await
            }
            Outgoing::Error(id, errors) => {
                if !self.active.remove(&id) {
                    return Ok(());
                }
                self.documents.remove(&id);
                let errors = super::graphql::request_errors(errors);
                self.send_text(protocol.error(&id, &errors)).await
            }
            Outgoing::Complete(id) => {
                if !self.active.remove(&id) {
                    return Ok(());
                }
                self.documents.remove(&id);
                self.send_text(protocol.complete(&id)).await
            }
        }
    }

    /// Writes the result of a query or mutation run over the socket.
    async fn finish(&mut self, protocol: Protocol, id: String, outcome: Outcome) -> Result<(), ()> {
        if !self.active.remove(&id) {
            return Ok(()); // completed by the client meanwhile
        }
        match outcome {
            Outcome::Executed(response) => {
                self.send_text(protocol.next(&id, &response)).await?;
                self.send_text(protocol.complete(&id)).await
            }
            Outcome::Rejected(errors) => self.send_text(protocol.error(&id, &errors)).await,
            Outcome::Malformed(error) => self.send_text(protocol.error(&id, &[error])).await,
            Outcome::MutationOverGet => unreachable!("WebSocket operations are not GET requests"),
        }
    }

    /// The session was revoked: every operation gets an UNAUTHENTICATED `error`, then the
    /// socket closes with 4403.
    async fn revoked(&mut self, protocol: Protocol) -> End {
        let error = coded_error(
            ErrorCode::Unauthenticated,
            "The session has been revoked. Sign in again.",
        );
        let ids: Vec<String> = self.active.drain().collect();
        for id in ids {
            if self
                .send_text(protocol.error(&id, std::slice::from_ref(&error)))
                .await
                .is_err()
            {
                return End::Drop;
            }
        }
        End::Close(
            close::FORBIDDEN,
            "Forbidden: the session has been revoked".into(),
        )
    }

    async fn send_text(&mut self, text: String) -> Result<(), ()> {
        self.send(Message::Text(Utf8Bytes::from(text))).await
    }

    /// Writes one frame, giving up on a peer that does not read for a keep-alive interval.
    async fn send(&mut self, message: Message) -> Result<(), ()> {
        let timeout: Duration = self.state().config.websocket.keepalive;
        match tokio::time::timeout(timeout, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            _ => Err(()),
        }
    }
}

/// The viewer named in `connection_init`'s payload: `authorization` or `Authorization`
/// ("Bearer <token>"), or `token` (the bare token). None for an anonymous socket.
async fn authenticate(
    state: &AppState,
    payload: &Map<String, Value>,
) -> Result<Option<Viewer>, AppError> {
    let header = ["authorization", "Authorization"]
        .iter()
        .find_map(|key| payload.get(*key))
        .map(|value| value.as_str().map(str::to_owned))
        .or_else(|| {
            payload.get("token").map(|value| {
                value.as_str().map(|token| {
                    if token.starts_with("Bearer ") {
                        token.to_owned()
                    } else {
                        format!("Bearer {token}")
                    }
                })
            })
        });
    let Some(header) = header else {
        return Ok(None);
    };
    let header = header
        .ok_or_else(|| AppError::Unauthenticated("The authorization must be a string.".into()))?;
    let db = RequestDb::new(&state.pool);
    let viewer = sessions::authenticate(&db, &header).await;
    db.release().await;
    viewer.map(Some)
}

/// True when session `id` is not revoked.
async fn session_is_live(state: &AppState, id: i64) -> Result<bool, AppError> {
    let db = RequestDb::new(&state.pool);
    let live = match db.conn().await {
        Ok(conn) => crate::db::sessions::live_among(&conn, &[id]).await,
        Err(err) => Err(err),
    };
    db.release().await;
    Ok(!live?.is_empty())
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
