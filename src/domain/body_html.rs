//! `articles.body_html`: the body rendered ([`super::markdown`]) once per write, checked
//! for size, and the backfill that renders rows written without it (by an older build,
//! or by the seed's bulk statements).
//!
//! May call: `db`.

use std::time::Duration;

use super::{markdown, validation::FieldErrors};
use crate::{
    db::{self, PgPool},
    error::AppError,
};

/// The largest rendered body, in bytes: 8 per character of the longest body (Markdown
/// grows into HTML, e.g. `*a*` into `<em>a</em>`). A body rendering to more is refused.
pub const BODY_HTML_MAX_BYTES: usize = super::validation::BODY_MAX * 8;

/// `body` rendered, or a field error on `body` when its HTML would be too large.
pub fn rendered(errors: &mut FieldErrors, body: &str) -> String {
    let html = markdown::render(body);
    if html.len() > BODY_HTML_MAX_BYTES {
        errors.check(
            "body",
            Some(format!(
                "renders to more than {BODY_HTML_MAX_BYTES} bytes of HTML"
            )),
        );
    }
    html
}

/// Rows rendered per backfill statement.
const BACKFILL_BATCH: i64 = 200;

/// Renders and stores `body_html` for every article without one, in batches, until none
/// is left; returns how many were stored. A row edited meanwhile is skipped (its editor
/// stored its own rendering).
pub async fn backfill(pool: &PgPool) -> Result<usize, AppError> {
    let mut stored = 0;
    let mut after = 0;
    loop {
        let mut conn = db::connect(pool).await?;
        let rows = db::articles::missing_body_html(&mut conn, after, BACKFILL_BATCH).await?;
        let Some(last) = rows.last() else {
            return Ok(stored);
        };
        after = last.0;
        // Rendering is CPU work: off the async threads.
        let rendered = tokio::task::spawn_blocking(move || {
            rows.into_iter()
                .map(|(id, body, updated_at)| (id, updated_at, markdown::render(&body)))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
        for (id, updated_at, html) in rendered {
            if db::articles::store_body_html(&mut conn, id, updated_at, &html).await? {
                stored += 1;
            }
        }
    }
}

/// [`backfill`] in the background, retried every `retry` while the database is away;
/// logs what it did.
pub fn spawn_backfill(pool: PgPool, retry: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match backfill(&pool).await {
                Ok(0) => return,
                Ok(n) => {
                    tracing::info!(articles = n, "rendered article bodies without bodyHtml");
                    return;
                }
                Err(err) => {
                    tracing::warn!(error = ?err, "could not render article bodies; retrying");
                    tokio::time::sleep(retry).await;
                }
            }
        }
    })
}
