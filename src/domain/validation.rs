//! Input rules. Each check returns the message for its field, or `None`; `FieldErrors`
//! collects them into one BAD_USER_INPUT error.
//!
//! **Bounded work.** Every check costs at most a constant times its limit, whatever the
//! size of what was sent: a list is refused on its length before any item is looked at,
//! and a string on its length in bytes before any character is read. Text limits are
//! counted in characters, which is what a user sees and what the schema documents; since
//! a character takes at most 4 bytes in UTF-8, a string of more than 4 × the limit in
//! bytes is refused at once (so the bytes a field may hold are bounded too: 4 × its
//! limit). Emails, image URLs, IDs and cursors are limited in bytes: they are ASCII in
//! practice, and a byte is what they cost. [`Steps`] counts the items and characters the
//! checks read, so tests can see that an oversized input is refused without being read.

use std::{
    collections::HashSet,
    sync::atomic::{AtomicU64, Ordering},
};

use crate::error::{AppError, FieldError};

/// The work input checks have done in this process: one step per list item examined and
/// per character (for IDs and cursors, per byte) read. Tests read it before and after a request to see that an oversized
/// input is refused before any per-item work. Each check adds its count once (one relaxed
/// atomic addition, no per-character cost).
#[derive(Debug)]
pub struct Steps;

static STEPS: AtomicU64 = AtomicU64::new(0);

impl Steps {
    /// Steps taken so far, by every check in the process.
    pub fn total() -> u64 {
        STEPS.load(Ordering::Relaxed)
    }

    /// Records `n` steps.
    pub fn add(n: usize) {
        STEPS.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Bytes UTF-8 may take for `chars` characters: a string longer than this in bytes has
/// more than `chars` characters.
pub const fn utf8_bytes(chars: usize) -> usize {
    chars * 4
}

/// The length of `value` in characters, or `None` when it surely has more than `max`
/// (more than 4 × `max` bytes), found without reading it. Counts the characters it reads.
fn char_len(value: &str, max: usize) -> Option<usize> {
    if value.len() > utf8_bytes(max) {
        return None;
    }
    let len = value.chars().count();
    Steps::add(len);
    Some(len)
}

/// The message for a list of `len` items where at most `max` are allowed (`what` names
/// them), or `None`. Check it before looking at any item.
pub fn list_len(len: usize, max: usize, what: &str) -> Option<String> {
    (len > max).then(|| format!("at most {max} {what}"))
}

/// Collects field errors; `field` is the input field's schema name.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Records `message` for `field`, if there is one.
    pub fn check(&mut self, field: &str, message: Option<String>) {
        if let Some(message) = message {
            self.0.push(FieldError {
                field: field.to_owned(),
                message,
            });
        }
    }

    /// Fails with BAD_USER_INPUT if anything was recorded.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let fields: Vec<&str> = self.0.iter().map(|e| e.field.as_str()).collect();
        Err(AppError::BadUserInput {
            message: format!("Invalid input: {}", fields.join(", ")),
            field_errors: self.0,
        })
    }
}

/// Shortest username.
pub const USERNAME_MIN: usize = 3;
/// Longest username.
pub const USERNAME_MAX: usize = 32;
/// Shortest password.
pub const PASSWORD_MIN: usize = 8;
/// Longest password (checked before hashing).
pub const PASSWORD_MAX: usize = 128;
/// Longest email address (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
/// Longest bio.
pub const BIO_MAX: usize = 2_000;
/// Longest image URL.
pub const IMAGE_MAX: usize = 2_048;

/// 3–32 letters, digits, `_` or `-`.
pub fn username(value: &str) -> Option<String> {
    let len = char_len(value, USERNAME_MAX).unwrap_or(usize::MAX);
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&len) {
        return Some(format!(
            "must be {USERNAME_MIN} to {USERNAME_MAX} characters long"
        ));
    }
    if !value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Some("may contain only letters, digits, _ and -".to_owned());
    }
    None
}

/// A valid address, at most 254 bytes (RFC 5321 counts octets).
pub fn email(value: &str) -> Option<String> {
    if value.len() > EMAIL_MAX {
        return Some(format!("must be at most {EMAIL_MAX} characters long"));
    }
    Steps::add(value.len());
    let valid = email_address::EmailAddress::parse_with_options(
        value,
        email_address::Options::default()
            .without_display_text()
            .without_domain_literal(),
    )
    .is_ok_and(|address| address.domain().contains('.'));
    (!valid).then(|| "is not a valid email address".to_owned())
}

/// 8–128 characters (so at most 512 bytes reach the hasher).
pub fn password(value: &str) -> Option<String> {
    let len = char_len(value, PASSWORD_MAX).unwrap_or(usize::MAX);
    (!(PASSWORD_MIN..=PASSWORD_MAX).contains(&len))
        .then(|| format!("must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long"))
}

/// At most 2,000 characters.
pub fn bio(value: &str) -> Option<String> {
    length("", value, 0, BIO_MAX)
}

