//! Where a session was signed in: the request's User-Agent and client IP, which the
//! session keeps for its user's sessions list (`User.sessions`). Every flow that starts a
//! session (register, login, and later a password reset) takes an [`Origin`] and stores
//! it with [`Origin::stored`].
//!
//! May call: `db` (the stored form).

use std::{net::IpAddr, sync::Arc};

use crate::db;

/// The longest User-Agent a session keeps, in bytes of UTF-8.
pub const USER_AGENT_MAX_BYTES: usize = 512;

/// A request's `User-Agent` header as a session keeps it: decoded as UTF-8 (bytes that
/// are not become U+FFFD), trimmed, and cut to at most [`USER_AGENT_MAX_BYTES`] at a
/// character boundary. Cheap to clone: a request hands it to each of its operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserAgent(Arc<str>);

impl UserAgent {
    /// The header value `raw` as kept; `None` when it is empty (or only blanks).
    pub fn from_header(raw: &[u8]) -> Option<Self> {
        // Cut the raw bytes first (each decodes to at least one byte), then the text.
        let raw = &raw[..raw.len().min(USER_AGENT_MAX_BYTES)];
        let text = String::from_utf8_lossy(raw);
        let text = truncate(text.trim(), USER_AGENT_MAX_BYTES);
        (!text.is_empty()).then(|| Self(Arc::from(text)))
    }

    /// The kept text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Where a sign-in comes from: what its session remembers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The request's User-Agent, if it sent one.
    pub user_agent: Option<UserAgent>,
    /// The client's address (after `TRUSTED_PROXIES`), when the transport knows it.
    pub client_ip: Option<IpAddr>,
}

impl Origin {
    /// The form the session's row stores.
    pub fn stored(&self) -> db::sessions::Origin<'_> {
        db::sessions::Origin {
            user_agent: self.user_agent.as_ref().map(UserAgent::as_str),
            client_ip: self.client_ip,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_cut_at_a_character_boundary() {
        assert_eq!(UserAgent::from_header(b"  "), None);
        let agent = UserAgent::from_header(b" curl/8.5 ").unwrap();
        assert_eq!(agent.as_str(), "curl/8.5");
        // 511 ASCII bytes and a two-byte character: the character does not fit.
        let long = format!("{}é", "a".repeat(511));
        let agent = UserAgent::from_header(long.as_bytes()).unwrap();
        assert_eq!(agent.as_str(), "a".repeat(511));
        let huge = "é".repeat(2_000);
        let agent = UserAgent::from_header(huge.as_bytes()).unwrap();
        assert_eq!(agent.as_str(), "é".repeat(256));
        // Invalid UTF-8 becomes U+FFFD (3 bytes), still within the bound.
        let agent = UserAgent::from_header(&[0xff; 600]).unwrap();
        assert!(agent.as_str().len() <= USER_AGENT_MAX_BYTES);
        assert!(agent.as_str().starts_with('\u{fffd}'));
    }
}
