//! Every setting Conduit reads, in one place: part of the composition root.
//!
//! Each setting is parsed into its owner's own type (`db::DatabaseConfig`,
//! `ratelimit::throttle::ThrottleConfig`, `graphql::limits::QueryLimits`,
//! `http::middleware::CorsOrigins`, ...), which [`Config`] assembles; each owner is handed
//! only its own part. No layer imports this module.
//!
//! Settings come from environment variables; a `.env` file in the working directory is
//! loaded first when present (variables already set win). Defaults suit development.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `APP_ENV` | `development` | `development` or `production` |
//! | `HOST` | `127.0.0.1` | address to listen on; a non-loopback one needs `APP_ENV` set explicitly |
//! | `PORT` | `8080` | port to listen on (`0` picks a free one) |
//! | `DATABASE_URL` | `postgres://postgres@127.0.0.1:5432/conduit` | PostgreSQL URL; **required in production**; `sslmode`/`sslrootcert` as in libpq (`db::tls`); unset in development, when nothing answers at the default or it refuses the default credentials, a private cluster serves ([`crate::dev_db`]) |
//! | `CONDUIT_DEV_DB_PROBE_URL` | the default above | **test-only**: the address tried before the private cluster, e.g. a closed port, to exercise it beside a running PostgreSQL |
//! | `DATABASE_POOL_SIZE` | `16` | most pooled connections |
//! | `DATABASE_POOL_WAIT_MS` | `2000` | longest wait for a free pooled connection, then `SERVICE_UNAVAILABLE` |
//! | `DATABASE_CONNECT_TIMEOUT_MS` | `5000` | longest wait to open a new connection |
//! | `DATABASE_STATEMENT_TIMEOUT_MS` | `5000` | `statement_timeout` set on every connection; a statement cancelled by it is `SERVICE_UNAVAILABLE` |
//! | `REQUEST_TIMEOUT_MS` | `15000` | longest a GraphQL request may run |
//! | `REQUEST_BODY_TIMEOUT_MS` | `10000` | longest reading a request's body and authenticating may take (then 408) |
//! | `MAX_REQUESTS_IN_FLIGHT` | `1024` | most `/graphql` requests at once; more get a fast 503 with `Retry-After` |
//! | `BODY_LIMIT_BYTES` | `1048576` | largest accepted request body (1 MiB) |
//! | `BATCH_LIMIT` | `10` | most operations in one JSON batch request |
//! | `SHUTDOWN_TIMEOUT_MS` | `10000` | on SIGTERM/SIGINT, longest wait for in-flight requests |
//! | `WORKER_THREADS` | the machine's cores | threads running requests (tokio's workers); fewer than the cores when PostgreSQL shares a small machine (README, "The settings that matter") |
//! | `CORS_ALLOWED_ORIGINS` | development: any `localhost`/`127.0.0.1` origin; production: none | comma-separated origins allowed to call the API from a browser |
//! | `GRAPHIQL_ENABLED` | development: `true`; production: `false` | GraphiQL on `GET /graphql` for browsers, Playground on `/playground` |
//! | `INTROSPECTION_ENABLED` | development: `true`; production: `false` | schema introspection |
//! | `REPORT_SQL_STATEMENTS` | development: `true`; production: `false` | add `extensions.sqlStatements` (SQL statements the request sent on every connection it used) to single responses |
//! | `DEMO_DATA` | development: `true`; production: `false` | at start, when the `users` table is empty, seed a small demo data set (password `conduit-demo`); refused in production |
//! | `AUTH_ATTEMPTS_PER_ACCOUNT` | `10` | login/register attempts per minute per email and client IP, changePassword and email changes per user and client IP (`RATE_LIMITED`) |
//! | `AUTH_ATTEMPTS_PER_ACCOUNT_TOTAL` | `100` | the same attempts per minute per account from every IP together |
//! | `AUTH_ATTEMPTS_PER_IP` | `60` | those attempts and refreshSession per minute per client IP (IPv6: per /64), shared by every instance on the database |
//! | `COST_BUDGET_PER_MINUTE` | `100000` | complexity each user (or anonymous client IP) may spend per minute, refilled evenly; `0` turns the budget off (`RATE_LIMITED`); at least `QUERY_MAX_COMPLEXITY` |
//! | `PERSISTED_QUERIES` | `automatic` | `automatic` (Apollo's APQ: clients register documents by hash), `safelist` (only the manifest's documents run) or `off` |
//! | `PERSISTED_QUERY_REGISTRATIONS_PER_MINUTE` | `30` | new persisted documents each user (or anonymous client IP) may register per minute; past it documents run unstored; `0`: unlimited |
//! | `NOTIFICATION_DEDUP_WINDOW` | `1h` | a repeat of the same (recipient, kind, actor, article) within this adds no notification (`humantime` format: `90s`, `30m`, `1h`; `0`: off) |
//! | `SESSION_MAX_AGE` | `90d` | a session's absolute lifetime, however often it is refreshed (`humantime` format) |
//! | `SESSION_PRUNE_INTERVAL_MS` | `3600000` | how often an instance prunes ended sessions (one instance at a time) |
//! | `PERSISTED_QUERIES_MANIFEST` | none | GraphQL Code Generator's `persisted-documents.json`, loaded at start as the safelist; **required** with `PERSISTED_QUERIES=safelist` |
//! | `QUERY_MAX_BYTES` | `32768` | largest GraphQL document (`DOCUMENT_TOO_LARGE`) |
//! | `QUERY_MAX_TOKENS` | `2000` | most lexical tokens in a document (`TOKEN_LIMIT_EXCEEDED`) |
//! | `QUERY_MAX_DEPTH` | `15` | deepest field nesting (`DEPTH_LIMIT_EXCEEDED`) |
//! | `QUERY_MAX_ALIASES` | `30` | most aliases in a document (`ALIAS_LIMIT_EXCEEDED`) |
//! | `QUERY_MAX_ROOT_FIELDS` | `20` | most root fields in an operation (`ROOT_FIELD_LIMIT_EXCEEDED`) |
//! | `QUERY_MAX_COMPLEXITY` | `10000` | highest operation complexity, page sizes as multipliers (`COMPLEXITY_LIMIT_EXCEEDED`) |
//! | `RESPONSE_MAX_BYTES` | `8388608` | most bytes of text one request (a whole batch; over WebSocket, one operation) may load, counted as rows arrive; past it `RESPONSE_TOO_LARGE` with no data (8 MiB) |
//! | `REQUEST_MEMORY_BUDGET_BYTES` | `536870912` | what the operations in flight may reserve together, each its estimated response size (one estimated above the budget takes all of it) (512 MiB) |
//! | `REQUEST_MEMORY_WAIT_MS` | `1000` | longest an operation waits for its reservation, then `SERVICE_UNAVAILABLE` (HTTP 503, `Retry-After`) |
//! | `WS_INIT_TIMEOUT_MS` | `3000` | a new WebSocket must send `connection_init` within this (then 4408) |
//! | `WS_KEEPALIVE_MS` | `15000` | how often the server pings a WebSocket; silence for a whole interval after a ping drops it |
//! | `WS_MAX_MESSAGE_BYTES` | `65536` | largest WebSocket message (then 1009) |
//! | `WS_MAX_OPERATIONS` | `100` | operations one WebSocket may run at once (more get an `error` message) |
//! | `WS_QUEUE_CAPACITY` | `256` | messages waiting for one WebSocket before it is closed as too slow (1013) |
//! | `WS_MAX_PER_IP`, `WS_MAX_PER_USER`, `WS_MAX_CONNECTIONS` | `256`, `32`, `10000` | open WebSockets per client IP (429), per signed-in user (4429) and per instance (503) |
//! | `WS_IDLE_TIMEOUT_MS` | `300000` | an anonymous WebSocket running no operation for this long is closed (1000) |
//! | `METRICS_TOKEN` | unset | when set, `GET /metrics` requires `Authorization: Bearer <token>` (else 401); unset, it is open in development and refused (403) in production |
//! | `METRICS_OPERATION_NAMES` | `200` | most distinct GraphQL operation names used as metric labels; others are `other` (see `crate::metrics`) |
//! | `BENCH_HELLO` | `false` | serve `/hello`, a fixed GraphQL-shaped JSON answer behind the same middleware: the benchmark's floor for `{ __typename }` (never in production) |
//! | `TRUSTED_PROXIES` | empty | comma-separated CIDR networks (or addresses) of reverse proxies: only from them are `X-Forwarded-For`/`Forwarded` read, taking the right-most address that is not a trusted proxy |
//! | `REDIS_URL` | unset | when set (`redis://host:6379`), the cost budget is shared by every instance through this Redis, reserved in chunks; unreachable, it falls back to per instance |
//! | `REDIS_KEY_PREFIX` | `conduit:` | the start of every Redis key Conduit writes |
//! | `PUBLIC_URL` | development: `http://127.0.0.1:8080`; **required in production** | the web app's origin: links in mails point there |
//! | `SMTP_URL` | unset | `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://host:465` (TLS), `smtp://host:25` (plain); unset: development writes mails to `MAIL_DIR`, production sends none (email is off, mails FAILED) |
//! | `SMTP_TIMEOUT_MS` | `10000` | longest wait for the SMTP server at each step (an attempt may take three) |
//! | `EMAIL_FROM` | `Conduit <no-reply@conduit.localhost>` | the sender of every mail; its domain ends each `Message-ID` |
//! | `MAIL_DIR` | `./.conduit/mail` | development without `SMTP_URL`: each mail is written here as an `.eml` file |
//! | `EMAIL_NOTIFICATIONS_PER_HOUR` | `10` | most notification mails per user and hour; more are coalesced into one summary |
//! | `EMAIL_NOTIFICATIONS_SUMMARY_DELAY_MS` | `3600000` | how long after the first notification past that limit its summary is sent |
//! | `WEBHOOK_SECRET_KEY` | development: a key generated into `./.conduit/server-key`; **required in production** | the server key ring, `id:base64(32 bytes)[,id:base64...]`, current first: webhook secrets are encrypted under it, email tokens derived from it |
//! | `OUTBOX_MAX_ATTEMPTS` | `8` | attempts per outbox message (email, webhook delivery) before it is FAILED |
//! | `OUTBOX_RETRY_BASE_MS`, `OUTBOX_RETRY_MAX_MS` | `1000`, `3600000` | the first retry's delay, doubled per attempt up to the maximum, with jitter (×0.5–1) |
//! | `OUTBOX_POLL_INTERVAL_MS` | `5000` | longest a worker sleeps without looking for due messages (a queued message wakes it at once through `pg_notify`) |
//! | `OUTBOX_BATCH` | `16` | messages a worker claims and sends at once |
//! | `OUTBOX_LEASE_MARGIN_MS` | `30000` | a claim's lease lasts the attempt timeout plus this; a worker that dies frees its messages then |
//! | `OUTBOX_RETENTION` | `7d` | delivered messages and their attempt logs are deleted after this (`humantime` format) |
//! | `WEBHOOK_ALLOW_HTTP` | `false` | accept `http://` webhook URLs (development, tests); otherwise `https` only |
//! | `WEBHOOK_ALLOWED_HOSTS` | empty | comma-separated hosts webhooks may reach even when they are (or resolve to) loopback, private, link-local or other inner addresses |
//! | `WEBHOOK_MAX_FAILURES` | `10` | failed delivery attempts in a row that disable a webhook (its owner is notified) |
//! | `WEB_DIST` | `web/dist` | the web app's build, served at `/` and the app's routes |
//! | `IDE_DIST` | `ide/dist` | GraphiQL's and Playground's builds (`graphiql/`, `playground/`), served from `/ide/` |
//! | `FRONTEND_BUILD` | development: `true`; production: `false` | at start, build a missing `WEB_DIST` or `IDE_DIST` with `npm ci && npm run build` in its parent folder, when npm is installed |
//! | `LOG_FORMAT` | development: `pretty`; production: `json` | `pretty` or `json` |
//! | `RUST_LOG` | `info` | log filter (tracing-subscriber `EnvFilter` syntax) |
//!
//! Field suggestions in error messages ("Did you mean ...?") are on in development only.

