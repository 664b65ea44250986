//! In-browser IDEs, served from the folder that `npm ci && npm run build` in `ide/` writes
//! ([`IdeDist`], `IDE_DIST`): GraphiQL on `GET /graphql` (for browsers) and GraphQL
//! Playground on `/playground`, their files under `/ide/graphiql/` and `/ide/playground/`,
//! both with subscriptions over WebSocket on `/graphql`. Nothing comes from another
//! origin: every response carries a CSP that allows only Conduit's own.

use std::{
    io::ErrorKind,
    path::{Path, PathBuf},
    sync::Arc,
};

use axum::{
    Router,
    extract::{OriginalUri, Request, State},
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::services::ServeDir;

use super::static_files::{MayBeCompressed, NO_CACHE, cache_control};

/// The path GraphQL is served on, over HTTP and WebSocket alike.
pub const GRAPHQL_PATH: &str = "/graphql";

/// The path of GraphQL Playground's page.
pub const PLAYGROUND_PATH: &str = "/playground";

/// The IDE pages' Content-Security-Policy: Conduit's own origin only. 'self' in
/// `connect-src` covers the same-origin `ws:`/`wss:` URL of the subscriptions (CSP 3, as
/// Chromium and Firefox implement it). Loosened, each for its reason:
/// - `style-src 'unsafe-inline'`: Monaco (GraphiQL's editor) and styled-components
///   (Playground's) write `<style>` elements and `style` attributes at run time;
/// - `img-src data:`: both IDEs draw icons from `data:` images (PNG, SVG, GIF);
/// - `font-src data:`: GraphiQL's CSS inlines its fonts (Roboto, Fira Code, Monaco's
///   codicons) as `data:` URLs.
///
/// Monaco's workers are files of ours (`worker-src 'self'`); no `eval`, no inline script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// One of the IDEs Conduit serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ide {
    /// GraphiQL 5 (`ide/graphiql/`).
    GraphiQL,
    /// GraphQL Playground (`ide/playground/`).
    Playground,
}

impl Ide {
    /// Every IDE.
    pub const ALL: [Ide; 2] = [Ide::GraphiQL, Ide::Playground];

    /// Its folder in the build, and in its URL prefix `/ide/<folder>/`.
    pub fn folder(self) -> &'static str {
        match self {
            Ide::GraphiQL => "graphiql",
            Ide::Playground => "playground",
        }
    }

    /// What people call it.
    pub fn name(self) -> &'static str {
        match self {
            Ide::GraphiQL => "GraphiQL",
            Ide::Playground => "GraphQL Playground",
        }
    }
}

/// The built IDEs' folder (`IDE_DIST`), holding `graphiql/` and `playground/`, each an
/// `index.html` and its `assets/`. Read on each request, so a build made after the server
/// started is served at once.
#[derive(Debug, Clone)]
pub struct IdeDist(Arc<Path>);

impl IdeDist {
    /// The build in `folder`.
    pub fn new(folder: impl Into<PathBuf>) -> Self {
        Self(folder.into().into())
    }

    /// `ide`'s page, with its CSP and `no-cache`; 503 with how to build it when it is not
    /// built.
    pub async fn page(&self, ide: Ide) -> Response {
        let path = self.0.join(ide.folder()).join("index.html");
        match tokio::fs::read(&path).await {
            Ok(html) => (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (header::CACHE_CONTROL, NO_CACHE),
                    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
                ],
                html,
            )
                .into_response(),
            Err(err) => {
                if err.kind() != ErrorKind::NotFound {
                    tracing::error!(path = %path.display(), error = %err, "cannot read an IDE page");
                }
                not_built(ide, &path)
            }
        }
    }

    /// `/playground` and the IDEs' files under `/ide/<folder>/`.
    pub fn routes(&self) -> Router {
        let mut files = Router::new();
        for ide in Ide::ALL {
            // The build writes a `.gz` beside each asset (ide/compress.mjs).
            let served = ServeDir::new(self.0.join(ide.folder())).precompressed_gzip();
            files = files.nest_service(&format!("/ide/{}", ide.folder()), served);
        }
        Router::new()
            .route(PLAYGROUND_PATH, get(playground))
            .with_state(self.clone())
            .merge(files.layer(axum::middleware::from_fn(file_headers)))
    }
}

/// `GET /playground`.
async fn playground(State(dist): State<IdeDist>) -> Response {
    dist.page(Ide::Playground).await
}

/// The 503 of an IDE whose build is missing: how to build it, never a CDN.
fn not_built(ide: Ide, page: &Path) -> Response {
    let text = format!(
        "{name} is not built: {page} is missing.\n\
         Build it with `npm ci && npm run build` in ide/ (the development server does so at \
         its first start when npm is installed), or set IDE_DIST to a built copy.\n",
        name = ide.name(),
        page = page.display(),
    );
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CACHE_CONTROL, "no-store")],
        text,
    )
        .into_response()
}

/// The IDEs' files get the pages' CSP (a worker's policy is its script's response's) and
/// `immutable` when found under `assets/`, `no-cache` otherwise.
async fn file_headers(OriginalUri(uri): OriginalUri, request: Request, next: Next) -> Response {
    let hashed = uri.path().split('/').nth(3) == Some("assets");
    let mut response = next.run(request).await;
    let found = response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED;
    response.extensions_mut().insert(MayBeCompressed);
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, cache_control(hashed, found));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    response
}
