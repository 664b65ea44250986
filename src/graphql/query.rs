//! `Query`: the root of every read.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use super::{
    guards::{self, viewer},
    loaders::loaders,
    node::{self, Node, NodeKind, NodeRef},
    pagination::{Connection, MAX_PAGE, PageArgs},
    session_rules,
    types::{
        article::{Article, article_list},
        comment::Comment,
        notification::Notification,
        session::Session,
        tag::Tag,
        user::User,
        webhook::{Webhook, WebhookDelivery},
    },
};
use crate::{
    db::{self, articles::ArticleFilter},
    domain::{
        self, policy,
        validation::{self, FieldErrors},
    },
};

/// How many tags `popularTags` returns unless told.
const POPULAR_TAGS_DEFAULT: i32 = 20;

/// The root of every read.
#[derive(Debug, Default, Clone, Copy)]
pub struct Query;

/// The root of every read.
///
/// Every document (query, mutation or subscription; over HTTP or WebSocket) is checked
/// against limits before anything runs, each refused with its own `extensions.code`
/// (defaults; the server's settings may differ): at most 32768 bytes
/// (`DOCUMENT_TOO_LARGE`), 2000 tokens (`TOKEN_LIMIT_EXCEEDED`), fields 15 deep
/// (`DEPTH_LIMIT_EXCEEDED`), 30 aliases (`ALIAS_LIMIT_EXCEEDED`), 20 root fields
/// (`ROOT_FIELD_LIMIT_EXCEEDED`), and a complexity of 10000 (`COMPLEXITY_LIMIT_EXCEEDED`):
/// 1 per field (large text 1 per 4 KiB of its largest value: an article's `body` 98, a
/// comment's 10, `bio` 2), what is under a list multiplied by its `first`/`last` (at most
/// 100), 20 for a connection without either, or the number of `ids`. An operation whose
/// rows bring more than 8 MiB of text is refused whole (`RESPONSE_TOO_LARGE`, no data).
///
/// Each operation also spends its complexity from a budget of 100000 per minute per
/// signed-in user (per client IP when anonymous), refilled evenly; every response reports
/// `extensions.cost` (`requested`, `limit`, `remaining`), and an operation the budget
/// cannot cover now is refused with `RATE_LIMITED` and `extensions.retryAfter` (seconds).
#[Object]
impl Query {
    /// Fetches any object by its global ID; null if there is none.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global ID.")] id: ID,
    ) -> async_graphql::Result<Option<Node>> {
        load_node(ctx, node::decode_ref(&id, "id")?).await
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
            .map(|id| node::decode_ref(id, "ids"))
            .collect::<Result<Vec<_>, _>>()?;
        let loads = decoded.into_iter().map(|node| load_node(ctx, node));
        futures_util::future::try_join_all(loads).await
    }

    /// The signed-in user; null for anonymous requests.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(viewer) = guards::viewer(ctx) else {
            return Ok(None);
        };
        let row = loaders(ctx).users.load_one(viewer.user_id).await?;
        Ok(row.map(User::new))
    }

    /// The user with this username (ignoring case); null if there is none.
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The username, in any case.")] username: String,
    ) -> async_graphql::Result<Option<User>> {
        if username.len() > validation::utf8_bytes(validation::USERNAME_MAX) {
            return Ok(None); // no username is that long
        }
        let row = loaders(ctx)
            .read(move |conn| {
                Box::pin(async move { db::users::find_by_username(&conn, &username).await })
            })
            .await?;
        Ok(row.map(|row| User::new(Arc::new(row))))
    }

    /// The article with this slug; null if there is none (or the slug is an old one).
    async fn article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's current slug.")] slug: String,
    ) -> async_graphql::Result<Option<Article>> {
        if slug.len() > domain::slug::SLUG_MAX {
            return Ok(None); // no slug is that long
        }
        let row = loaders(ctx)
            .read(move |conn| {
                Box::pin(async move { db::articles::find_by_slug(&conn, &slug).await })
            })
            .await?;
        Ok(row.map(Article::from))
    }

    /// All articles, newest first. Filters combine with AND.
    #[allow(clippy::too_many_arguments)]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1–100 (default 20), reading forward.")] first: Option<i32>,
        #[graphql(desc = "Read on after this cursor (with `first`).")] after: Option<String>,
        #[graphql(desc = "Page size, 1–100, reading backward.")] last: Option<i32>,
        #[graphql(desc = "Read on before this cursor (with `last`).")] before: Option<String>,
        #[graphql(desc = "Only articles with this tag (in any case).")] tag: Option<String>,
        #[graphql(desc = "Only articles by the user with this username.")] author: Option<String>,
        #[graphql(desc = "Only articles favorited by the user with this username.")]
        favorited_by: Option<String>,
    ) -> async_graphql::Result<Connection<Article>> {
        validation::article_filter(tag.as_deref(), author.as_deref(), favorited_by.as_deref())?;
        let filter = ArticleFilter {
            tag: tag.map(|tag| tag.trim().to_lowercase()),
            author,
            favorited_by,
            ..ArticleFilter::default()
        };
        Ok(article_list(ctx, filter, PageArgs::new(first, after, last, before)).await?)
    }

    /// Articles by users the viewer follows, newest first. UNAUTHENTICATED when anonymous.
    async fn feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1–100 (default 20), reading forward.")] first: Option<i32>,
        #[graphql(desc = "Read on after this cursor (with `first`).")] after: Option<String>,
        #[graphql(desc = "Page size, 1–100, reading backward.")] last: Option<i32>,
        #[graphql(desc = "Read on before this cursor (with `last`).")] before: Option<String>,
    ) -> async_graphql::Result<Connection<Article>> {
        let viewer = guards::require_viewer(ctx)?;
        let filter = ArticleFilter {
            feed_of: Some(viewer.user_id),
            ..ArticleFilter::default()
        };
        Ok(article_list(ctx, filter, PageArgs::new(first, after, last, before)).await?)
    }

    /// Tags by number of articles, most used first; ties by name.
    async fn popular_tags(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many tags, 1–100 (default 20).")] first: Option<i32>,
    ) -> async_graphql::Result<Vec<Tag>> {
        let first = first.unwrap_or(POPULAR_TAGS_DEFAULT);
        if !(1..=MAX_PAGE).contains(&i64::from(first)) {
            let mut errors = FieldErrors::default();
            errors.check("first", Some(format!("must be between 1 and {MAX_PAGE}")));
            errors.into_result()?;
        }
        let limit = i64::from(first);
        let rows = loaders(ctx)
            .read(move |conn| Box::pin(async move { db::tags::popular(&conn, limit).await }))
            .await?;
        Ok(rows.into_iter().map(Tag::from).collect())
    }
}

