//! Conduit's GraphQL-over-HTTP handler on top of async-graphql's execution.
//!
//! It follows the GraphQL-over-HTTP spec: JSON bodies only (CSRF-safe), GET for queries
//! only, bounded bodies and batches, a deadline per request, and status codes that depend
//! on the negotiated media type (see [`ResponseMedia`]).

use std::{net::SocketAddr, sync::Arc, time::Duration};

use async_graphql::{
    Executor, Extensions, ServerError, Variables,
    parser::types::{ExecutableDocument, OperationType},
};
use axum::{
    Extension,
    body::{Body, Bytes},
    extract::{
        ConnectInfo, RawQuery, State,
        ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use super::{
    ide,
    negotiate::{self, BodyKind, ResponseMedia},
    reply,
};
use crate::{
    db::RequestDb,
    domain::{policy::Viewer, sessions},
    error::{AppError, ErrorCode},
    graphql::{
        admission::{self, Caller, Ticket},
        loaders::Loaders,
        persisted::Resolved,
        response_order,
    },
    ratelimit::ClientIp,
    state::AppState,
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
}

/// The `/graphql` endpoint's state: the executor (normally the schema), the application
/// state (for authentication and loaders) and the limits.
#[derive(Clone)]
pub struct GraphqlEndpoint<E> {
    executor: E,
    state: AppState,
    limits: HttpLimits,
    graphiql: bool,
}

impl<E: Executor> GraphqlEndpoint<E> {
    /// The application state.
    pub(super) fn state(&self) -> &AppState {
        &self.state
    }

    /// The executor.
    pub(super) fn executor(&self) -> &E {
        &self.executor
    }

    /// An endpoint serving `executor` with the limits from the state's configuration.
    pub fn new(executor: E, state: &AppState) -> Self {
        let config = &state.config;
        Self {
            executor,
            state: state.clone(),
            limits: HttpLimits {
                body: config.body_limit,
                batch: config.batch_limit,
                timeout: config.request_timeout,
            },
            graphiql: config.graphiql,
        }
    }
}

const MUTATION_OVER_GET: &str = "Mutations cannot be sent with GET; use POST.";

/// The parameters of one GraphQL request, typed as the spec requires: a wrong type is a
/// request error, unknown keys are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Params {
    #[serde(default)]
    pub(super) query: Option<String>,
    #[serde(default)]
    pub(super) operation_name: Option<String>,
    #[serde(default)]
    pub(super) variables: Option<Variables>,
    #[serde(default)]
    pub(super) extensions: Option<Extensions>,
}

/// GET parameters arrive as strings; `variables` and `extensions` hold JSON.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

/// What the client sent: one operation or a JSON batch.
enum Payload {
    Single(Params),
    Batch(Vec<Params>),
}

/// The client IP axum's connect info gives (absent when called in process).
pub(super) fn client_ip(info: Option<Extension<ConnectInfo<SocketAddr>>>) -> Option<ClientIp> {
    info.map(|Extension(ConnectInfo(addr))| ClientIp(addr.ip()))
}

/// How one operation ended.
pub(super) enum Outcome {
    /// It ran (possibly with field errors).
    Executed(async_graphql::Response),
    /// The request is malformed (no `query`): 400 whatever the media type.
    Malformed(ServerError),
    /// The document failed before execution (parse or validation failure): 400 under
    /// `application/graphql-response+json`, 200 under `application/json`.
    Rejected(Vec<ServerError>),
    /// A mutation over GET.
    MutationOverGet,
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
    let ip = client_ip(info);
    if let Ok(ws) = upgrade {
        return endpoint.upgrade(ws, ip);
    }
    let params = serde_urlencoded::from_str::<GetParams>(raw.as_deref().unwrap_or(""));
    let wants_ide = matches!(&params, Ok(p) if p.query.is_none());
    if wants_ide && endpoint.graphiql && negotiate::wants_html(&headers) {
        return ide::graphiql().into_response();
    }
    let Some(media) = negotiate::response_media(&headers) else {
        return not_acceptable();
    };
    let params = match params
        .map_err(|e| e.to_string())
        .and_then(GetParams::decode)
    {
        Ok(params) => params,
        Err(message) => return bad_request(media, message),
    };
    let db = RequestDb::new(&endpoint.state.pool);
    let viewer = match endpoint.authenticate(media, &headers, &db).await {
        Ok(viewer) => viewer,
        Err(response) => return response,
    };
    endpoint
        .run(
            media,
            true,
            Caller { viewer, ip },
            &db,
            Payload::Single(params),
        )
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
        return not_acceptable();
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
    let bytes = match read_body(body, &headers, endpoint.limits.body).await {
        Ok(bytes) => bytes,
        Err(response) => return response,
    };
    let payload = match parse_payload(&bytes, endpoint.limits.batch) {
        Ok(payload) => payload,
        Err((code, message)) => return reply::error(media, StatusCode::BAD_REQUEST, code, message),
    };
    let db = RequestDb::new(&endpoint.state.pool);
    let viewer = match endpoint.authenticate(media, &headers, &db).await {
        Ok(viewer) => viewer,
        Err(response) => return response,
    };
    let caller = Caller {
        viewer,
        ip: client_ip(info),
    };
    endpoint.run(media, false, caller, &db, payload).await
}

impl<E: Executor> GraphqlEndpoint<E> {
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
            let error: async_graphql::Error = err.into();
            let mut server_error = ServerError::new(error.message, None);
            server_error.extensions = error.extensions;
            let mut response = reply::errors(media, status, &[server_error]);
            if unauthenticated {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            response
        })
    }

    /// Executes the payload within the request deadline and renders the reply.
    async fn run(
        &self,
        media: ResponseMedia,
        is_get: bool,
        caller: Caller,
        db: &Arc<RequestDb>,
        payload: Payload,
    ) -> Response {
        let work = async {
            match payload {
                Payload::Single(params) => {
                    let mut outcome = self.execute(params, is_get, caller, db).await;
                    if let Outcome::Executed(response) = &mut outcome
                        && self.state.config.report_sql_statements
                    {
                        let count = i64::try_from(db.statements()).unwrap_or(i64::MAX);
                        response
                            .extensions
                            .insert(SQL_STATEMENTS_KEY.to_owned(), count.into());
                    }
                    render_single(media, outcome)
                }
                Payload::Batch(list) => {
                    // One after another, sharing the request's read connection: a batch
                    // holds at most one pooled connection for reads at any time (plus a
                    // mutation's own, after the read one is released).
                    let mut outcomes = Vec::with_capacity(list.len());
                    for params in list {
                        outcomes.push(self.execute(params, is_get, caller, db).await);
                    }
                    render_batch(media, outcomes)
                }
            }
        };
        match tokio::time::timeout(self.limits.timeout, work).await {
            Ok(response) => response,
            Err(_) => {
                tracing::warn!(
                    timeout_ms = self.limits.timeout.as_millis(),
                    "request timed out"
                );
                reply::error(
                    media,
                    StatusCode::GATEWAY_TIMEOUT,
                    ErrorCode::InternalServerError,
                    "The request took longer than the server allows and was cancelled.",
                )
            }
        }
    }

    /// Parses, checks and executes one operation, through [`admission`] from start to end.
    pub(super) async fn execute(
        &self,
        params: Params,
        is_get: bool,
        caller: Caller,
        db: &Arc<RequestDb>,
    ) -> Outcome {
        let state = &self.state;
        let mut ticket = Ticket::new(params.operation_name.as_deref());
        let persisted = params
            .extensions
            .as_ref()
            .is_some_and(|e| e.contains_key("persistedQuery"));
        if params.query.is_none() && !persisted {
            let error = reply::coded_error(
                ErrorCode::BadRequest,
                "The request has no `query` parameter.",
            );
            admission::refused(state, ticket, &[]);
            return Outcome::Malformed(error);
        }
        let resolved = state
            .persisted
            .resolve(db, params.query.clone(), params.extensions.as_ref())
            .await;
        let Resolved { query, register } = match resolved {
            Ok(resolved) => resolved,
            Err(error) => return refuse(state, ticket, error),
        };
        let document = match admission::parse(state, &mut ticket, &query) {
            Ok(document) => document,
            Err(error) => return refuse(state, ticket, error),
        };
        match ticket.operation_type() {
            Some(OperationType::Mutation) if is_get => {
                admission::refused(state, ticket, &[]);
                return Outcome::MutationOverGet;
            }
            Some(OperationType::Subscription) => {
                let error = reply::coded_error(
                    ErrorCode::BadRequest,
                    "Subscriptions are served over WebSocket (graphql-transport-ws) on this URL.",
                );
                return refuse(state, ticket, error);
            }
            _ => {}
        }
        let variables = params.variables.unwrap_or_default();
        if let Err(error) =
            admission::admit(state, &mut ticket, &query, &document, &variables, caller)
        {
            return refuse(state, ticket, error);
        }
        let mut request = async_graphql::Request::new(query.clone());
        request.set_parsed_query(ExecutableDocument::clone(&document));
        request.operation_name = params.operation_name.clone();
        request.variables = variables;
        request.extensions = params.extensions.unwrap_or_default();
        let loaders = Arc::new(Loaders::new(Arc::clone(db), &state.metrics));
        let queue = Arc::clone(&loaders.queue);
        request.data.insert(loaders);
        if let Some(viewer) = caller.viewer {
            request.data.insert(viewer);
        }
        if let Some(ip) = caller.ip {
            request.data.insert(ip);
        }

        let mut response = queue.drive(self.executor.execute(request)).await;
        if admission::finish(state, ticket, &mut response) {
            return Outcome::Rejected(request_errors(std::mem::take(&mut response.errors)));
        }
        if let Some(hash) = register
            && let Err(err) = state.persisted.register(db, hash, query).await
        {
            // The operation ran; the client will send the text again next time.
            tracing::warn!(error = ?err, "could not store a persisted query");
        }
        response_order::null_failed_fields(&mut response.data, &response.errors);
        response_order::restore(
            &document,
            params.operation_name.as_deref(),
            &mut response.data,
        );
        Outcome::Executed(response)
    }
}

