//! GraphQL over WebSocket on the GraphQL URL: Conduit's own connection handler.
//!
//! async-graphql's stock handler closes with 1002/1011 where graphql-transport-ws wants
//! 4400/4401/4403, silently replaces a stream on a duplicate id, has no init timeout and
//! closes idle sockets with 3008 without pinging. This one follows PROTOCOL.md exactly
//! (see [`protocol::close`] for every close code) and adds what a production server
//! needs: authentication in `connection_init`, revocation, bounded per-connection queues,
//! a cap on operations per socket, keep-alive pings, a message size cap and a clean 1001
//! on shutdown.
//!
//! Queries and mutations sent over the socket run on the connection's task as HTTP
//! requests would: authenticated again each time with the `connection_init` token, within
//! the request timeout. Subscriptions are handed to the instance's [`Hub`], which runs
//! them with the viewer the socket was acknowledged as.

pub mod protocol;

use std::{collections::HashMap, panic::AssertUnwindSafe, sync::Arc, time::Duration};

use async_graphql::{
    Executor, ServerError,
    parser::types::{ExecutableDocument, OperationType, SelectionSet},
};
use axum::{
    extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade},
    response::Response,
};
use futures_util::{
    FutureExt, StreamExt,
    future::{AbortHandle, Abortable, BoxFuture},
    stream::FuturesUnordered,
};
use serde_json::{Map, Value};
use tokio::{
    sync::{mpsc, oneshot},
    time::MissedTickBehavior,
};

use self::protocol::{ClientMessage, Protocol, SubscribePayload, close};
use super::graphql::{GraphqlEndpoint, Outcome, Params};
use crate::{
    db::RequestDb,
    domain::{policy::Viewer, sessions},
    error::{AppError, ErrorCode},
    graphql::{
        admission::{self, Caller, Ticket},
        document,
        error::{code_errors, coded_error},
        response_order,
        subscription::{Command, ConnSignals, Hub, Inbox, Outbox, Outgoing},
    },
    ratelimit::ClientIp,
    state::AppState,
};

impl<E: Executor> GraphqlEndpoint<E> {
    /// Accepts a WebSocket upgrade on the GraphQL URL.
    pub(super) fn upgrade(self, ws: WebSocketUpgrade, ip: Option<ClientIp>) -> Response {
        let limit = self.state().config.websocket.max_message;
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
                let _open = self.state().lifecycle.socket();
                let protocol = socket
                    .protocol()
                    .and_then(|p| p.to_str().ok())
                    .and_then(Protocol::from_name);
                Connection::new(socket, self, ip).run(protocol).await;
            })
    }
}

/// The read buffer of each socket, in bytes.
const READ_BUFFER: usize = 4 * 1024;

/// Longest a new connection waits for the hub to register it.
const REGISTRATION_TIMEOUT: Duration = Duration::from_secs(5);

/// Why the connection loop ended.
enum End {
    /// Close with this code and reason.
    Close(u16, String),
    /// The peer is gone (or stuck): drop the socket without a close frame.
    Drop,
    /// The client sent a close frame: the transport answers it (RFC 6455 §5.5.1).
    ClosedByClient,
}

/// A query or mutation running on the connection's task: its operation number, and its
/// outcome (`None` when the client completed it first).
type RunningQuery = BoxFuture<'static, (u64, Option<Outcome>)>;

/// What `connection_init` established.
#[derive(Clone)]
struct Session {
    /// Who the socket is signed in as (subscriptions run as this viewer).
    viewer: Option<Viewer>,
    /// The `Authorization` value it was given, to authenticate each query and mutation.
    authorization: Option<String>,
}

/// One running operation.
struct Op {
    /// The id the client chose.
    id: String,
    kind: OpKind,
}

enum OpKind {
    /// A query or mutation on the connection's task.
    Query(AbortHandle),
    /// A subscription in the hub, with its document (to put results in selection order).
    Subscription {
        document: Arc<ExecutableDocument>,
        operation_name: Option<String>,
    },
}

