//! The `User` type and the `Role` enum.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object};

use crate::{
    db::users::UserRow,
    domain::policy::{self, Viewer},
    graphql::{
        guards::{self, SelfOrAdmin},
        node::{NodeKind, global_id},
        scalars::DateTime,
    },
};

/// What an account may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "Role")]
pub enum RoleValue {
    /// A regular account.
    User,
    /// May moderate any content and see private fields.
    Admin,
}

impl From<policy::Role> for RoleValue {
    fn from(role: policy::Role) -> Self {
        match role {
            policy::Role::User => Self::User,
            policy::Role::Admin => Self::Admin,
        }
    }
}

/// A registered account and its public profile.
#[derive(Debug, Clone)]
pub struct User {
    row: Arc<UserRow>,
    /// Who counts as the viewer for this object; `None` means the request's viewer.
    viewer: Option<Viewer>,
}

impl User {
    /// The user in `row`, seen by the request's viewer.
    pub fn new(row: Arc<UserRow>) -> Self {
        Self { row, viewer: None }
    }

    /// The user in `row`, seen by `viewer` (e.g. the session a mutation just started).
    pub fn seen_by(row: Arc<UserRow>, viewer: Viewer) -> Self {
        Self {
            row,
            viewer: Some(viewer),
        }
    }

    fn viewer(&self, ctx: &Context<'_>) -> Option<Viewer> {
        self.viewer.or_else(|| guards::viewer(ctx))
    }
}

/// A registered account and its public profile.
#[Object]
impl User {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::User, self.row.id)
    }

    /// Unique public name: 3–32 letters, digits, `_` or `-` (unique ignoring case).
    async fn username(&self) -> &str {
        &self.row.username
    }

    /// A short biography.
    async fn bio(&self) -> Option<&str> {
        self.row.bio.as_deref()
    }

    /// Avatar image URL.
    async fn image(&self) -> Option<&str> {
        self.row.image.as_deref()
    }

    /// Only for the user themself and admins: null with a FORBIDDEN error otherwise.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        let guard = SelfOrAdmin::new(self.row.id, self.viewer);
        guards::nullable(ctx, guard, || self.row.email.as_str()).await
    }

    /// What the account may do.
    async fn role(&self) -> RoleValue {
        policy::Role::from_db(&self.row.role).into()
    }

    /// When the account was created.
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }

    /// True when this is the signed-in user.
    async fn is_viewer(&self, ctx: &Context<'_>) -> bool {
        policy::is_self(self.viewer(ctx).as_ref(), self.row.id)
    }
}
