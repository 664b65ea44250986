//! The `Comment` type.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use crate::{
    db::comments::CommentRow,
    domain::policy,
    graphql::{
        guards,
        loaders::loaders,
        node::{NodeKind, global_id},
        scalars::DateTime,
        types::{article::Article, user::User},
    },
};

/// A comment on an article.
#[derive(Debug, Clone)]
pub struct Comment {
    row: Arc<CommentRow>,
}

impl Comment {
    /// The comment in `row`.
    pub fn new(row: Arc<CommentRow>) -> Self {
        Self { row }
    }
}

impl From<CommentRow> for Comment {
    fn from(row: CommentRow) -> Self {
        Self::new(Arc::new(row))
    }
}

/// A comment on an article.
#[Object]
impl Comment {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Comment, self.row.id)
    }

    /// The text: 1–10000 characters.
    async fn body(&self) -> &str {
        &self.row.body
    }

    /// When it was written.
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }

    /// When it last changed.
    async fn updated_at(&self) -> DateTime {
        self.row.updated_at.into()
    }

    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let row = loaders(ctx).referenced_user(self.row.author_id).await?;
        Ok(User::new(row))
    }

    /// The article it is on.
    async fn article(&self, ctx: &Context<'_>) -> async_graphql::Result<Article> {
        let row = loaders(ctx).referenced_article(self.row.article_id).await?;
        Ok(Article::new(row))
    }

    /// True when the signed-in user may delete it (its author or an admin).
    async fn viewer_can_delete(&self, ctx: &Context<'_>) -> bool {
        policy::can_delete_comment(guards::viewer(ctx).as_ref(), self.row.author_id)
    }
}
