//! Reading a GraphQL request off HTTP: the GET query string and the POST body (bounded,
//! drained past the bound so the 413 is readable; one operation or a bounded batch),
//! into [`Params`]s. Calls only the pipeline's
//! [`Params`] type and [`reply`] for its refusals.

use async_graphql::Variables;
use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use http_body_util::BodyExt;
use serde::Deserialize;

use super::{super::reply, ResponseMedia};
use crate::{error::ErrorCode, graphql::execution::Params};

/// GET parameters arrive as strings; `variables` and `extensions` hold JSON.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GetParams {
    pub(super) query: Option<String>,
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
    document_id: Option<String>,
}

/// What the client sent: one operation or a JSON batch.
pub(super) enum Payload {
    Single(Params),
    Batch(Vec<Params>),
}

impl GetParams {
    /// The operation the parameters describe, or why their JSON is invalid.
    pub(super) fn decode(self) -> Result<Params, String> {
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
            variables: json::<Variables>("variables", self.variables)?,
            extensions: json("extensions", self.extensions)?,
            document_id: self.document_id,
        })
    }
}

/// The most bytes read and discarded from a body over the limit before answering 413:
/// four times the limit, and at least 16 MiB.
pub(super) fn drain_bound(limit: usize) -> usize {
    limit.saturating_mul(4).max(16 * 1024 * 1024)
}

/// Reads the body, refusing more than `limit` bytes with 413.
///
/// A body over the limit is read on and discarded, up to [`drain_bound`], before the 413
/// is sent: answering while the client is still writing makes the connection close with
/// unread data, the kernel then resets it, and a client that writes its whole body
/// before reading (most do) sees a broken pipe instead of the 413. Past the bound (or
/// when `Content-Length` already says so) the 413 goes at once, with `Connection: close`.
/// The caller bounds the time this takes (`REQUEST_BODY_TIMEOUT_MS`).
pub(super) async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, Response> {
    let too_large = |drained: bool| {
        let mut response = reply::error(
            ResponseMedia::Json,
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("The request body is larger than {limit} bytes."),
        );
        if !drained {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    };
    let bound = drain_bound(limit);
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut over = declared.is_some_and(|len| len > limit as u64);
    // A client waiting for `100 Continue` has sent nothing yet: refuse before inviting it.
    let waiting = headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if declared.is_some_and(|len| len > bound as u64) || (over && waiting) {
        return Err(too_large(false));
    }
    let mut body = body;
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            if over {
                return Err(too_large(false));
            }
            return Err(reply::error(
                ResponseMedia::Json,
                StatusCode::BAD_REQUEST,
                ErrorCode::BadRequest,
                "The request body could not be read.",
            ));
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > limit && !over {
            over = true;
            chunks = Vec::new();
        }
        if over {
            if seen > bound {
                return Err(too_large(false));
            }
            continue;
        }
        chunks.push(data);
    }
    if over {
        return Err(too_large(true));
    }
    Ok(match chunks.len() {
        1 => chunks.pop().expect("one chunk"),
        _ => Bytes::from(chunks.concat()),
    })
}

/// Parses a JSON body into one operation or a batch.
pub(super) fn parse_payload(
    bytes: &[u8],
    batch_limit: usize,
) -> Result<Payload, (ErrorCode, String)> {
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
