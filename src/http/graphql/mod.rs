//! Conduit's GraphQL-over-HTTP handler: framing only, around the one operation pipeline
//! ([`crate::graphql::execution`]).
//!
//! It follows the GraphQL-over-HTTP spec: JSON bodies only (CSRF-safe), GET for queries
//! only, bounded bodies and batches, a deadline per request, and status codes that depend
//! on the negotiated media type (see [`ResponseMedia`]). `body` reads requests,
//! `render` writes replies; a WebSocket upgrade on the same URL goes to [`super::ws`].
//! It may call the pipeline, `domain::sessions` (authentication) and `db` (the request's
//! read connection).

mod body;
mod render;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use async_graphql::{Executor, ServerError};
use axum::{
    Extension,
    body::Body,
    extract::{
        ConnectInfo, RawQuery, State,
        ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};

use self::body::{GetParams, Payload};
use super::{
    client_ip::TrustedProxies,
    ide,
    negotiate::{self, BodyKind, ResponseMedia},
    reply,
    ws::Sockets,
};
use crate::{
    db::{PgPool, RequestDb},
    domain::{devices::UserAgent, policy::Viewer, sessions},
    error::{AppError, ErrorCode},
    graphql::{
        admission::Caller,
        execution::{Outcome, Pipeline, Transport},
    },
    metrics::{ConnectionLimit, Metrics},
    ratelimit::ClientIp,
};

/// The response extension counting the SQL statements a request sent on its read
/// connection (session lookup included), when `REPORT_SQL_STATEMENTS` is on.
pub const SQL_STATEMENTS_KEY: &str = "sqlStatements";

/// Limits the handler enforces before and around execution.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Largest accepted body in bytes.
    pub body: usize,
    /// Most operations in one batch.
    pub batch: usize,
    /// Longest a request may run.
    pub timeout: Duration,
    /// Longest reading the body and authenticating may take (`REQUEST_BODY_TIMEOUT_MS`).
    pub body_timeout: Duration,
}

/// What `/graphql` serves with besides its executor, one per instance (built by the
/// composition root).
pub struct EndpointState {
    /// The database pool (authentication and each request's read connection).
    pub pool: PgPool,
    /// The operation pipeline.
    pub pipeline: Pipeline,
    /// The HTTP limits (the timeout applies to WebSocket queries too).
    pub limits: HttpLimits,
    /// What the endpoint's WebSockets share.
    pub sockets: Sockets,
    /// The built IDEs, when a browser's GET without a query gets GraphiQL
    /// (`GRAPHIQL_ENABLED`).
    pub graphiql: Option<ide::IdeDist>,
    /// Whether responses count their SQL statements ([`SQL_STATEMENTS_KEY`]).
    pub report_sql_statements: bool,
    /// The proxies whose forwarding headers give the client IP (`TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// The instance's metrics (the connection limits count their refusals).
    pub metrics: Arc<Metrics>,
}

/// The `/graphql` endpoint's state: the executor (normally the schema) and the rest of
/// what it serves with.
#[derive(Clone)]
pub struct GraphqlEndpoint<E> {
    executor: E,
    state: Arc<EndpointState>,
}

impl<E: Executor> GraphqlEndpoint<E> {
    /// An endpoint serving `executor` with `state`.
    pub fn new(executor: E, state: EndpointState) -> Self {
        Self {
            executor,
            state: Arc::new(state),
        }
    }

    /// What the endpoint serves with.
    pub(super) fn state(&self) -> &EndpointState {
        &self.state
    }

    /// The executor.
    pub(super) fn executor(&self) -> &E {
        &self.executor
    }
}

/// The client IP: axum's connect info (absent when called in process), or what a trusted
/// proxy forwarded ([`super::client_ip`]).
fn client_ip(
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
    trusted: &TrustedProxies,
) -> Option<ClientIp> {
    info.map(|Extension(ConnectInfo(addr))| trusted.client_ip(addr.ip(), headers))
}

/// The request's `User-Agent`, as a session it signs in keeps it.
fn user_agent(headers: &HeaderMap) -> Option<UserAgent> {
    headers
        .get(header::USER_AGENT)
        .and_then(|value| UserAgent::from_header(value.as_bytes()))
}

