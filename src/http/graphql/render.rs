//! Rendering an operation's [`Outcome`] as an HTTP reply: the status code and headers
//! the negotiated media type calls for (GraphQL-over-HTTP), `Retry-After` over the cost
//! budget, `Allow` for a mutation over GET. Calls only [`reply`] and the pipeline's
//! [`Outcome`].

use async_graphql::ServerError;
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::Response,
};

use super::{super::reply, ResponseMedia};
use crate::{
    error::ErrorCode,
    graphql::{error::coded_error, execution::Outcome},
};

const MUTATION_OVER_GET: &str = "Mutations cannot be sent with GET; use POST.";

/// The reply to one operation.
pub(super) fn single(media: ResponseMedia, outcome: Outcome) -> Response {
    match outcome {
        Outcome::Executed(response) => {
            let body = serde_json::to_vec(&response).expect("responses serialize");
            let mut reply = reply::json(media, StatusCode::OK, body);
            reply.headers_mut().extend(response.http_headers);
            reply
        }
        Outcome::Rejected(errors) => match errors.iter().find_map(retry_after) {
            // The memory budget for requests in flight is full: 503 whatever the media
            // type, with Retry-After.
            Some(seconds)
                if errors
                    .iter()
                    .any(|e| has_code(e, ErrorCode::ServiceUnavailable)) =>
            {
                let mut reply = reply::errors(media, StatusCode::SERVICE_UNAVAILABLE, &errors);
                reply
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                reply
            }
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
        // No `query`: 400 whatever the media type.
        Outcome::Malformed(error) => reply::errors(media, StatusCode::BAD_REQUEST, &[error]),
        Outcome::MutationNotAllowed => {
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

/// The reply to a batch: 200 whatever its items did; an item over the cost budget still
/// gives the whole reply a Retry-After.
pub(super) fn batch(media: ResponseMedia, outcomes: Vec<Outcome>) -> Response {
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
            Outcome::MutationNotAllowed => serde_json::to_value(reply::ErrorsBody {
                errors: &[coded_error(ErrorCode::MethodNotAllowed, MUTATION_OVER_GET)],
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

/// True when `error`'s `extensions.code` is `code`.
fn has_code(error: &ServerError, code: ErrorCode) -> bool {
    error
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .is_some_and(|c| *c == async_graphql::Value::from(code.as_str()))
}

/// The `retryAfter` (seconds) of a RATE_LIMITED error, or of a SERVICE_UNAVAILABLE one
/// (the memory budget).
fn retry_after(error: &ServerError) -> Option<u64> {
    if !has_code(error, ErrorCode::RateLimited) && !has_code(error, ErrorCode::ServiceUnavailable) {
        return None;
    }
    match error.extensions.as_ref()?.get("retryAfter")? {
        async_graphql::Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// A request whose parameters are malformed.
pub(super) fn bad_request(media: ResponseMedia, message: String) -> Response {
    reply::error(
        media,
        media.request_error_status(),
        ErrorCode::BadRequest,
        message,
    )
}

/// A client accepting none of the GraphQL media types.
pub(super) fn not_acceptable() -> Response {
    reply::error(
        ResponseMedia::Json,
        StatusCode::NOT_ACCEPTABLE,
        ErrorCode::NotAcceptable,
        "Accept application/json or application/graphql-response+json.",
    )
}
