//! DataLoaders: one per key type, created per request on its first use ([`Lazy`]), one
//! `= ANY($1)` statement per batch.
//!
//! Every loader of a request reads through the request's one connection ([`RequestDb`]),
//! so loads that run at the same depth pipeline on it. Answers that depend on who asks
//! (viewer flags) carry the viewer in their key.
//!
//! **Statement counts are deterministic.** async-graphql's DataLoader collects keys for a
//! fixed delay (1 ms by default) and then loads them on a spawned task, so how many
//! statements a query sent depended on how fast the machine resolved fields and how the
//! database's answers happened to interleave: a page of 50 could split into several
//! batches. Here every read of a request runs in *waves*:
//!
//! - batch loads are not spawned but queued (with no delay), and the other reads
//!   resolvers make (pages, counts, lookups) are queued too, through [`Loaders::read`];
//! - [`LoadQueue::drive`] polls the execution until it only waits on queued work, then
//!   starts everything queued as one wave, running concurrently (pipelined on the
//!   request's connection), and starts the next wave only when the whole wave is done.
//!
//! So one wave serves one level of the query: every key of a list's items lands in one
//! batch, whatever the page size, the machine's speed or the order answers arrive in.
//!
//! Every batch's size is recorded in `conduit_loader_batch_size{loader}` ([`Measured`]),
//! and the text it loaded is charged to the request's [`ResponseMeter`].
//!
//! May call: `db` (through the batch loaders and [`Loaders::read`]), `error`, `metrics`.

mod batch;
mod meter;
mod wave;
mod webhooks;

use std::{
    ops::Deref,
    sync::{Arc, OnceLock},
    time::Duration,
};

use async_graphql::{Context, dataloader::DataLoader};
use futures_util::future::BoxFuture;
use prometheus_client::metrics::histogram::Histogram;

pub use batch::{
    ArticleLoader, CommentLoader, CommentPage, CommentPageLoader, Favorited, Follows, LoadError,
    Measured, Named, NotificationLoader, PublishedFor, PublishedLoader, RelationLoader,
    SessionLoader, UserLoader,
};
pub use meter::{ResponseMeter, TextBytes};
pub use wave::LoadQueue;
pub use webhooks::{
    AttemptLoader, DeliveryCount, DeliveryCountLoader, DeliveryLoader, DeliveryPage,
    DeliveryPageLoader, WebhookLoader,
};

use crate::{
    db::{DbError, RequestDb, articles::ArticleRow, request::ReadConn, users::UserRow},
    error::AppError,
    metrics::Metrics,
};

/// The loaders of one request, and its read connection. Each loader is built when the
/// request first uses it: a request uses a few of them (the home page three), and building
/// all of them for every request was measurable on small operations.
pub struct Loaders {
    /// The request's read connection.
    pub db: Arc<RequestDb>,
    /// Users by id.
    pub users: Lazy<UserLoader>,
    /// Articles by id.
    pub articles: Lazy<ArticleLoader>,
    /// Follow and favorite facts.
    pub relations: Lazy<RelationLoader>,
    /// Comments by id.
    pub comments: Lazy<CommentLoader>,
    /// Pages of comments by article.
    pub comment_pages: Lazy<CommentPageLoader>,
    /// Notifications by id.
    pub notifications: Lazy<NotificationLoader>,
    /// Followers' notifications of a new article.
    pub published: Lazy<PublishedLoader>,
    /// Sessions by id.
    pub sessions: Lazy<SessionLoader>,
    /// Webhooks by id.
    pub webhooks: Lazy<WebhookLoader>,
    /// Webhook deliveries by id, with their webhook's owner.
    pub deliveries: Lazy<DeliveryLoader>,
    /// Every attempt of each webhook delivery.
    pub attempts: Lazy<AttemptLoader>,
    /// Pages of deliveries by webhook.
    pub delivery_pages: Lazy<DeliveryPageLoader>,
    /// Delivery counts by webhook.
    pub delivery_counts: Lazy<DeliveryCountLoader>,
    /// Where the loaders queue their batches; see [`LoadQueue::drive`].
    pub queue: Arc<LoadQueue>,
    /// The text loaded so far, against the request's `RESPONSE_MAX_BYTES`.
    pub meter: Arc<ResponseMeter>,
}

/// What every loader of one request is built from.
struct Shared {
    db: Arc<RequestDb>,
    queue: Arc<LoadQueue>,
    meter: Arc<ResponseMeter>,
    sizes: BatchSizes,
}

