//! What every request shares: configuration, the database pool, metrics. Cheap to clone.
//! Part of the composition root: it builds each layer's own state from it (the HTTP
//! endpoint's, with the GraphQL operation pipeline inside).

use std::sync::Arc;

use crate::{
    config::Config,
    db,
    domain::{events::Events, password::Passwords},
    graphql::{
        SchemaData, admission::Gate, document::cache::Documents, execution::Pipeline,
        persisted::PersistedQueries, subscription::Hub,
    },
    http::{
        graphql::{EndpointState, HttpLimits},
        lifecycle::Lifecycle,
        metrics::MetricsEndpoint,
        ws::Sockets,
    },
    metrics::{LiveCounts, Metrics},
    ratelimit::{budget::CostBudget, throttle::AuthThrottle},
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
}

impl AppState {
    /// Builds the state (reading the persisted-documents manifest, if one is set); opens
    /// no connection yet.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let pool = db::build_pool(&config.database)?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let metrics = Arc::new(Metrics::new(config.metrics.operation_names));
        let persisted = PersistedQueries::new(config.persisted_queries);
        if let Some(path) = &config.persisted_manifest {
            let count = persisted.load_manifest(path)?;
            tracing::info!(documents = count, path = %path.display(), "read the persisted-documents manifest");
        }
        Ok(Self {
            throttle: Arc::new(AuthThrottle::new(config.throttle, Arc::clone(&metrics))),
            persisted: Arc::new(persisted),
            documents: Arc::default(),
            budget: config
                .cost_budget
                .map(|n| Arc::new(CostBudget::new(n, Arc::clone(&metrics)))),
            config: Arc::new(config),
            hub: Hub::new(&pool, &metrics),
            metrics,
            lifecycle: Lifecycle::default(),
            pool,
            passwords: Passwords::new(cores),
            events: Events,
        })
    }

    /// What the schema's resolvers read, and how it presents itself.
    pub fn schema_data(&self) -> SchemaData {
        SchemaData {
            pool: self.pool.clone(),
            passwords: self.passwords.clone(),
            events: self.events,
            throttle: Arc::clone(&self.throttle),
            introspection: self.config.introspection,
            suggestions: self.config.is_development(),
        }
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
            },
            sockets: Sockets {
                hub: self.hub.clone(),
                lifecycle: self.lifecycle.clone(),
                config: config.websocket,
            },
            graphiql: config.graphiql,
            report_sql_statements: config.report_sql_statements,
        }
    }

    /// What `/metrics` serves: the metrics, the token, and the gauges read from this
    /// instance at scrape time.
    pub fn metrics_endpoint(&self) -> MetricsEndpoint {
        let (pool, lifecycle, hub) = (self.pool.clone(), self.lifecycle.clone(), self.hub.clone());
        MetricsEndpoint {
            metrics: Arc::clone(&self.metrics),
            token: self.config.metrics.token.clone(),
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
