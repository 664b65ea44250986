//! DataLoaders: one per key type, created per request, one `= ANY($1)` statement per batch.
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
//! Every batch's size is recorded in `conduit_loader_batch_size{loader}` ([`Measured`]).

use std::{
    collections::HashMap,
    pin::pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context as TaskContext, Poll, Wake, Waker},
    time::Duration,
};

use async_graphql::{
    Context,
    dataloader::{DataLoader, Loader},
};
use futures_util::{
    StreamExt,
    future::{BoxFuture, poll_fn},
    stream::FuturesUnordered,
    task::AtomicWaker,
};
use prometheus_client::metrics::histogram::Histogram;

use crate::{
    db::{
        self, DbError, RequestDb,
        articles::ArticleRow,
        comments::CommentRow,
        keyset::{Page, PageQuery},
        notifications::NotificationRow,
        request::ReadConn,
        users::UserRow,
    },
    error::AppError,
    metrics::Metrics,
};

/// A loader's name: its `loader` label in `conduit_loader_batch_size`.
pub trait Named {
    /// The label value.
    const NAME: &'static str;
}

/// A load failure, shared by every field that waited on the batch.
#[derive(Debug, Clone)]
pub struct LoadError(Arc<DbError>);

impl From<LoadError> for AppError {
    fn from(err: LoadError) -> Self {
        let cause = anyhow::anyhow!("{:#}", err.0);
        if err.0.is_unavailable() {
            AppError::ServiceUnavailable(cause)
        } else {
            AppError::Internal(cause)
        }
    }
}

impl From<LoadError> for async_graphql::Error {
    fn from(err: LoadError) -> Self {
        AppError::from(err).into()
    }
}

impl From<DbError> for LoadError {
    fn from(err: DbError) -> Self {
        Self(Arc::new(err))
    }
}

/// Users by id.
pub struct UserLoader(Arc<RequestDb>);

impl Named for UserLoader {
    const NAME: &'static str = "users";
}

impl Loader<i64> for UserLoader {
    type Value = Arc<UserRow>;
    type Error = LoadError;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let conn = self.0.conn().await?;
        let rows = db::users::find_many(&conn, ids).await?;
        Ok(rows.into_iter().map(|r| (r.id, Arc::new(r))).collect())
    }
}

/// Articles by id.
pub struct ArticleLoader(Arc<RequestDb>);

impl Named for ArticleLoader {
    const NAME: &'static str = "articles";
}

impl Loader<i64> for ArticleLoader {
    type Value = Arc<ArticleRow>;
    type Error = LoadError;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let conn = self.0.conn().await?;
        let rows = db::articles::find_many(&conn, ids).await?;
        Ok(rows.into_iter().map(|r| (r.id, Arc::new(r))).collect())
    }
}

/// Comments by id.
pub struct CommentLoader(Arc<RequestDb>);

impl Named for CommentLoader {
    const NAME: &'static str = "comments";
}

impl Loader<i64> for CommentLoader {
    type Value = Arc<CommentRow>;
    type Error = LoadError;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let conn = self.0.conn().await?;
        let rows = db::comments::find_many(&conn, ids).await?;
        Ok(rows.into_iter().map(|r| (r.id, Arc::new(r))).collect())
    }
}

/// Notifications by id.
pub struct NotificationLoader(Arc<RequestDb>);

impl Named for NotificationLoader {
    const NAME: &'static str = "notifications";
}

impl Loader<i64> for NotificationLoader {
    type Value = Arc<NotificationRow>;
    type Error = LoadError;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let conn = self.0.conn().await?;
        let rows = db::notifications::find_many(&conn, ids).await?;
        Ok(rows.into_iter().map(|r| (r.id, Arc::new(r))).collect())
    }
}

/// One page of an article's comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommentPage {
    /// The article.
    pub article: i64,
    /// The page.
    pub query: PageQuery,
}

/// Pages of comments for many articles at once: one statement per distinct page shape
/// (a list of articles all asking `comments(first: 3)` is one statement).
pub struct CommentPageLoader(Arc<RequestDb>);

impl Named for CommentPageLoader {
    const NAME: &'static str = "comment_pages";
}

impl Loader<CommentPage> for CommentPageLoader {
    type Value = Arc<Page<CommentRow>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[CommentPage],
    ) -> Result<HashMap<CommentPage, Self::Value>, Self::Error> {
        let conn = self.0.conn().await?;
        let mut by_query: HashMap<PageQuery, Vec<i64>> = HashMap::new();
        for key in keys {
            by_query.entry(key.query).or_default().push(key.article);
        }
        let mut pages = HashMap::new();
        for (query, articles) in by_query {
            for (article, page) in db::comments::pages(&conn, &articles, &query).await? {
                pages.insert(CommentPage { article, query }, Arc::new(page));
            }
        }
        Ok(pages)
    }
}