use std::{net::IpAddr, num::NonZeroU32, path::PathBuf, str::FromStr, time::Duration};

use crate::{
    db::DatabaseConfig,
    domain::{
        notifications::NotificationConfig, sessions::SessionConfig,
        webhooks::address::WebhookPolicy,
    },
    graphql::{execution::MemoryLimits, limits::QueryLimits, persisted::PersistedMode},
    http::{
        client_ip::TrustedProxies, limits::DEFAULT_MAX_IN_FLIGHT, metrics::MetricsToken,
        middleware::CorsOrigins,
    },
    metrics::DEFAULT_OPERATION_NAMES,
    ratelimit::{shared::RedisConfig, throttle::ThrottleConfig},
    telemetry::LogFormat,
};
use crate::{
    domain::mail::MailConfig,
    outbox::{email::MailTransport, worker::OutboxConfig},
};

mod external;
mod frontend;
mod housekeeping;
mod webhooks;

pub use external::{DEV_KEY_FILE, KeySource};
pub use frontend::FrontendConfig;

/// The default database URL for development.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/conduit";

/// Which kind of deployment this process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    /// Local work: friendly defaults, GraphiQL, introspection, pretty logs.
    Development,
    /// Behind the internet: required settings, no IDEs, no introspection, JSON logs.
    Production,
}

