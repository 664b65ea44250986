//! Standard Webhooks signatures: `v1,<base64 of HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`,
//! space-separated when more than one secret signs (during a rotation). [`verify`], in
//! constant time (`hmac`'s `verify_slice`), is what a receiver does; the tests use it.
//!
//! May call: `domain` (the secret type).

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::domain::webhooks::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], id: &str, timestamp: i64, body: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac
}

/// One secret's signature of a delivery: `v1,<base64>`.
pub fn signature(secret: &Secret, id: &str, timestamp: i64, body: &str) -> String {
    let tag = mac(&secret.0, id, timestamp, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// The `webhook-signature` header: each secret's signature, space-separated.
pub fn header(secrets: &[Secret], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .map(|secret| signature(secret, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// True when one of the `v1` signatures in `header` is `secret`'s signature of the
/// delivery (compared in constant time; a signature of the wrong length, empty
/// included, never matches).
pub fn verify(secret: &Secret, id: &str, timestamp: i64, body: &str, header: &str) -> bool {
    header.split(' ').any(|entry| {
        let Some(("v1", encoded)) = entry.split_once(',') else {
            return false;
        };
        let Ok(tag) = STANDARD.decode(encoded) else {
            return false;
        };
        mac(&secret.0, id, timestamp, body)
            .verify_slice(&tag)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks reference libraries' tests.
    #[test]
    fn matches_the_specs_example() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        let signed = signature(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn verifies_each_secret_and_refuses_tampering() {
        let (a, b) = (Secret::generate(), Secret::generate());
        let both = header(&[a.clone(), b.clone()], "id1", 1_700_000_000, "{}");
        assert_eq!(both.split(' ').count(), 2);
        assert!(verify(&a, "id1", 1_700_000_000, "{}", &both));
        assert!(verify(&b, "id1", 1_700_000_000, "{}", &both));
        let other = Secret::generate();
        assert!(!verify(&other, "id1", 1_700_000_000, "{}", &both));
        assert!(!verify(&a, "id2", 1_700_000_000, "{}", &both));
        assert!(!verify(&a, "id1", 1_700_000_001, "{}", &both));
        assert!(!verify(&a, "id1", 1_700_000_000, "{ }", &both));
        for bad in ["", "v1,", "v1", "v2,AAAA", "v1,not base64!"] {
            assert!(!verify(&a, "id1", 1_700_000_000, "{}", bad), "{bad:?}");
        }
        // A truncated signature is refused too.
        let one = signature(&a, "id1", 1, "{}");
        let tag = STANDARD.decode(&one[3..]).unwrap();
        let truncated = format!("v1,{}", STANDARD.encode(&tag[..16]));
        assert!(!verify(&a, "id1", 1, "{}", &truncated));
    }
}
