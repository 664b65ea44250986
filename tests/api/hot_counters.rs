//! The counter updates on `articles` (a favorite, an unfavorite, a comment) are HOT: the
//! row's new version stays on its page, so no index gets an entry for it. On full pages
//! they were not, and a favorite load left the newest articles' index entries pointing at
//! thousands of dead versions that every list page walked until VACUUM ran (issue 19:
//! W6 at half its speed after the load; bench/RESULTS.md).

use serde_json::json;

use crate::helpers::{TestApp, connect};

/// Articles about as wide as real ones (an 0.8 KB body that does not compress, and its
/// HTML), enough of them to fill several pages.
const WIDE_ARTICLES: &str = "
INSERT INTO articles (author_id, slug, title, description, body, body_html, tags)
    SELECT u.id, 'wide-' || g, 'Wide ' || g, 'about ' || g, t.text, t.text, ARRAY['wide']
    FROM generate_series(1, 40) g
    CROSS JOIN (SELECT id FROM users WHERE username = 'jane') u
    CROSS JOIN LATERAL (
        SELECT string_agg(md5(g::text || '-' || i), ' ') AS text
        FROM generate_series(1, 25) i
    ) t";

/// The page (block) an article's current row version is on.
async fn block_of(db: &tokio_postgres::Client, slug: &str) -> String {
    let row = db
        .query_one(
            "SELECT split_part(trim(both '()' from ctid::text), ',', 1) FROM articles \
             WHERE slug = $1",
            &[&slug],
        )
        .await
        .expect("the article's ctid");
    row.get(0)
}

/// Each article's first counter update is HOT, on pages as full as inserts leave them:
/// one favorite on each of ten articles, one comment on each of three more. (The row of a
/// page full at the default fillfactor moves on its first update.)
#[tokio::test]
async fn a_counter_update_keeps_an_article_row_on_its_page() {
    let app = TestApp::spawn().await;
    let _jane = app.register("jane").await;
    let john = app.register("john").await;
    let db = connect(&app.database_url()).await;
    db.batch_execute(WIDE_ARTICLES).await.expect("seeded");
    assert_eq!(
        block_of(&db, "wide-1").await,
        block_of(&db, "wide-2").await,
        "the seeded rows share pages"
    );

    let favorite = "mutation($s: String!) { favoriteArticle(slug: $s) { favoritesCount } }";
    let comment = "mutation($s: String!) { addComment(articleSlug: $s, body: \"Hot.\") { id } }";
    for n in (1..=37).step_by(3) {
        let slug = format!("wide-{n}");
        let before = block_of(&db, &slug).await;
        let body = if n <= 28 {
            let body = app
                .gql(favorite, json!({"s": slug}), Some(&john.access))
                .await;
            assert_eq!(
                body["data"]["favoriteArticle"]["favoritesCount"], 1,
                "{body}"
            );
            body
        } else {
            let body = app
                .gql(comment, json!({"s": slug}), Some(&john.access))
                .await;
            assert!(body["data"]["addComment"]["id"].is_string(), "{body}");
            body
        };
        assert_eq!(
            block_of(&db, &slug).await,
            before,
            "{slug}: the update moved the row to another page ({body})"
        );
    }
}
