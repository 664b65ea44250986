//! Relay object identification: opaque global IDs and the `Node` interface.

use async_graphql::{ID, Interface};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::{
    domain::validation::{FieldErrors, Steps},
    error::AppError,
};

use super::types::{
    article::Article, comment::Comment, notification::Notification, session::Session, user::User,
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
}

impl NodeKind {
    const fn prefix(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Article => "Article",
            Self::Comment => "Comment",
            Self::Notification => "Notification",
            Self::Session => "Session",
        }
    }

    fn from_prefix(prefix: &str) -> Option<Self> {
        match prefix {
            "User" => Some(Self::User),
            "Article" => Some(Self::Article),
            "Comment" => Some(Self::Comment),
            "Notification" => Some(Self::Notification),
            "Session" => Some(Self::Session),
            _ => None,
        }
    }
}

/// Encodes a global ID: base64url of `Kind:id`. Clients must treat it as opaque.
pub fn global_id(kind: NodeKind, id: i64) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", kind.prefix())))
}

/// Longest global ID, in bytes: ours are at most 43 (`Notification:` and an `i64`,
/// base64url); a longer one is refused without decoding it.
pub const ID_MAX_BYTES: usize = 64;

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
