//! The web app served by Conduit (`src/http/web.rs`), from a fixture build in a scratch
//! folder: `index.html` only for the app's routes asked for as HTML, with its CSP and
//! no-cache; hashed assets cached for good; an article's link preview on
//! `/article/:slug`; everything else still 404.

use std::path::PathBuf;

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use serde_json::json;

use crate::helpers::{TestApp, TestResponse};

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

const INDEX: &str = "<!doctype html>\n<html lang=\"en\">\n  <head>\n    <title>Conduit</title>\n    \
    <!--conduit:head-->\n  </head>\n  <body><div id=\"root\"></div>\
    <script type=\"module\" src=\"/assets/index-Bx1y2z.js\"></script></body>\n</html>\n";

/// A built app in a scratch folder, removed on drop.
struct Dist(PathBuf);

impl Dist {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("conduit-web-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("assets")).unwrap();
        std::fs::write(dir.join("index.html"), INDEX).unwrap();
        std::fs::write(dir.join("assets/index-Bx1y2z.js"), "console.log('app')").unwrap();
        std::fs::write(dir.join("favicon.svg"), "<svg/>").unwrap();
        Self(dir)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Dist {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn app_serving(dist: &Dist) -> TestApp {
    TestApp::with_config(&[("WEB_DIST", dist.path())]).await
}

async fn get(app: &TestApp, path: &str, accept: Option<&str>) -> TestResponse {
    let mut request = Request::get(path);
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

fn assert_app_page(response: &TestResponse) {
    assert!(
        response
            .header("content-type")
            .unwrap()
            .starts_with("text/html"),
        "{:?}",
        response.header("content-type")
    );
    assert_eq!(response.header("cache-control"), Some("no-cache"));
    let csp = response.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(
        csp.contains("script-src 'self';"),
        "no inline or foreign scripts: {csp}"
    );
    assert!(!csp.contains("unsafe"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert!(response.text().contains("<div id=\"root\">"));
}

#[tokio::test]
async fn the_apps_routes_serve_index_html_to_browsers() {
    let dist = Dist::new();
    let app = app_serving(&dist).await;
    for path in [
        "/",
        "/login",
        "/register",
        "/editor",
        "/editor/some-slug",
        "/profile/jane",
        "/profile/jane/favorites",
        "/settings",
        "/settings/sessions",
        "/notifications",
        "/forgot-password",
        "/reset-password?token=abc",
        "/verify-email?token=abc",
        "/?tag=rust&feed=following",
    ] {
        let response = get(&app, path, Some(BROWSER_ACCEPT)).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_app_page(&response);
    }
    let head = app
        .send(
            Request::head("/login")
                .header("accept", "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_paths_and_non_browser_requests_still_answer_404() {
    let dist = Dist::new();
    let app = app_serving(&dist).await;
    for (path, accept) in [
        ("/nope", Some(BROWSER_ACCEPT)),
        ("/login/", Some(BROWSER_ACCEPT)),
        ("/profile/jane/other", Some(BROWSER_ACCEPT)),
        ("/profile/", Some(BROWSER_ACCEPT)),
        ("/", None),
        ("/", Some("application/json")),
        ("/login", Some("*/*")),
        ("/index.html", Some(BROWSER_ACCEPT)),
        ("/assets/", Some(BROWSER_ACCEPT)),
        ("/assets/missing-Ab12.js", None),
        ("/assets/../../Cargo.toml", None),
        ("/assets/%2e%2e/%2e%2e/Cargo.toml", None),
        ("/..%2fCargo.toml", None),
    ] {
        let response = get(&app, path, accept).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path} {accept:?}");
    }
    let post = app
        .send(
            Request::post("/login")
                .header("accept", "text/html")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(post.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_other_files_revalidated() {
    let dist = Dist::new();
    let app = app_serving(&dist).await;
    let script = get(&app, "/assets/index-Bx1y2z.js", None).await;
    assert_eq!(script.status, StatusCode::OK);
    assert_eq!(
        script.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(
        script
            .header("content-type")
            .unwrap()
            .contains("javascript")
    );
    assert_eq!(script.text(), "console.log('app')");
    let icon = get(&app, "/favicon.svg", None).await;
    assert_eq!(icon.status, StatusCode::OK);
    assert_eq!(icon.header("cache-control"), Some("no-cache"));
    assert_eq!(icon.header("content-type"), Some("image/svg+xml"));
}

#[tokio::test]
async fn an_article_link_previews_with_open_graph_and_twitter_tags() {
    let dist = Dist::new();
    let app = app_serving(&dist).await;
    let jane = app.register("jane").await;
    let title = "Rust & \"friends\" <script>alert(1)</script>";
    let created = app
        .gql(
            "mutation($i: CreateArticleInput!) { createArticle(input: $i) { slug } }",
            json!({"i": {"title": title, "description": "Why 'we' <b>ship</b>", "body": "x", "tags": []}}),
            Some(&jane.access),
        )
        .await;
    let slug = created["data"]["createArticle"]["slug"].as_str().unwrap();
    let page = get(&app, &format!("/article/{slug}"), Some(BROWSER_ACCEPT)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_app_page(&page);
    let html = page.text();
    let escaped = "Rust &amp; &quot;friends&quot; &lt;script&gt;alert(1)&lt;/script&gt;";
    assert!(
        html.contains(&format!("<title>{escaped} — Conduit</title>")),
        "{html}"
    );
    for tag in [
        format!(r#"<meta property="og:title" content="{escaped}">"#),
        r#"<meta property="og:description" content="Why &#39;we&#39; &lt;b&gt;ship&lt;/b&gt;">"#
            .into(),
        r#"<meta property="og:type" content="article">"#.into(),
        format!(r#"<meta property="og:url" content="http://app.test/article/{slug}">"#),
        r#"<meta property="article:author" content="jane">"#.into(),
        r#"<meta name="twitter:card" content="summary">"#.into(),
        format!(r#"<meta name="twitter:title" content="{escaped}">"#),
        format!(r#"<link rel="canonical" href="http://app.test/article/{slug}">"#),
    ] {
        assert!(html.contains(&tag), "{tag} missing in {html}");
    }
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<!--conduit:head-->"));

    let missing = get(&app, "/article/no-such-article", Some(BROWSER_ACCEPT)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_app_page(&missing);
    assert!(!missing.text().contains("og:title"));
}

#[tokio::test]
async fn without_a_build_the_app_routes_say_how_to_build_it() {
    let missing = std::env::temp_dir().join(format!("conduit-none-{}", uuid::Uuid::new_v4()));
    let app = TestApp::with_config(&[("WEB_DIST", missing.to_str().unwrap())]).await;
    let response = get(&app, "/", Some(BROWSER_ACCEPT)).await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.text().contains("npm ci && npm run build"),
        "{}",
        response.text()
    );
    assert_eq!(
        get(&app, "/nope", Some(BROWSER_ACCEPT)).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_api_stays_on_graphql() {
    let dist = Dist::new();
    let app = app_serving(&dist).await;
    let body = app.query("{ __typename }").await;
    assert_eq!(body["data"]["__typename"], "Query");
}