/// An operation refused before the executor, recorded as such.
fn refuse(state: &AppState, ticket: Ticket, error: ServerError) -> Outcome {
    admission::refused(state, ticket, std::slice::from_ref(&error));
    Outcome::Rejected(vec![error])
}

impl GetParams {
    fn decode(self) -> Result<Params, String> {
        fn json<T: serde::de::DeserializeOwned>(
            name: &str,
            raw: Option<String>,
        ) -> Result<Option<T>, String> {
            raw.map(|text| {
                serde_json::from_str(&text).map_err(|e| format!("`{name}` is not valid JSON: {e}"))
            })
            .transpose()
        }
        Ok(Params {
            query: self.query,
            operation_name: self.operation_name,
            variables: json("variables", self.variables)?,
            extensions: json("extensions", self.extensions)?,
        })
    }
}

/// Errors that failed a request before execution, each with a code
/// (GRAPHQL_VALIDATION_FAILED unless it has one).
pub(super) fn request_errors(errors: Vec<ServerError>) -> Vec<ServerError> {
    errors
        .into_iter()
        .map(|error| match &error.extensions {
            Some(ext) if ext.get("code").is_some() => error,
            _ => reply::with_code(error, ErrorCode::GraphqlValidationFailed),
        })
        .collect()
}