/// `GET /graphql`: a WebSocket upgrade (subscriptions), queries from the URL, or GraphiQL
/// for a browser.
pub async fn get<E: Executor>(
    State(endpoint): State<GraphqlEndpoint<E>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ip = client_ip(info, &headers, &endpoint.state.trusted_proxies);
    if let Ok(ws) = upgrade {
        return endpoint.upgrade(ws, ip, user_agent(&headers));
    }
    let params = serde_urlencoded::from_str::<GetParams>(raw.as_deref().unwrap_or(""));
    let wants_ide = matches!(&params, Ok(p) if p.query.is_none());
    if let Some(dist) = &endpoint.state.graphiql
        && wants_ide
        && negotiate::wants_html(&headers)
    {
        return dist.page(ide::Ide::GraphiQL).await;
    }
    let Some(media) = negotiate::response_media(&headers) else {
        return render::not_acceptable();
    };
    let operation = match params
        .map_err(|e| e.to_string())
        .and_then(GetParams::decode)
    {
        Ok(operation) => operation,
        Err(message) => return render::bad_request(media, message),
    };
    let db = RequestDb::new(&endpoint.state.pool);
    let limits = endpoint.state.limits;
    let authenticated = endpoint.authenticate(media, &headers, &db);
    let viewer = match tokio::time::timeout(limits.body_timeout, authenticated).await {
        Ok(Ok(viewer)) => viewer,
        Ok(Err(response)) => return response,
        Err(_) => return endpoint.body_timed_out(media),
    };
    let caller = Caller {
        viewer,
        ip,
        user_agent: user_agent(&headers),
    };
    let payload = Payload::Single(operation);
    endpoint
        .run(media, Transport::HttpGet, caller, &db, payload)
        .await
}

/// `POST /graphql`: one operation or a batch in a JSON body.
pub async fn post<E: Executor>(
    State(endpoint): State<GraphqlEndpoint<E>>,
    headers: HeaderMap,
    info: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Body,
) -> Response {
    let Some(media) = negotiate::response_media(&headers) else {
        return render::not_acceptable();
    };
    match negotiate::body_kind(&headers) {
        BodyKind::Json => {}
        BodyKind::Simple if !negotiate::has_preflight_header(&headers) => {
            return reply::error(
                media,
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                "This request has been blocked as a potential cross-site request forgery. \
                 Send it with Content-Type: application/json, or with a non-empty \
                 Apollo-Require-Preflight header.",
            );
        }
        BodyKind::Simple | BodyKind::Unsupported => {
            return reply::error(
                media,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "Send GraphQL requests as Content-Type: application/json (UTF-8).",
            );
        }
    }
    let limits = endpoint.state.limits;
    let db = RequestDb::new(&endpoint.state.pool);
    // Reading the body and authenticating share one deadline: a client sending its body
    // a byte at a time cannot hold the connection (and an in-flight permit) for long.
    let read = async {
        let bytes = body::read_body(body, &headers, limits.body).await?;
        let payload = body::parse_payload(&bytes, limits.batch).map_err(|(code, message)| {
            reply::error(media, StatusCode::BAD_REQUEST, code, message)
        })?;
        let viewer = endpoint.authenticate(media, &headers, &db).await?;
        Ok::<_, Response>((payload, viewer))
    };
    let (payload, viewer) = match tokio::time::timeout(limits.body_timeout, read).await {
        Ok(Ok(read)) => read,
        Ok(Err(response)) => {
            if response.status() == StatusCode::PAYLOAD_TOO_LARGE {
                endpoint.refused(ConnectionLimit::BodyTooLarge);
            }
            return response;
        }
        Err(_) => return endpoint.body_timed_out(media),
    };
    let caller = Caller {
        viewer,
        ip: client_ip(info, &headers, &endpoint.state.trusted_proxies),
        user_agent: user_agent(&headers),
    };
    endpoint
        .run(media, Transport::HttpPost, caller, &db, payload)
        .await
}

impl<E: Executor> GraphqlEndpoint<E> {
    /// Counts a refusal by a connection limit.
    fn refused(&self, limit: ConnectionLimit) {
        self.state.metrics.connections.refused(limit);
    }

