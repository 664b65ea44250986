//! The `Webhook`, `WebhookDelivery` and `WebhookAttempt` types, their enums and inputs.
//! A webhook and its deliveries are their owner's alone: the resolvers that hand them
//! out (`User.webhooks`, `node`, the mutations) check the owner first.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};

use crate::{
    db::{
        deliveries::{AttemptRow, DeliveryRow},
        keyset::{Page, Position},
        webhooks::WebhookRow,
    },
    domain::{ids, webhooks::WebhookEvent},
    error::AppError,
    graphql::{
        loaders::{DeliveryPage, loaders},
        node::{NodeKind, global_id},
        pagination::{Connection, List, PageArgs},
        scalars::DateTime,
    },
};

/// What a webhook is told of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "WebhookEvent")]
pub enum WebhookEventValue {
    /// the owner published an article
    ArticlePublished,
    /// the owner edited an article
    ArticleUpdated,
    /// the owner deleted an article
    ArticleDeleted,
    /// someone favorited the owner's article
    ArticleFavorited,
    /// someone commented on the owner's article
    CommentAdded,
    /// someone followed the owner
    NewFollower,
    /// sent by pingWebhook only
    Ping,
}

impl From<WebhookEventValue> for WebhookEvent {
    fn from(value: WebhookEventValue) -> Self {
        match value {
            WebhookEventValue::ArticlePublished => Self::ArticlePublished,
            WebhookEventValue::ArticleUpdated => Self::ArticleUpdated,
            WebhookEventValue::ArticleDeleted => Self::ArticleDeleted,
            WebhookEventValue::ArticleFavorited => Self::ArticleFavorited,
            WebhookEventValue::CommentAdded => Self::CommentAdded,
            WebhookEventValue::NewFollower => Self::NewFollower,
            WebhookEventValue::Ping => Self::Ping,
        }
    }
}

impl From<WebhookEvent> for WebhookEventValue {
    fn from(value: WebhookEvent) -> Self {
        match value {
            WebhookEvent::ArticlePublished => Self::ArticlePublished,
            WebhookEvent::ArticleUpdated => Self::ArticleUpdated,
            WebhookEvent::ArticleDeleted => Self::ArticleDeleted,
            WebhookEvent::ArticleFavorited => Self::ArticleFavorited,
            WebhookEvent::CommentAdded => Self::CommentAdded,
            WebhookEvent::NewFollower => Self::NewFollower,
            WebhookEvent::Ping => Self::Ping,
        }
    }
}

fn event_from_db(value: &str) -> Result<WebhookEventValue, AppError> {
    WebhookEvent::from_db(value)
        .map(Into::into)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown webhook event {value:?}")))
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum WebhookDeliveryStatus {
    /// queued or waiting for its next attempt
    Pending,
    /// the endpoint answered 2xx
    Delivered,
    /// every attempt failed, or the endpoint answered 410 Gone
    Failed,
}

impl WebhookDeliveryStatus {
    /// The value stored in `outbox.status`.
    pub const fn as_db(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    fn from_db(value: &str) -> Result<Self, AppError> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|s| s.as_db() == value)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown status {value:?}")))
    }
}

/// A registered endpoint that receives signed deliveries of events.
#[derive(Debug, Clone)]
pub struct Webhook {
    row: Arc<WebhookRow>,
}

impl Webhook {
    /// The webhook in `row` (its owner's to see: callers check).
    pub fn new(row: Arc<WebhookRow>) -> Self {
        Self { row }
    }

    /// Its owner.
    pub fn owner_id(&self) -> i64 {
        self.row.user_id
    }
}

/// A registered endpoint that receives signed deliveries of events.
#[Object]
impl Webhook {
    /// Opaque global ID.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Webhook, self.row.id)
    }

    /// https (http only where the server's configuration allows it).
    async fn url(&self) -> &str {
        &self.row.url
    }

    /// The events delivered to it.
    async fn events(&self) -> async_graphql::Result<Vec<WebhookEventValue>> {
        Ok(self
            .row
            .events
            .0
            .iter()
            .map(|e| event_from_db(e))
            .collect::<Result<_, _>>()?)
    }

    /// False when the owner paused it, or delivery stopped after repeated failures or a 410.
    async fn active(&self) -> bool {
        self.row.active
    }

    /// Why delivery stopped, when it did.
    async fn disabled_reason(&self) -> Option<&str> {
        self.row.disabled_reason.as_deref()
    }

    /// When it was registered.
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }

    /// Newest first.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1–100 (default 20), reading forward.")] first: Option<i32>,
        #[graphql(desc = "Read on after this cursor (with `first`).")] after: Option<String>,
        #[graphql(desc = "Page size, 1–100, reading backward.")] last: Option<i32>,
        #[graphql(desc = "Read on before this cursor (with `last`).")] before: Option<String>,
        #[graphql(desc = "Only deliveries in this status.")] status: Option<WebhookDeliveryStatus>,
    ) -> async_graphql::Result<Connection<WebhookDelivery>> {
        let webhook = self.row.id;
        let status = status.map(WebhookDeliveryStatus::as_db);
        let list = List::Deliveries { webhook, status };
        let request = PageArgs::new(first, after, last, before).check(list)?;
        let key = DeliveryPage {
            webhook,
            status,
            query: request.query,
        };
        let page = loaders(ctx)
            .delivery_pages
            .load_one(key)
            .await?
            .map(|page| Page::clone(&page))
            .unwrap_or_default();
        let owner = self.row.user_id;
        Ok(Connection::new(
            request,
            page,
            |row| Position {
                created_at: row.created_at,
                id: row.seq,
            },
            |row| WebhookDelivery::new(Arc::new((row, owner))),
        ))
    }
}

