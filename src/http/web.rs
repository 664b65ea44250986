//! The web app (`web/`, built into `WEB_DIST`): `index.html` for the app's own routes,
//! when a browser asks for a page (GET or HEAD, `Accept: text/html`), with a CSP and,
//! on `/article/:slug`, the article's link preview in its head; the build's files
//! (hashed `assets/` cached for good, the rest revalidated). Any other path answers 404.

use std::{path::PathBuf, sync::Arc};

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use super::{
    negotiate,
    static_files::{NO_CACHE, cache_control},
};
use crate::{
    db::PgPool,
    domain::{link_previews, markdown::escape_html},
};

/// The app's routes (`web/src/routes.tsx`), `:name` matching one path segment. Only
/// these get `index.html`; keep the two lists equal.
pub const APP_ROUTES: &[&str] = &[
    "/",
    "/login",
    "/register",
    "/editor",
    "/editor/:slug",
    "/article/:slug",
    "/profile/:username",
    "/profile/:username/favorites",
    "/settings",
    "/settings/sessions",
    "/notifications",
    "/forgot-password",
    "/reset-password",
    "/verify-email",
];

/// The app pages' Content-Security-Policy: everything from Conduit's origin only; images
/// also from `https:` and `data:` (avatars and article images are links users give).
/// `connect-src 'self'` covers the same-origin WebSocket.
pub const APP_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: https:; font-src 'self'; connect-src 'self'; object-src 'none'; \
    base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Where `index.html` takes an article's preview tags.
const HEAD_MARK: &str = "<!--conduit:head-->";
/// The title `index.html` is built with.
const DEFAULT_TITLE: &str = "<title>Conduit</title>";

/// What the web app's routes need.
#[derive(Clone)]
pub struct WebApp {
    inner: Arc<Inner>,
}

struct Inner {
    dist: PathBuf,
    pool: PgPool,
    public_url: String,
    files: ServeDir,
}

impl WebApp {
    /// The app built into `dist`; link previews read `pool` and point into `public_url`.
    pub fn new(dist: PathBuf, pool: PgPool, public_url: String) -> Self {
        let files = ServeDir::new(&dist).append_index_html_on_directories(false);
        Self {
            inner: Arc::new(Inner {
                dist,
                pool,
                public_url,
                files,
            }),
        }
    }
}

/// The router's fallback: an app page, a file of the build, or 404.
pub async fn serve(State(app): State<WebApp>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return StatusCode::NOT_FOUND.into_response();
    }
    let path = request.uri().path().to_owned();
    if let Some(params) = app_route(&path)
        && negotiate::wants_html(request.headers())
    {
        return page(&app.inner, params.article_slug()).await;
    }
    if path == "/" || path.ends_with('/') || path.eq_ignore_ascii_case("/index.html") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let immutable = path.starts_with("/assets/");
    match app.inner.files.clone().oneshot(request).await {
        Ok(response) if response.status().is_success() => {
            let (mut parts, body) = response.into_parts();
            parts
                .headers
                .insert(header::CACHE_CONTROL, cache_control(immutable, true));
            Response::from_parts(parts, Body::new(body))
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The path parameters of a matched app route.
struct RouteParams<'a> {
    route: &'static str,
    segments: Vec<&'a str>,
}

impl RouteParams<'_> {
    /// The slug of `/article/:slug`, percent-decoded.
    fn article_slug(&self) -> Option<String> {
        (self.route == "/article/:slug").then(|| {
            percent_encoding::percent_decode_str(self.segments[1])
                .decode_utf8_lossy()
                .into_owned()
        })
    }
}

/// The app route `path` matches (a trailing slash is not the same route).
fn app_route(path: &str) -> Option<RouteParams<'_>> {
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    APP_ROUTES.iter().find_map(|&route| {
        let pattern: Vec<&str> = route.split('/').skip(1).collect();
        let matches = pattern.len() == segments.len()
            && pattern.iter().zip(&segments).all(|(p, s)| {
                if p.starts_with(':') {
                    !s.is_empty()
                } else {
                    p == s
                }
            });
        matches.then(|| RouteParams {
            route,
            segments: segments.clone(),
        })
    })
}

/// `index.html`, with the article's preview when `slug` is given (404 when there is no
/// such article: the app says so too).
async fn page(app: &Inner, slug: Option<String>) -> Response {
    let Ok(html) = tokio::fs::read_to_string(app.dist.join("index.html")).await else {
        let text = format!(
            "The web app is not built ({} has no index.html). Build it with \
             `npm ci && npm run build` in web/, then reload.\n",
            app.dist.display()
        );
        return (StatusCode::SERVICE_UNAVAILABLE, page_headers(), text).into_response();
    };
    let mut status = StatusCode::OK;
    let mut html = html;
    if let Some(slug) = slug {
        match link_previews::article(&app.pool, &app.public_url, &slug).await {
            Ok(Some(preview)) => html = with_preview(&html, &preview),
            Ok(None) => status = StatusCode::NOT_FOUND,
            Err(error) => tracing::warn!(?error, "no link preview for /article/{slug}"),
        }
    }
    (status, page_headers(), axum::response::Html(html)).into_response()
}

/// The headers every app page carries: its CSP, no caching without revalidation, and no
/// MIME sniffing or framing.
fn page_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(APP_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers
}

/// `html` with the article's title and its Open Graph and Twitter card tags.
fn with_preview(html: &str, preview: &link_previews::LinkPreview) -> String {
    let title = escape_html(&preview.title);
    let description = escape_html(&preview.description);
    let meta = [
        ("name", "description", description.as_str()),
        ("property", "og:type", "article"),
        ("property", "og:site_name", "Conduit"),
        ("property", "og:title", title.as_str()),
        ("property", "og:description", description.as_str()),
        ("property", "og:url", &escape_html(&preview.url)),
        (
            "property",
            "article:published_time",
            &preview.published_at.to_rfc3339(),
        ),
        ("property", "article:author", &escape_html(&preview.author)),
        ("name", "twitter:card", "summary"),
        ("name", "twitter:title", title.as_str()),
        ("name", "twitter:description", description.as_str()),
    ]
    .iter()
    .map(|(attribute, key, value)| format!(r#"<meta {attribute}="{key}" content="{value}">"#))
    .collect::<Vec<_>>()
    .join("\n    ");
    let canonical = format!(
        r#"<link rel="canonical" href="{}">"#,
        escape_html(&preview.url)
    );
    html.replacen(
        DEFAULT_TITLE,
        &format!("<title>{title} — Conduit</title>"),
        1,
    )
    .replacen(HEAD_MARK, &format!("{meta}\n    {canonical}"), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_routes_match_whole_segments() {
        assert!(app_route("/").is_some());
        assert!(app_route("/profile/jane").is_some());
        assert!(app_route("/profile/jane/favorites").is_some());
        assert!(app_route("/profile/").is_none());
        assert!(app_route("/profile/jane/other").is_none());
        assert!(app_route("/login/").is_none());
        assert!(app_route("/nope").is_none());
        let slug = app_route("/article/hello%20there").and_then(|p| p.article_slug());
        assert_eq!(slug.as_deref(), Some("hello there"));
        assert_eq!(app_route("/editor/x").and_then(|p| p.article_slug()), None);
    }
}
