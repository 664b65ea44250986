//! How every Conduit connection to PostgreSQL is opened (the pool, the LISTEN connection,
//! database creation and migrations, the seed): [`Connector`] reads `DATABASE_URL`, with
//! its `sslmode` and `sslrootcert` as libpq reads them, and opens connections over rustls
//! (with the `ring` provider) accordingly.
//!
//! tokio-postgres itself knows only `disable`, `prefer` and `require`, and rejects
//! `verify-ca`, `verify-full` and `sslrootcert`; so these two options are taken out of the
//! URL here, before the rest goes to [`tokio_postgres::Config`].
//!
//! | `sslmode` | encrypted | certificate checked |
//! |---|---|---|
//! | `disable` | never | - |
//! | `allow`, `prefer` (the default) | when the server offers and accepts TLS | no |
//! | `require` | always | no (as `verify-ca` when `sslrootcert` is given, as in libpq) |
//! | `verify-ca` | always | chain to `sslrootcert` |
//! | `verify-full` | always | chain to `sslrootcert`, and the host name |
//!
//! Over a Unix socket (a host that is a folder: `host=/tmp/dir`, or `%2Ftmp%2Fdir` in a
//! URL) there is no TLS, whatever `sslmode` says, as in libpq.
//!
//! `allow` (libpq: plain first, TLS if the server insists) is taken as `prefer`, which
//! tries TLS first: never less encrypted than libpq's. Without `sslrootcert`, the
//! `verify-*` modes read `~/.postgresql/root.crt`, as libpq does.
//!
//! May call: nothing outside `db`.

use std::sync::Arc;

use diesel::ConnectionResult;
use diesel_async::AsyncPgConnection;
use rustls::{
    ClientConfig,
    client::{WebPkiServerVerifier, danger::ServerCertVerifier},
};
use tokio_postgres::{Socket, config::SslMode as PgSslMode, error::SqlState};
use tokio_postgres_rustls::MakeRustlsConnect;

use self::{
    options::split_tls_options,
    verify::{AnyName, NoVerification, root_store},
};
use super::pool::APPLICATION_NAME;

mod options;
mod verify;

/// `sslmode`, as libpq has it (`allow` is read as `prefer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Plain connections only.
    Disable,
    /// TLS when the server offers it, plain otherwise; the certificate is not checked.
    Prefer,
    /// TLS or no connection; the certificate is not checked.
    Require,
    /// TLS, with a certificate chain to `sslrootcert` (any host name).
    VerifyCa,
    /// TLS, with a certificate chain to `sslrootcert`, issued for the host connected to.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, ConnectorError> {
        Ok(match value {
            "disable" => Self::Disable,
            "allow" | "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => return Err(ConnectorError::SslMode(other.to_owned())),
        })
    }
}

/// Why `DATABASE_URL` cannot be connected with.
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    /// tokio-postgres cannot parse the rest of the URL.
    #[error("DATABASE_URL is not a valid PostgreSQL URL: {0}")]
    Url(#[source] tokio_postgres::Error),
    /// An `sslmode` libpq does not have.
    #[error(
        "DATABASE_URL: sslmode={0:?} is not one of disable, allow, prefer, require, \
         verify-ca, verify-full"
    )]
    SslMode(String),
    /// A `verify-*` mode with no CA certificates to verify against.
    #[error(
        "DATABASE_URL: sslmode={0} verifies the server's certificate, and needs sslrootcert \
         (a PEM file of the CA certificates to trust); ~/.postgresql/root.crt does not exist"
    )]
    NoRootCert(&'static str),
    /// `sslrootcert` cannot be read, or holds no usable certificate.
    #[error("DATABASE_URL: sslrootcert {path}: {reason}")]
    RootCert {
        /// The file named.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
}

type PgConnection = (
    tokio_postgres::Client,
    tokio_postgres::Connection<
        Socket,
        <MakeRustlsConnect as tokio_postgres::tls::MakeTlsConnect<Socket>>::Stream,
    >,
);

/// Opens connections to one database as `DATABASE_URL` says. Cheap to clone.
#[derive(Clone)]
pub struct Connector {
    config: tokio_postgres::Config,
    mode: SslMode,
    tls: MakeRustlsConnect,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("config", &self.config)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl Connector {
    /// Reads `url` (a `postgres://` URL or `key=value` pairs) and the CA file it names.
    /// Connections get `application_name` [`APPLICATION_NAME`] unless the URL sets one.
    pub fn from_url(url: &str) -> Result<Self, ConnectorError> {
        let (rest, options) = split_tls_options(url);
        let mut config: tokio_postgres::Config = rest.parse().map_err(ConnectorError::Url)?;
        let requested = options.sslmode.as_deref().map(SslMode::parse).transpose()?;
        let mode = match (requested, &options.sslrootcert) {
            // libpq: "if a root CA file exists, sslmode=require behaves as verify-ca".
            (Some(SslMode::Require), Some(_)) => SslMode::VerifyCa,
            (mode, _) => mode.unwrap_or(SslMode::Prefer),
        };
        let socket_only = config
            .get_hosts()
            .iter()
            .all(|host| matches!(host, tokio_postgres::config::Host::Unix(_)));
        config.ssl_mode(match mode {
            SslMode::Disable => PgSslMode::Disable,
            // libpq ignores sslmode on a socket; tokio-postgres would ask for TLS.
            _ if socket_only && !config.get_hosts().is_empty() => PgSslMode::Disable,
            SslMode::Prefer => PgSslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => PgSslMode::Require,
        });
        if config.get_application_name().is_none() {
            config.application_name(APPLICATION_NAME);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match mode {
            SslMode::Disable | SslMode::Prefer | SslMode::Require => Arc::new(NoVerification {
                provider: provider.clone(),
            }),
            SslMode::VerifyCa | SslMode::VerifyFull => {
                let name = if mode == SslMode::VerifyCa {
                    "verify-ca"
                } else {
                    "verify-full"
                };
                let roots = root_store(options.sslrootcert.as_deref(), name)?;
                let chain =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|err| ConnectorError::RootCert {
                            path: options.sslrootcert.clone().unwrap_or_default(),
                            reason: err.to_string(),
                        })?;
                if mode == SslMode::VerifyCa {
                    Arc::new(AnyName(chain))
                } else {
                    chain
                }
            }
        };
        let tls = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Self {
            config,
            mode,
            tls: MakeRustlsConnect::new(tls),
        })
    }

    /// The connection settings, without `sslmode` and `sslrootcert`.
    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// The `sslmode` in force.
    pub fn ssl_mode(&self) -> SslMode {
        self.mode
    }

    /// The same TLS settings with other connection settings (another database, a timeout).
    pub fn with_config(&self, config: tokio_postgres::Config) -> Self {
        Self {
            config,
            ..self.clone()
        }
    }

    /// A tokio-postgres client; its connection is driven on a spawned task.
    pub async fn client(&self) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, connection) = self.connect().await?;
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "database connection ended");
            }
        });
        Ok(client)
    }

    /// A diesel-async connection (notifications included, for LISTEN).
    pub async fn establish(&self) -> ConnectionResult<AsyncPgConnection> {
        let (client, connection) = self
            .connect()
            .await
            .map_err(|err| diesel::ConnectionError::BadConnection(one_line(&err)))?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await
    }

    /// Connects. Under `prefer`, as in libpq, a server that refuses the encrypted
    /// connection (`pg_hba.conf` has `hostnossl` only: 28000) or a failed handshake is
    /// tried again without TLS.
    async fn connect(&self) -> Result<PgConnection, tokio_postgres::Error> {
        match self.config.connect(self.tls.clone()).await {
            Err(err)
                if self.mode == SslMode::Prefer
                    && (is_tls_failure(&err)
                        || err.code() == Some(&SqlState::INVALID_AUTHORIZATION_SPECIFICATION)) =>
            {
                let mut plain = self.config.clone();
                plain.ssl_mode(PgSslMode::Disable);
                plain.connect(self.tls.clone()).await
            }
            other => other,
        }
    }
}

