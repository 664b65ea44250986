//! GraphQL JSON replies built by the transport itself: errors raised before or around
//! execution, always in the GraphQL response shape `{"errors": [...]}`. It calls only the
//! error codes of [`crate::graphql::error`].

use async_graphql::ServerError;
use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

use super::negotiate::ResponseMedia;
use crate::{error::ErrorCode, graphql::error::coded_error};

/// A response body holding errors only (no `data` entry: nothing was executed).
#[derive(Serialize)]
pub struct ErrorsBody<'a> {
    /// The errors.
    pub errors: &'a [ServerError],
}

/// A JSON reply with the given status and pre-serialized body.
pub fn json(media: ResponseMedia, status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    headers.insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// A reply carrying `errors` only.
pub fn errors(media: ResponseMedia, status: StatusCode, errors: &[ServerError]) -> Response {
    let body = serde_json::to_vec(&ErrorsBody { errors }).expect("errors serialize");
    json(media, status, body)
}

/// A reply carrying one coded error.
pub fn error(
    media: ResponseMedia,
    status: StatusCode,
    code: ErrorCode,
    message: impl Into<String>,
) -> Response {
    errors(media, status, &[coded_error(code, message)])
}
