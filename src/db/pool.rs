//! The connection pool: deadpool over diesel-async, with bounded waits and per-connection
//! settings, and those settings' type ([`DatabaseConfig`], which `config` fills in).

use std::{
    ops::{Deref, DerefMut},
    time::Duration,
};

use deadpool::Runtime;
use diesel_async::{
    AsyncPgConnection, SimpleAsyncConnection,
    pooled_connection::{
        AsyncDieselConnectionManager, ManagerConfig, PoolError as ManagerError, PoolableConnection,
        RecyclingMethod,
        deadpool::{Hook, HookError, Object, Pool, PoolError},
    },
};

use crate::error::AppError;

/// Database settings.
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// The PostgreSQL URL.
    pub url: String,
    /// Most pooled connections.
    pub pool_size: usize,
    /// Longest wait for a free pooled connection.
    pub pool_wait: Duration,
    /// Longest wait to open a new connection.
    pub connect_timeout: Duration,
    /// `statement_timeout` for every connection.
    pub statement_timeout: Duration,
}

/// The pool every request borrows connections from.
pub type PgPool = Pool<AsyncPgConnection>;

/// A pooled connection, returned to the pool when dropped, unless it is dropped inside a
/// transaction: then it is closed, which rolls the transaction back and releases its locks
/// at once. That happens when a request's future is dropped in the middle of a write (the
/// client went away, or the request timed out). Returned to the pool, the connection
/// would keep its transaction open, rows locked, until its next checkout, and a quiet
/// instance may not check it out for a long time: every other writer of those rows
/// waits meanwhile.
pub struct DbConn(Option<Object<AsyncPgConnection>>);

impl Deref for DbConn {
    type Target = AsyncPgConnection;

    fn deref(&self) -> &AsyncPgConnection {
        self.0.as_ref().expect("a connection until dropped")
    }
}

impl DerefMut for DbConn {
    fn deref_mut(&mut self) -> &mut AsyncPgConnection {
        self.0.as_mut().expect("a connection until dropped")
    }
}

impl Drop for DbConn {
    fn drop(&mut self) {
        if let Some(mut conn) = self.0.take()
            && conn.is_broken()
        {
            // Open transaction, failed transaction, or lost connection: out of the pool.
            drop(Object::take(conn));
        }
    }
}

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
    /// failed statement (a bug: INTERNAL_SERVER_ERROR): no connection within the pool's
    /// wait or the connect timeout, a connection lost under a statement (PostgreSQL shut
    /// down or restarted), or a statement cancelled by `statement_timeout`.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(PoolError::NoRuntimeSpecified) => false,
            Self::Unavailable(_) => true,
            Self::Query(err) => statement_unavailable(err),
        }
    }
}

/// How failed statements say the database could not serve them. diesel does not pass
/// SQLSTATE on, so they are known by their messages: tokio-postgres's own when the
/// connection is gone, and PostgreSQL's (in English, its default `lc_messages`; under
/// another language these stay INTERNAL_SERVER_ERROR). Prefixes:
const UNAVAILABLE_MESSAGES: &[&str] = &[
    // tokio-postgres: the connection ended (statements pipelined behind the one that
    // heard why), or a socket error.
    "connection closed",
    "error communicating with the server",
    // PostgreSQL ended the session under the statement: "... due to administrator
    // command" (57P01: a fast shutdown or restart, pg_terminate_backend), "... due to
    // immediate shutdown command", "... because of crash of another server process"
    // (57P02), "... due to unexpected postmaster exit".
    "terminating connection ",
    // 57P03 cannot_connect_now: shutting down, starting up, in recovery.
    "the database system is ",
    // 57014 query_canceled by statement_timeout (DATABASE_STATEMENT_TIMEOUT_MS).
    "canceling statement due to statement timeout",
];

fn statement_unavailable(err: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as Q};
    match err {
        Q::DatabaseError(DatabaseErrorKind::ClosedConnection, _) | Q::BrokenTransactionManager => {
            true
        }
        Q::DatabaseError(_, info) => UNAVAILABLE_MESSAGES
            .iter()
            .any(|message| info.message().starts_with(message)),
        Q::RollbackErrorOnCommit { commit_error, .. } => statement_unavailable(commit_error),
        _ => false,
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

/// Builds the pool. No connection is opened until one is needed; `DATABASE_URL`'s TLS
/// options are read (and its CA file loaded) now.
///
/// Waiting for a free connection is bounded by `pool_wait`, opening one by
/// `connect_timeout`; each new connection gets `statement_timeout` and `application_name`.
/// Connections are recycled without a round trip (a closed connection is detected by its
/// client state), so a checkout costs no SQL statement.
pub fn build_pool(config: &DatabaseConfig) -> anyhow::Result<PgPool> {
    let connector = super::tls::Connector::from_url(&config.url)?;
    let mut manager_config = ManagerConfig::default();
    manager_config.recycling_method = RecyclingMethod::Fast;
    // Every connection as `DATABASE_URL`'s sslmode says (src/db/tls.rs), not diesel-async's
    // own `establish` (no TLS at all).
    manager_config.custom_setup = Box::new(move |_url| {
        let connector = connector.clone();
        Box::pin(async move { connector.establish().await })
    });
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
    Ok(DbConn(Some(pool.get().await?)))
}

/// Checks that the database answers a trivial statement.
pub async fn ping(pool: &PgPool) -> Result<(), DbError> {
    let mut conn = connect(pool).await?;
    conn.batch_execute("SELECT 1").await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use diesel::result::{DatabaseErrorKind, Error as Q};

    use super::*;

    fn failed(kind: DatabaseErrorKind, message: &str) -> DbError {
        DbError::Query(Q::DatabaseError(kind, Box::new(message.to_owned())))
    }

    #[test]
    fn a_lost_connection_or_a_statement_timeout_is_unavailable() {
        for message in [
            "connection closed",
            "error communicating with the server: Connection reset by peer (os error 104)",
            "terminating connection due to administrator command",
            "terminating connection due to immediate shutdown command",
            "terminating connection because of crash of another server process",
            "the database system is shutting down",
            "canceling statement due to statement timeout",
        ] {
            let kind = if message.contains("connection closed") {
                DatabaseErrorKind::UnableToSendCommand
            } else {
                DatabaseErrorKind::Unknown
            };
            assert!(failed(kind, message).is_unavailable(), "{message}");
        }
        let commit = DbError::Query(Q::RollbackErrorOnCommit {
            rollback_error: Box::new(Q::BrokenTransactionManager),
            commit_error: Box::new(Q::DatabaseError(
                DatabaseErrorKind::Unknown,
                Box::new("terminating connection due to administrator command".to_owned()),
            )),
        });
        assert!(commit.is_unavailable());
    }

    #[test]
    fn a_failed_statement_is_not_unavailable() {
        for (kind, message) in [
            (DatabaseErrorKind::UniqueViolation, "duplicate key value"),
            (
                DatabaseErrorKind::Unknown,
                "canceling statement due to user request",
            ),
            (
                DatabaseErrorKind::Unknown,
                "syntax error at or near \"SELEC\"",
            ),
            (
                DatabaseErrorKind::UnableToSendCommand,
                "expected 2 parameters but got 1",
            ),
        ] {
            assert!(!failed(kind, message).is_unavailable(), "{message}");
        }
        assert!(!DbError::Query(Q::NotFound).is_unavailable());
    }
}