/// A request's loader of `T`, built on first use; dereferences to the [`DataLoader`].
pub struct Lazy<T: Send + Sync + 'static> {
    loader: OnceLock<DataLoader<Measured<T>>>,
    shared: Arc<Shared>,
    build: fn(&Shared) -> DataLoader<Measured<T>>,
}

impl<T: Send + Sync + 'static> Lazy<T> {
    fn new(shared: &Arc<Shared>, build: fn(&Shared) -> DataLoader<Measured<T>>) -> Self {
        Self {
            loader: OnceLock::new(),
            shared: Arc::clone(shared),
            build,
        }
    }
}

impl<T: Send + Sync + 'static> Deref for Lazy<T> {
    type Target = DataLoader<Measured<T>>;

    fn deref(&self) -> &Self::Target {
        self.loader.get_or_init(|| (self.build)(&self.shared))
    }
}

/// Each loader's batch-size histogram, looked up once per instance (a lookup in the
/// metrics' label family takes a lock; cloning a histogram does not), shared by every
/// request's loaders.
#[derive(Clone)]
pub struct BatchSizes(Arc<Histograms>);

struct Histograms {
    users: Histogram,
    articles: Histogram,
    relations: Histogram,
    comments: Histogram,
    comment_pages: Histogram,
    notifications: Histogram,
    published: Histogram,
    sessions: Histogram,
    webhooks: Histogram,
    deliveries: Histogram,
    attempts: Histogram,
    delivery_pages: Histogram,
    delivery_counts: Histogram,
}

impl BatchSizes {
    /// The histograms of `conduit_loader_batch_size`, each under its loader's own name.
    pub fn new(metrics: &Metrics) -> Self {
        Self(Arc::new(Histograms {
            users: metrics.loader_batch_sizes(UserLoader::NAME),
            articles: metrics.loader_batch_sizes(ArticleLoader::NAME),
            relations: metrics.loader_batch_sizes(RelationLoader::NAME),
            comments: metrics.loader_batch_sizes(CommentLoader::NAME),
            comment_pages: metrics.loader_batch_sizes(CommentPageLoader::NAME),
            notifications: metrics.loader_batch_sizes(NotificationLoader::NAME),
            published: metrics.loader_batch_sizes(PublishedLoader::NAME),
            sessions: metrics.loader_batch_sizes(SessionLoader::NAME),
            webhooks: metrics.loader_batch_sizes(WebhookLoader::NAME),
            deliveries: metrics.loader_batch_sizes(DeliveryLoader::NAME),
            attempts: metrics.loader_batch_sizes(AttemptLoader::NAME),
            delivery_pages: metrics.loader_batch_sizes(DeliveryPageLoader::NAME),
            delivery_counts: metrics.loader_batch_sizes(DeliveryCountLoader::NAME),
        }))
    }
}

impl Loaders {
    /// Fresh loaders (and so a fresh cache) for one request, reading through `db` and
    /// recording batch sizes in `sizes`. The execution using them must run inside
    /// `queue.drive`.
    pub fn new(db: Arc<RequestDb>, sizes: &BatchSizes) -> Self {
        Self::metered(db, sizes, Arc::new(ResponseMeter::unlimited()))
    }

