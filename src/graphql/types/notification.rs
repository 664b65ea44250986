//! The `Notification` type and `NotificationKind`.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object};

use crate::{
    db::notifications::{NotificationRow, kind},
    error::AppError,
    graphql::{
        loaders::loaders,
        node::{NodeKind, global_id},
        scalars::DateTime,
        types::{article::Article, comment::Comment, user::User},
    },
};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum NotificationKind {
    /// actor followed the recipient
    NewFollower,
    /// actor favorited the recipient's article
    ArticleFavorited,
    /// actor commented on the recipient's article
    CommentAdded,
    /// actor, whom the recipient follows, published an article
    ArticlePublished,
    /// one of the recipient's webhooks stopped delivering (repeated failures or 410 Gone;
    /// see `disabledReason`); actor is the recipient
    WebhookDisabled,
}

impl NotificationKind {
    /// The `notifications.kind` value of this kind.
    pub const fn as_db(self) -> &'static str {
        match self {
            Self::NewFollower => kind::NEW_FOLLOWER,
            Self::ArticleFavorited => kind::ARTICLE_FAVORITED,
            Self::CommentAdded => kind::COMMENT_ADDED,
            Self::ArticlePublished => kind::ARTICLE_PUBLISHED,
            Self::WebhookDisabled => kind::WEBHOOK_DISABLED,
        }
    }

    /// The kind stored as `value`.
    pub fn from_db(value: &str) -> Option<Self> {
        Some(match value {
            kind::NEW_FOLLOWER => Self::NewFollower,
            kind::ARTICLE_FAVORITED => Self::ArticleFavorited,
            kind::COMMENT_ADDED => Self::CommentAdded,
            kind::ARTICLE_PUBLISHED => Self::ArticlePublished,
            kind::WEBHOOK_DISABLED => Self::WebhookDisabled,
            _ => return None,
        })
    }
}

/// Something that happened that concerns the recipient.
#[derive(Debug, Clone)]
pub struct Notification {
    row: Arc<NotificationRow>,
}

impl Notification {
    /// The notification in `row`.
    pub fn new(row: Arc<NotificationRow>) -> Self {
        Self { row }
    }

    /// Who it is for.
    pub fn recipient_id(&self) -> i64 {
        self.row.recipient_id
    }
}

/// Something that happened that concerns the recipient.
#[Object]
impl Notification {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Notification, self.row.id)
    }

    /// What happened.
    async fn kind(&self) -> async_graphql::Result<NotificationKind> {
        Ok(NotificationKind::from_db(&self.row.kind).ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "unknown notification kind {:?}",
                self.row.kind
            ))
        })?)
    }

    /// Who did it.
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let row = loaders(ctx).referenced_user(self.row.actor_id).await?;
        Ok(User::new(row))
    }

    /// The article concerned (favorited, commented on or published).
    async fn article(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Article>> {
        let Some(id) = self.row.article_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).articles.load_one(id).await?.map(Article::new))
    }

    /// The comment concerned (for COMMENT_ADDED).
    async fn comment(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Comment>> {
        let Some(id) = self.row.comment_id else {
            return Ok(None);
        };
        Ok(loaders(ctx).comments.load_one(id).await?.map(Comment::new))
    }

    /// When it happened.
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }

    /// When the recipient marked it read; null while unread.
    async fn read_at(&self) -> Option<DateTime> {
        self.row.read_at.map(Into::into)
    }
}
