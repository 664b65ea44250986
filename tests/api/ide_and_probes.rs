//! GraphiQL and Playground served from a build of `ide/` (`IDE_DIST`), and the health
//! probes.

use std::path::PathBuf;

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use conduit::http::{
    ide::CONTENT_SECURITY_POLICY,
    static_files::{IMMUTABLE, NO_CACHE},
};

use crate::helpers::{TestApp, TestResponse};

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

const GRAPHIQL_PAGE: &str = "<!doctype html><title>Conduit GraphiQL</title>\
    <script type=\"module\" src=\"/ide/graphiql/assets/index-Ab12Cd34.js\"></script>";
const GRAPHIQL_SCRIPT: &str = "console.log('graphiql');";
/// Stands for the build's gzip copy of it (ide/compress.mjs): only its name matters.
const GRAPHIQL_SCRIPT_GZ: &str = "the gzip copy";
const PLAYGROUND_PAGE: &str = "<!doctype html><title>Conduit Playground</title>\
    <script src=\"/ide/playground/assets/init.0123456789ab.js\"></script>";
const PLAYGROUND_SCRIPT: &str = "GraphQLPlayground.init(root, {});";
/// What lies beside the build and above it: no request may reach it.
const SECRET: &str = "not for the browser";

/// A build of `ide/` in a temporary folder (removed on drop), with a file beside the IDEs
/// and one above the build.
struct Build {
    root: PathBuf,
}

impl Build {
    fn new() -> Self {
        let root = std::env::temp_dir().join(format!("conduit-ide-{}", uuid::Uuid::new_v4()));
        let files = [
            ("dist/graphiql/index.html", GRAPHIQL_PAGE),
            ("dist/graphiql/assets/index-Ab12Cd34.js", GRAPHIQL_SCRIPT),
            (
                "dist/graphiql/assets/index-Ab12Cd34.js.gz",
                GRAPHIQL_SCRIPT_GZ,
            ),
            ("dist/playground/index.html", PLAYGROUND_PAGE),
            (
                "dist/playground/assets/init.0123456789ab.js",
                PLAYGROUND_SCRIPT,
            ),
            ("dist/secret.txt", SECRET),
            ("Cargo.toml", SECRET),
        ];
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Self { root }
    }

    fn dist(&self) -> String {
        self.root.join("dist").display().to_string()
    }
}

