//! What `connection_init` establishes on a WebSocket: the credentials it carries, the
//! viewer they name, its place in the user's count of sockets (`WS_MAX_PER_USER`), the
//! connection's registration in the hub, and the end of it all
//! when the session is revoked. It may call `domain::sessions`, `db::sessions` (whether a
//! session is live) and the hub.

use std::time::Duration;

use async_graphql::Executor;
use serde_json::{Map, Value};
use tokio::sync::oneshot;

use super::{
    Connection, End, Op, OpKind,
    protocol::{Protocol, close},
};
use crate::{
    db::{PgPool, RequestDb},
    domain::{policy::Viewer, sessions},
    error::{AppError, ErrorCode},
    graphql::{
        error::coded_error,
        subscription::{Command, Hub, Outbox},
    },
};

/// Longest a new connection waits for the hub to register it.
const REGISTRATION_TIMEOUT: Duration = Duration::from_secs(5);

/// What `connection_init` established.
#[derive(Clone)]
pub(super) struct Session {
    /// Who the socket is signed in as (subscriptions run as this viewer).
    pub(super) viewer: Option<Viewer>,
    /// The `Authorization` value it was given, to authenticate each query and mutation.
    pub(super) authorization: Option<String>,
}

/// The connection's registration in the hub; dropping it (however the connection ends,
/// panics included) unregisters it.
pub(super) struct Registration {
    hub: Hub,
    conn: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.send(Command::Disconnect { conn: self.conn });
    }
}

impl<E: Executor> Connection<E> {
    /// Authenticates `connection_init`'s payload and registers the connection in the hub.
    pub(super) async fn initialise(
        &mut self,
        payload: &Map<String, Value>,
        outbox: &Outbox,
    ) -> Result<(), AppError> {
        let pool = self.state().pool.clone();
        let authorization = authorization(payload)?;
        let viewer = match &authorization {
            Some(header) => Some(authenticate(&pool, header).await?),
            None => None,
        };
        if let Some(viewer) = viewer {
            let caps = &self.state().sockets.caps;
            self.user_slot = Some(caps.admit_user(viewer.user_id).ok_or(
                AppError::RateLimited {
                    retry_after_secs: 1,
                },
            )?);
        }
        let (registered, heard) = oneshot::channel();
        self.hub.send(Command::Connect {
            conn: self.conn,
            viewer,
            outbox: outbox.clone(),
            registered,
        });
        self.registration = Some(Registration {
            hub: self.hub.clone(),
            conn: self.conn,
        });
        if let Some(viewer) = viewer {
            // A revocation the hub handled before it knew this connection would be
            // missed: once it knows, look at the session once more.
            let unavailable =
                || AppError::ServiceUnavailable(anyhow::anyhow!("the hub did not register"));
            tokio::time::timeout(REGISTRATION_TIMEOUT, heard)
                .await
                .map_err(|_| unavailable())?
                .map_err(|_| unavailable())?;
            if !session_is_live(&pool, viewer.session_id).await? {
                return Err(AppError::Unauthenticated(
                    "The session has been revoked. Sign in again.".into(),
                ));
            }
        }
        self.session = Some(Session {
            viewer,
            authorization,
        });
        Ok(())
    }

    /// The session was revoked: every operation gets an UNAUTHENTICATED `error`, then the
    /// socket closes with 4403.
    pub(super) async fn revoked(&mut self, protocol: Protocol) -> End {
        let error = coded_error(
            ErrorCode::Unauthenticated,
            "The session has been revoked. Sign in again.",
        );
        let ops: Vec<Op> = self.ops.drain().map(|(_, op)| op).collect();
        self.ids.clear();
        for op in ops {
            if let OpKind::Query(abort) = &op.kind {
                abort.abort();
            }
            let text = protocol.error(&op.id, std::slice::from_ref(&error));
            if self.send_text(text).await.is_err() {
                return End::Drop;
            }
        }
        End::Close(
            close::FORBIDDEN,
            "Forbidden: the session has been revoked".into(),
        )
    }
}

/// The `Authorization` value in `connection_init`'s payload: `authorization` or
/// `Authorization` ("Bearer <token>"), `token` (the bare token), or the same inside
/// `headers` (as some clients send them). `None` for an anonymous socket.
fn authorization(payload: &Map<String, Value>) -> Result<Option<String>, AppError> {
    let found = ["authorization", "Authorization"]
        .iter()
        .find_map(|key| payload.get(*key).map(|v| (v, false)))
        .or_else(|| payload.get("token").map(|v| (v, true)))
        .or_else(|| match payload.get("headers") {
            Some(Value::Object(headers)) => ["authorization", "Authorization"]
                .iter()
                .find_map(|key| headers.get(*key).map(|v| (v, false))),
            _ => None,
        });
    let Some((value, bare)) = found else {
        return Ok(None);
    };
    let value = value
        .as_str()
        .ok_or_else(|| AppError::Unauthenticated("The authorization must be a string.".into()))?;
    Ok(Some(if bare && !value.starts_with("Bearer ") {
        format!("Bearer {value}")
    } else {
        value.to_owned()
    }))
}

/// The viewer an `Authorization` value names.
async fn authenticate(pool: &PgPool, header: &str) -> Result<Viewer, AppError> {
    let db = RequestDb::new(pool);
    let viewer = sessions::authenticate(&db, header).await;
    db.release().await;
    viewer
}

/// True when session `id` is not revoked.
async fn session_is_live(pool: &PgPool, id: i64) -> Result<bool, AppError> {
    let db = RequestDb::new(pool);
    let live = match db.conn().await {
        Ok(conn) => crate::db::sessions::live_among(&conn, &[id]).await,
        Err(err) => Err(err),
    };
    db.release().await;
    Ok(!live?.is_empty())
}
