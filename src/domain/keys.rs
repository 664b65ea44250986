//! The server key ring (`WEBHOOK_SECRET_KEY`): 256-bit keys, each with an id, the first
//! one current. Webhook signing secrets are encrypted at rest under it, and the values of
//! email tokens are derived from it (so that only their hashes are stored, and a retried
//! mail still carries the same link). Older keys stay in the ring so that what they
//! encrypted or derived still opens after a rotation; a new key goes first.
//!
//! Format: `id:base64key[,id:base64key...]`, ids of letters, digits, `-` and `_`.
//!
//! May call: nothing outside `domain`.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One key of the ring.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerKey {
    /// Its id, stored beside what it encrypted or derived.
    pub id: String,
    /// The 256-bit key.
    pub bytes: [u8; 32],
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The ring: the current key first, then older ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeys(Vec<ServerKey>);

impl ServerKeys {
    /// Parses `id:base64key[,id:base64key...]`.
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut keys: Vec<ServerKey> = Vec::new();
        for entry in value.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, key) = entry
                .split_once(':')
                .ok_or("each key is id:base64 (e.g. k1:...)")?;
            let id = id.trim();
            if id.is_empty()
                || id.len() > 32
                || !id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(format!("key id {id:?}: 1-32 letters, digits, - or _"));
            }
            let bytes = STANDARD
                .decode(key.trim())
                .map_err(|e| format!("key {id}: not base64 ({e})"))?;
            let bytes: [u8; 32] = bytes
                .try_into()
                .map_err(|_| format!("key {id}: must be 32 bytes (44 base64 characters)"))?;
            if keys.iter().any(|k| k.id == id) {
                return Err(format!("key id {id} appears twice"));
            }
            keys.push(ServerKey {
                id: id.to_owned(),
                bytes,
            });
        }
        if keys.is_empty() {
            return Err("no key given".into());
        }
        Ok(Self(keys))
    }

    /// A new ring of one random key, `id`, and its text form (for the development key
    /// file).
    pub fn generate(id: &str) -> (Self, String) {
        let bytes: [u8; 32] = rand::random();
        let text = format!("{id}:{}", STANDARD.encode(bytes));
        let ring = Self(vec![ServerKey {
            id: id.to_owned(),
            bytes,
        }]);
        (ring, text)
    }

    /// The key new things are encrypted or derived with.
    pub fn current(&self) -> &ServerKey {
        &self.0[0]
    }

    /// The key with `id`, if the ring still has it.
    pub fn get(&self, id: &str) -> Option<&ServerKey> {
        self.0.iter().find(|k| k.id == id)
    }

    /// A value derived from key `key_id` for `purpose` and `data` (HMAC-SHA256), or
    /// `None` when the ring no longer has that key.
    pub fn derive(&self, key_id: &str, purpose: &str, data: &[u8]) -> Option<[u8; 32]> {
        let key = self.get(key_id)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.bytes).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        Some(mac.finalize().into_bytes().into())
    }

    /// Whether `tag` is what [`Self::derive`] gives for `key_id`, `purpose` and `data`,
    /// compared in constant time (`hmac`'s `verify_slice`); `false` when the ring no
    /// longer has that key.
    pub fn verify(&self, key_id: &str, purpose: &str, data: &[u8], tag: &[u8]) -> bool {
        let Some(key) = self.get(key_id) else {
            return false;
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.bytes).expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        mac.verify_slice(tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rings_and_refuses_bad_keys() {
        let (ring, text) = ServerKeys::generate("k2");
        let (old, old_text) = ServerKeys::generate("k1");
        let both = ServerKeys::parse(&format!("{text}, {old_text}")).unwrap();
        assert_eq!(both.current().id, "k2");
        assert_eq!(both.get("k1"), Some(old.current()));
        assert_eq!(ServerKeys::parse(&text).unwrap(), ring);
        for bad in ["", "k1", "k1:abc", "k 1:AAAA", &format!("{text},{text}")] {
            assert!(ServerKeys::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn derives_per_key_and_purpose() {
        let (a, _) = ServerKeys::generate("a");
        let x = a.derive("a", "reset", b"1").unwrap();
        assert_eq!(a.derive("a", "reset", b"1"), Some(x));
        assert_ne!(a.derive("a", "verify", b"1"), Some(x));
        assert_ne!(a.derive("a", "reset", b"2"), Some(x));
        assert_eq!(a.derive("b", "reset", b"1"), None);
        assert!(a.verify("a", "reset", b"1", &x));
        assert!(!a.verify("a", "reset", b"2", &x));
        assert!(!a.verify("a", "reset", b"1", &x[..31]));
        assert!(!a.verify("b", "reset", b"1", &x));
    }
}
