//! Getting the database ready at start: create it when missing, then run the embedded
//! migrations under an advisory lock so several instances can start at once. Both connect
//! as `DATABASE_URL`'s sslmode says ([`super::tls`]).

use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel_async::{AsyncPgConnection, async_connection_wrapper::AsyncConnectionWrapper};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tokio_postgres::error::SqlState;

use super::tls::{Connector, ConnectorError, is_tls_failure};

/// The migrations under `migrations/`, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Advisory lock key held while migrating ("conduit" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x0063_6f6e_6475_6974;

/// Why the database could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// `DATABASE_URL` cannot be parsed, or its TLS options cannot be used.
    #[error(transparent)]
    InvalidUrl(#[from] ConnectorError),
    /// The server cannot be reached at all.
    #[error(
        "cannot reach PostgreSQL at {target} ({reason}). Install and start PostgreSQL, \
         or set DATABASE_URL to a server that is running."
    )]
    Unreachable {
        /// `host:port` that was tried.
        target: String,
        /// The underlying failure, in one line.
        reason: String,
    },
    /// The server was reached, but TLS could not be set up as `sslmode` asks (the
    /// server offers no TLS, or its certificate is not trusted).
    #[error(
        "TLS to PostgreSQL at {target} failed ({reason}). Check DATABASE_URL's sslmode \
         and sslrootcert, and the server's certificate."
    )]
    Tls {
        /// `host:port` that was tried.
        target: String,
        /// The underlying failure, in one line.
        reason: String,
    },
    /// Creating the database or migrating it failed.
    #[error("preparing the database failed: {0:#}")]
    Setup(#[from] anyhow::Error),
}

/// Creates the database named in `url` if it does not exist, then runs pending migrations.
/// Returns the versions it applied.
pub async fn prepare(url: &str, connect_timeout: Duration) -> Result<Vec<String>, BootstrapError> {
    create_database_if_missing(url, connect_timeout).await?;
    run_migrations(url).await.map_err(BootstrapError::Setup)
}

/// Creates the database named in `url` if it does not exist yet.
pub async fn create_database_if_missing(
    url: &str,
    connect_timeout: Duration,
) -> Result<(), BootstrapError> {
    let connector = Connector::from_url(url)?;
    let mut config = connector.config().clone();
    config.connect_timeout(connect_timeout);
    let unreachable = |err: tokio_postgres::Error| {
        let (target, reason) = (describe_target(&config), one_line(&err));
        if is_tls_failure(&err) {
            BootstrapError::Tls { target, reason }
        } else {
            BootstrapError::Unreachable { target, reason }
        }
    };
    match connector.with_config(config.clone()).client().await {
        Ok(_) => return Ok(()),
        Err(err) if err.code() == Some(&SqlState::INVALID_CATALOG_NAME) => {}
        Err(err) if err.code().is_some() => {
            return Err(BootstrapError::Setup(
                anyhow::Error::new(err).context("connecting"),
            ));
        }
        Err(err) => return Err(unreachable(err)),
    }

    let name = config.get_dbname().unwrap_or("postgres").to_owned();
    let mut admin = config.clone();
    admin.dbname("postgres");
    let client = connector
        .with_config(admin)
        .client()
        .await
        .map_err(unreachable)?;
    let statement = format!("CREATE DATABASE {}", quote_ident(&name));
    match client.batch_execute(&statement).await {
        Ok(()) => {
            tracing::info!(database = %name, "created database");
            Ok(())
        }
        // Another instance created it first.
        Err(err)
            if err.code() == Some(&SqlState::DUPLICATE_DATABASE)
                || err.code() == Some(&SqlState::UNIQUE_VIOLATION) =>
        {
            Ok(())
        }
        Err(err) => Err(BootstrapError::Setup(
            anyhow::Error::new(err).context(format!("creating database {name}")),
        )),
    }
}

/// Runs the pending embedded migrations while holding an advisory lock, so concurrent
/// callers apply each migration once. Returns the versions applied by this call.
pub async fn run_migrations(url: &str) -> anyhow::Result<Vec<String>> {
    let conn = Connector::from_url(url)?.establish().await?;
    let mut conn: AsyncConnectionWrapper<AsyncPgConnection> = conn.into();
    tokio::task::spawn_blocking(move || {
        conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|e| anyhow::anyhow!("running migrations: {e}"));
        conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
        applied
    })
    .await?
}

fn describe_target(config: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

fn one_line(err: &tokio_postgres::Error) -> String {
    super::tls::one_line(err)
}

/// Quotes an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident("conduit"), "\"conduit\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
