//! The two WebSocket subprotocols' messages and close codes.
//!
//! - `graphql-transport-ws` is graphql-ws's protocol (Apollo Client, urql, GraphiQL), as
//!   its PROTOCOL.md specifies it.
//! - `graphql-ws` is the legacy subscriptions-transport-ws protocol.
//!
//! It reads and writes messages only; of the rest of the crate it knows the pipeline's
//! [`Params`], which a `subscribe` payload becomes.

use async_graphql::{Extensions, Response, ServerError, Variables};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::graphql::execution::Params;

/// The subprotocols, in order of preference.
pub const SUBPROTOCOLS: [&str; 2] = [TRANSPORT_WS, LEGACY_WS];
const TRANSPORT_WS: &str = "graphql-transport-ws";
const LEGACY_WS: &str = "graphql-ws";

/// Close codes.
pub mod close {
    /// A normal closure: an anonymous socket idle for `WS_IDLE_TIMEOUT_MS`.
    pub const NORMAL: u16 = 1000;
    /// The server is shutting down.
    pub const GOING_AWAY: u16 = 1001;
    /// A message was larger than the server accepts.
    pub const MESSAGE_TOO_BIG: u16 = 1009;
    /// The connection fell behind: its queue of outgoing messages overflowed.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// A malformed or unexpected message.
    pub const BAD_REQUEST: u16 = 4400;
    /// `subscribe` before the connection was acknowledged.
    pub const UNAUTHORIZED: u16 = 4401;
    /// `connection_init` was refused, or the session was revoked.
    pub const FORBIDDEN: u16 = 4403;
    /// The client offered no subprotocol this server speaks.
    pub const SUBPROTOCOL_NOT_ACCEPTABLE: u16 = 4406;
    /// No `connection_init` in time.
    pub const INIT_TIMEOUT: u16 = 4408;
    /// `subscribe` with the id of an operation still running.
    pub const DUPLICATE_ID: u16 = 4409;
    /// A second `connection_init`.
    pub const TOO_MANY_INITS: u16 = 4429;
    /// The user has `WS_MAX_PER_USER` sockets open already (the reason tells it from
    /// [`TOO_MANY_INITS`]).
    pub const TOO_MANY_SOCKETS: u16 = 4429;
    /// The server failed (the database was unreachable during authentication).
    pub const INTERNAL: u16 = 4500;
}

/// Which subprotocol a connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws`.
    TransportWs,
    /// The legacy `graphql-ws`.
    LegacyWs,
}

impl Protocol {
    /// The protocol named by a `Sec-WebSocket-Protocol` value.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            TRANSPORT_WS => Some(Self::TransportWs),
            LEGACY_WS => Some(Self::LegacyWs),
            _ => None,
        }
    }

    /// `connection_ack`.
    pub fn ack(self) -> String {
        json!({ "type": "connection_ack" }).to_string()
    }

    /// A result of operation `id`.
    pub fn next(self, id: &str, response: &Response) -> String {
        let kind = match self {
            Self::TransportWs => "next",
            Self::LegacyWs => "data",
        };
        // Serialized from the response itself: a `serde_json::Value` would sort its keys
        // and undo the selection order.
        serde_json::to_string(&Envelope {
            id,
            kind,
            payload: response,
        })
        .expect("responses serialize")
    }

    /// Operation `id` failed before it ran.
    pub fn error(self, id: &str, errors: &[ServerError]) -> String {
        serde_json::to_string(&Envelope {
            id,
            kind: "error",
            payload: errors,
        })
        .expect("errors serialize")
    }

    /// Operation `id` is over.
    pub fn complete(self, id: &str) -> String {
        json!({ "id": id, "type": "complete" }).to_string()
    }

    /// The keep-alive message: `ping` (answered with `pong`), or the legacy `ka`.
    pub fn keepalive(self) -> String {
        match self {
            Self::TransportWs => json!({ "type": "ping" }).to_string(),
            Self::LegacyWs => json!({ "type": "ka" }).to_string(),
        }
    }

    /// The answer to a client's `ping`.
    pub fn pong(self) -> String {
        json!({ "type": "pong" }).to_string()
    }

    /// The legacy protocol's refusal of `connection_init`, sent before closing.
    pub fn connection_error(self, message: &str) -> Option<String> {
        match self {
            Self::TransportWs => None,
            Self::LegacyWs => Some(
                json!({ "type": "connection_error", "payload": { "message": message } })
                    .to_string(),
            ),
        }
    }
}

/// A server message with a payload, fields in protocol order.
#[derive(Serialize)]
struct Envelope<'a, P: Serialize + ?Sized> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    payload: &'a P,
}

/// A client's message, once checked against its protocol.
#[derive(Debug)]
pub enum ClientMessage {
    /// `connection_init`, with its payload (an object, or none).
    Init(serde_json::Map<String, Value>),
    /// `subscribe` (legacy: `start`).
    Subscribe {
        /// The operation id the client chose.
        id: String,
        /// The operation.
        payload: SubscribePayload,
    },
    /// `complete` (legacy: `stop`).
    Complete {
        /// The operation id.
        id: String,
    },
    /// `ping`.
    Ping,
    /// `pong`.
    Pong,
    /// Legacy `connection_terminate`.
    Terminate,
}