fn render_single(media: ResponseMedia, outcome: Outcome) -> Response {
    match outcome {
        Outcome::Executed(response) => {
            let body = serde_json::to_vec(&response).expect("responses serialize");
            let mut reply = reply::json(media, StatusCode::OK, body);
            reply.headers_mut().extend(response.http_headers);
            reply
        }
        Outcome::Rejected(errors) => match errors.iter().find_map(retry_after) {
            // Over the cost budget: 429 with Retry-After, the way HTTP APIs say "later".
            Some(seconds) => {
                let status = match media {
                    ResponseMedia::Json => StatusCode::OK,
                    ResponseMedia::GraphqlResponseJson => StatusCode::TOO_MANY_REQUESTS,
                };
                let mut reply = reply::errors(media, status, &errors);
                reply
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                reply
            }
            // Apollo's persisted-query protocol: the client retries with the text when it
            // reads this error, so it comes as a GraphQL response whatever the media type
            // (as Apollo Router sends it).
            None if errors.iter().any(|e| {
                has_code(e, ErrorCode::PersistedQueryNotFound)
                    || has_code(e, ErrorCode::PersistedQueryNotSupported)
            }) =>
            {
                reply::errors(media, StatusCode::OK, &errors)
            }
            // The database failed while the request was being prepared (a persisted
            // query's lookup): 503, as when authentication meets the same failure.
            None if media == ResponseMedia::GraphqlResponseJson
                && errors
                    .iter()
                    .any(|e| has_code(e, ErrorCode::ServiceUnavailable)) =>
            {
                reply::errors(media, StatusCode::SERVICE_UNAVAILABLE, &errors)
            }
            None => reply::errors(media, media.request_error_status(), &errors),
        },
        Outcome::Malformed(error) => reply::errors(media, StatusCode::BAD_REQUEST, &[error]),
        Outcome::MutationOverGet => {
            let mut reply = reply::error(
                media,
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                MUTATION_OVER_GET,
            );
            reply
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            reply
        }
    }
}

/// True when `error`'s `extensions.code` is `code`.
fn has_code(error: &ServerError, code: ErrorCode) -> bool {
    error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .is_some_and(|c| *c == async_graphql::Value::from(code.as_str()))
}

