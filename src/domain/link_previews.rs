//! What a link to an article shows where it is shared (chat apps, social sites): the
//! Open Graph and Twitter card fields, from the article, its author and `PUBLIC_URL`.

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::{
    db::{self, PgPool},
    error::AppError,
};

/// The most characters of the description a preview carries (cards cut about there).
pub const DESCRIPTION_MAX_CHARS: usize = 200;

/// An article's link preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkPreview {
    /// The article's title.
    pub title: String,
    /// Its description, cut to [`DESCRIPTION_MAX_CHARS`] with an ellipsis.
    pub description: String,
    /// Its author's username.
    pub author: String,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// The article's canonical address in the web app.
    pub url: String,
}

/// The preview of the article `slug`, with its address under `public_url`; `None` when
/// there is no such article.
pub async fn article(
    pool: &PgPool,
    public_url: &str,
    slug: &str,
) -> Result<Option<LinkPreview>, AppError> {
    let conn = db::connect(pool).await?;
    let Some(row) = db::link_previews::article(&conn, slug).await? else {
        return Ok(None);
    };
    Ok(Some(LinkPreview {
        title: row.title,
        description: shortened(&row.description),
        author: row.author,
        published_at: row.created_at,
        url: format!(
            "{}/article/{}",
            public_url.trim_end_matches('/'),
            path_segment(slug)
        ),
    }))
}

/// `text` cut at [`DESCRIPTION_MAX_CHARS`] characters, with `…` when it was longer.
fn shortened(text: &str) -> String {
    match text.char_indices().nth(DESCRIPTION_MAX_CHARS) {
        Some((end, _)) => format!("{}…", text[..end].trim_end()),
        None => text.to_owned(),
    }
}

/// What a path segment escapes: everything but RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A slug as a path segment (slugs are ASCII, but a stored one is not trusted).
fn path_segment(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_descriptions_are_cut_with_an_ellipsis() {
        let long = "é".repeat(DESCRIPTION_MAX_CHARS + 5);
        let cut = shortened(&long);
        assert_eq!(cut.chars().count(), DESCRIPTION_MAX_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(shortened("short"), "short");
    }

    #[test]
    fn slugs_are_percent_encoded() {
        assert_eq!(path_segment("a-b_c"), "a-b_c");
        assert_eq!(path_segment("a b/\"é"), "a%20b%2F%22%C3%A9");
    }
}