/// The operation in a `subscribe` message: the pipeline's [`Params`] as graphql-ws sends
/// them, with a `query` that must be a string when present (and a protocol error, 4400,
/// when it is not), where GraphQL-over-HTTP allows `null`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscribePayload {
    /// The document; may be left out only when a persisted query's hash stands for it
    /// (then it is empty here).
    #[serde(default)]
    pub query: String,
    /// The operation to run.
    #[serde(default)]
    pub operation_name: Option<String>,
    /// Variables.
    #[serde(default)]
    pub variables: Option<Variables>,
    /// Extensions.
    #[serde(default)]
    pub extensions: Option<Extensions>,
}

impl From<SubscribePayload> for Params {
    /// The payload as the pipeline reads it: an empty `query` is none.
    fn from(payload: SubscribePayload) -> Self {
        let SubscribePayload {
            query,
            operation_name,
            variables,
            extensions,
        } = payload;
        Self {
            query: (!query.is_empty()).then_some(query),
            operation_name,
            variables,
            extensions,
            document_id: None,
        }
    }
}

#[derive(Deserialize)]
struct Raw {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    payload: Option<Value>,
}

impl ClientMessage {
    /// Reads a text frame; `Err` says why it is not a valid message of `protocol`.
    pub fn parse(protocol: Protocol, text: &str) -> Result<Self, String> {
        let raw: Raw =
            serde_json::from_str(text).map_err(|e| format!("Invalid message received: {e}"))?;
        let id = |raw: &Raw| match raw.id.as_deref() {
            Some(id) if !id.is_empty() => Ok(id.to_owned()),
            _ => Err(format!(
                "Invalid message received: `{}` needs an id",
                raw.kind
            )),
        };
        let legacy = protocol == Protocol::LegacyWs;
        Ok(match raw.kind.as_str() {
            "connection_init" => {
                Self::Init(match raw.payload {
                    None | Some(Value::Null) => serde_json::Map::new(),
                    Some(Value::Object(map)) => map,
                    Some(_) => return Err(
                        "Invalid message received: the connection_init payload must be an object"
                            .into(),
                    ),
                })
            }
            "subscribe" if !legacy => Self::Subscribe {
                id: id(&raw)?,
                payload: subscribe_payload(raw.payload)?,
            },
            "start" if legacy => Self::Subscribe {
                id: id(&raw)?,
                payload: subscribe_payload(raw.payload)?,
            },
            "complete" if !legacy => Self::Complete { id: id(&raw)? },
            "stop" if legacy => Self::Complete { id: id(&raw)? },
            "ping" if !legacy => Self::Ping,
            "pong" if !legacy => Self::Pong,
            "connection_terminate" if legacy => Self::Terminate,
            other => {
                return Err(format!(
                    "Invalid message received: unexpected type `{other}`"
                ));
            }
        })
    }
}

fn subscribe_payload(payload: Option<Value>) -> Result<SubscribePayload, String> {
    let payload = payload.ok_or("Invalid message received: `subscribe` needs a payload")?;
    let has_query = payload.get("query").is_some();
    let payload: SubscribePayload =
        serde_json::from_value(payload).map_err(|e| format!("Invalid message received: {e}"))?;
    let persisted = payload
        .extensions
        .as_ref()
        .is_some_and(|e| e.contains_key("persistedQuery"));
    if !has_query && !persisted {
        return Err("Invalid message received: missing field `query`".to_owned());
    }
    Ok(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_checked_against_their_protocol() {
        let t = Protocol::TransportWs;
        let l = Protocol::LegacyWs;
        let sub = r#"{"id":"1","type":"subscribe","payload":{"query":"{a}"}}"#;
        let start = r#"{"id":"1","type":"start","payload":{"query":"{a}"}}"#;
        assert!(matches!(
            ClientMessage::parse(t, sub),
            Ok(ClientMessage::Subscribe { .. })
        ));
        assert!(ClientMessage::parse(l, sub).is_err());
        assert!(matches!(
            ClientMessage::parse(l, start),
            Ok(ClientMessage::Subscribe { .. })
        ));
        assert!(ClientMessage::parse(t, start).is_err());
        for bad in [
            "not json",
            r#"{"type":"subscribe","payload":{"query":"{a}"}}"#,
            r#"{"id":"","type":"subscribe","payload":{"query":"{a}"}}"#,
            r#"{"id":"1","type":"subscribe"}"#,
            r#"{"id":"1","type":"subscribe","payload":{"query":1}}"#,
            r#"{"type":"connection_init","payload":"token"}"#,
            r#"{"type":"whatever"}"#,
            r#"{"id":1,"type":"complete"}"#,
        ] {
            assert!(ClientMessage::parse(t, bad).is_err(), "{bad}");
        }
        assert!(matches!(
            ClientMessage::parse(t, r#"{"type":"connection_init","payload":null}"#),
            Ok(ClientMessage::Init(map)) if map.is_empty()
        ));
    }
}