pub use crate::http::ws::WebSocketConfig;

/// The `/metrics` endpoint's settings.
#[derive(Debug, Clone)]
pub struct MetricsConfig {
    /// When set, `/metrics` requires `Authorization: Bearer <token>` (`METRICS_TOKEN`).
    pub token: Option<MetricsToken>,
    /// Most distinct operation names used as label values (`METRICS_OPERATION_NAMES`,
    /// 200); see [`crate::metrics`]. Both go to their owners: the token to `/metrics`,
    /// the bound to [`crate::metrics::Metrics`].
    pub operation_names: usize,
}

/// The whole configuration of one Conduit process.
#[derive(Debug, Clone)]
pub struct Config {
    /// Development or production.
    pub env: AppEnv,
    /// Address to listen on.
    pub host: IpAddr,
    /// Port to listen on.
    pub port: u16,
    /// Database settings.
    pub database: DatabaseConfig,
    /// `DATABASE_URL` was unset (development): `database.url` is the default, to be
    /// replaced by the private cluster's when it cannot be used ([`crate::dev_db`]).
    pub dev_db_fallback: bool,
    /// Longest a GraphQL request may run.
    pub request_timeout: Duration,
    /// Longest reading a request's body and authenticating may take.
    pub body_timeout: Duration,
    /// Most `/graphql` requests in flight at once.
    pub max_in_flight: usize,
    /// Largest accepted request body in bytes.
    pub body_limit: usize,
    /// Most operations in one JSON batch request.
    pub batch_limit: usize,
    /// Longest wait for in-flight requests at shutdown.
    pub shutdown_timeout: Duration,
    /// Threads running requests (`None`: one per core, tokio's default).
    pub worker_threads: Option<usize>,
    /// Browser origins allowed by CORS.
    pub cors_origins: CorsOrigins,
    /// Serve GraphiQL and Playground.
    pub graphiql: bool,
    /// Answer introspection queries.
    pub introspection: bool,
    /// Report each response's SQL statement count in `extensions.sqlStatements`.
    pub report_sql_statements: bool,
    /// At start, seed demo data into a database without users.
    pub demo_data: bool,
    /// WebSocket limits and timers.
    pub websocket: WebSocketConfig,
    /// Attempts allowed on the credential paths.
    pub throttle: ThrottleConfig,
    /// Complexity each spender may use per minute (`None`: no budget).
    pub cost_budget: Option<NonZeroU32>,
    /// How persisted queries are served.
    pub persisted_queries: PersistedMode,
    /// The persisted-documents manifest to load at start.
    pub persisted_manifest: Option<PathBuf>,
    /// Persisted-document registrations per client per minute (`None`: unlimited).
    pub persisted_registrations: Option<NonZeroU32>,
    /// Notifications' duplicate window.
    pub notifications: NotificationConfig,
    /// Session lifetime and pruning.
    pub sessions: SessionConfig,
    /// Limits on every GraphQL document, whichever way it arrives.
    pub query_limits: QueryLimits,
    /// The memory bounds of requests in flight.
    pub memory: MemoryLimits,
    /// The `/metrics` endpoint.
    pub metrics: MetricsConfig,
    /// Serve the benchmark's `/hello` endpoint (`BENCH_HELLO`).
    pub bench_hello: bool,
    /// Log line format.
    pub log_format: LogFormat,
    /// The proxies whose `X-Forwarded-For`/`Forwarded` give the client IP.
    pub trusted_proxies: TrustedProxies,
    /// The Redis that shares the cost budget across instances (`None`: per instance).
    pub redis: Option<RedisConfig>,
    /// Where webhooks may point, and when one is disabled.
    pub webhooks: WebhookPolicy,
    /// The outbox's workers (`OUTBOX_*`).
    pub outbox: OutboxConfig,
    /// Email's links and sender (`PUBLIC_URL`, `EMAIL_FROM`, `EMAIL_NOTIFICATIONS_PER_HOUR`,
    /// `EMAIL_NOTIFICATIONS_SUMMARY_DELAY_MS`).
    pub mail: MailConfig,
    /// How email leaves (`SMTP_URL`; a folder in development without it; off otherwise).
    pub mail_transport: MailTransport,
    /// The server key ring (`WEBHOOK_SECRET_KEY`).
    pub server_key: KeySource,
    /// The web app's and the IDEs' built assets (`WEB_DIST`, `IDE_DIST`, `FRONTEND_BUILD`).
    pub frontend: FrontendConfig,
}