impl Drop for Build {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

async fn get(app: &TestApp, uri: &str) -> TestResponse {
    app.send(
        Request::get(uri)
            .header("accept", BROWSER_ACCEPT)
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

/// A page as the IDE build wrote it, with the CSP and `no-cache`.
fn assert_page(response: &TestResponse, page: &str) {
    assert_eq!(response.status, StatusCode::OK, "{}", response.text());
    assert_eq!(
        response.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(response.text(), page);
    assert_eq!(response.header("cache-control"), Some(NO_CACHE));
    assert_eq!(
        response.header("content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
}

#[test]
fn the_csp_allows_only_conduits_own_origin() {
    let directives: Vec<&str> = CONTENT_SECURITY_POLICY.split("; ").collect();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(directives.contains(&directive), "{directive}");
    }
    for source in ["http", "ws:", "*", "blob:", "unsafe-eval"] {
        assert!(!CONTENT_SECURITY_POLICY.contains(source), "{source}");
    }
}

#[tokio::test]
async fn a_browser_gets_graphiql_from_the_build() {
    let build = Build::new();
    let app = TestApp::with_config(&[("IDE_DIST", &build.dist())]).await;
    assert_page(&get(&app, "/graphql").await, GRAPHIQL_PAGE);
    // Variables alone are no query: still the page.
    assert_page(&get(&app, "/graphql?variables=%7B%7D").await, GRAPHIQL_PAGE);
}

#[tokio::test]
async fn playground_is_served_from_the_build() {
    let build = Build::new();
    let app = TestApp::with_config(&[("IDE_DIST", &build.dist())]).await;
    assert_page(&get(&app, "/playground").await, PLAYGROUND_PAGE);
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_the_rest_is_not() {
    let build = Build::new();
    let app = TestApp::with_config(&[("IDE_DIST", &build.dist())]).await;
    for (uri, body) in [
        ("/ide/graphiql/assets/index-Ab12Cd34.js", GRAPHIQL_SCRIPT),
        (
            "/ide/playground/assets/init.0123456789ab.js",
            PLAYGROUND_SCRIPT,
        ),
    ] {
        let response = get(&app, uri).await;
        assert_eq!(response.status, StatusCode::OK, "{uri}");
        assert_eq!(response.text(), body, "{uri}");
        assert_eq!(response.header("cache-control"), Some(IMMUTABLE), "{uri}");
        assert!(
            response
                .header("content-type")
                .unwrap()
                .contains("javascript"),
            "{uri}"
        );
        // A worker's CSP is its script's response's.
        assert_eq!(
            response.header("content-security-policy"),
            Some(CONTENT_SECURITY_POLICY)
        );
    }
    // A file outside assets/ has no hash in its name; a missing asset may appear later.
    for (uri, status) in [
        ("/ide/graphiql/index.html", StatusCode::OK),
        (
            "/ide/graphiql/assets/index-Zz99Zz99.js",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let response = get(&app, uri).await;
        assert_eq!(response.status, status, "{uri}");
        assert_eq!(response.header("cache-control"), Some(NO_CACHE), "{uri}");
    }
}

#[tokio::test]
async fn a_client_that_accepts_gzip_gets_the_builds_gzip_copy() {
    let build = Build::new();
    let app = TestApp::with_config(&[("IDE_DIST", &build.dist())]).await;
    let uri = "/ide/graphiql/assets/index-Ab12Cd34.js";
    let gzipped = app
        .send(
            Request::get(uri)
                .header("accept-encoding", "gzip, deflate, br")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(gzipped.status, StatusCode::OK);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    assert_eq!(gzipped.text(), GRAPHIQL_SCRIPT_GZ);
    assert!(
        gzipped
            .header("content-type")
            .unwrap()
            .contains("javascript")
    );
    assert_eq!(gzipped.header("cache-control"), Some(IMMUTABLE));
    let plain = get(&app, uri).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.text(), GRAPHIQL_SCRIPT);
    // Both say they vary by Accept-Encoding (and keep CORS's Vary), so a shared cache
    // never hands the gzipped copy to a client that did not ask for it.
    for response in [&gzipped, &plain] {
        let vary = response.header("vary").unwrap_or_default();
        assert!(vary.ends_with("accept-encoding"), "{vary}");
        assert!(vary.contains("origin"), "{vary}");
    }
}

#[tokio::test]
async fn without_a_build_the_pages_say_how_to_build_them() {
    let build = Build::new();
    let missing = build.root.join("not-built").display().to_string();
    let app = TestApp::with_config(&[("IDE_DIST", &missing)]).await;
    for (uri, name) in [
        ("/graphql", "GraphiQL"),
        ("/playground", "GraphQL Playground"),
    ] {
        let response = get(&app, uri).await;
        assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert!(
            response
                .header("content-type")
                .unwrap()
                .starts_with("text/plain"),
            "{uri}"
        );
        let text = response.text();
        assert!(text.starts_with(&format!("{name} is not built")), "{text}");
        assert!(text.contains("`npm ci && npm run build` in ide/"), "{text}");
        assert!(!text.contains("http"), "no CDN: {text}");
    }
}

#[tokio::test]
async fn no_path_leaves_the_ides_folders() {
    let build = Build::new();
    let app = TestApp::with_config(&[("IDE_DIST", &build.dist())]).await;
    for uri in [
        "/ide/graphiql/../secret.txt",
        "/ide/graphiql/../../Cargo.toml",
        "/ide/graphiql/assets/../../secret.txt",
        "/ide/graphiql/%2e%2e/secret.txt",
        "/ide/graphiql/%2E%2E%2Fsecret.txt",
        "/ide/graphiql/..%2f..%2fCargo.toml",
        "/ide/graphiql/%2e%2e%5csecret.txt",
        "/ide/playground/%2e%2e/%2e%2e/Cargo.toml",
        "/ide/playground//..//secret.txt",
        "/ide/secret.txt",
    ] {
        let response = get(&app, uri).await;
        assert!(
            response.status.is_client_error(),
            "{uri}: {}",
            response.status
        );
        assert!(!response.text().contains(SECRET), "{uri}");
    }
}

#[tokio::test]
async fn without_graphiql_enabled_no_ide_is_served() {
    let build = Build::new();
    let app =
        TestApp::with_config(&[("IDE_DIST", &build.dist()), ("GRAPHIQL_ENABLED", "false")]).await;
    let graphql = get(&app, "/graphql").await;
    assert_eq!(graphql.status, StatusCode::BAD_REQUEST);
    assert_ne!(graphql.text(), GRAPHIQL_PAGE);
    assert!(
        !graphql
            .header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    for uri in ["/playground", "/ide/graphiql/assets/index-Ab12Cd34.js"] {
        assert_eq!(get(&app, uri).await.status, StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn a_browser_url_with_a_query_runs_it() {
    let build = Build::new();
    let app = TestApp::with_config(&[("IDE_DIST", &build.dist())]).await;
    let response = get(&app, "/graphql?query=%7B__typename%7D").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.json()["data"]["__typename"], "Query");
}

#[tokio::test]
async fn healthz_and_readyz_answer_while_the_database_is_reachable() {
    let app = TestApp::spawn().await;
    for path in ["/healthz", "/readyz"] {
        let response = app
            .send(Request::get(path).body(Body::empty()).unwrap())
            .await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn readyz_is_503_while_the_database_is_unreachable_but_healthz_answers() {
    let app = TestApp::with_config(&[
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/conduit"),
        ("DATABASE_CONNECT_TIMEOUT_MS", "300"),
    ])
    .await;
    let ready = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.json()["status"], "unavailable");
    let health = app
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(health.status, StatusCode::OK);
}

#[tokio::test]
async fn the_benchmark_hello_endpoint_exists_only_when_asked_for() {
    fn hello() -> axum::http::Request<axum::body::Body> {
        axum::http::Request::get("/hello")
            .body(axum::body::Body::empty())
            .unwrap()
    }
    let plain = TestApp::spawn().await;
    assert_eq!(plain.send(hello()).await.status, 404);
    let bench = TestApp::with_config(&[("BENCH_HELLO", "true")]).await;
    let response = bench.send(hello()).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.json(),
        serde_json::json!({"data": {"__typename": "Query"}})
    );
    // Behind the same middleware as /graphql.
    assert!(response.header("x-request-id").is_some());
}
