//! Input rules. Each check returns the message for its field, or `None`; `FieldErrors`
//! collects them into one BAD_USER_INPUT error.

use crate::error::{AppError, FieldError};

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
    let len = value.chars().count();
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

/// A valid address, at most 254 characters.
pub fn email(value: &str) -> Option<String> {
    if value.len() > EMAIL_MAX {
        return Some(format!("must be at most {EMAIL_MAX} characters long"));
    }
    let valid = email_address::EmailAddress::parse_with_options(
        value,
        email_address::Options::default()
            .without_display_text()
            .without_domain_literal(),
    )
    .is_ok_and(|address| address.domain().contains('.'));
    (!valid).then(|| "is not a valid email address".to_owned())
}

/// 8–128 characters.
pub fn password(value: &str) -> Option<String> {
    let len = value.chars().count();
    (!(PASSWORD_MIN..=PASSWORD_MAX).contains(&len))
        .then(|| format!("must be {PASSWORD_MIN} to {PASSWORD_MAX} characters long"))
}

/// At most 2,000 characters.
pub fn bio(value: &str) -> Option<String> {
    (value.chars().count() > BIO_MAX).then(|| format!("must be at most {BIO_MAX} characters long"))
}

/// An http(s) URL of at most 2,048 characters.
pub fn image(value: &str) -> Option<String> {
    if value.len() > IMAGE_MAX {
        return Some(format!("must be at most {IMAGE_MAX} characters long"));
    }
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

/// 1–100000 characters, not only spaces.
pub fn body(value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return Some("must not be empty".to_owned());
    }
    length("", value, 1, BODY_MAX)
}

/// Longest comment.
pub const COMMENT_MAX: usize = 10_000;

/// 1–10000 characters, not only spaces.
pub fn comment(value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return Some("must not be empty".to_owned());
    }
    length("", value, 1, COMMENT_MAX)
}

/// Normalises tags: trimmed, lower-cased, deduplicated in the order given. Fails when one
/// is empty or longer than 32 characters, or when more than 10 remain.
pub fn tags(values: &[String]) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let tag = value.trim().to_lowercase();
        if let Some(message) = length("each tag ", &tag, 1, TAG_MAX) {
            return Err(message);
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > TAGS_MAX {
        return Err(format!("at most {TAGS_MAX} tags"));
    }
    Ok(tags)
}

fn length(subject: &str, value: &str, min: usize, max: usize) -> Option<String> {
    let len = value.chars().count();
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