    /// The 408 for a body or authentication past `REQUEST_BODY_TIMEOUT_MS`; the
    /// connection closes (the rest of the body is not read).
    fn body_timed_out(&self, media: ResponseMedia) -> Response {
        self.refused(ConnectionLimit::BodyTimeout);
        let timeout = self.state.limits.body_timeout;
        tracing::info!(timeout_ms = timeout.as_millis(), "request body timed out");
        let mut response = reply::error(
            media,
            StatusCode::REQUEST_TIMEOUT,
            ErrorCode::RequestTimeout,
            "The request body and its authentication took longer than the server allows.",
        );
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        response
    }

    /// The viewer named by the `Authorization` header. A header that names no valid session
    /// fails the whole request (never silent anonymity): 401 under
    /// `application/graphql-response+json`, 200 under `application/json`.
    async fn authenticate(
        &self,
        media: ResponseMedia,
        headers: &HeaderMap,
        db: &RequestDb,
    ) -> Result<Option<Viewer>, Response> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let result = match value.to_str() {
            Ok(value) => sessions::authenticate(db, value).await,
            Err(_) => Err(AppError::Unauthenticated(
                "Invalid Authorization header.".into(),
            )),
        };
        result.map(Some).map_err(|err| {
            let unauthenticated = matches!(err, AppError::Unauthenticated(_));
            let status = match (media, &err) {
                (ResponseMedia::Json, _) => StatusCode::OK,
                (_, AppError::Unauthenticated(_)) => StatusCode::UNAUTHORIZED,
                (_, AppError::ServiceUnavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let mut response = reply::errors(media, status, &[ServerError::from(err)]);
            if unauthenticated {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            response
        })
    }

    /// Runs the payload through the pipeline within the request deadline and renders the
    /// reply.
    async fn run(
        &self,
        media: ResponseMedia,
        transport: Transport,
        caller: Caller,
        db: &Arc<RequestDb>,
        payload: Payload,
    ) -> Response {
        let pipeline = &self.state.pipeline;
        // What the reply holds of the memory budget, and the one response meter of all
        // its operations: released once the body is rendered.
        let mut held = pipeline.held();
        let work = async {
            match payload {
                Payload::Single(operation) => {
                    // Boxed: the pipeline's future is large, and moving it into the
                    // deadline's future below cost a memcpy of it per request.
                    let mut outcome = Box::pin(pipeline.run(
                        &self.executor,
                        db,
                        operation,
                        transport,
                        caller,
                        &mut held,
                    ))
                    .await;
                    if let Outcome::Executed(response) = &mut outcome
                        && self.state.report_sql_statements
                    {
                        let count = i64::try_from(db.statements()).unwrap_or(i64::MAX);
                        response
                            .extensions
                            .insert(SQL_STATEMENTS_KEY.to_owned(), count.into());
                    }
                    let reply = render::single(media, outcome);
                    drop(held);
                    reply
                }
                Payload::Batch(list) => {
                    // One after another, sharing the request's read connection: a batch
                    // holds at most one pooled connection for reads at any time (plus a
                    // mutation's own, after the read one is released). They share `held`
                    // too: RESPONSE_MAX_BYTES bounds the whole batch's reply.
                    let mut outcomes = Vec::with_capacity(list.len());
                    for operation in list {
                        let outcome = Box::pin(pipeline.run(
                            &self.executor,
                            db,
                            operation,
                            transport,
                            caller.clone(),
                            &mut held,
                        ))
                        .await;
                        outcomes.push(outcome);
                    }
                    let reply = render::batch(media, outcomes);
                    drop(held);
                    reply
                }
            }
        };
        let timeout = self.state.limits.timeout;
        match tokio::time::timeout(timeout, work).await {
            Ok(response) => response,
            Err(_) => {
                tracing::warn!(timeout_ms = timeout.as_millis(), "request timed out");
                reply::error(
                    media,
                    StatusCode::GATEWAY_TIMEOUT,
                    ErrorCode::InternalServerError,
                    TIMED_OUT,
                )
            }
        }
    }
}

/// What a request cut short by its deadline is told (over HTTP and WebSocket alike).
pub(super) const TIMED_OUT: &str =
    "The request took longer than the server allows and was cancelled.";
