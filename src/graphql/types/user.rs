//! The `User` type and the `Role` enum.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Object};

use crate::{
    db::{self, articles::ArticleFilter, follows::FollowList, keyset::Position, users::UserRow},
    domain::policy::{self, Viewer},
    error::AppError,
    graphql::{
        guards::{self, OwnSessions, SelfOrAdmin},
        loaders::{Follows, loaders},
        node::{NodeKind, global_id},
        pagination::{Connection, List, PageArgs},
        scalars::DateTime,
        session_rules,
        types::{
            article::{Article, article_list},
            notification::{Notification, NotificationKind},
            session::Session,
            webhook::Webhook,
        },
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

    /// Only for the user themself and admins: null with a FORBIDDEN error otherwise.
    async fn email_verified(&self, ctx: &Context<'_>) -> Option<bool> {
        let guard = SelfOrAdmin::new(self.row.id, self.viewer);
        guards::nullable(ctx, guard, || self.row.email_verified_at.is_some()).await
    }

    /// Kinds of notification also sent by email. Only for the user themself: FORBIDDEN
    /// otherwise.
    async fn email_notifications(&self, ctx: &Context<'_>) -> Option<Vec<NotificationKind>> {
        self.own_only(ctx, "email notification settings")?;
        let kinds = self.row.email_notifications.iter().flatten();
        Some(kinds.filter_map(|k| NotificationKind::from_db(k)).collect())
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

    /// True when the signed-in user follows this user (always false for yourself).
    async fn viewer_is_following(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let viewer = self.viewer(ctx);
        let Some(viewer) = viewer.filter(|v| policy::can_follow(Some(v), self.row.id)) else {
            return Ok(false);
        };
        let key = Follows {
            viewer: viewer.user_id,
            user: self.row.id,
        };
        Ok(loaders(ctx).relations.load_one(key).await?.unwrap_or(false))
    }

    /// How many users follow this user.
    async fn followers_count(&self) -> i32 {
        self.row.followers_count
    }

    /// How many users this user follows.
    async fn following_count(&self) -> i32 {
        self.row.following_count
    }

    /// The users who follow this user, newest follow first.
    async fn followers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1–100 (default 20), reading forward.")] first: Option<i32>,
        #[graphql(desc = "Read on after this cursor (with `first`).")] after: Option<String>,
        #[graphql(desc = "Page size, 1–100, reading backward.")] last: Option<i32>,
        #[graphql(desc = "Read on before this cursor (with `last`).")] before: Option<String>,
    ) -> async_graphql::Result<Connection<User>> {
        let args = PageArgs::new(first, after, last, before);
        let total = i64::from(self.row.followers_count);
        Ok(user_list(ctx, FollowList::FollowersOf(self.row.id), args, total).await?)
    }

    /// The users this user follows, newest follow first.
    async fn following(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1–100 (default 20), reading forward.")] first: Option<i32>,
        #[graphql(desc = "Read on after this cursor (with `first`).")] after: Option<String>,
        #[graphql(desc = "Page size, 1–100, reading backward.")] last: Option<i32>,
        #[graphql(desc = "Read on before this cursor (with `last`).")] before: Option<String>,
    ) -> async_graphql::Result<Connection<User>> {
        let args = PageArgs::new(first, after, last, before);
        let total = i64::from(self.row.following_count);
        Ok(user_list(ctx, FollowList::FollowedBy(self.row.id), args, total).await?)
    }

    /// The articles this user wrote, newest first.
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1–100 (default 20), reading forward.")] first: Option<i32>,
        #[graphql(desc = "Read on after this cursor (with `first`).")] after: Option<String>,
        #[graphql(desc = "Page size, 1–100, reading backward.")] last: Option<i32>,
        #[graphql(desc = "Read on before this cursor (with `last`).")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Article>> {
        let filter = ArticleFilter {
            author_id: Some(self.row.id),
            ..ArticleFilter::default()
        };
        Ok(article_list(ctx, filter, PageArgs::new(first, after, last, before)).await?)
    }

    /// The articles this user has favorited, newest article first.
    async fn favorite_articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1–100 (default 20), reading forward.")] first: Option<i32>,
        #[graphql(desc = "Read on after this cursor (with `first`).")] after: Option<String>,
        #[graphql(desc = "Page size, 1–100, reading backward.")] last: Option<i32>,
        #[graphql(desc = "Read on before this cursor (with `last`).")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Article>> {
        let filter = ArticleFilter {
            favorited_by_id: Some(self.row.id),
            ..ArticleFilter::default()
        };
        Ok(article_list(ctx, filter, PageArgs::new(first, after, last, before)).await?)
    }

    /// Only for the user themself: FORBIDDEN otherwise. Newest first.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1–100 (default 20), reading forward.")] first: Option<i32>,
        #[graphql(desc = "Read on after this cursor (with `first`).")] after: Option<String>,
        #[graphql(desc = "Page size, 1–100, reading backward.")] last: Option<i32>,
        #[graphql(desc = "Read on before this cursor (with `last`).")] before: Option<String>,
        #[graphql(desc = "Only unread notifications (default false).")] unread_only: Option<bool>,
    ) -> async_graphql::Result<Option<Connection<Notification>>> {
        if self.own_only(ctx, "notifications").is_none() {
            return Ok(None);
        }
        let unread_only = unread_only.unwrap_or(false);
        let list = List::Notifications {
            recipient: self.row.id,
            unread_only,
        };
        let args = PageArgs::new(first, after, last, before);
        let request = args.check(list)?;
        let (recipient, query) = (self.row.id, request.query);
        let page = loaders(ctx)
            .read(move |conn| {
                Box::pin(async move {
                    db::notifications::page(&conn, recipient, unread_only, &query).await
                })
            })
            .await?;
        Ok(Some(Connection::new(
            request,
            page,
            |row| Position {
                created_at: row.created_at,
                id: row.id,
            },
            |row| Notification::new(Arc::new(row)),
        )))
    }

    /// Only for the user themself: FORBIDDEN otherwise.
    async fn unread_notifications_count(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<i64>> {
        if self.own_only(ctx, "notifications").is_none() {
            return Ok(None);
        }
        let recipient = self.row.id;
        let count = loaders(ctx)
            .read(move |conn| {
                Box::pin(async move { db::notifications::count(&conn, recipient, true).await })
            })
            .await?;
        Ok(Some(count))
    }

    /// The user's signed-in sessions, newest first. Only for the user themself: FORBIDDEN
    /// otherwise.
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1–100 (default 20), reading forward.")] first: Option<i32>,
        #[graphql(desc = "Read on after this cursor (with `first`).")] after: Option<String>,
        #[graphql(desc = "Page size, 1–100, reading backward.")] last: Option<i32>,
        #[graphql(desc = "Read on before this cursor (with `last`).")] before: Option<String>,
    ) -> async_graphql::Result<Option<Connection<Session>>> {
        let guard = OwnSessions::new(self.row.id, self.viewer);
        if guards::nullable(ctx, guard, || ()).await.is_none() {
            return Ok(None);
        }
        let current = self.viewer(ctx).map(|v| v.session_id);
        let request =
            PageArgs::new(first, after, last, before).check(List::Sessions(self.row.id))?;
        let rules = session_rules(ctx);
        let (user, now, max_age, query) =
            (self.row.id, rules.clock.now(), rules.max_age, request.query);
        let page = loaders(ctx)
            .read(move |conn| {
                Box::pin(async move { db::sessions::page(&conn, user, now, max_age, &query).await })
            })
            .await?;
        Ok(Some(Connection::new(
            request,
            page,
            |row| Position {
                created_at: row.created_at,
                id: row.id,
            },
            |row| Session::new(Arc::new(row), current),
        )))
    }

    /// Only for the user themself: FORBIDDEN otherwise. Newest first.
    async fn webhooks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1–100 (default 20), reading forward.")] first: Option<i32>,
        #[graphql(desc = "Read on after this cursor (with `first`).")] after: Option<String>,
        #[graphql(desc = "Page size, 1–100, reading backward.")] last: Option<i32>,
        #[graphql(desc = "Read on before this cursor (with `last`).")] before: Option<String>,
    ) -> async_graphql::Result<Option<Connection<Webhook>>> {
        if self.own_only(ctx, "webhooks").is_none() {
            return Ok(None);
        }
        let owner = self.row.id;
        let request = PageArgs::new(first, after, last, before).check(List::Webhooks(owner))?;
        let query = request.query;
        let page = loaders(ctx)
            .read(move |conn| {
                Box::pin(async move { db::webhooks::page(&conn, owner, &query).await })
            })
            .await?;
        Ok(Some(Connection::new(
            request,
            page,
            |row| Position {
                created_at: row.created_at,
                id: row.id,
            },
            |row| Webhook::new(Arc::new(row)),
        )))
    }
}

impl User {
    /// `FORBIDDEN` unless the viewer is this user (admins too: `what`, notifications or
    /// webhooks, are the user's alone); adds the error at the field and answers `None`
    /// (null) then.
    fn own_only(&self, ctx: &Context<'_>, what: &str) -> Option<Viewer> {
        let viewer = self.viewer(ctx);
        if policy::can_view_notifications(viewer.as_ref(), self.row.id) {
            return viewer;
        }
        let error: async_graphql::Error =
            AppError::Forbidden(format!("Only the user themself may see their {what}.")).into();
        ctx.add_error(ctx.set_error_path(error.into_server_error(ctx.item.pos)));
        None
    }
}

/// One page of a follow list of `total` users (from the counter columns).
async fn user_list(
    ctx: &Context<'_>,
    list: FollowList,
    args: PageArgs,
    total: i64,
) -> Result<Connection<User>, AppError> {
    let request = args.check(List::Follows(list))?;
    let query = request.query;
    let page = loaders(ctx)
        .read(move |conn| Box::pin(async move { db::follows::page(&conn, list, &query).await }))
        .await?;
    Ok(Connection::new(
        request,
        page,
        |(_, position)| *position,
        |(row, _)| User::new(Arc::new(row)),
    )
    .with_total(total))
}