    /// [`Loaders::new`], charging what they load to `meter`.
    pub fn metered(db: Arc<RequestDb>, sizes: &BatchSizes, meter: Arc<ResponseMeter>) -> Self {
        let queue = Arc::new(LoadQueue::default());
        let shared = Arc::new(Shared {
            db: Arc::clone(&db),
            queue: Arc::clone(&queue),
            meter: Arc::clone(&meter),
            sizes: sizes.clone(),
        });
        let s = &shared;
        Self {
            users: Lazy::new(s, |s| queued(UserLoader(s.db()), s, &s.sizes.0.users)),
            articles: Lazy::new(s, |s| queued(ArticleLoader(s.db()), s, &s.sizes.0.articles)),
            relations: Lazy::new(s, |s| {
                queued(RelationLoader(s.db()), s, &s.sizes.0.relations)
            }),
            comments: Lazy::new(s, |s| queued(CommentLoader(s.db()), s, &s.sizes.0.comments)),
            comment_pages: Lazy::new(s, |s| {
                queued(CommentPageLoader(s.db()), s, &s.sizes.0.comment_pages)
            }),
            notifications: Lazy::new(s, |s| {
                queued(NotificationLoader(s.db()), s, &s.sizes.0.notifications)
            }),
            published: Lazy::new(s, |s| {
                queued(PublishedLoader(s.db()), s, &s.sizes.0.published)
            }),
            sessions: Lazy::new(s, |s| queued(SessionLoader(s.db()), s, &s.sizes.0.sessions)),
            webhooks: Lazy::new(s, |s| queued(WebhookLoader(s.db()), s, &s.sizes.0.webhooks)),
            deliveries: Lazy::new(s, |s| {
                queued(DeliveryLoader(s.db()), s, &s.sizes.0.deliveries)
            }),
            attempts: Lazy::new(s, |s| queued(AttemptLoader(s.db()), s, &s.sizes.0.attempts)),
            delivery_pages: Lazy::new(s, |s| {
                queued(DeliveryPageLoader(s.db()), s, &s.sizes.0.delivery_pages)
            }),
            delivery_counts: Lazy::new(s, |s| {
                queued(DeliveryCountLoader(s.db()), s, &s.sizes.0.delivery_counts)
            }),
            db,
            queue,
            meter,
        }
    }
}

impl Shared {
    fn db(&self) -> Arc<RequestDb> {
        Arc::clone(&self.db)
    }
}

impl Loaders {
    /// User `id`, which a foreign key guarantees to exist: its absence is a bug
    /// (INTERNAL_SERVER_ERROR).
    pub async fn referenced_user(&self, id: i64) -> Result<Arc<UserRow>, AppError> {
        referenced(self.users.load_one(id).await?, "user", id)
    }

    /// Article `id`, which a foreign key guarantees to exist: its absence is a bug
    /// (INTERNAL_SERVER_ERROR).
    pub async fn referenced_article(&self, id: i64) -> Result<Arc<ArticleRow>, AppError> {
        referenced(self.articles.load_one(id).await?, "article", id)
    }

    /// Runs one read (a page, a count, a lookup) in the request's next wave of loads, on
    /// the request's connection. `read` gets the connection and must own what it uses.
    pub async fn read<T, F>(&self, read: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(ReadConn) -> BoxFuture<'static, Result<T, DbError>> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let db = Arc::clone(&self.db);
        self.queue.push(Box::pin(async move {
            let result = match db.conn().await {
                Ok(conn) => read(conn).await,
                Err(err) => Err(err),
            };
            // The receiver is gone only if the request was cancelled.
            let _ = tx.send(result);
        }));
        let result = rx.await.map_err(|_| {
            AppError::Internal(anyhow::anyhow!("a queued read was dropped before it ran"))
        })?;
        Ok(result?)
    }
}

fn referenced<T>(found: Option<T>, what: &str, id: i64) -> Result<T, AppError> {
    found.ok_or_else(|| AppError::Internal(anyhow::anyhow!("referenced {what} {id} is missing")))
}

/// A loader whose batches go to the request's queue, with no delay, their sizes recorded
/// in `sizes` and their rows charged to the request's meter.
fn queued<T: Send + Sync + 'static>(
    inner: T,
    shared: &Shared,
    sizes: &Histogram,
) -> DataLoader<Measured<T>> {
    let queue = Arc::clone(&shared.queue);
    let measured = Measured {
        inner,
        sizes: sizes.clone(),
        meter: Arc::clone(&shared.meter),
    };
    DataLoader::new(measured, move |load| queue.push(load)).delay(Duration::ZERO)
}

/// The loaders of this execution: the request's over HTTP, the instance's for a
/// subscription.
pub fn loaders<'a>(ctx: &Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Arc<Loaders>>()
}

/// Hands the request's read connection back to the pool; every mutation resolver calls
/// this first. Its transaction takes a connection of its own, and a request must never
/// hold one connection while waiting for another (with every pooled connection held that
/// way, nothing would move until the pool wait ran out).
pub async fn release_reads(ctx: &Context<'_>) {
    if let Some(loaders) = ctx.data_opt::<Arc<Loaders>>() {
        loaders.db.release().await;
    }
}

/// [`loaders`], to keep beyond the resolver (in a subscription's stream).
pub fn shared_loaders(ctx: &Context<'_>) -> Arc<Loaders> {
    Arc::clone(ctx.data_unchecked::<Arc<Loaders>>())
}
