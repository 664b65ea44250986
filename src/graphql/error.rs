//! The one conversion point from [`AppError`] to GraphQL errors with `extensions.code`:
//! [`async_graphql::Error`] for resolvers, [`ServerError`] (built from it) for whatever
//! fails outside a resolver; and the codes every other error gets. Calls nothing but
//! [`crate::error`].

use async_graphql::{ErrorExtensionValues, ServerError, Value};

use crate::error::{AppError, ErrorCode};

/// How async-graphql words a failed argument coercion.
const COERCION_FAILURE: &str = "Failed to parse";

/// Gives every execution error an `extensions.code` (see [`super::admission`], which calls
/// this on every response): async-graphql raises a few itself, without one. An argument
/// value it cannot coerce (an Int outside 32 bits, which its validation lets through) is
/// `BAD_USER_INPUT`; anything else uncoded is a bug, logged and masked as
/// `INTERNAL_SERVER_ERROR`. Request errors (no path) are coded by [`request_errors`].
pub fn code_errors(errors: &mut [ServerError]) {
    for error in errors.iter_mut().filter(|e| !e.path.is_empty()) {
        if error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some())
        {
            continue;
        }
        let code = if error.message.starts_with(COERCION_FAILURE) {
            ErrorCode::BadUserInput
        } else {
            tracing::error!(error = %error.message, path = ?error.path, "an execution error without a code");
            error.message = AppError::Internal(anyhow::anyhow!("uncoded")).client_message();
            error.extensions = None;
            ErrorCode::InternalServerError
        };
        error
            .extensions
            .get_or_insert_with(ErrorExtensionValues::default)
            .set("code", code.as_str());
    }
}

/// A GraphQL error with `extensions.code`.
pub fn coded_error(code: ErrorCode, message: impl Into<String>) -> ServerError {
    with_code(ServerError::new(message, None), code)
}

/// Sets `extensions.code` on `error`.
pub fn with_code(mut error: ServerError, code: ErrorCode) -> ServerError {
    error
        .extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set("code", code.as_str());
    error
}

/// Errors that failed a request before execution, each with a code
/// (GRAPHQL_VALIDATION_FAILED unless it has one).
pub fn request_errors(errors: Vec<ServerError>) -> Vec<ServerError> {
    errors
        .into_iter()
        .map(|error| match &error.extensions {
            Some(ext) if ext.get("code").is_some() => error,
            _ => with_code(error, ErrorCode::GraphqlValidationFailed),
        })
        .collect()
}

impl From<AppError> for ServerError {
    /// The error as a request error (no position, no path), with the code, message and
    /// extensions of [`async_graphql::Error`]'s conversion.
    fn from(err: AppError) -> Self {
        let error: async_graphql::Error = err.into();
        let mut server_error = ServerError::new(error.message, None);
        server_error.extensions = error.extensions;
        server_error
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        let code = err.code();
        let message = err.client_message();
        match &err {
            AppError::Internal(source) => tracing::error!(error = ?source, "internal error"),
            AppError::ServiceUnavailable(source) => {
                tracing::warn!(error = %format!("{source:#}"), "service unavailable");
            }
            _ => {}
        }
        let mut extensions = ErrorExtensionValues::default();
        extensions.set("code", code.as_str());
        match err {
            AppError::BadUserInput { field_errors, .. } => {
                let list = field_errors
                    .into_iter()
                    .map(|fe| {
                        Value::from_json(
                            serde_json::json!({"field": fe.field, "message": fe.message}),
                        )
                        .unwrap_or(Value::Null)
                    })
                    .collect::<Vec<_>>();
                extensions.set("fieldErrors", Value::List(list));
            }
            AppError::RateLimited { retry_after_secs } => {
                extensions.set("retryAfter", retry_after_secs);
            }
            _ => {}
        }
        async_graphql::Error {
            message,
            source: None,
            extensions: Some(extensions),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncoded_execution_errors_get_a_code() {
        let at = |message: &str| {
            let mut error = ServerError::new(message, None);
            error.path = vec![async_graphql::PathSegment::Field("f".into())];
            error
        };
        let mut errors = vec![
            at(
                "Failed to parse \"Int\": Only integers from -2147483648 to 2147483647 are accepted.",
            ),
            at("relation \"users\" does not exist"),
            coded_error(ErrorCode::NotFound, "No such article."),
            ServerError::new("a request error", None),
        ];
        code_errors(&mut errors);
        let code = |e: &ServerError| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .map(|c| c.to_string())
        };
        assert_eq!(code(&errors[0]).as_deref(), Some("\"BAD_USER_INPUT\""));
        assert!(errors[0].message.starts_with("Failed to parse"));
        assert_eq!(
            code(&errors[1]).as_deref(),
            Some("\"INTERNAL_SERVER_ERROR\"")
        );
        assert_eq!(errors[1].message, "Internal server error");
        assert_eq!(code(&errors[2]).as_deref(), Some("\"NOT_FOUND\""));
        assert_eq!(code(&errors[3]), None);
    }
    use crate::error::FieldError;

    fn extensions(err: AppError) -> (String, serde_json::Value) {
        let gql: async_graphql::Error = err.into();
        let json = serde_json::to_value(gql.extensions.unwrap()).unwrap();
        (gql.message, json)
    }

    #[test]
    fn internal_errors_are_masked() {
        let (message, ext) = extensions(AppError::Internal(anyhow::anyhow!("password=hunter2")));
        assert_eq!(message, "Internal server error");
        assert_eq!(ext, serde_json::json!({"code": "INTERNAL_SERVER_ERROR"}));
    }

    #[test]
    fn bad_user_input_lists_field_errors() {
        let (_, ext) = extensions(AppError::BadUserInput {
            message: "Invalid input".into(),
            field_errors: vec![FieldError {
                field: "username".into(),
                message: "too short".into(),
            }],
        });
        assert_eq!(
            ext,
            serde_json::json!({
                "code": "BAD_USER_INPUT",
                "fieldErrors": [{"field": "username", "message": "too short"}]
            })
        );
    }

    #[test]
    fn rate_limited_has_retry_after() {
        let (_, ext) = extensions(AppError::RateLimited {
            retry_after_secs: 30,
        });
        assert_eq!(
            ext,
            serde_json::json!({"code": "RATE_LIMITED", "retryAfter": 30})
        );
    }

    #[test]
    fn service_unavailable_keeps_its_code() {
        let (message, ext) = extensions(AppError::ServiceUnavailable(anyhow::anyhow!(
            "pool timed out"
        )));
        assert_eq!(message, crate::error::UNAVAILABLE_MESSAGE);
        assert_eq!(ext["code"], "SERVICE_UNAVAILABLE");
    }
}
