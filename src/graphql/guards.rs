//! Field guards and viewer helpers. Each guard calls a policy function from
//! `domain::policy`, the same one the mutations and viewer flags use.

use async_graphql::{Context, Guard};

use crate::{
    domain::{
        devices::{Origin, UserAgent},
        policy::{self, Viewer},
    },
    error::AppError,
    ratelimit::ClientIp,
};

/// The signed-in viewer of this request, if any.
pub fn viewer(ctx: &Context<'_>) -> Option<Viewer> {
    ctx.data_opt::<Viewer>().copied()
}

/// The address the request came from, when the transport knows it.
pub fn client_ip(ctx: &Context<'_>) -> Option<ClientIp> {
    ctx.data_opt::<ClientIp>().copied()
}

/// Where a sign-in in this request comes from: its User-Agent and client IP, as the
/// session it starts will keep them.
pub fn origin(ctx: &Context<'_>) -> Origin {
    Origin {
        user_agent: ctx.data_opt::<UserAgent>().cloned(),
        client_ip: client_ip(ctx).map(|ClientIp(ip)| ip),
    }
}

/// The signed-in viewer, or UNAUTHENTICATED.
pub fn require_viewer(ctx: &Context<'_>) -> Result<Viewer, AppError> {
    viewer(ctx).ok_or_else(|| AppError::Unauthenticated("Sign in first.".into()))
}

/// Resolves a nullable field behind `guard`: the value when the guard allows it, else null
/// plus the guard's error at the field's path.
///
/// async-graphql's `#[graphql(guard)]` drops the field's key from the object on refusal,
/// where the GraphQL spec (and Apollo Client's cache) want an explicit null; this keeps the
/// guard type and the policy, and answers as the spec says.
pub async fn nullable<T>(
    ctx: &Context<'_>,
    guard: impl Guard,
    value: impl FnOnce() -> T,
) -> Option<T> {
    match guard.check(ctx).await {
        Ok(()) => Some(value()),
        Err(err) => {
            ctx.add_error(ctx.set_error_path(err.into_server_error(ctx.item.pos)));
            None
        }
    }
}

/// Private profile fields (email): the user themself and admins only.
pub struct SelfOrAdmin {
    owner_id: i64,
    viewer: Option<Viewer>,
}

impl SelfOrAdmin {
    /// Guards a field of user `owner_id` as seen by `viewer` (or the request's viewer).
    pub fn new(owner_id: i64, viewer: Option<Viewer>) -> Self {
        Self { owner_id, viewer }
    }
}

impl Guard for SelfOrAdmin {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let viewer = self.viewer.or_else(|| viewer(ctx));
        if policy::can_view_email(viewer.as_ref(), self.owner_id) {
            Ok(())
        } else {
            Err(
                AppError::Forbidden("Only the user themself and admins may see this.".into())
                    .into(),
            )
        }
    }
}

/// A user's sessions (`User.sessions`): the user themself only, admins refused too.
pub struct OwnSessions {
    owner_id: i64,
    viewer: Option<Viewer>,
}

impl OwnSessions {
    /// Guards the sessions of user `owner_id` as seen by `viewer` (or the request's
    /// viewer).
    pub fn new(owner_id: i64, viewer: Option<Viewer>) -> Self {
        Self { owner_id, viewer }
    }
}

impl Guard for OwnSessions {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let viewer = self.viewer.or_else(|| viewer(ctx));
        if policy::can_manage_sessions(viewer.as_ref(), self.owner_id) {
            Ok(())
        } else {
            Err(AppError::Forbidden("Only the user themself may see their sessions.".into()).into())
        }
    }
}
