//! What the static files Conduit serves (the web app's build, the IDEs') share: their
//! `Cache-Control` by whether the name carries a content hash, and `Vary:
//! Accept-Encoding` on those that may be sent gzipped. CORS's layer rewrites `Vary`, so
//! that value is added outside it ([`vary_accept_encoding`], in [`super::middleware`]).

use axum::{
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};

/// `Cache-Control` of a file whose name carries a hash of its content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// `Cache-Control` of pages and of files without a hash in their name.
pub const NO_CACHE: &str = "no-cache";

/// A response extension: this file may be answered gzipped, depending on the request's
/// `Accept-Encoding`.
#[derive(Debug, Clone, Copy)]
pub struct MayBeCompressed;

/// The `Cache-Control` of a served file: immutable only for a `hashed` name that was
/// `found` (a 404 must not be cached for good).
pub fn cache_control(hashed: bool, found: bool) -> HeaderValue {
    HeaderValue::from_static(if hashed && found { IMMUTABLE } else { NO_CACHE })
}

/// Adds `accept-encoding` to `Vary` on responses marked [`MayBeCompressed`], so that a
/// shared cache never hands a gzipped copy to a client that did not ask for one.
pub async fn vary_accept_encoding(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.extensions().get::<MayBeCompressed>().is_some() {
        let vary = response
            .headers()
            .get_all(header::VARY)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect::<Vec<_>>()
            .join(", ");
        let value = if vary.is_empty() {
            "accept-encoding".to_owned()
        } else {
            format!("{vary}, accept-encoding")
        };
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(header::VARY, value);
        }
    }
    response
}
