//! Opaque session tokens: 256 random bits, given to the client once, stored only as a
//! SHA-256 hash.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use sha2::{Digest, Sha256};

/// How long an access token is valid.
pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);
/// How long a refresh token is valid.
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);

/// Prefix of access tokens (recognisable by secret scanners and people).
const ACCESS_PREFIX: &str = "cdt_a_";
/// Prefix of refresh tokens.
const REFRESH_PREFIX: &str = "cdt_r_";

/// A token as issued: the value for the client and the hash to store.
#[derive(Debug, Clone)]
pub struct Token {
    /// The value given to the client.
    pub value: String,
    /// SHA-256 of the value, the only thing stored.
    pub hash: Vec<u8>,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
}

/// A fresh access token and refresh token.
#[derive(Debug, Clone)]
pub struct TokenPair {
    /// Short-lived, sent on every request.
    pub access: Token,
    /// Long-lived, exchanged for a new pair by `refreshSession`.
    pub refresh: Token,
}

impl TokenPair {
    /// Generates a new pair valid from `now`.
    pub fn generate(now: DateTime<Utc>) -> Self {
        Self {
            access: generate(ACCESS_PREFIX, now + ACCESS_TOKEN_TTL),
            refresh: generate(REFRESH_PREFIX, now + REFRESH_TOKEN_TTL),
        }
    }
}

fn generate(prefix: &str, expires_at: DateTime<Utc>) -> Token {
    let bytes: [u8; 32] = rand::random();
    let value = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    Token {
        hash: hash(&value),
        value,
        expires_at,
    }
}

/// The stored form of a token.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Extracts the token from an `Authorization` header value: `Bearer <token>` or
/// RealWorld's `Token <token>` (scheme case-insensitive). `None` for anything else.
pub fn from_authorization(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    let known = scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token");
    (known && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_distinct_and_hashed() {
        let now = Utc::now();
        let pair = TokenPair::generate(now);
        assert!(pair.access.value.starts_with("cdt_a_"));
        assert!(pair.refresh.value.starts_with("cdt_r_"));
        assert_ne!(pair.access.value, TokenPair::generate(now).access.value);
        assert_eq!(pair.access.hash, hash(&pair.access.value));
        assert_eq!(pair.access.expires_at, now + ACCESS_TOKEN_TTL);
    }

    #[test]
    fn reads_bearer_and_token_schemes() {
        assert_eq!(from_authorization("Bearer abc"), Some("abc"));
        assert_eq!(from_authorization("bearer  abc "), Some("abc"));
        assert_eq!(from_authorization("Token abc"), Some("abc"));
        assert_eq!(from_authorization("Basic abc"), None);
        assert_eq!(from_authorization("Bearer"), None);
        assert_eq!(from_authorization("Bearer "), None);
    }
}
