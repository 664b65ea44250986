//! Relay object identification: opaque global IDs and the `Node` interface.

use async_graphql::{ID, Interface};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::{
    domain::{
        ids,
        validation::{FieldErrors, Steps},
    },
    error::AppError,
};

use super::types::{
    article::Article,
    comment::Comment,
    notification::Notification,
    session::Session,
    user::User,
    webhook::{Webhook, WebhookDelivery},
};

/// Most IDs `nodes` takes at once.
pub const NODES_MAX: usize = 100;

/// The kinds of object a global ID can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A `User`.
    User,
    /// An `Article`.
    Article,
    /// A `Comment`.
    Comment,
    /// A `Notification`.
    Notification,
    /// A `Session`.
    Session,
    /// A `Webhook`.
    Webhook,
}

impl NodeKind {
    const fn prefix(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Article => "Article",
            Self::Comment => "Comment",
            Self::Notification => "Notification",
            Self::Session => "Session",
            Self::Webhook => "Webhook",
        }
    }

    fn from_prefix(prefix: &str) -> Option<Self> {
        match prefix {
            "User" => Some(Self::User),
            "Article" => Some(Self::Article),
            "Comment" => Some(Self::Comment),
            "Notification" => Some(Self::Notification),
            "Session" => Some(Self::Session),
            "Webhook" => Some(Self::Webhook),
            _ => None,
        }
    }
}

/// Encodes a global ID: base64url of `Kind:id` ([`ids::global_id`]). Clients must treat
/// it as opaque.
pub fn global_id(kind: NodeKind, id: i64) -> ID {
    ID(ids::global_id(kind.prefix(), id))
}

/// Longest global ID, in bytes: ours are at most 64 (`WebhookDelivery:` and a uuid in hex,
/// base64url); a longer one is refused without decoding it.
pub const ID_MAX_BYTES: usize = 64;

/// What a global ID names: an object with an integer id, or a webhook delivery (a uuid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRef {
    /// An object of `kind` with this id.
    Int(NodeKind, i64),
    /// A webhook delivery.
    Delivery(Uuid),
}

/// Decodes a global ID of any kind, webhook deliveries included, for input field
/// `field`; BAD_USER_INPUT otherwise.
pub fn decode_ref(id: &ID, field: &str) -> Result<NodeRef, AppError> {
    if let Some(delivery) = decode_delivery(id) {
        return Ok(NodeRef::Delivery(delivery));
    }
    decode(id, field).map(|(kind, id)| NodeRef::Int(kind, id))
}

/// The webhook delivery a global ID names, if it names one.
pub fn decode_delivery(id: &str) -> Option<Uuid> {
    if id.len() > ID_MAX_BYTES {
        return None;
    }
    Steps::add(id.len());
    ids::decode_delivery_id(id)
}

/// Decodes a webhook delivery's global ID, for input field `field`; BAD_USER_INPUT
/// otherwise.
pub fn decode_delivery_as(id: &ID, field: &str) -> Result<Uuid, AppError> {
    decode_delivery(id).ok_or_else(|| invalid(id, field))
}

/// Decodes a global ID; `None` if it is not one of ours (a validation step per byte read).
pub fn decode_global_id(id: &str) -> Option<(NodeKind, i64)> {
    if id.len() > ID_MAX_BYTES {
        return None;
    }
    Steps::add(id.len());
    let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (prefix, raw) = text.split_once(':')?;
    let kind = NodeKind::from_prefix(prefix)?;
    let id = raw.parse::<i64>().ok().filter(|id| *id > 0)?;
    Some((kind, id))
}

/// Decodes a global ID that must name a `kind`, for input field `field`; BAD_USER_INPUT
/// otherwise.
pub fn decode_as(id: &ID, kind: NodeKind, field: &str) -> Result<i64, AppError> {
    match decode(id, field)? {
        (found, db_id) if found == kind => Ok(db_id),
        _ => Err(invalid(id, field)),
    }
}

/// Decodes a global ID of any kind, for input field `field`; BAD_USER_INPUT otherwise.
pub fn decode(id: &ID, field: &str) -> Result<(NodeKind, i64), AppError> {
    decode_global_id(id).ok_or_else(|| invalid(id, field))
}

fn invalid(id: &ID, field: &str) -> AppError {
    let mut errors = FieldErrors::default();
    let message = if id.len() > ID_MAX_BYTES {
        // Not echoed: it could be as large as the body.
        format!("is not a valid ID (longer than {ID_MAX_BYTES} bytes)")
    } else {
        format!("{:?} is not a valid ID", id.as_str())
    };
    errors.check(field, Some(message));
    errors.into_result().expect_err("one error")
}

/// An object with a global ID, fetchable with `Query.node`.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global ID."))]
pub enum Node {
    /// A user.
    User(User),
    /// An article.
    Article(Article),
    /// A comment.
    Comment(Comment),
    /// A notification (only its recipient gets it).
    Notification(Notification),
    /// A live session (only its user gets it).
    Session(Session),
    /// A webhook (only its owner gets it).
    Webhook(Webhook),
    /// A webhook delivery (only its webhook's owner gets it).
    WebhookDelivery(WebhookDelivery),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_reject_garbage() {
        let id = global_id(NodeKind::User, 42);
        assert_eq!(decode_global_id(&id), Some((NodeKind::User, 42)));
        let article = global_id(NodeKind::Article, 7);
        assert_eq!(decode_global_id(&article), Some((NodeKind::Article, 7)));
        for bad in ["", "42", "VXNlcjo", "VGFnOjE", "VXNlcjotMQ"] {
            assert_eq!(decode_global_id(bad), None, "{bad}");
        }
    }
}