/// Loads a node of any kind. Every kind's fields carry their own guards, so a node read
/// here is exactly as protected as the same object read through a direct query.
async fn load_node(ctx: &Context<'_>, node: NodeRef) -> async_graphql::Result<Option<Node>> {
    let loaders = loaders(ctx);
    let (kind, id) = match node {
        NodeRef::Int(kind, id) => (kind, id),
        // Someone else's webhook delivery is null, as if it did not exist.
        NodeRef::Delivery(id) => {
            return Ok(loaders
                .deliveries
                .load_one(id)
                .await?
                .map(WebhookDelivery::new)
                .filter(|d| policy::can_manage_webhook(viewer(ctx).as_ref(), d.owner_id()))
                .map(Node::WebhookDelivery));
        }
    };
    Ok(match kind {
        NodeKind::User => loaders
            .users
            .load_one(id)
            .await?
            .map(|row| Node::User(User::new(row))),
        NodeKind::Article => loaders
            .articles
            .load_one(id)
            .await?
            .map(|row| Node::Article(Article::new(row))),
        NodeKind::Comment => loaders
            .comments
            .load_one(id)
            .await?
            .map(|row| Node::Comment(Comment::new(row))),
        // Someone else's notification is null, as if it did not exist.
        NodeKind::Notification => loaders
            .notifications
            .load_one(id)
            .await?
            .map(Notification::new)
            .filter(|n| policy::can_view_notifications(viewer(ctx).as_ref(), n.recipient_id()))
            .map(Node::Notification),
        // Only its user gets a session, and only while it is live (as `User.sessions`
        // lists them): anyone else's is null, as if it did not exist.
        NodeKind::Session => {
            let viewer = viewer(ctx);
            let rules = session_rules(ctx);
            loaders
                .sessions
                .load_one(id)
                .await?
                .filter(|row| !row.has_ended(rules.clock.now(), rules.max_age))
                .map(|row| Session::new(row, viewer.map(|v| v.session_id)))
                .filter(|s| policy::can_manage_sessions(viewer.as_ref(), s.user_id()))
                .map(Node::Session)
        }
        NodeKind::Webhook => loaders
            .webhooks
            .load_one(id)
            .await?
            .map(Webhook::new)
            .filter(|w| policy::can_manage_webhook(viewer(ctx).as_ref(), w.owner_id()))
            .map(Node::Webhook),
    })
}