/// An http(s) URL of at most 2,048 bytes.
pub fn image(value: &str) -> Option<String> {
    if value.len() > IMAGE_MAX {
        return Some(format!("must be at most {IMAGE_MAX} characters long"));
    }
    Steps::add(value.len());
    let web = value.starts_with("https://") || value.starts_with("http://");
    (!web || value.contains(char::is_whitespace)).then(|| "must be an http(s) URL".to_owned())
}

/// Longest article title.
pub const TITLE_MAX: usize = 200;
/// Longest article description.
pub const DESCRIPTION_MAX: usize = 1_000;
/// Longest article body.
pub const BODY_MAX: usize = 100_000;
/// Most tags on one article.
pub const TAGS_MAX: usize = 10;
/// Longest tag.
pub const TAG_MAX: usize = 32;

/// 1–200 characters, not only spaces (checked after trimming).
pub fn title(value: &str) -> Option<String> {
    length("", value, 1, TITLE_MAX)
}

/// At most 1000 characters.
pub fn description(value: &str) -> Option<String> {
    length("", value, 0, DESCRIPTION_MAX)
}

/// 1–100000 characters (so at most 400,000 bytes), not only spaces.
pub fn body(value: &str) -> Option<String> {
    text("", value, BODY_MAX)
}

/// Longest comment.
pub const COMMENT_MAX: usize = 10_000;

/// 1–10000 characters (so at most 40,000 bytes), not only spaces.
pub fn comment(value: &str) -> Option<String> {
    text("", value, COMMENT_MAX)
}

/// Normalises tags: trimmed, lower-cased, deduplicated in the order given. Fails when more
/// than 10 are given (counted as sent, before anything else: duplicates count), or when one
/// is empty or longer than 32 characters.
pub fn tags(values: &[String]) -> Result<Vec<String>, String> {
    if let Some(message) = list_len(values.len(), TAGS_MAX, "tags") {
        return Err(message);
    }
    let mut tags: Vec<String> = Vec::with_capacity(values.len());
    let mut seen: HashSet<String> = HashSet::with_capacity(values.len());
    for value in values {
        Steps::add(1);
        let trimmed = value.trim();
        // Lower-casing may add characters, so the limit is checked again after it; this
        // first check only keeps a huge tag from being lower-cased.
        if let Some(message) = length("each tag ", trimmed, 1, TAG_MAX) {
            return Err(message);
        }
        let tag = trimmed.to_lowercase();
        if let Some(message) = length("each tag ", &tag, 1, TAG_MAX) {
            return Err(message);
        }
        if seen.insert(tag.clone()) {
            tags.push(tag);
        }
    }
    Ok(tags)
}

/// The article list's filters (`articles(tag:, author:, favoritedBy:)`): a value longer in
/// bytes than any tag or username can be is refused unread, before it is lower-cased or
/// sent to the database.
pub fn article_filter(
    tag: Option<&str>,
    author: Option<&str>,
    favorited_by: Option<&str>,
) -> Result<(), AppError> {
    let too_long = |value: Option<&str>, max: usize| {
        value
            .is_some_and(|v| v.trim().len() > utf8_bytes(max))
            .then(|| format!("must be at most {max} characters long"))
    };
    let mut errors = FieldErrors::default();
    errors.check("tag", too_long(tag, TAG_MAX));
    errors.check("author", too_long(author, USERNAME_MAX));
    errors.check("favoritedBy", too_long(favorited_by, USERNAME_MAX));
    errors.into_result()
}

/// A text of 1 to `max` characters, not only spaces.
fn text(subject: &str, value: &str, max: usize) -> Option<String> {
    if value.len() > utf8_bytes(max) {
        return Some(format!("{subject}must be at most {max} characters long"));
    }
    if value.trim().is_empty() {
        return Some(format!("{subject}must not be empty"));
    }
    length(subject, value, 1, max)
}

fn length(subject: &str, value: &str, min: usize, max: usize) -> Option<String> {
    let len = char_len(value, max).unwrap_or(usize::MAX);
    if len < min {
        Some(format!("{subject}must not be empty"))
    } else if len > max {
        Some(format!("{subject}must be at most {max} characters long"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["abc", "Jane_Doe-42", &"a".repeat(32)] {
            assert_eq!(username(ok), None, "{ok}");
        }
        for bad in ["ab", &"a".repeat(33), "jane doe", "jané", "a@b"] {
            assert!(username(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(email("jane@example.com"), None);
        for bad in [
            "jane",
            "jane@",
            "@example.com",
            "jane@localhost",
            "Jane <jane@example.com>",
        ] {
            assert!(email(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert_eq!(password("12345678"), None);
        assert!(password("1234567").is_some());
        assert!(password(&"x".repeat(129)).is_some());
        assert_eq!(password(&"x".repeat(128)), None);
    }

    #[test]
    fn images() {
        assert_eq!(image("https://cdn.example/a.png"), None);
        assert!(image("javascript:alert(1)").is_some());
    }
}
