//! One-click unsubscribe (RFC 8058): every notification mail (and summary) carries a
//! `List-Unsubscribe` URL signed with the server key ([`url`]); a POST to it, with no
//! sign-in, removes that kind (or every kind) from the user's `email_notifications`
//! ([`unsubscribe`]). The signature is HMAC-SHA256 under the key named in the URL, over
//! the user id and the kind, checked in constant time; a bad or tampered URL changes
//! nothing.
//!
//! May call: `db`.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;

use super::keys::ServerKeys;
use crate::{
    db::{self, PgPool, notifications::kind},
    error::{AppError, FieldError},
};

/// Where the unsubscribe URL points, under `PUBLIC_URL` (Conduit serves it).
pub const PATH: &str = "/email/unsubscribe";

/// The scope that unsubscribes from every kind.
pub const ALL: &str = "all";

/// The derivation purpose of the signatures.
const PURPOSE: &str = "unsubscribe";

/// The kinds a URL may name.
const KINDS: [&str; 4] = [
    kind::NEW_FOLLOWER,
    kind::ARTICLE_FAVORITED,
    kind::COMMENT_ADDED,
    kind::ARTICLE_PUBLISHED,
];

/// An unsubscribe URL's query: whose, which kind (or [`ALL`]), the key and the signature.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Signed {
    /// The user's id.
    pub u: i64,
    /// A `db::notifications::kind` value, or [`ALL`].
    pub k: String,
    /// The server key's id.
    pub v: String,
    /// The signature (URL-safe base64 without padding).
    pub s: String,
}

impl Signed {
    /// Parses an unsubscribe URL's query (unchecked: see [`verify`]).
    pub fn parse(raw_query: &str) -> Option<Self> {
        serde_urlencoded::from_str(raw_query).ok()
    }
}

fn signed_data(user_id: i64, scope: &str) -> Vec<u8> {
    format!("{user_id}:{scope}").into_bytes()
}

/// The query string of the URL that unsubscribes `user_id` from `scope` (a kind, or
/// [`ALL`]), signed with the current key.
pub fn query(keys: &ServerKeys, user_id: i64, scope: &str) -> String {
    let key = &keys.current().id;
    let tag = keys
        .derive(key, PURPOSE, &signed_data(user_id, scope))
        .expect("the current key is in the ring");
    format!(
        "u={user_id}&k={scope}&v={key}&s={}",
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// The full unsubscribe URL under `public_url`.
pub fn url(keys: &ServerKeys, public_url: &str, user_id: i64, scope: &str) -> String {
    format!("{public_url}{PATH}?{}", query(keys, user_id, scope))
}

/// The one answer to every bad, tampered or expired (key gone) URL.
fn refused() -> AppError {
    AppError::BadUserInput {
        message: "This unsubscribe link is not valid.".into(),
        field_errors: vec![FieldError {
            field: "s".into(),
            message: "bad signature".into(),
        }],
    }
}

/// Parses and checks an unsubscribe URL's query: the user and the kind (`None`: every
/// kind) it names, or `BAD_USER_INPUT` when it is malformed or its signature is wrong.
pub fn verify(keys: &ServerKeys, raw_query: &str) -> Result<(i64, Option<&'static str>), AppError> {
    let signed = Signed::parse(raw_query).ok_or_else(refused)?;
    let scope = if signed.k == ALL {
        None
    } else {
        Some(
            KINDS
                .into_iter()
                .find(|k| *k == signed.k)
                .ok_or_else(refused)?,
        )
    };
    let tag = URL_SAFE_NO_PAD.decode(&signed.s).map_err(|_| refused())?;
    let data = signed_data(signed.u, &signed.k);
    if !keys.verify(&signed.v, PURPOSE, &data, &tag) {
        return Err(refused());
    }
    Ok((signed.u, scope))
}

/// Unsubscribes whoever `raw_query` (a signed URL's query) names from the kind it names
/// (or every kind); idempotent, and a user already gone is not an error. A bad signature
/// is `BAD_USER_INPUT` and changes nothing.
pub async fn unsubscribe(
    pool: &PgPool,
    keys: &ServerKeys,
    raw_query: &str,
) -> Result<(), AppError> {
    let (user_id, scope) = verify(keys, raw_query)?;
    let mut conn = db::connect(pool).await?;
    db::users::remove_email_notifications(&mut conn, user_id, scope).await?;
    Ok(())
}

/// What the unsubscribe route needs (built by the composition root).
#[derive(Clone)]
pub struct Unsubscriber {
    /// The pool.
    pub pool: PgPool,
    /// The server key ring the URLs are signed with.
    pub keys: ServerKeys,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_urls_verify_and_tampered_ones_do_not() {
        let (keys, _) = ServerKeys::generate("k1");
        let good = query(&keys, 7, kind::NEW_FOLLOWER);
        assert_eq!(verify(&keys, &good).unwrap(), (7, Some(kind::NEW_FOLLOWER)));
        let all = query(&keys, 7, ALL);
        assert_eq!(verify(&keys, &all).unwrap(), (7, None));
        for bad in [
            good.replace("u=7", "u=8"),
            good.replace("new_follower", "comment_added"),
            good.replace("k=new_follower", "k=all"),
            good.replace("v=k1", "v=k2"),
            format!("{}x", good),
            "u=7&k=all".to_owned(),
            String::new(),
        ] {
            assert!(verify(&keys, &bad).is_err(), "{bad}");
        }
        let (other, _) = ServerKeys::generate("k1");
        assert!(verify(&other, &good).is_err());
    }
}
