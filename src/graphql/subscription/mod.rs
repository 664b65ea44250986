//! Live updates over WebSocket (graphql-transport-ws or graphql-ws): the `Subscription`
//! root, and the instance's [`Hub`] that executes every subscription of every socket.
//!
//! Each field resolves what it watches once, when it starts (an article's slug becomes
//! its id, so a later slug change does not lose it), then yields what the instance's hub
//! hands its [`Inbox`]. Each shard of the hub polls every subscription of its own that an
//! event concerns together, so their loads batch across subscribers; each yields only
//! what its own viewer may see, through the same types and guards as HTTP.
//!
//! The hub, by job: [`hub`] (the handle, its commands, telling the shards each event),
//! [`shard`] (one shard's task), [`fanout`] (a shard's registry of connections and
//! subscriptions, routing and revocation), [`index`] (its subscriptions by interest),
//! [`wave`] (polling the concerned subscriptions together), [`inbox`] (what one
//! subscription listens to, which events concern it, its waiting events), [`outbox`]
//! (one connection's queue and signals), [`share`] (which subscriptions answer alike, so
//! that an event runs one execution for each group of them).
//!
//! May call: `db`, `domain`, the rest of `graphql`.

mod fanout;
pub mod hub;
pub mod inbox;
mod index;
pub mod outbox;
mod shard;
pub mod share;
mod wave;

use std::sync::Arc;

use async_graphql::{Context, ID, Subscription as GraphqlSubscription};
use futures_util::{Stream, StreamExt};

pub use self::{
    hub::{Command, Hub, Running, SubKey},
    inbox::{Inbox, Interest},
    outbox::{ConnSignals, Outbox, Outgoing, is_request_error},
    share::ShareKey,
};
use super::{
    guards,
    loaders::{Loaders, PublishedFor, loaders, shared_loaders},
    node::{NodeKind, global_id},
    types::{article::Article, comment::Comment, notification::Notification},
};
use crate::{
    db,
    domain::{events::Event, policy},
    error::AppError,
};

/// Live updates.
#[derive(Debug, Default, Clone, Copy)]
pub struct Subscription;

/// Live updates. Served over WebSocket on the GraphQL URL, with the `graphql-transport-ws`
/// (graphql-ws) or the legacy `graphql-ws` subprotocol; authenticate in `connection_init`
/// with `{"authorization": "Bearer <access token>"}`.
#[GraphqlSubscription]
impl Subscription {
    /// Each comment added to the article from now on. The article is found once, when the
    /// subscription starts: it is followed through slug changes, and the subscription
    /// completes when the article is deleted. NOT_FOUND if there is no such article.
    async fn comment_added(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's current slug.")] article_slug: String,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Comment>> + use<>> {
        let events = watch_article(ctx, article_slug).await?;
        Ok(answering(ctx, events, |loaders, event| async move {
            let Event::CommentAdded { comment, .. } = event else {
                return None;
            };
            shown(loaders.comments.load_one(comment).await, Comment::new)
        }))
    }

    /// Emits the deleted comment's ID.
    async fn comment_deleted(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's current slug.")] article_slug: String,
    ) -> async_graphql::Result<impl Stream<Item = ID> + use<>> {
        let events = watch_article(ctx, article_slug).await?;
        Ok(events.filter_map(|event| async move {
            match event {
                Event::CommentDeleted { comment, .. } => {
                    Some(global_id(NodeKind::Comment, comment))
                }
                _ => None,
            }
        }))
    }

    /// Emits the article after an edit or a change of its favorites count.
    async fn article_updated(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's current slug.")] slug: String,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Article>> + use<>> {
        let events = watch_article(ctx, slug).await?;
        Ok(answering(ctx, events, |loaders, event| async move {
            let Event::ArticleUpdated { article } = event else {
                return None;
            };
            shown(loaders.articles.load_one(article).await, Article::new)
        }))
    }

    /// The signed-in user's new notifications. Needs authentication in connection_init.
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Notification>> + use<>>
    {
        let viewer = guards::require_viewer(ctx)?;
        let user = viewer.user_id;
        let events = inbox(ctx)?.listen(Interest::Notifications(user));
        Ok(answering(ctx, events, move |loaders, event| async move {
            let row = match event {
                Event::NotificationAdded {
                    recipient,
                    notification,
                } if recipient == user => loaders.notifications.load_one(notification).await,
                Event::ArticlePublished { article } => {
                    let key = PublishedFor {
                        recipient: user,
                        article,
                    };
                    loaders.published.load_one(key).await
                }
                _ => return None,
            };
            let visible = row.map(|row| {
                row.filter(|row| policy::can_view_notifications(Some(&viewer), row.recipient_id))
            });
            shown(visible, Notification::new)
        }))
    }
}

/// Each event of `events` turned into what `answer` makes of it with the instance-wide
/// loaders, skipping the events it makes nothing of.
fn answering<S, F, Fut, T>(
    ctx: &Context<'_>,
    events: S,
    answer: F,
) -> impl Stream<Item = T> + use<S, F, Fut, T>
where
    S: Stream<Item = Event>,
    F: Fn(Arc<Loaders>, Event) -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let loaders = shared_loaders(ctx);
    events.filter_map(move |event| answer(Arc::clone(&loaders), event))
}

/// What a subscription yields for the row its event names, loaded as `loaded`: nothing
/// when there is none (deleted again before it could be read).
fn shown<R, T, E: Into<async_graphql::Error>>(
    loaded: Result<Option<R>, E>,
    show: impl FnOnce(R) -> T,
) -> Option<async_graphql::Result<T>> {
    loaded
        .transpose()
        .map(|row| row.map(show).map_err(Into::into))
}

/// The subscription's inbox, which only a WebSocket operation has.
fn inbox(ctx: &Context<'_>) -> Result<Arc<Inbox>, AppError> {
    // HTTP refuses subscriptions before execution; only a bug reaches this.
    ctx.data_opt::<Arc<Inbox>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("a subscription ran without an inbox")))
}

/// Finds the article `slug` now and returns the stream of its events.
async fn watch_article(
    ctx: &Context<'_>,
    slug: String,
) -> Result<impl Stream<Item = Event> + use<>, AppError> {
    let inbox = inbox(ctx)?;
    let row = loaders(ctx)
        .read(move |conn| Box::pin(async move { db::articles::find_by_slug(&conn, &slug).await }))
        .await?
        .ok_or_else(|| AppError::NotFound("No such article.".into()))?;
    Ok(inbox.listen(Interest::Article(row.id)))
}
