//! The connection pool: deadpool over diesel-async, with bounded waits and per-connection
//! settings.

use deadpool::Runtime;
use diesel_async::{
    AsyncPgConnection, SimpleAsyncConnection,
    pooled_connection::{
        AsyncDieselConnectionManager, ManagerConfig, PoolError as ManagerError, RecyclingMethod,
        deadpool::{Hook, HookError, Object, Pool, PoolError},
    },
};

use crate::{config::DatabaseConfig, error::AppError};

/// The pool every request borrows connections from.
pub type PgPool = Pool<AsyncPgConnection>;

/// A pooled connection, returned to the pool when dropped.
pub type DbConn = Object<AsyncPgConnection>;

/// `application_name` of Conduit's connections, as seen in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "conduit";

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// No connection could be had within the pool's wait, or the database is unreachable.
    #[error("no database connection available: {0}")]
    Unavailable(#[from] PoolError),
    /// A statement failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

impl DbError {
    /// True when the database cannot serve now (SERVICE_UNAVAILABLE), as opposed to a
    /// failed statement (a bug: INTERNAL_SERVER_ERROR).
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error as Q};
        match self {
            Self::Unavailable(PoolError::NoRuntimeSpecified) => false,
            Self::Unavailable(_)
            | Self::Query(Q::DatabaseError(DatabaseErrorKind::ClosedConnection, _))
            | Self::Query(Q::BrokenTransactionManager) => true,
            Self::Query(_) => false,
        }
    }
}

impl From<DbError> for AppError {
    fn from(err: DbError) -> Self {
        if err.is_unavailable() {
            AppError::ServiceUnavailable(err.into())
        } else {
            AppError::Internal(err.into())
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        DbError::Query(err).into()
    }
}

/// Builds the pool. No connection is opened until one is needed.
///
/// Waiting for a free connection is bounded by `pool_wait`, opening one by
/// `connect_timeout`; each new connection gets `statement_timeout` and `application_name`.
/// Connections are recycled without a round trip (a closed connection is detected by its
/// client state), so a checkout costs no SQL statement.
pub fn build_pool(config: &DatabaseConfig) -> anyhow::Result<PgPool> {
    let mut manager_config = ManagerConfig::default();
    manager_config.recycling_method = RecyclingMethod::Fast;
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
        &config.url,
        manager_config,
    );
    let settings = format!(
        "SET statement_timeout = {}; SET application_name = '{APPLICATION_NAME}'",
        config.statement_timeout.as_millis()
    );
    let pool = Pool::builder(manager)
        .max_size(config.pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(config.pool_wait))
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .post_create(Hook::async_fn(move |conn: &mut AsyncPgConnection, _| {
            let settings = settings.clone();
            Box::pin(async move {
                conn.batch_execute(&settings)
                    .await
                    .map_err(|e| HookError::Backend(ManagerError::QueryError(e)))
            })
        }))
        .build()?;
    Ok(pool)
}

/// Borrows a connection, waiting at most the pool's bounded wait.
pub async fn connect(pool: &PgPool) -> Result<DbConn, DbError> {
    Ok(pool.get().await?)
}

/// Checks that the database answers a trivial statement.
pub async fn ping(pool: &PgPool) -> Result<(), DbError> {
    let mut conn = connect(pool).await?;
    conn.batch_execute("SELECT 1").await?;
    Ok(())
}
