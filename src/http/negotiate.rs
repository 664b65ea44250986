//! Content negotiation for GraphQL over HTTP: which media type to answer with, and which
//! request bodies to accept. Reads headers only; calls nothing else in the crate.

use axum::http::{HeaderMap, StatusCode, header};

/// `application/graphql-response+json`, the GraphQL-over-HTTP response media type.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The media type of a GraphQL response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMedia {
    /// `application/json`: document errors answer 200 with `errors` (the spec's legacy rules).
    Json,
    /// `application/graphql-response+json`: document errors answer 400 without `data`.
    GraphqlResponseJson,
}

impl ResponseMedia {
    /// The `Content-Type` header value.
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::GraphqlResponseJson => GRAPHQL_RESPONSE_JSON,
        }
    }

    /// The status for a well-formed request whose document failed before execution (a
    /// parse or validation failure, including variable coercion). Malformed requests (bad
    /// JSON, missing or mistyped parameters) are 400 whatever the media type.
    pub const fn request_error_status(self) -> StatusCode {
        match self {
            Self::Json => StatusCode::OK,
            Self::GraphqlResponseJson => StatusCode::BAD_REQUEST,
        }
    }
}

/// Picks the response media type from `Accept`: `application/json` whenever the client
/// accepts it (or sends no `Accept`), otherwise `application/graphql-response+json`.
/// `None` when the client accepts neither.
pub fn response_media(headers: &HeaderMap) -> Option<ResponseMedia> {
    let mut any = false;
    let mut graphql_response = false;
    for range in accepted_ranges(headers) {
        any = true;
        match range.as_str() {
            "application/json" | "application/*" | "*/*" => return Some(ResponseMedia::Json),
            GRAPHQL_RESPONSE_JSON => graphql_response = true,
            _ => {}
        }
    }
    if graphql_response {
        Some(ResponseMedia::GraphqlResponseJson)
    } else if any {
        None
    } else {
        Some(ResponseMedia::Json)
    }
}

/// True when the client asks for HTML (a browser navigating to the endpoint).
pub fn wants_html(headers: &HeaderMap) -> bool {
    accepted_ranges(headers).any(|range| range == "text/html")
}

/// The media ranges in `Accept` with a non-zero quality, lower-cased, parameters dropped.
fn accepted_ranges(headers: &HeaderMap) -> impl Iterator<Item = String> + '_ {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|range| {
            let mut parts = range.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            (!media.is_empty() && quality > 0.0).then_some(media)
        })
}

/// How a POST body's `Content-Type` is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json` in UTF-8: parsed.
    Json,
    /// No content type, or one a browser may send cross-site without a CORS preflight
    /// (`text/plain`, `application/x-www-form-urlencoded`, `multipart/form-data`).
    Simple,
    /// Anything else, or JSON in a charset other than UTF-8.
    Unsupported,
}

/// Classifies the request body by its `Content-Type`.
pub fn body_kind(headers: &HeaderMap) -> BodyKind {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return BodyKind::Simple;
    };
    let Some(mime) = value
        .to_str()
        .ok()
        .and_then(|v| v.parse::<mime::Mime>().ok())
    else {
        return BodyKind::Unsupported;
    };
    match mime.essence_str() {
        "application/json" => match mime.get_param(mime::CHARSET) {
            Some(charset) if !charset.as_str().eq_ignore_ascii_case("utf-8") => {
                BodyKind::Unsupported
            }
            _ => BodyKind::Json,
        },
        "text/plain" | "application/x-www-form-urlencoded" | "multipart/form-data" => {
            BodyKind::Simple
        }
        _ => BodyKind::Unsupported,
    }
}

/// Headers that a browser cannot send cross-site without a CORS preflight, as in Apollo
/// Server's CSRF prevention. Any non-empty value counts.
pub const PREFLIGHT_HEADERS: [&str; 2] = ["apollo-require-preflight", "x-apollo-operation-name"];

/// True when the request carries one of [`PREFLIGHT_HEADERS`].
pub fn has_preflight_header(headers: &HeaderMap) -> bool {
    PREFLIGHT_HEADERS
        .iter()
        .filter_map(|name| headers.get(*name))
        .any(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn negotiates_response_media() {
        use ResponseMedia::*;
        let cases = [
            ("application/json", Some(Json)),
            (
                "application/graphql-response+json",
                Some(GraphqlResponseJson),
            ),
            (
                "application/graphql-response+json, application/json;q=0.9",
                Some(Json),
            ),
            (
                "application/graphql-response+json, application/json;q=0",
                Some(GraphqlResponseJson),
            ),
            ("*/*", Some(Json)),
            (
                "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                Some(Json),
            ),
            ("text/html", None),
            ("application/xml", None),
        ];
        for (accept, expected) in cases {
            assert_eq!(
                response_media(&headers(header::ACCEPT, accept)),
                expected,
                "{accept}"
            );
        }
        assert_eq!(response_media(&HeaderMap::new()), Some(Json));
    }

    #[test]
    fn classifies_bodies() {
        use BodyKind::*;
        let cases = [
            ("application/json", Json),
            ("application/json; charset=utf-8", Json),
            ("application/json; charset=UTF-8", Json),
            ("application/json; charset=latin1", Unsupported),
            ("text/plain", Simple),
            ("text/plain; charset=utf-8", Simple),
            ("application/x-www-form-urlencoded", Simple),
            ("multipart/form-data; boundary=x", Simple),
            ("application/xml", Unsupported),
            ("not a type", Unsupported),
        ];
        for (content_type, expected) in cases {
            assert_eq!(
                body_kind(&headers(header::CONTENT_TYPE, content_type)),
                expected
            );
        }
        assert_eq!(body_kind(&HeaderMap::new()), Simple);
    }

    #[test]
    fn preflight_headers_must_be_non_empty() {
        let name = header::HeaderName::from_static("apollo-require-preflight");
        assert!(has_preflight_header(&headers(name.clone(), "true")));
        assert!(!has_preflight_header(&headers(name, "")));
        assert!(!has_preflight_header(&HeaderMap::new()));
    }
}