/// One event sent to one endpoint, with every attempt at it.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    /// The delivery and its webhook's owner.
    row: Arc<(DeliveryRow, i64)>,
}

impl WebhookDelivery {
    /// The delivery in `row` (with its webhook's owner).
    pub fn new(row: Arc<(DeliveryRow, i64)>) -> Self {
        Self { row }
    }

    /// Its webhook's owner.
    pub fn owner_id(&self) -> i64 {
        self.row.1
    }

    fn delivery(&self) -> &DeliveryRow {
        &self.row.0
    }
}

/// One event sent to one endpoint, with every attempt at it.
#[Object]
impl WebhookDelivery {
    /// Opaque global ID; also the `webhook-id` header the endpoint receives (stable across
    /// retries and redeliveries: the receiver's idempotency key).
    pub async fn id(&self) -> ID {
        ID(ids::delivery_id(self.delivery().id))
    }

    /// What happened.
    async fn event(&self) -> async_graphql::Result<WebhookEventValue> {
        Ok(event_from_db(&self.delivery().kind)?)
    }

    /// Where it stands.
    async fn status(&self) -> async_graphql::Result<WebhookDeliveryStatus> {
        Ok(WebhookDeliveryStatus::from_db(&self.delivery().status)?)
    }

    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.delivery().attempts
    }

    /// The exact JSON body sent (and signed).
    async fn payload(&self) -> &str {
        &self.delivery().payload
    }

    /// When it was queued.
    async fn created_at(&self) -> DateTime {
        self.delivery().created_at.into()
    }

    /// When the last attempt ran.
    async fn last_attempt_at(&self) -> Option<DateTime> {
        self.delivery().last_attempt_at.map(Into::into)
    }

    /// When the next attempt is due; null once delivered or failed.
    async fn next_attempt_at(&self) -> Option<DateTime> {
        let row = self.delivery();
        (row.status == "pending").then(|| row.next_attempt_at.into())
    }

    /// The endpoint's HTTP status on the last attempt.
    async fn response_status(&self) -> Option<i32> {
        self.delivery().response_status
    }

    /// Why the last attempt failed (timeout, connection refused, status ...).
    async fn last_error(&self) -> Option<&str> {
        self.delivery().last_error.as_deref()
    }

    /// Every attempt, oldest first.
    async fn attempt_log(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WebhookAttempt>> {
        let attempts = loaders(ctx).attempts.load_one(self.delivery().id).await?;
        Ok(attempts
            .map(|list| list.iter().map(WebhookAttempt::from).collect())
            .unwrap_or_default())
    }
}

/// One attempt at a delivery.
#[derive(Debug, Clone, SimpleObject)]
pub struct WebhookAttempt {
    /// When it ran.
    pub at: DateTime,
    /// The endpoint's HTTP status, when it answered.
    pub response_status: Option<i32>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: i32,
}

impl From<&AttemptRow> for WebhookAttempt {
    fn from(row: &AttemptRow) -> Self {
        Self {
            at: row.at.into(),
            response_status: row.response_status,
            error: row.error.clone(),
            duration_ms: row.duration_ms,
        }
    }
}

/// A webhook with its signing secret: the only place the secret is ever shown.
#[derive(Debug, Clone, SimpleObject)]
pub struct WebhookSecretPayload {
    /// The webhook.
    pub webhook: Webhook,
    /// whsec_ followed by base64; shown only in this payload.
    pub secret: String,
}

/// A new webhook.
#[derive(Debug, Clone, InputObject)]
pub struct CreateWebhookInput {
    /// Where deliveries are POSTed: an absolute https URL of at most 2048 bytes.
    pub url: String,
    /// The events to deliver: at least one, none twice (not PING).
    pub events: Vec<WebhookEventValue>,
}

/// Changes to a webhook; omitted fields stay as they are.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateWebhookInput {
    /// A new endpoint.
    pub url: Option<String>,
    /// New events.
    pub events: Option<Vec<WebhookEventValue>>,
    /// false pauses it; true resumes it (and clears `disabledReason`).
    pub active: Option<bool>,
}
