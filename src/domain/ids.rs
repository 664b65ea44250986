//! Global ids as the API shows them: base64url (no padding) of `Kind:id`. The GraphQL
//! layer's `node` module encodes with this, and so do webhook payloads and the
//! `webhook-id` header, so that a receiver sees the very ids the API answers with.
//!
//! May call: nothing outside `domain`.

use std::fmt::Display;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

/// The global id of the `kind` object with database id `id`.
pub fn global_id(kind: &str, id: impl Display) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

/// The prefix of webhook deliveries' global ids.
pub const DELIVERY_KIND: &str = "WebhookDelivery";

/// The global id of webhook delivery `id` (its uuid in 32 hex digits): also its
/// `webhook-id` header, the receivers' idempotency key.
pub fn delivery_id(id: Uuid) -> String {
    global_id(DELIVERY_KIND, id.simple())
}

/// The delivery a global id names, if it names one.
pub fn decode_delivery_id(id: &str) -> Option<Uuid> {
    if id.len() > 64 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let raw = text.strip_prefix(DELIVERY_KIND)?.strip_prefix(':')?;
    if raw.len() != 32 {
        return None;
    }
    Uuid::try_parse(raw).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_round_trip_in_64_bytes() {
        let id = Uuid::new_v4();
        let global = delivery_id(id);
        assert_eq!(global.len(), 64);
        assert_eq!(decode_delivery_id(&global), Some(id));
        assert_eq!(decode_delivery_id(&global_id("User", 1)), None);
        assert_eq!(decode_delivery_id(&global_id(DELIVERY_KIND, id)), None);
    }
}