/// The connection's registration in the hub; dropping it (however the connection ends,
/// panics included) unregisters it.
struct Registration {
    hub: Hub,
    conn: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.send(Command::Disconnect { conn: self.conn });
    }
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
    /// The client's address, when known.
    ip: Option<ClientIp>,
}

impl<E: Executor> Connection<E> {
    fn new(socket: WebSocket, endpoint: GraphqlEndpoint<E>, ip: Option<ClientIp>) -> Self {
        let hub = endpoint.state().hub.clone();
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
            ip,
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
        self.registration.take();
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
        // After a stall, one tick, not a burst: a burst would find the client silent.
        keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut heard = true;
        let mut running: FuturesUnordered<RunningQuery> = FuturesUnordered::new();

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
                () = &mut init_deadline, if self.session.is_none() => {
                    return End::Close(close::INIT_TIMEOUT, "Connection initialisation timeout".into());
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
                    Some(OpKind::Subscription { .. }) => self.hub.send(Command::Stop {
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

    /// Authenticates `connection_init`'s payload and registers the connection in the hub.
    async fn initialise(
        &mut self,
        payload: &Map<String, Value>,
        outbox: &Outbox,
    ) -> Result<(), AppError> {
        let state = self.state().clone();
        let authorization = authorization(payload)?;
        let viewer = match &authorization {
            Some(header) => Some(authenticate(&state, header).await?),
            None => None,
        };
        let (registered, heard) = oneshot::channel();
        self.hub.send(Command::Connect {
            conn: self.conn,
            viewer,
            outbox: outbox.clone(),
            registered,
        });
        self.registration = Some(Registration {
            hub: self.hub.clone(),
            conn: self.conn,
        });
        if let Some(viewer) = viewer {
            // A revocation the hub handled before it knew this connection would be
            // missed: once it knows, look at the session once more.
            let unavailable =
                || AppError::ServiceUnavailable(anyhow::anyhow!("the hub did not register"));
            tokio::time::timeout(REGISTRATION_TIMEOUT, heard)
                .await
                .map_err(|_| unavailable())?
                .map_err(|_| unavailable())?;
            if !session_is_live(&state, viewer.session_id).await? {
                return Err(AppError::Unauthenticated(
                    "The session has been revoked. Sign in again.".into(),
                ));
            }
        }
        self.session = Some(Session {
            viewer,
            authorization,
        });
        Ok(())
    }

    /// Starts operation `id`.
    async fn start(
        &mut self,
        protocol: Protocol,
        id: String,
        mut payload: SubscribePayload,
        session: Session,
        running: &mut FuturesUnordered<RunningQuery>,
    ) -> Result<(), ()> {
        let limit = self.state().config.websocket.max_operations;
        if self.ops.len() >= limit {
            let error = coded_error(
                ErrorCode::BadRequest,
                format!("At most {limit} operations may run at once on one WebSocket."),
            );
            return self.send_text(protocol.error(&id, &[error])).await;
        }
        // A persisted query's hash stands for its text here as over HTTP; in safelist
        // mode nothing else runs.
        let text = (!payload.query.is_empty()).then(|| std::mem::take(&mut payload.query));
        let db = RequestDb::new(&self.state().pool);
        match self
            .state()
            .persisted
            .resolve(&db, text, payload.extensions.as_ref())
            .await
        {
            Ok(resolved) => payload.query = resolved.query,
            Err(error) => return self.send_text(protocol.error(&id, &[error])).await,
        }
        let mut ticket = Ticket::new(payload.operation_name.as_deref());
        let document = match admission::parse(self.state(), &mut ticket, &payload.query) {
            Ok(document) => document,
            Err(error) => {
                admission::refused(self.state(), ticket, std::slice::from_ref(&error));
                return self.send_text(protocol.error(&id, &[error])).await;
            }
        };
        let operation =
            document::operation(&document, payload.operation_name.as_deref()).map(|(_, op)| op);
        let op = self.next_op;
        self.next_op += 1;
        if operation.map(|o| o.ty) != Some(OperationType::Subscription) {
            // Queries and mutations run here, as HTTP requests would (an unknown operation
            // name fails there with the usual error).
            let (abort, registration) = AbortHandle::new_pair();
            let query = self.query(session, payload);
            running.push(Box::pin(async move {
                let outcome = Abortable::new(query, registration).await.ok();
                (op, outcome)
            }));
            self.ids.insert(id.clone(), op);
            self.ops.insert(
                op,
                Op {
                    id,
                    kind: OpKind::Query(abort),
                },
            );
            return Ok(());
        }
        if let Some(problem) =
            operation.and_then(|o| single_root_field(&document, &o.selection_set.node))
        {
            let error = coded_error(ErrorCode::GraphqlValidationFailed, problem);
            return self.send_text(protocol.error(&id, &[error])).await;
        }
        let variables = payload.variables.unwrap_or_default();
        let caller = Caller {
            viewer: session.viewer,
            ip: self.ip,
        };
        if let Err(error) = admission::admit(
            self.state(),
            &mut ticket,
            &payload.query,
            &document,
            &variables,
            caller,
        ) {
            admission::refused(self.state(), ticket, std::slice::from_ref(&error));
            return self.send_text(protocol.error(&id, &[error])).await;
        }
        let inbox = Arc::new(Inbox::default());
        let mut request = async_graphql::Request::new(payload.query);
        request.set_parsed_query(ExecutableDocument::clone(&document));
        request.operation_name = payload.operation_name.clone();
        request.variables = variables;
        request.extensions = payload.extensions.unwrap_or_default();
        request.data.insert(self.hub.loaders());
        request.data.insert(Arc::clone(&inbox));
        if let Some(viewer) = session.viewer {
            request.data.insert(viewer);
        }
        if let Some(ip) = self.ip {
            request.data.insert(ip);
        }
        let stream = self
            .endpoint
            .executor()
            .execute_stream(request, None)
            .map(|mut response| {
                code_errors(&mut response.errors);
                response
            })
            .boxed();
        self.ids.insert(id.clone(), op);
        self.ops.insert(
            op,
            Op {
                id,
                kind: OpKind::Subscription {
                    document,
                    operation_name: payload.operation_name,
                },
            },
        );
        self.hub.send(Command::Start {
            conn: self.conn,
            op,
            stream,
            inbox,
        });
        Ok(())
    }

    /// A query or mutation, run as an HTTP request would be: authenticated again with the
    /// socket's token, within the request timeout, a panic answered as an internal error.
    fn query(&self, session: Session, payload: SubscribePayload) -> BoxFuture<'static, Outcome> {
        let endpoint = self.endpoint.clone();
        let ip = self.ip;
        let timeout = self.state().config.request_timeout;
        let params = Params {
            query: Some(payload.query),
            operation_name: payload.operation_name,
            variables: payload.variables,
            extensions: payload.extensions,
        };
        let work = async move {
            let db = RequestDb::new(&endpoint.state().pool);
            let viewer = match &session.authorization {
                Some(header) => match sessions::authenticate(&db, header).await {
                    Ok(viewer) => Some(viewer),
                    Err(err) => return Outcome::Rejected(vec![server_error(err)]),
                },
                None => None,
            };
            endpoint
                .execute(params, false, Caller { viewer, ip }, &db)
                .await
        };
        Box::pin(async move {
            match tokio::time::timeout(timeout, AssertUnwindSafe(work).catch_unwind()).await {
                Ok(Ok(outcome)) => outcome,
                Ok(Err(_)) => Outcome::Rejected(vec![server_error(AppError::Internal(
                    anyhow::anyhow!("an operation over a WebSocket panicked"),
                ))]),
                Err(_) => Outcome::Rejected(vec![coded_error(
                    ErrorCode::InternalServerError,
                    "The request took longer than the server allows and was cancelled.",
                )]),
            }
        })
    }

    /// Writes what the hub sent for one of this connection's subscriptions; messages about
    /// an operation that is over (completed by the client meanwhile) are dropped.
    async fn forward(&mut self, protocol: Protocol, message: Outgoing) -> Result<(), ()> {
        match message {
            Outgoing::Next(op, mut response) => {
                let Some(Op {
                    id,
                    kind:
                        OpKind::Subscription {
                            document,
                            operation_name,
                        },
                }) = self.ops.get(&op)
                else {
                    return Ok(());
                };
                response_order::null_failed_fields(&mut response.data, &response.errors);
                response_order::restore(document, operation_name.as_deref(), &mut response.data);
                let text = protocol.next(id, &response);
                self.send_text(text).await
            }
            Outgoing::Error(op, errors) => {
                let Some(id) = self.end_op(op) else {
                    return Ok(());
                };
                let errors = super::graphql::request_errors(errors);
                self.send_text(protocol.error(&id, &errors)).await
            }
            Outgoing::Complete(op) => {
                let Some(id) = self.end_op(op) else {
                    return Ok(());
                };
                self.send_text(protocol.complete(&id)).await
            }
        }
    }

    /// Writes the result of a query or mutation run over the socket.
    async fn finish(&mut self, protocol: Protocol, op: u64, outcome: Outcome) -> Result<(), ()> {
        let Some(id) = self.end_op(op) else {
            return Ok(());
        };
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

    /// Forgets operation `op`; returns its client id if it was still running.
    fn end_op(&mut self, op: u64) -> Option<String> {
        let Op { id, .. } = self.ops.remove(&op)?;
        self.ids.remove(&id);
        Some(id)
    }

    /// The session was revoked: every operation gets an UNAUTHENTICATED `error`, then the
    /// socket closes with 4403.
    async fn revoked(&mut self, protocol: Protocol) -> End {
        let error = coded_error(
            ErrorCode::Unauthenticated,
            "The session has been revoked. Sign in again.",
        );
        let ops: Vec<Op> = self.ops.drain().map(|(_, op)| op).collect();
        self.ids.clear();
        for op in ops {
            if let OpKind::Query(abort) = &op.kind {
                abort.abort();
            }
            let text = protocol.error(&op.id, std::slice::from_ref(&error));
            if self.send_text(text).await.is_err() {
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

/// The `Authorization` value in `connection_init`'s payload: `authorization` or
/// `Authorization` ("Bearer <token>"), `token` (the bare token), or the same inside
/// `headers` (as some clients send them). `None` for an anonymous socket.
fn authorization(payload: &Map<String, Value>) -> Result<Option<String>, AppError> {
    let found = ["authorization", "Authorization"]
        .iter()
        .find_map(|key| payload.get(*key).map(|v| (v, false)))
        .or_else(|| payload.get("token").map(|v| (v, true)))
        .or_else(|| match payload.get("headers") {
            Some(Value::Object(headers)) => ["authorization", "Authorization"]
                .iter()
                .find_map(|key| headers.get(*key).map(|v| (v, false))),
            _ => None,
        });
    let Some((value, bare)) = found else {
        return Ok(None);
    };
    let value = value
        .as_str()
        .ok_or_else(|| AppError::Unauthenticated("The authorization must be a string.".into()))?;
    Ok(Some(if bare && !value.starts_with("Bearer ") {
        format!("Bearer {value}")
    } else {
        value.to_owned()
    }))
}

/// The viewer an `Authorization` value names.
async fn authenticate(state: &AppState, header: &str) -> Result<Viewer, AppError> {
    let db = RequestDb::new(&state.pool);
    let viewer = sessions::authenticate(&db, header).await;
    db.release().await;
    viewer
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

/// Why a subscription's selection is not exactly one root field (GraphQL's "single root
/// field" rule, which async-graphql does not check), if it is not.
fn single_root_field(document: &ExecutableDocument, set: &SelectionSet) -> Option<String> {
    match document::root_keys(document, set).as_slice() {
        [key] if !key.starts_with("__") => None,
        [_] => Some("A subscription may not select an introspection field at its root.".into()),
        _ => Some("A subscription must select exactly one field at its root.".into()),
    }
}

/// An [`AppError`] as a GraphQL error with its code.
fn server_error(err: AppError) -> ServerError {
    let error: async_graphql::Error = err.into();
    let mut server_error = ServerError::new(error.message, None);
    server_error.extensions = error.extensions;
    server_error
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