/// "Does `viewer` follow `user`?"
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Follows {
    /// The asking user.
    pub viewer: i64,
    /// The user who may be followed.
    pub user: i64,
}

/// "Has `viewer` favorited `article`?"
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Favorited {
    /// The asking user.
    pub viewer: i64,
    /// The article.
    pub article: i64,
}

/// Follow and favorite facts about pairs of (viewer, thing): one statement per batch,
/// however many distinct viewers it holds (every subscriber of an event asks at once).
pub struct RelationLoader(Arc<RequestDb>);

impl Named for RelationLoader {
    const NAME: &'static str = "relations";
}

impl RelationLoader {
    async fn pairs<K: Copy + Eq + std::hash::Hash, F>(
        &self,
        keys: &[K],
        split: impl Fn(K) -> (i64, i64),
        query: F,
    ) -> Result<HashMap<K, bool>, LoadError>
    where
        F: AsyncFn(
            &diesel_async::AsyncPgConnection,
            &[(i64, i64)],
        ) -> Result<Vec<(i64, i64)>, DbError>,
    {
        let conn = self.0.conn().await?;
        let pairs: Vec<(i64, i64)> = keys.iter().map(|k| split(*k)).collect();
        let yes: std::collections::HashSet<(i64, i64)> =
            query(&conn, &pairs).await?.into_iter().collect();
        Ok(keys
            .iter()
            .map(|k| (*k, yes.contains(&split(*k))))
            .collect())
    }
}

impl Loader<Follows> for RelationLoader {
    type Value = bool;
    type Error = LoadError;

    async fn load(&self, keys: &[Follows]) -> Result<HashMap<Follows, bool>, Self::Error> {
        self.pairs(keys, |k| (k.viewer, k.user), db::follows::followed_pairs)
            .await
    }
}

impl Loader<Favorited> for RelationLoader {
    type Value = bool;
    type Error = LoadError;

    async fn load(&self, keys: &[Favorited]) -> Result<HashMap<Favorited, bool>, Self::Error> {
        self.pairs(
            keys,
            |k| (k.viewer, k.article),
            db::articles::favorited_pairs,
        )
        .await
    }
}

/// "`recipient`'s notification that `article` was published", for `notificationAdded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PublishedFor {
    /// The follower.
    pub recipient: i64,
    /// The new article.
    pub article: i64,
}

/// Each follower's `ARTICLE_PUBLISHED` notification: one statement per article for all
/// the subscribers asking.
pub struct PublishedLoader(Arc<RequestDb>);

impl Named for PublishedLoader {
    const NAME: &'static str = "published";
}

impl Loader<PublishedFor> for PublishedLoader {
    type Value = Arc<NotificationRow>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[PublishedFor],
    ) -> Result<HashMap<PublishedFor, Self::Value>, Self::Error> {
        let conn = self.0.conn().await?;
        let mut by_article: HashMap<i64, Vec<i64>> = HashMap::new();
        for key in keys {
            by_article
                .entry(key.article)
                .or_default()
                .push(key.recipient);
        }
        let mut found = HashMap::new();
        for (article, recipients) in by_article {
            for row in db::notifications::published_for(&conn, article, &recipients).await? {
                let key = PublishedFor {
                    recipient: row.recipient_id,
                    article,
                };
                found.insert(key, Arc::new(row));
            }
        }
        Ok(found)
    }
}

/// A loader whose batch sizes (keys per load) are recorded in a histogram.
pub struct Measured<T> {
    inner: T,
    sizes: Histogram,
}

impl<K, T> Loader<K> for Measured<T>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    T: Loader<K>,
{
    type Value = T::Value;
    type Error = T::Error;

    fn load(
        &self,
        keys: &[K],
    ) -> impl Future<Output = Result<HashMap<K, Self::Value>, Self::Error>> + Send {
        self.sizes.observe(keys.len() as f64);
        self.inner.load(keys)
    }
}

/// Batch loads waiting to run on the request's task.
#[derive(Default)]
pub struct LoadQueue {
    pending: Mutex<Vec<BoxFuture<'static, ()>>>,
    waker: AtomicWaker,
}

impl LoadQueue {
    fn push(&self, load: BoxFuture<'static, ()>) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(load);
        self.waker.wake();
    }

