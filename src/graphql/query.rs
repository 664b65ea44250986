//! `Query`: the root of every read.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use super::{
    guards,
    loaders::Loaders,
    node::{self, Node, NodeKind},
    state,
    types::user::User,
};
use crate::{db, domain::accounts::FieldErrors, error::AppError};

/// The root of every read.
#[derive(Debug, Default, Clone, Copy)]
pub struct Query;

/// The root of every read.
#[Object]
impl Query {
    /// Fetches any object by its global ID; null if there is none.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global ID.")] id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        let (kind, db_id) = decode(&id, "id")?;
        load_node(ctx, kind, db_id).await
    }

    /// Fetches objects by global ID, in order; null for each one that does not exist. At
    /// most 100 IDs.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global IDs, at most 100.")] ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > node::NODES_MAX {
            let mut errors = FieldErrors::default();
            errors.check("ids", Some(format!("at most {} IDs", node::NODES_MAX)));
            errors.into_result()?;
        }
        let decoded = ids
            .iter()
            .map(|id| decode(id, "ids"))
            .collect::<Result<Vec<_>, _>>()?;
        let loads = decoded
            .into_iter()
            .map(|(kind, db_id)| load_node(ctx, kind, db_id));
        futures_util::future::try_join_all(loads).await
    }

    /// The signed-in user; null for anonymous requests.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(viewer) = guards::viewer(ctx) else {
            return Ok(None);
        };
        load_node(ctx, NodeKind::User, viewer.user_id)
            .await
            .map(|node| node.map(|Node::User(user)| user))
    }

    /// The user with this username (ignoring case); null if there is none.
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The username, in any case.")] username: String,
    ) -> async_graphql::Result<Option<User>> {
        let mut conn = db::connect(&state(ctx).pool)
            .await
            .map_err(AppError::from)?;
        let row = db::users::find_by_username(&mut conn, &username)
            .await
            .map_err(AppError::from)?;
        Ok(row.map(|row| User::new(Arc::new(row))))
    }
}

fn decode(id: &ID, field: &str) -> Result<(NodeKind, i64), AppError> {
    node::decode_global_id(id).ok_or_else(|| {
        let mut errors = FieldErrors::default();
        errors.check(field, Some(format!("{:?} is not a valid ID", id.as_str())));
        errors.into_result().expect_err("one error")
    })
}

async fn load_node(
    ctx: &Context<'_>,
    kind: NodeKind,
    id: i64,
) -> async_graphql::Result<Option<Node>> {
    let loaders = ctx.data::<Loaders>()?;
    match kind {
        NodeKind::User => {
            let row = loaders.users.load_one(id).await.map_err(AppError::from)?;
            Ok(row.map(|row| Node::User(User::new(row))))
        }
    }
}
