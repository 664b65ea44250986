//! The batch loaders: one [`Loader`] per key type, each one `= ANY($1)` statement (or one
//! per distinct page shape) through the request's [`RequestDb`], and [`Measured`], which
//! records every batch's size under the loader's own [`Named::NAME`].
//!
//! May call: `db` (the reads), `error`.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use prometheus_client::metrics::histogram::Histogram;

use crate::{
    db::{
        self, DbError, RequestDb,
        articles::ArticleRow,
        comments::CommentRow,
        keyset::{Page, PageQuery},
        notifications::NotificationRow,
        sessions::SessionRow,
        users::UserRow,
    },
    error::AppError,
};

use super::meter::{ResponseMeter, TextBytes};

/// A loader's name: its `loader` label in `conduit_loader_batch_size`.
pub trait Named {
    /// The label value.
    const NAME: &'static str;
}

/// A load failure, shared by every field that waited on the batch.
#[derive(Debug, Clone)]
pub enum LoadError {
    /// The database failed.
    Db(Arc<DbError>),
    /// The request has loaded more than `RESPONSE_MAX_BYTES` ([`ResponseMeter`]).
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

impl From<LoadError> for AppError {
    fn from(err: LoadError) -> Self {
        match err {
            LoadError::Db(err) => {
                let cause = anyhow::anyhow!("{:#}", err);
                if err.is_unavailable() {
                    AppError::ServiceUnavailable(cause)
                } else {
                    AppError::Internal(cause)
                }
            }
            LoadError::TooLarge { limit } => AppError::ResponseTooLarge { limit },
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
        Self::Db(Arc::new(err))
    }
}

/// Users by id.
pub struct UserLoader(pub(super) Arc<RequestDb>);

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
pub struct ArticleLoader(pub(super) Arc<RequestDb>);

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
pub struct CommentLoader(pub(super) Arc<RequestDb>);

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
pub struct NotificationLoader(pub(super) Arc<RequestDb>);

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

/// Sessions by id, ended or not (who may see one is the caller's business).
pub struct SessionLoader(pub(super) Arc<RequestDb>);

impl Named for SessionLoader {
    const NAME: &'static str = "sessions";
}

impl Loader<i64> for SessionLoader {
    type Value = Arc<SessionRow>;
    type Error = LoadError;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let conn = self.0.conn().await?;
        let rows = db::sessions::find_many(&conn, ids).await?;
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
pub struct CommentPageLoader(pub(super) Arc<RequestDb>);

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
pub struct RelationLoader(pub(super) Arc<RequestDb>);

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
pub struct PublishedLoader(pub(super) Arc<RequestDb>);

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

/// A loader whose batch sizes (keys per load) are recorded in a histogram, and whose
/// rows are charged to the request's [`ResponseMeter`] as they arrive (a batch is not
/// started once the meter is past its limit).
pub struct Measured<T> {
    pub(super) inner: T,
    pub(super) sizes: Histogram,
    pub(super) meter: Arc<ResponseMeter>,
}

impl<K, T> Loader<K> for Measured<T>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
    T: Loader<K, Error = LoadError>,
    T::Value: TextBytes,
{
    type Value = T::Value;
    type Error = T::Error;

    fn load(
        &self,
        keys: &[K],
    ) -> impl Future<Output = Result<HashMap<K, Self::Value>, Self::Error>> + Send {
        self.sizes.observe(keys.len() as f64);
        async move {
            let too_large = |_| LoadError::TooLarge {
                limit: self.meter.limit(),
            };
            self.meter.check().map_err(too_large)?;
            let loaded = self.inner.load(keys).await?;
            let bytes = loaded.values().map(TextBytes::text_bytes).sum();
            self.meter.charge(bytes).map_err(too_large)?;
            Ok(loaded)
        }
    }
}