/// A setting that is missing or cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable could not be parsed.
    #[error("{name}={value:?} is not valid: {reason}")]
    Invalid {
        /// The variable's name.
        name: &'static str,
        /// What it was set to.
        value: String,
        /// Why it was refused.
        reason: String,
    },
    /// A variable that production requires is not set.
    #[error("{0} must be set when APP_ENV=production")]
    RequiredInProduction(&'static str),
}

impl Config {
    /// Reads the configuration from the process environment (after loading `.env`).
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env file is normal; a malformed one is reported by the variables it breaks.
        let _ = dotenvy::dotenv();
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, which returns a variable's value if set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let env = match get("APP_ENV").as_deref().map(str::trim) {
            None | Some("development") | Some("dev") => AppEnv::Development,
            Some("production") | Some("prod") => AppEnv::Production,
            Some(other) => return Err(invalid("APP_ENV", other, "use development or production")),
        };
        let dev = env == AppEnv::Development;

        let (url, dev_db_fallback) = match (get("DATABASE_URL"), env) {
            (Some(url), _) => (url, false),
            (None, AppEnv::Development) => match get("CONDUIT_DEV_DB_PROBE_URL") {
                Some(probe) => (probe, true),
                None => (DEFAULT_DATABASE_URL.to_owned(), true),
            },
            (None, AppEnv::Production) => {
                return Err(ConfigError::RequiredInProduction("DATABASE_URL"));
            }
        };
        let cors_origins = match get("CORS_ALLOWED_ORIGINS") {
            Some(list) => CorsOrigins::List(
                list.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect(),
            ),
            None if dev => CorsOrigins::Localhost,
            None => CorsOrigins::List(Vec::new()),
        };
        let log_format = match get("LOG_FORMAT").as_deref() {
            None if dev => LogFormat::Pretty,
            None => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(invalid("LOG_FORMAT", other, "use pretty or json")),
        };

        let query_limits = QueryLimits {
            bytes: positive(parse(&get, "QUERY_MAX_BYTES", 32_768)?, "QUERY_MAX_BYTES")?,
            tokens: positive(parse(&get, "QUERY_MAX_TOKENS", 2_000)?, "QUERY_MAX_TOKENS")?,
            depth: positive(parse(&get, "QUERY_MAX_DEPTH", 15)?, "QUERY_MAX_DEPTH")?,
            aliases: parse(&get, "QUERY_MAX_ALIASES", 30)?,
            root_fields: positive(
                parse(&get, "QUERY_MAX_ROOT_FIELDS", 20)?,
                "QUERY_MAX_ROOT_FIELDS",
            )?,
            complexity: positive(
                parse(&get, "QUERY_MAX_COMPLEXITY", 10_000)?,
                "QUERY_MAX_COMPLEXITY",
            )?,
        };
        let cost_budget = NonZeroU32::new(parse(&get, "COST_BUDGET_PER_MINUTE", 100_000)?);
        if let Some(budget) = cost_budget
            && (budget.get() as usize) < query_limits.complexity
        {
            return Err(invalid(
                "COST_BUDGET_PER_MINUTE",
                &budget.to_string(),
                "must be 0 (off) or at least QUERY_MAX_COMPLEXITY",
            ));
        }

        let persisted_queries = parse(&get, "PERSISTED_QUERIES", PersistedMode::Automatic)?;
        let persisted_manifest = get("PERSISTED_QUERIES_MANIFEST").map(PathBuf::from);
        if persisted_queries == PersistedMode::Safelist && persisted_manifest.is_none() {
            return Err(invalid(
                "PERSISTED_QUERIES",
                "safelist",
                "set PERSISTED_QUERIES_MANIFEST to the safelist's manifest",
            ));
        }

        // A careless deployment must not serve development mode (or demo accounts) to
        // the network: both are refused at start.
        let host: IpAddr = parse(&get, "HOST", "127.0.0.1".parse().expect("valid address"))?;
        if dev && get("APP_ENV").is_none() && !host.is_loopback() {
            let reason = "is not a loopback address: set APP_ENV explicitly to serve on it";
            return Err(invalid("HOST", &host.to_string(), reason));
        }
        let demo_data = parse(&get, "DEMO_DATA", dev)?;
        if demo_data && !dev {
            let reason = "must be false when APP_ENV=production (demo accounts share a password)";
            return Err(invalid("DEMO_DATA", "true", reason));
        }
        let (persisted_registrations, mut notifications, sessions) = housekeeping::read(&get)?;
        let webhooks = webhooks::read(&get)?;
        let external = external::read(&get, env)?;
        let frontend = frontend::read(&get, dev)?;
        notifications.mail.per_hour = external.mail.notifications_per_hour;
        notifications.mail.summary_delay = external.mail.summary_delay;

        let bytes = |name, default| positive(parse(&get, name, default)?, name);
        Ok(Self {
            env,
            host,
            port: parse(&get, "PORT", 8080)?,
            database: DatabaseConfig {
                url,
                pool_size: positive(parse(&get, "DATABASE_POOL_SIZE", 16)?, "DATABASE_POOL_SIZE")?,
                pool_wait: millis(&get, "DATABASE_POOL_WAIT_MS", 2_000)?,
                connect_timeout: millis(&get, "DATABASE_CONNECT_TIMEOUT_MS", 5_000)?,
                statement_timeout: millis(&get, "DATABASE_STATEMENT_TIMEOUT_MS", 5_000)?,
            },
            dev_db_fallback,
            request_timeout: millis(&get, "REQUEST_TIMEOUT_MS", 15_000)?,
            body_timeout: millis(&get, "REQUEST_BODY_TIMEOUT_MS", 10_000)?,
            max_in_flight: positive(
                parse(&get, "MAX_REQUESTS_IN_FLIGHT", DEFAULT_MAX_IN_FLIGHT)?,
                "MAX_REQUESTS_IN_FLIGHT",
            )?,
            body_limit: positive(
                parse(&get, "BODY_LIMIT_BYTES", 1024 * 1024)?,
                "BODY_LIMIT_BYTES",
            )?,
            batch_limit: positive(parse(&get, "BATCH_LIMIT", 10)?, "BATCH_LIMIT")?,
            shutdown_timeout: millis(&get, "SHUTDOWN_TIMEOUT_MS", 10_000)?,
            worker_threads: get("WORKER_THREADS")
                .map(|_| positive(parse(&get, "WORKER_THREADS", 1)?, "WORKER_THREADS"))
                .transpose()?,
            cors_origins,
            graphiql: parse(&get, "GRAPHIQL_ENABLED", dev)?,
            introspection: parse(&get, "INTROSPECTION_ENABLED", dev)?,
            report_sql_statements: parse(&get, "REPORT_SQL_STATEMENTS", dev)?,
            demo_data,
            throttle: ThrottleConfig {
                per_account: per_minute(&get, "AUTH_ATTEMPTS_PER_ACCOUNT", 10)?,
                per_account_total: per_minute(&get, "AUTH_ATTEMPTS_PER_ACCOUNT_TOTAL", 100)?,
                per_ip: per_minute(&get, "AUTH_ATTEMPTS_PER_IP", 60)?,
            },
            cost_budget,
            persisted_queries,
            persisted_manifest,
            persisted_registrations,
            notifications,
            sessions,
            query_limits,
            memory: MemoryLimits {
                response_max_bytes: bytes("RESPONSE_MAX_BYTES", 8 << 20)?,
                budget_bytes: bytes("REQUEST_MEMORY_BUDGET_BYTES", 512 << 20)?,
                wait: millis(&get, "REQUEST_MEMORY_WAIT_MS", 1_000)?,
            },
            websocket: WebSocketConfig {
                init_timeout: millis(&get, "WS_INIT_TIMEOUT_MS", 3_000)?,
                keepalive: Duration::from_millis(positive(
                    parse(&get, "WS_KEEPALIVE_MS", 15_000)?,
                    "WS_KEEPALIVE_MS",
                )? as u64),
                max_message: positive(
                    parse(&get, "WS_MAX_MESSAGE_BYTES", 64 * 1024)?,
                    "WS_MAX_MESSAGE_BYTES",
                )?,
                queue_capacity: positive(
                    parse(&get, "WS_QUEUE_CAPACITY", 256)?,
                    "WS_QUEUE_CAPACITY",
                )?,
                max_operations: positive(
                    parse(&get, "WS_MAX_OPERATIONS", 100)?,
                    "WS_MAX_OPERATIONS",
                )?,
                idle_timeout: millis(&get, "WS_IDLE_TIMEOUT_MS", 300_000)?,
                max_per_ip: positive(parse(&get, "WS_MAX_PER_IP", 256)?, "WS_MAX_PER_IP")?,
                max_per_user: positive(parse(&get, "WS_MAX_PER_USER", 32)?, "WS_MAX_PER_USER")?,
                max_connections: positive(
                    parse(&get, "WS_MAX_CONNECTIONS", 10_000)?,
                    "WS_MAX_CONNECTIONS",
                )?,
            },
            metrics: MetricsConfig {
                token: get("METRICS_TOKEN").map(|token| MetricsToken::new(&token)),
                operation_names: parse(&get, "METRICS_OPERATION_NAMES", DEFAULT_OPERATION_NAMES)?,
            },
            bench_hello: parse(&get, "BENCH_HELLO", false)?,
            log_format,
            trusted_proxies: parse(&get, "TRUSTED_PROXIES", TrustedProxies::default())?,
            redis: get("REDIS_URL").map(|url| RedisConfig {
                url: url.trim().to_owned(),
                key_prefix: get("REDIS_KEY_PREFIX").unwrap_or_else(|| "conduit:".to_owned()),
            }),
            webhooks,
            outbox: external.outbox,
            mail: external.mail,
            mail_transport: external.mail_transport,
            server_key: external.server_key,
            frontend,
        })
    }

    /// True in development mode.
    pub fn is_development(&self) -> bool {
        self.env == AppEnv::Development
    }
}

fn invalid(name: &'static str, value: &str, reason: impl ToString) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_owned(),
        reason: reason.to_string(),
    }
}

fn parse<T>(
    get: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: T,
) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match get(name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|e| invalid(name, &raw, e)),
    }
}

fn millis(
    get: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: u64,
) -> Result<Duration, ConfigError> {
    parse(get, name, default).map(Duration::from_millis)
}

fn per_minute(
    get: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: u32,
) -> Result<NonZeroU32, ConfigError> {
    let value: u32 = parse(get, name, default)?;
    NonZeroU32::new(value).ok_or_else(|| invalid(name, "0", "must be at least 1"))
}

fn positive(value: usize, name: &'static str) -> Result<usize, ConfigError> {
    if value == 0 {
        return Err(invalid(name, "0", "must be at least 1"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests;
