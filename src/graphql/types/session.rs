//! The `Session` type: one signed-in device of the viewer's (`User.sessions`).

use std::sync::Arc;

use async_graphql::{ID, Object};

use crate::{
    db::sessions::SessionRow,
    graphql::{
        node::{NodeKind, global_id},
        scalars::DateTime,
    },
};

/// A signed-in session of the viewer's: where and when it signed in, and when it was last
/// used.
#[derive(Debug, Clone)]
pub struct Session {
    row: Arc<SessionRow>,
    /// The session the request counts as (the viewer's, or one a mutation just started).
    current: Option<i64>,
}

impl Session {
    /// The session in `row`, seen from session `current`.
    pub fn new(row: Arc<SessionRow>, current: Option<i64>) -> Self {
        Self { row, current }
    }

    /// Whose session it is.
    pub fn user_id(&self) -> i64 {
        self.row.user_id
    }
}

/// A signed-in session of the viewer's: where and when it signed in, and when it was last
/// used.
#[Object]
impl Session {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Session, self.row.id)
    }

    /// When it signed in.
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }

    /// When its tokens were last renewed: sign-in or the latest refresh (a client in use
    /// refreshes at least every 15 minutes), so within about 15 minutes of its last use.
    async fn last_used_at(&self) -> DateTime {
        self.row.refreshed_at.into()
    }

    /// The User-Agent header of the request that signed in.
    async fn user_agent(&self) -> Option<&str> {
        self.row.user_agent.as_deref()
    }

    /// The client IP of the request that signed in.
    async fn client_ip(&self) -> Option<&str> {
        self.row.client_ip.as_deref()
    }

    /// True for the session making this request.
    async fn is_current(&self) -> bool {
        self.current == Some(self.row.id)
    }
}