/// The `retryAfter` (seconds) of a RATE_LIMITED error.
fn retry_after(error: &ServerError) -> Option<u64> {
    if !has_code(error, ErrorCode::RateLimited) {
        return None;
    }
    match error.extensions.as_ref()?.get("retryAfter")? {
        async_graphql::Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn render_batch(media: ResponseMedia, outcomes: Vec<Outcome>) -> Response {
    // A batch answers 200 whatever its items did; an item over the cost budget still
    // gives the whole reply a Retry-After.
    let retry = outcomes
        .iter()
        .filter_map(|outcome| match outcome {
            Outcome::Rejected(errors) => errors.iter().find_map(retry_after),
            _ => None,
        })
        .max();
    let items: Vec<serde_json::Value> = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Outcome::Executed(response) => serde_json::to_value(&response),
            Outcome::Rejected(errors) => {
                serde_json::to_value(reply::ErrorsBody { errors: &errors })
            }
            Outcome::Malformed(error) => {
                serde_json::to_value(reply::ErrorsBody { errors: &[error] })
            }
            Outcome::MutationOverGet => serde_json::to_value(reply::ErrorsBody {
                errors: &[reply::coded_error(
                    ErrorCode::MethodNotAllowed,
                    MUTATION_OVER_GET,
                )],
            }),
        })
        .collect::<Result<_, _>>()
        .expect("responses serialize");
    let body = serde_json::to_vec(&items).expect("responses serialize");
    let mut reply = reply::json(media, StatusCode::OK, body);
    if let Some(seconds) = retry {
        reply
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    reply
}

/// Reads the body, refusing more than `limit` bytes.
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, Response> {
    let too_large = || {
        reply::error(
            ResponseMedia::Json,
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("The request body is larger than {limit} bytes."),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|err| {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(inner) = source {
            if inner.is::<http_body_util::LengthLimitError>() {
                return too_large();
            }
            source = inner.source();
        }
        reply::error(
            ResponseMedia::Json,
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "The request body could not be read.",
        )
    })
}

/// Parses a JSON body into one operation or a batch.
fn parse_payload(bytes: &[u8], batch_limit: usize) -> Result<Payload, (ErrorCode, String)> {
    let bad = |e: serde_json::Error| (ErrorCode::BadRequest, format!("Invalid request body: {e}"));
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err((
            ErrorCode::BadRequest,
            "The request body is empty.".to_owned(),
        )),
        Some(b'[') => {
            let list: Vec<Params> = serde_json::from_slice(bytes).map_err(bad)?;
            if list.is_empty() {
                return Err((ErrorCode::BadRequest, "The batch is empty.".to_owned()));
            }
            if list.len() > batch_limit {
                return Err((
                    ErrorCode::BatchLimitExceeded,
                    format!("A batch may hold at most {batch_limit} operations."),
                ));
            }
            Ok(Payload::Batch(list))
        }
        Some(_) => serde_json::from_slice(bytes)
            .map(Payload::Single)
            .map_err(bad),
    }
}

fn bad_request(media: ResponseMedia, message: String) -> Response {
    reply::error(
        media,
        media.request_error_status(),
        ErrorCode::BadRequest,
        message,
    )
}

fn not_acceptable() -> Response {
    reply::error(
        ResponseMedia::Json,
        StatusCode::NOT_ACCEPTABLE,
        ErrorCode::NotAcceptable,
        "Accept application/json or application/graphql-response+json.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mistyped_parameters_are_refused() {
        for body in [
            r#"{"query": 0}"#,
            r#"{"query": "{a}", "operationName": false}"#,
            r#"{"query": "{a}", "variables": "x"}"#,
            r#"{"query": "{a}", "variables": ["array"]}"#,
            r#"{"query": "{a}", "extensions": 0}"#,
            r#"{ "not a JSON"#,
        ] {
            assert!(parse_payload(body.as_bytes(), 10).is_err(), "{body}");
        }
    }

    #[test]
    fn null_parameters_are_allowed() {
        let body =
            r#"{"query": "{a}", "operationName": null, "variables": null, "extensions": null}"#;
        assert!(parse_payload(body.as_bytes(), 10).is_ok());
    }

    #[test]
    fn batches_are_bounded() {
        let batch = format!("[{}]", [r#"{"query":"{a}"}"#; 3].join(","));
        assert!(parse_payload(batch.as_bytes(), 3).is_ok());
        let Err((code, _)) = parse_payload(batch.as_bytes(), 2) else {
            panic!("accepted")
        };
        assert_eq!(code, ErrorCode::BatchLimitExceeded);
        assert!(parse_payload(b"[]", 2).is_err());
    }
}
