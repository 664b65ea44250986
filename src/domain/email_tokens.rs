//! The single-use tokens that verification and password-reset mails carry. A token's
//! value is derived from the server key and its row's id ([`value`]), so that no value is
//! ever stored (only its SHA-256, in `email_tokens`) and a retried mail carries the same
//! link as the first attempt.
//!
//! May call: `db`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::{keys::ServerKeys, mail::TokenRef, tokens};
use crate::db::{self, DbError, email_tokens::NewToken};

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirms an address (24 hours).
    VerifyEmail,
    /// Sets a new password (30 minutes).
    ResetPassword,
}

impl Purpose {
    /// The value stored in `email_tokens.purpose` (also the derivation's context).
    pub const fn as_db(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }

    /// How long a token stays valid.
    pub fn ttl(self) -> Duration {
        match self {
            Self::VerifyEmail => Duration::hours(24),
            Self::ResetPassword => Duration::minutes(30),
        }
    }

    /// The value's prefix (recognisable by secret scanners and people).
    const fn prefix(self) -> &'static str {
        match self {
            Self::VerifyEmail => "cdt_v_",
            Self::ResetPassword => "cdt_p_",
        }
    }
}

/// The value of `token` for `purpose`; `None` when the ring no longer has its key.
pub fn value(keys: &ServerKeys, purpose: Purpose, token: &TokenRef) -> Option<String> {
    let derived = keys.derive(&token.key_id, purpose.as_db(), token.id.as_bytes())?;
    Some(format!(
        "{}{}",
        purpose.prefix(),
        URL_SAFE_NO_PAD.encode(derived)
    ))
}

/// A new token: its reference, and the hash of its value to store.
pub fn mint(keys: &ServerKeys, purpose: Purpose) -> (TokenRef, Vec<u8>) {
    let token = TokenRef {
        id: Uuid::new_v4(),
        key_id: keys.current().id.clone(),
    };
    let value = value(keys, purpose, &token).expect("the current key is in the ring");
    (token, tokens::hash(&value))
}

/// Issues a token for `user_id`'s address `email`, valid from `now`, in the caller's
/// transaction.
pub async fn issue(
    conn: &mut AsyncPgConnection,
    keys: &ServerKeys,
    purpose: Purpose,
    user_id: i64,
    email: &str,
    now: DateTime<Utc>,
) -> Result<TokenRef, DbError> {
    let (token, hash) = mint(keys, purpose);
    let row = NewToken {
        id: token.id,
        user_id,
        purpose: purpose.as_db(),
        email,
        hash: &hash,
        key_id: &token.key_id,
        expires_at: now + purpose.ttl(),
    };
    db::email_tokens::insert(conn, &row).await?;
    Ok(token)
}

/// Whether `value` has the shape of a `purpose` token (anything else names no token,
/// and is refused without a database round trip).
pub fn well_formed(purpose: Purpose, value: &str) -> bool {
    value.len() == purpose.prefix().len() + 43 && value.starts_with(purpose.prefix())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_derived_per_purpose_and_key() {
        let (keys, _) = ServerKeys::generate("k1");
        let (token, hash) = mint(&keys, Purpose::ResetPassword);
        let reset = value(&keys, Purpose::ResetPassword, &token).unwrap();
        assert_eq!(tokens::hash(&reset), hash);
        assert!(well_formed(Purpose::ResetPassword, &reset), "{reset}");
        assert!(!well_formed(Purpose::VerifyEmail, &reset));
        assert_ne!(value(&keys, Purpose::VerifyEmail, &token).unwrap(), reset);
        let (other, _) = ServerKeys::generate("k1");
        assert_ne!(
            value(&other, Purpose::ResetPassword, &token).unwrap(),
            reset
        );
    }
}
