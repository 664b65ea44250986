//! The errors that reach clients, and their stable codes.
//!
//! Domain and database code return [`AppError`] (or an error that converts into it);
//! `graphql::error` is the one place that turns it into a GraphQL error with
//! `extensions.code`, masking internal detail.

use std::fmt;

/// A stable, documented error code, sent as `extensions.code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// No, invalid, expired or revoked token where one is needed.
    Unauthenticated,
    /// Signed in, but the policy says no.
    Forbidden,
    /// A mutation's target does not exist.
    NotFound,
    /// Input that fails validation; comes with `extensions.fieldErrors`.
    BadUserInput,
    /// Too many attempts; comes with `extensions.retryAfter`.
    RateLimited,
    /// The HTTP request is malformed: bad JSON, a missing or mistyped parameter, or a
    /// cross-site request without a preflight-forcing header.
    BadRequest,
    /// The document is not valid GraphQL syntax.
    GraphqlParseFailed,
    /// The document does not validate against the schema.
    GraphqlValidationFailed,
    /// A mutation sent with GET (HTTP 405).
    MethodNotAllowed,
    /// The body is larger than the configured limit (HTTP 413).
    PayloadTooLarge,
    /// The request's media type is not supported (HTTP 415).
    UnsupportedMediaType,
    /// The client accepts no media type Conduit can answer with (HTTP 406).
    NotAcceptable,
    /// A JSON batch holds more operations than allowed.
    BatchLimitExceeded,
    /// The document is longer than `QUERY_MAX_BYTES`.
    DocumentTooLarge,
    /// The document has more lexical tokens than `QUERY_MAX_TOKENS`.
    TokenLimitExceeded,
    /// Fields nest deeper than `QUERY_MAX_DEPTH`.
    DepthLimitExceeded,
    /// The document has more aliases than `QUERY_MAX_ALIASES`.
    AliasLimitExceeded,
    /// An operation selects more root fields than `QUERY_MAX_ROOT_FIELDS`.
    RootFieldLimitExceeded,
    /// An operation's complexity is above `QUERY_MAX_COMPLEXITY`.
    ComplexityLimitExceeded,
    /// A persisted query's hash is not stored: send the query text with it.
    PersistedQueryNotFound,
    /// Persisted queries are off on this server: send the query text.
    PersistedQueryNotSupported,
    /// The server runs only its safelist, and this operation is not on it.
    PersistedQueryNotInList,
    /// The database is unreachable, the pool stayed exhausted past its wait, the
    /// connection was lost under a statement (PostgreSQL restarting), or a statement ran
    /// past `DATABASE_STATEMENT_TIMEOUT_MS`.
    ServiceUnavailable,
    /// Anything else; the message is masked and the details are in the server log.
    InternalServerError,
    /// The body or authentication took longer than `REQUEST_BODY_TIMEOUT_MS` (HTTP 408).
    RequestTimeout,
    /// The response would hold more than `RESPONSE_MAX_BYTES`: refused, with no data.
    ResponseTooLarge,
}

impl ErrorCode {
    /// The code as sent to clients.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::RateLimited => "RATE_LIMITED",
            Self::BadRequest => "BAD_REQUEST",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::NotAcceptable => "NOT_ACCEPTABLE",
            Self::BatchLimitExceeded => "BATCH_LIMIT_EXCEEDED",
            Self::DocumentTooLarge => "DOCUMENT_TOO_LARGE",
            Self::TokenLimitExceeded => "TOKEN_LIMIT_EXCEEDED",
            Self::DepthLimitExceeded => "DEPTH_LIMIT_EXCEEDED",
            Self::AliasLimitExceeded => "ALIAS_LIMIT_EXCEEDED",
            Self::RootFieldLimitExceeded => "ROOT_FIELD_LIMIT_EXCEEDED",
            Self::ComplexityLimitExceeded => "COMPLEXITY_LIMIT_EXCEEDED",
            Self::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::PersistedQueryNotSupported => "PERSISTED_QUERY_NOT_SUPPORTED",
            Self::PersistedQueryNotInList => "PERSISTED_QUERY_NOT_IN_LIST",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
            Self::RequestTimeout => "REQUEST_TIMEOUT",
            Self::ResponseTooLarge => "RESPONSE_TOO_LARGE",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invalid input field: `field` is the input field's schema name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The input field's name in the schema, e.g. `username`.
    pub field: String,
    /// What is wrong with it, for people.
    pub message: String,
}

/// The message sent in place of an internal error's details.
pub const INTERNAL_MESSAGE: &str = "Internal server error";

/// An error a request can end with.
///
/// It deliberately implements neither `Display` nor `std::error::Error`: async-graphql
/// converts every `Display` type into an error without a code, and this keeps `?` in a
/// resolver going through the one conversion in `graphql::error`, which sets the code.
#[derive(Debug)]
pub enum AppError {
    /// Authentication is needed or the credentials are not valid.
    Unauthenticated(String),
    /// The viewer may not do this.
    Forbidden(String),
    /// A mutation's target does not exist.
    NotFound(String),
    /// Some input fields are invalid.
    BadUserInput {
        /// A summary for people.
        message: String,
        /// One entry per invalid field.
        field_errors: Vec<FieldError>,
    },
    /// Too many attempts.
    RateLimited {
        /// Seconds until the next attempt may succeed.
        retry_after_secs: u64,
    },
    /// The database cannot serve the request now (the cause is logged, not sent).
    ServiceUnavailable(anyhow::Error),
    /// A bug or an unexpected failure (the cause is logged, never sent).
    Internal(anyhow::Error),
    /// What the request loaded passed `RESPONSE_MAX_BYTES`.
    ResponseTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// The message sent for [`AppError::ServiceUnavailable`].
pub const UNAVAILABLE_MESSAGE: &str = "The service is temporarily unavailable; retry shortly.";

impl AppError {
    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadUserInput { .. } => ErrorCode::BadUserInput,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::ServiceUnavailable(_) => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::InternalServerError,
            Self::ResponseTooLarge { .. } => ErrorCode::ResponseTooLarge,
        }
    }

    /// The message clients see: internal detail is never part of it.
    pub fn client_message(&self) -> String {
        match self {
            Self::Unauthenticated(m) | Self::Forbidden(m) | Self::NotFound(m) => m.clone(),
            Self::BadUserInput { message, .. } => message.clone(),
            Self::RateLimited { retry_after_secs } => {
                format!("Too many attempts; retry in {retry_after_secs} s.")
            }
            Self::ServiceUnavailable(_) => UNAVAILABLE_MESSAGE.to_owned(),
            Self::Internal(_) => INTERNAL_MESSAGE.to_owned(),
            Self::ResponseTooLarge { limit } => format!(
                "The response would be larger than {limit} bytes; ask for less (smaller pages, \
                 fewer large fields)."
            ),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        Self::Internal(err)
    }
}
