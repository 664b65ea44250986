//! DataLoaders: one per key type, created per request, one `= ANY($1)` statement per batch.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};

use crate::{
    db::{self, DbError, PgPool, users::UserRow},
    error::AppError,
};

/// A load failure, shared by every field that waited on the batch.
#[derive(Debug, Clone)]
pub struct LoadError(Arc<DbError>);

impl From<LoadError> for AppError {
    fn from(err: LoadError) -> Self {
        let message = format!("{:#}", err.0);
        match err.0.as_ref() {
            DbError::Unavailable(_) => AppError::ServiceUnavailable(anyhow::anyhow!(message)),
            DbError::Query(_) => AppError::Internal(anyhow::anyhow!(message)),
        }
    }
}

impl From<DbError> for LoadError {
    fn from(err: DbError) -> Self {
        Self(Arc::new(err))
    }
}

/// Users by id.
pub struct UserLoader {
    pool: PgPool,
}

impl Loader<i64> for UserLoader {
    type Value = Arc<UserRow>;
    type Error = LoadError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let mut conn = db::connect(&self.pool).await?;
        let rows = db::users::find_many(&mut conn, keys).await?;
        Ok(rows
            .into_iter()
            .map(|row| (row.id, Arc::new(row)))
            .collect())
    }
}

/// The loaders of one request.
pub struct Loaders {
    /// Users by id.
    pub users: DataLoader<UserLoader>,
}

impl Loaders {
    /// Fresh loaders (and so a fresh cache) for one request.
    pub fn new(pool: &PgPool) -> Self {
        Self {
            users: DataLoader::new(UserLoader { pool: pool.clone() }, tokio::spawn),
        }
    }
}
