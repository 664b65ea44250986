//! What every request shares: configuration, the database pool, metrics. Cheap to clone.
//! Part of the composition root: it builds each layer's own state from it (the HTTP
//! endpoint's, with the GraphQL operation pipeline inside).

use std::sync::Arc;

use crate::{
    config::Config,
    db,
    domain::{
        clock::Clock, events::Events, keys::ServerKeys, password::Passwords,
        sessions::SessionRules, webhooks::WebhookRules,
    },
    graphql::{
        SchemaData, admission::Gate, document::cache::Documents, execution::Pipeline,
        persisted::PersistedQueries, subscription::Hub,
    },
    http::{
        graphql::{EndpointState, HttpLimits},
        lifecycle::Lifecycle,
        limits::InFlight,
        metrics::MetricsEndpoint,
        ws::{SocketCaps, Sockets},
    },
    metrics::{Limit, LiveCounts, Metrics},
    outbox::worker::Wakeups,
    ratelimit::{KeyedLimiter, budget::CostBudget, throttle::AuthThrottle},
};

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    /// The configuration this process started with.
    pub config: Arc<Config>,
    /// The database pool.
    pub pool: db::PgPool,
    /// Password hashing, bounded in concurrency.
    pub passwords: Passwords,
    /// How writes announce events to every instance's live subscriptions.
    pub events: Events,
    /// The instance's live subscriptions (running once [`crate::server::live_updates`] is
    /// called).
    pub hub: Hub,
    /// Shutdown signalling and the count of open WebSockets.
    pub lifecycle: Lifecycle,
    /// Attempt counters of the credential paths.
    pub throttle: Arc<AuthThrottle>,
    /// Persisted documents (APQ and the safelist).
    pub persisted: Arc<PersistedQueries>,
    /// Recently parsed documents, by their text.
    pub documents: Arc<Documents>,
    /// Each user's and anonymous IP's cost budget (`None`: off).
    pub budget: Option<Arc<CostBudget>>,
    /// The instance's Prometheus metrics, served on `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The `/graphql` requests in flight (`MAX_REQUESTS_IN_FLIGHT`).
    pub in_flight: InFlight,
    /// The open WebSockets per client IP, per user and in all (`WS_MAX_*`).
    pub socket_caps: Arc<SocketCaps>,
    /// The clock time-bound rules are judged by (sessions, persisted queries): the
    /// system's; tests move it forward.
    pub clock: Clock,
    /// Wakes this instance's outbox workers when a message is queued.
    pub outbox_wakeups: Wakeups,
    /// The server key ring (webhook secrets, email tokens).
    pub server_keys: ServerKeys,
}

impl AppState {
    /// Builds the state (reading the persisted-documents manifest, if one is set); opens
    /// no connection yet.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let pool = db::build_pool(&config.database)?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let metrics = Arc::new(Metrics::new(config.metrics.operation_names));
        let clock = Clock::default();
        let server_keys = config.server_key.load()?;
        let registrations = config.persisted_registrations.map(|n| {
            KeyedLimiter::per_minute(n, Limit::PersistedRegistration, 4096, Arc::clone(&metrics))
        });
        let persisted = PersistedQueries::new(config.persisted_queries)
            .with_rules(clock.clone(), registrations);
        if let Some(path) = &config.persisted_manifest {
            let count = persisted.load_manifest(path)?;
            tracing::info!(documents = count, path = %path.display(), "read the persisted-documents manifest");
        }
        Ok(Self {
            in_flight: InFlight::new(config.max_in_flight, Arc::clone(&metrics)),
            socket_caps: Arc::new(SocketCaps::new(&config.websocket, Arc::clone(&metrics))),
            throttle: Arc::new(AuthThrottle::new(config.throttle, Arc::clone(&metrics))),
            persisted: Arc::new(persisted),
            documents: Arc::default(),
            budget: match (config.cost_budget, &config.redis) {
                (None, _) => None,
                (Some(n), None) => Some(Arc::new(CostBudget::new(n, Arc::clone(&metrics)))),
                (Some(n), Some(redis)) => Some(Arc::new(
                    CostBudget::shared(n, redis, Arc::clone(&metrics))
                        .map_err(|e| anyhow::anyhow!("REDIS_URL: {e}"))?,
                )),
            },
            config: Arc::new(config),
            hub: Hub::new(&pool, &metrics),
            metrics,
            lifecycle: Lifecycle::default(),
            pool,
            passwords: Passwords::new(cores),
            events: Events,
            clock,
            outbox_wakeups: Wakeups::default(),
            server_keys,
        })
    }

    /// What the schema's resolvers read, and how it presents itself.
    pub fn schema_data(&self) -> SchemaData {
        SchemaData {
            pool: self.pool.clone(),
            passwords: self.passwords.clone(),
            events: self.events,
            throttle: Arc::clone(&self.throttle),
            notifications: self.config.notifications,
            sessions: self.session_rules(),
            webhooks: self.webhook_rules(),
            keys: self.server_keys.clone(),
            introspection: self.config.introspection,
            suggestions: self.config.is_development(),
        }
    }

    /// The webhook rules: the server key ring and the webhook settings.
    pub fn webhook_rules(&self) -> WebhookRules {
        WebhookRules {
            keys: self.server_keys.clone(),
            policy: self.config.webhooks.clone(),
        }
    }

    /// The session lifetime rules, judged by the instance's clock.
    pub fn session_rules(&self) -> SessionRules {
        SessionRules::new(&self.config.sessions, self.clock.clone())
    }

    /// The `/graphql` endpoint's state, with the operation pipeline, from this state.
    pub fn endpoint(&self) -> EndpointState {
        let config = &self.config;
        let gate = Gate {
            documents: Arc::clone(&self.documents),
            limits: config.query_limits,
            introspection: config.introspection,
            budget: self.budget.clone(),
            metrics: Arc::clone(&self.metrics),
        };
        EndpointState {
            pool: self.pool.clone(),
            pipeline: Pipeline::new(gate, Arc::clone(&self.persisted)).with_memory(config.memory),
            limits: HttpLimits {
                body: config.body_limit,
                batch: config.batch_limit,
                timeout: config.request_timeout,
                body_timeout: config.body_timeout,
            },
            sockets: Sockets {
                hub: self.hub.clone(),
                lifecycle: self.lifecycle.clone(),
                config: config.websocket,
                caps: Arc::clone(&self.socket_caps),
            },
            graphiql: config
                .graphiql
                .then(|| crate::http::ide::IdeDist::new(&config.frontend.ide_dist)),
            report_sql_statements: config.report_sql_statements,
            trusted_proxies: config.trusted_proxies.clone(),
            metrics: Arc::clone(&self.metrics),
        }
    }

    /// What `/metrics` serves: the metrics, the token, and the gauges read from this
    /// instance at scrape time.
    pub fn metrics_endpoint(&self) -> MetricsEndpoint {
        let (pool, lifecycle, hub) = (self.pool.clone(), self.lifecycle.clone(), self.hub.clone());
        MetricsEndpoint {
            metrics: Arc::clone(&self.metrics),
            token: self.config.metrics.token.clone(),
            token_required: !self.config.is_development(),
            live: Arc::new(move || {
                let status = pool.status();
                LiveCounts {
                    pool_max_size: status.max_size,
                    pool_size: status.size,
                    pool_available: status.available,
                    pool_waiting: status.waiting,
                    open_websockets: lifecycle.open_sockets(),
                    subscriptions: hub.subscriptions(),
                }
            }),
        }
    }
}
