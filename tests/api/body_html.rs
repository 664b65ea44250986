//! `Article.bodyHtml`: Markdown rendered and sanitized once per write and stored; rows an
//! older build wrote (no `body_html`, or a body changed under it) still answer right, and
//! are backfilled.

use serde_json::{Value, json};

use crate::helpers::{TestApp, connect, field_errors};

const CREATE: &str =
    "mutation($i: CreateArticleInput!) { createArticle(input: $i) { slug body bodyHtml } }";

async fn publish(app: &TestApp, token: &str, body: &str) -> Value {
    let input = json!({"i": {"title": format!("T {}", uuid::Uuid::new_v4()), "description": "d", "body": body, "tags": []}});
    app.gql(CREATE, input, Some(token)).await
}

async fn stored_html(app: &TestApp, slug: &str) -> Option<String> {
    let db = connect(&app.database_url()).await;
    db.query_one("SELECT body_html FROM articles WHERE slug = $1", &[&slug])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn markdown_is_rendered_once_per_write_and_stored() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let body =
        "# Hello\n\nSome *text*, ~~struck~~, and a table:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";
    let created = publish(&app, &jane.access, body).await;
    let article = &created["data"]["createArticle"];
    let html = article["bodyHtml"].as_str().unwrap();
    for part in [
        "<h1>Hello</h1>",
        "<em>text</em>",
        "<del>struck</del>",
        "<table>",
        "<td>2</td>",
    ] {
        assert!(html.contains(part), "{part} in {html}");
    }
    let slug = article["slug"].as_str().unwrap();
    assert_eq!(
        stored_html(&app, slug).await.as_deref(),
        Some(html),
        "stored at write"
    );

    // An edit of the body renders again; an edit of anything else keeps it.
    let update = "mutation($s: String!, $i: UpdateArticleInput!) { updateArticle(slug: $s, input: $i) { slug bodyHtml } }";
    let edited = app
        .gql(
            update,
            json!({"s": slug, "i": {"body": "**bold**"}}),
            Some(&jane.access),
        )
        .await;
    let html = edited["data"]["updateArticle"]["bodyHtml"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(html, "<p><strong>bold</strong></p>\n");
    app.gql(
        update,
        json!({"s": slug, "i": {"description": "other"}}),
        Some(&jane.access),
    )
    .await;
    assert_eq!(stored_html(&app, slug).await, Some(html));

    // Lists read it as well (the look-ahead reads the body columns for it).
    let list = app
        .gql(
            "{ articles(first: 1) { nodes { bodyHtml } edges { node { bodyHtml } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        list["data"]["articles"]["nodes"][0]["bodyHtml"], "<p><strong>bold</strong></p>\n",
        "{list}"
    );
    assert_eq!(
        list["data"]["articles"]["edges"][0]["node"]["bodyHtml"],
        "<p><strong>bold</strong></p>\n"
    );
}

#[tokio::test]
async fn no_script_handler_javascript_url_style_or_raw_html_survives() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let payloads = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "![x](javascript:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<svg/onload=alert(1)>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<style>*{display:none}</style>",
        "<div style=\"color:red\">x</div>",
        "<details open ontoggle=alert(1)>",
        "[x](vbscript:msgbox(1))",
        "<scr<script>ipt>alert(1)</script>",
        "> <script>alert(1)</script>",
        "| <script>alert(1)</script> |\n|---|\n| x |",
        "`` <script>alert(1)</script> ``",
    ];
    for payload in payloads {
        let created = publish(&app, &jane.access, payload).await;
        let html = created["data"]["createArticle"]["bodyHtml"]
            .as_str()
            .unwrap()
            .to_ascii_lowercase();
        for tag in html
            .split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap_or(t))
        {
            let names: String = tag.split('"').step_by(2).collect();
            for forbidden in ["script", " on", "iframe", "style", "svg", "details", "div"] {
                assert!(!names.contains(forbidden), "{payload:?} gave {html:?}");
            }
            for value in tag.split('"').skip(1).step_by(2) {
                for scheme in ["javascript:", "vbscript:", "data:"] {
                    assert!(
                        !value.trim_start().starts_with(scheme),
                        "{payload:?} gave {html:?}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn rows_an_older_build_wrote_answer_right_and_are_backfilled() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let created = publish(&app, &jane.access, "*first*").await;
    let slug = created["data"]["createArticle"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let db = connect(&app.database_url()).await;
    // An older build edits the body without knowing body_html: the trigger clears it.
    db.execute(
        "UPDATE articles SET body = '*second*' WHERE slug = $1",
        &[&slug],
    )
    .await
    .unwrap();
    assert_eq!(stored_html(&app, &slug).await, None);
    // And inserts without it.
    db.execute(
        "INSERT INTO articles (author_id, slug, title, description, body, tags) \
         SELECT author_id, 'old-build', 'Old', 'd', '~~old~~', '{}' FROM articles WHERE slug = $1",
        &[&slug],
    )
    .await
    .unwrap();
    let read = app.gql("query($s: String!) { a: article(slug: $s) { bodyHtml } b: article(slug: \"old-build\") { bodyHtml } }", json!({"s": slug}), None).await;
    assert_eq!(
        read["data"]["a"]["bodyHtml"], "<p><em>second</em></p>\n",
        "{read}"
    );
    assert_eq!(
        read["data"]["b"]["bodyHtml"], "<p><del>old</del></p>\n",
        "{read}"
    );

    let stored = conduit::domain::body_html::backfill(&app.state.pool)
        .await
        .unwrap();
    assert_eq!(stored, 2);
    assert_eq!(
        stored_html(&app, &slug).await.as_deref(),
        Some("<p><em>second</em></p>\n")
    );
    assert_eq!(
        stored_html(&app, "old-build").await.as_deref(),
        Some("<p><del>old</del></p>\n")
    );
    assert_eq!(
        conduit::domain::body_html::backfill(&app.state.pool)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn the_largest_and_deepest_bodies_are_bounded() {
    let app = TestApp::spawn().await;
    let jane = app.register("jane").await;
    let max = conduit::domain::validation::BODY_MAX;
    for body in [
        ">".repeat(max),
        "1. ".repeat(max / 3),
        "*a* ".repeat(max / 4),
    ] {
        let created = publish(&app, &jane.access, &body).await;
        let html = created["data"]["createArticle"]["bodyHtml"]
            .as_str()
            .unwrap_or_else(|| panic!("{created}"));
        assert!(html.len() <= conduit::domain::body_html::BODY_HTML_MAX_BYTES);
    }
    let too_long = publish(&app, &jane.access, &"a".repeat(max + 1)).await;
    assert_eq!(field_errors(&too_long)[0].0, "body", "{too_long}");
}