    fn has_pending(&self) -> bool {
        !self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `work` (an execution using these loaders) to completion, running the batch
    /// loads it queues after each of its passes. Loads queued here never run otherwise.
    pub async fn drive<F: Future>(&self, work: F) -> F::Output {
        self.drive_wide(work, MAX_PASSES).await
    }

    /// [`LoadQueue::drive`] for an execution made of many concurrent ones (a hub step over
    /// many subscriptions): re-polls it up to `max_passes` times before starting a wave.
    /// futures' `FuturesUnordered` polls at most 32 of its futures before yielding, so
    /// `n` concurrent executions need about `n / 32` passes to all reach their loads.
    pub async fn drive_wide<F: Future>(&self, work: F, max_passes: usize) -> F::Output {
        let mut work = pin!(work);
        let mut loads = FuturesUnordered::new();
        poll_fn(|cx| {
            self.waker.register(cx.waker());
            // Poll the execution until it waits on something real. futures' combinators
            // yield part-way through long lists (and wake themselves to go on); without
            // this, the loads queued so far would start with half of a list's keys.
            let flag = Arc::new(WokenFlag {
                woken: AtomicBool::new(false),
                inner: cx.waker().clone(),
            });
            let waker = Waker::from(Arc::clone(&flag));
            let mut work_cx = TaskContext::from_waker(&waker);
            for _ in 0..max_passes {
                flag.woken.store(false, Ordering::Relaxed);
                if let Poll::Ready(output) = work.as_mut().poll(&mut work_cx) {
                    return Poll::Ready(output);
                }
                if !flag.woken.load(Ordering::Relaxed) {
                    break;
                }
            }
            // A new wave only once the last one is done: what its answers unblock joins
            // the next wave whole, instead of trickling into several.
            if loads.is_empty() {
                loads.extend(self.take());
            }
            // Completed loads wake the resolvers waiting on them, and so this task.
            while let Poll::Ready(Some(())) = loads.poll_next_unpin(cx) {}
            // A wave may end with nobody left to wake us (its waiters gone, e.g. a
            // try_join_all that failed early): start the queued wave on the next poll.
            if loads.is_empty() && self.has_pending() {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        })
        .await
    }
}

/// Most times [`LoadQueue::drive`] re-polls an execution that keeps yielding before it
/// starts the queued loads (a bound, so a busy execution cannot starve its loads).
const MAX_PASSES: usize = 64;

/// A waker that records being woken, then wakes the task.
struct WokenFlag {
    woken: AtomicBool,
    inner: Waker,
}

impl Wake for WokenFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Relaxed);
        self.inner.wake_by_ref();
    }
}

/// The loaders of one request, and its read connection.
pub struct Loaders {
    /// The request's read connection.
    pub db: Arc<RequestDb>,
    /// Users by id.
    pub users: DataLoader<Measured<UserLoader>>,
    /// Articles by id.
    pub articles: DataLoader<Measured<ArticleLoader>>,
    /// Follow and favorite facts.
    pub relations: DataLoader<Measured<RelationLoader>>,
    /// Comments by id.
    pub comments: DataLoader<Measured<CommentLoader>>,
    /// Pages of comments by article.
    pub comment_pages: DataLoader<Measured<CommentPageLoader>>,
    /// Notifications by id.
    pub notifications: DataLoader<Measured<NotificationLoader>>,
    /// Followers' notifications of a new article.
    pub published: DataLoader<Measured<PublishedLoader>>,
    /// Where the loaders queue their batches; see [`LoadQueue::drive`].
    pub queue: Arc<LoadQueue>,
}

impl Loaders {
    /// Fresh loaders (and so a fresh cache) for one request, reading through `db` and
    /// recording batch sizes in `metrics`. The execution using them must run inside
    /// `queue.drive`.
    pub fn new(db: Arc<RequestDb>, metrics: &Metrics) -> Self {
        let queue = Arc::new(LoadQueue::default());
        Self {
            users: queued(UserLoader(Arc::clone(&db)), &queue, metrics),
            articles: queued(ArticleLoader(Arc::clone(&db)), &queue, metrics),
            relations: queued(RelationLoader(Arc::clone(&db)), &queue, metrics),
            comments: queued(CommentLoader(Arc::clone(&db)), &queue, metrics),
            comment_pages: queued(CommentPageLoader(Arc::clone(&db)), &queue, metrics),
            notifications: queued(NotificationLoader(Arc::clone(&db)), &queue, metrics),
            published: queued(PublishedLoader(Arc::clone(&db)), &queue, metrics),
            db,
            queue,
        }
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

/// A loader whose batches go to `queue`, with no delay, their sizes recorded in
/// `metrics` under the loader's name.
fn queued<T: Named + Send + Sync + 'static>(
    inner: T,
    queue: &Arc<LoadQueue>,
    metrics: &Metrics,
) -> DataLoader<Measured<T>> {
    let queue = Arc::clone(queue);
    let sizes = metrics.loader_batch_sizes(T::NAME);
    DataLoader::new(Measured { inner, sizes }, move |load| queue.push(load)).delay(Duration::ZERO)
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
