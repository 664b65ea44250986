//! Article bodies as HTML: CommonMark with tables and strikethrough (pulldown-cmark),
//! sanitized (ammonia). Raw HTML in the Markdown is never passed through: it shows as
//! text. What survives the sanitizer is a fixed set of formatting tags, links with
//! `http`, `https` or `mailto` URLs (with `rel="noopener noreferrer nofollow"`) and
//! images; no scripts, event handlers, `javascript:` URLs, styles or classes.
//!
//! Rendered once per write and stored (`articles.body_html`); [`render`] is also the
//! fallback for a row written by an older build, which has none.
//!
//! May call: nothing outside `domain`.

use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, html};

/// The sanitizer's policy (built once).
static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        .rm_tags(["style"])
        .strip_comments(true);
    builder
});

/// The deepest nesting of elements kept: deeper ones (`>>>>…`, lists in lists) lose
/// their element and keep their content. The sanitizer's HTML parser takes time that
/// grows with the square of the nesting depth; this keeps the largest body fast.
pub const MAX_NESTING: usize = 24;

/// `markdown` as sanitized HTML.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut depth = 0usize;
    // Whether each open element was kept (its end is kept the same).
    let mut kept: Vec<bool> = Vec::new();
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        // Raw HTML blocks and inline HTML become text: `<b>` shows as `<b>`.
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(tag) => {
            let keep = depth < MAX_NESTING;
            kept.push(keep);
            if keep {
                depth += 1;
                Some(Event::Start(tag))
            } else {
                None
            }
        }
        Event::End(tag) => {
            if kept.pop().unwrap_or(true) {
                depth = depth.saturating_sub(1);
                Some(Event::End(tag))
            } else {
                None
            }
        }
        other => Some(other),
    });
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, events);
    CLEANER.clean(&unsafe_html).to_string()
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_commonmark_tables_and_strikethrough() {
        let html =
            render("# Title\n\nSome *emphasis* and ~~gone~~.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n");
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<em>emphasis</em>"), "{html}");
        assert!(html.contains("<del>gone</del>"), "{html}");
        assert!(
            html.contains("<table>") && html.contains("<td>1</td>"),
            "{html}"
        );
        let link = render("[x](https://example.com)");
        assert!(
            link.contains(
                r#"<a href="https://example.com" rel="noopener noreferrer nofollow">x</a>"#
            ),
            "{link}"
        );
    }

    #[test]
    fn nothing_executable_survives() {
        let payloads = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](  javascript:alert(1))",
            "![x](javascript:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg onload=alert(1)>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<style>body{display:none}</style>",
            "<div style=\"background:url(javascript:alert(1))\">x</div>",
            "<p onclick=\"alert(1)\">x</p>",
            "[x](vbscript:msgbox(1))",
            "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
            "<object data=\"x.swf\"></object>",
            "<form action=\"https://evil.example\"><input></form>",
            "<!-- <script>alert(1)</script> -->",
            "`<script>` in code is fine",
            "<scr<script>ipt>alert(1)</script>",
            "[a](\"onmouseover=alert(1))",
            "<a href=x onmouseover=alert(1)>x</a>",
        ];
        for payload in payloads {
            let html = render(payload).to_ascii_lowercase();
            // Text is escaped (no raw `<` in it): only real tags are checked, their names
            // and attribute names apart from their quoted values.
            for tag in html
                .split('<')
                .skip(1)
                .map(|t| t.split('>').next().unwrap_or(t))
            {
                let parts: Vec<&str> = tag.split('"').collect();
                let names: String = parts.iter().step_by(2).copied().collect();
                for forbidden in [
                    "script", " on", "iframe", "style", "svg", "math", "object", "form", "input",
                    "!--",
                ] {
                    assert!(
                        !names.contains(forbidden),
                        "{payload:?} rendered {html:?}: <{tag}>"
                    );
                }
                for value in parts.iter().skip(1).step_by(2) {
                    let value = value.trim_start();
                    for scheme in ["javascript:", "vbscript:", "data:"] {
                        assert!(!value.starts_with(scheme), "{payload:?} rendered {html:?}");
                    }
                }
            }
        }
        // Raw HTML shows as text rather than vanishing.
        assert!(render("a <b>bold</b> word").contains("&lt;b&gt;bold&lt;/b&gt;"));
    }
}

#[cfg(test)]
mod limits {
    use super::*;

    /// The deepest element nesting in `html` (void elements excepted).
    fn nesting(html: &str) -> usize {
        let (mut depth, mut deepest) = (0usize, 0usize);
        for tag in html.split('<').skip(1) {
            if tag.starts_with('/') {
                depth = depth.saturating_sub(1);
            } else if !(tag.starts_with("br") || tag.starts_with("hr") || tag.starts_with("img")) {
                depth += 1;
                deepest = deepest.max(depth);
            }
        }
        deepest
    }

    #[test]
    fn the_largest_bodies_keep_their_nesting_bounded() {
        for body in [
            ">".repeat(100_000),
            "1. ".repeat(33_000),
            "- ".repeat(50_000) + "x",
            "> - ".repeat(25_000) + "x",
            "*a* ".repeat(25_000),
            "<".repeat(100_000),
            "|a|\n|-|\n".to_owned() + &"|x|\n".repeat(25_000),
        ] {
            let html = render(&body);
            assert!(
                nesting(&html) <= MAX_NESTING + 1,
                "{}: {}",
                &body[..8],
                nesting(&html)
            );
            assert!(
                html.len() <= 8 * body.len(),
                "{}: {} bytes",
                &body[..8],
                html.len()
            );
        }
        // Shallow nesting is kept as written.
        assert_eq!(nesting(&render("> > > deep")), 4);
    }
}