/// Reads `url` and opens one diesel-async connection to it.
pub async fn establish(url: &str) -> anyhow::Result<AsyncPgConnection> {
    Ok(Connector::from_url(url)?.establish().await?)
}

/// An error and its causes, in one line (tokio-postgres puts the TLS failure in a source).
pub fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.ends_with(&inner_text) {
            text = format!("{text}: {inner_text}");
        }
        source = inner.source();
    }
    text.replace('\n', " ")
}

/// True when `err` is a failed TLS negotiation or handshake (not a refused connection).
pub fn is_tls_failure(err: &tokio_postgres::Error) -> bool {
    err.to_string()
        .starts_with("error performing TLS handshake")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_sslmode_and_defaults_to_prefer() {
        let mode = |url: &str| Connector::from_url(url).map(|c| c.ssl_mode());
        assert_eq!(mode("postgres://h/db").unwrap(), SslMode::Prefer);
        assert_eq!(
            mode("postgres://h/db?sslmode=allow").unwrap(),
            SslMode::Prefer
        );
        assert_eq!(
            mode("postgres://h/db?sslmode=disable").unwrap(),
            SslMode::Disable
        );
        assert_eq!(
            mode("postgres://h/db?sslmode=require").unwrap(),
            SslMode::Require
        );
        assert!(matches!(
            mode("postgres://h/db?sslmode=verify_full"),
            Err(ConnectorError::SslMode(m)) if m == "verify_full"
        ));
        let missing = mode("postgres://h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem");
        let message = missing.unwrap_err().to_string();
        assert!(message.contains("/nonexistent/ca.pem"), "{message}");
        assert!(matches!(
            mode("postgres://h/db?sslmode=require&sslrootcert=/nonexistent/ca.pem"),
            Err(ConnectorError::RootCert { .. })
        ));
    }

    #[test]
    fn no_tls_over_a_unix_socket() {
        let pg_mode = |url: &str| Connector::from_url(url).unwrap().config().get_ssl_mode();
        for url in [
            "postgres://postgres@%2Ftmp%2Fconduit-pg-x/conduit?sslmode=require",
            "host=/tmp/conduit-pg-x dbname=conduit sslmode=prefer",
        ] {
            assert_eq!(pg_mode(url), PgSslMode::Disable, "{url}");
        }
        assert_eq!(
            pg_mode("postgres://postgres@127.0.0.1/conduit?sslmode=require"),
            PgSslMode::Require
        );
        assert_eq!(
            pg_mode("postgres://postgres@127.0.0.1/conduit"),
            PgSslMode::Prefer
        );
    }

    #[test]
    fn names_conduit_unless_the_url_names_itself() {
        let named = |url: &str| {
            let connector = Connector::from_url(url).unwrap();
            connector.config().get_application_name().map(str::to_owned)
        };
        assert_eq!(named("postgres://h/db").as_deref(), Some(APPLICATION_NAME));
        assert_eq!(
            named("postgres://h/db?application_name=mine").as_deref(),
            Some("mine")
        );
    }
}
