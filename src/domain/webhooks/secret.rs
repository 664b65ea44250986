//! Webhook signing secrets: made (`whsec_` + base64 of 32 random bytes, as the Standard
//! Webhooks spec asks: at least 24), and kept encrypted at rest with ChaCha20-Poly1305
//! under the server key ring's current key, a random 96-bit nonce per encryption, the
//! key's id stored beside the ciphertext (so that the ring can rotate: a secret opens
//! with the key that sealed it).
//!
//! May call: nothing outside `domain`.

use base64::{Engine, engine::general_purpose::STANDARD};
use chacha20poly1305::{
    ChaCha20Poly1305, KeyInit, Nonce,
    aead::{Aead, Payload},
};

use crate::domain::keys::ServerKeys;

/// The prefix of every secret as shown to its owner.
pub const PREFIX: &str = "whsec_";

/// Bytes of randomness in a secret.
pub const SECRET_BYTES: usize = 32;

/// What the database keeps of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The encrypted secret bytes, with Poly1305's tag.
    pub ciphertext: Vec<u8>,
    /// The 96-bit nonce it was sealed with.
    pub nonce: Vec<u8>,
    /// The server key it was sealed under.
    pub key_id: String,
}

/// A signing secret in the clear: its raw bytes (the HMAC key).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// A new random secret.
    pub fn generate() -> Self {
        Self(rand::random::<[u8; SECRET_BYTES]>().to_vec())
    }

    /// The secret as shown to its owner once: `whsec_` + base64.
    pub fn display(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.0))
    }

    /// Reads a `whsec_...` secret (a receiver's side; tests).
    pub fn parse(text: &str) -> Option<Self> {
        let encoded = text.strip_prefix(PREFIX).unwrap_or(text);
        STANDARD.decode(encoded).ok().map(Self)
    }
}

/// Binds a ciphertext to its purpose (and so to no other use of the same key).
const AAD: &[u8] = b"conduit webhook secret v1";

/// Seals `secret` under the ring's current key with a fresh random nonce.
pub fn seal(keys: &ServerKeys, secret: &Secret) -> Sealed {
    let key = keys.current();
    let cipher = ChaCha20Poly1305::new(&key.bytes.into());
    let nonce: [u8; 12] = rand::random();
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &secret.0,
                aad: AAD,
            },
        )
        .expect("ChaCha20-Poly1305 encrypts any message this short");
    Sealed {
        ciphertext,
        nonce: nonce.to_vec(),
        key_id: key.id.clone(),
    }
}

/// Why a sealed secret does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The ring no longer has the key it was sealed under.
    #[error("server key {0:?} is no longer in WEBHOOK_SECRET_KEY")]
    UnknownKey(String),
    /// The ciphertext, nonce or key is wrong (tampered with, or another key of that id).
    #[error("the secret does not decrypt under server key {0:?}")]
    Corrupt(String),
}

/// Opens `sealed` with the key of its stored id.
pub fn open(keys: &ServerKeys, sealed: &Sealed) -> Result<Secret, OpenError> {
    let key = keys
        .get(&sealed.key_id)
        .ok_or_else(|| OpenError::UnknownKey(sealed.key_id.clone()))?;
    let corrupt = || OpenError::Corrupt(sealed.key_id.clone());
    if sealed.nonce.len() != 12 {
        return Err(corrupt());
    }
    let cipher = ChaCha20Poly1305::new(&key.bytes.into());
    cipher
        .decrypt(
            Nonce::from_slice(&sealed.nonce),
            Payload {
                msg: &sealed.ciphertext,
                aad: AAD,
            },
        )
        .map(Secret)
        .map_err(|_| corrupt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_across_a_key_rotation() {
        let (old, old_text) = ServerKeys::generate("k1");
        let secret = Secret::generate();
        assert!(secret.display().starts_with("whsec_"));
        assert_eq!(Secret::parse(&secret.display()), Some(secret.clone()));
        let sealed = seal(&old, &secret);
        assert_eq!(sealed.key_id, "k1");
        assert_ne!(sealed.ciphertext[..SECRET_BYTES], secret.0[..]);
        // Two seals of one secret differ (fresh nonces).
        assert_ne!(seal(&old, &secret).nonce, sealed.nonce);
        let (_, new_text) = ServerKeys::generate("k2");
        let rotated = ServerKeys::parse(&format!("{new_text},{old_text}")).unwrap();
        assert_eq!(open(&rotated, &sealed), Ok(secret.clone()));
        assert_eq!(seal(&rotated, &secret).key_id, "k2");
        let (gone, _) = ServerKeys::generate("k3");
        assert_eq!(
            open(&gone, &sealed),
            Err(OpenError::UnknownKey("k1".into()))
        );
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(open(&old, &tampered), Err(OpenError::Corrupt("k1".into())));
    }
}
