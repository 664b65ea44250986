//! What every request shares: configuration, the database pool, metrics. Cheap to clone.

use std::sync::Arc;

use tokio::sync::watch;

use crate::{
    config::Config,
    db,
    domain::{events::Events, password::Passwords},
    graphql::{documents::Documents, persisted::PersistedQueries, subscription::Hub},
    http::metrics::MetricsEndpoint,
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

/// What graceful shutdown needs beyond axum's: WebSockets outlive their HTTP upgrade
/// request, so the server tracks them itself.
#[derive(Clone, Default)]
pub struct Lifecycle {
    stopping: watch::Sender<bool>,
    sockets: watch::Sender<usize>,
}

impl Lifecycle {
    /// Tells every open WebSocket to close (with 1001).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Completes once [`Lifecycle::stop`] has been called.
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut stopping = self.stopping.subscribe();
        async move {
            let _ = stopping.wait_for(|stopping| *stopping).await;
        }
    }

    /// Counts an open WebSocket until the returned guard is dropped.
    pub fn socket(&self) -> SocketGuard {
        self.sockets.send_modify(|n| *n += 1);
        SocketGuard(self.sockets.clone())
    }

    /// How many WebSockets are open.
    pub fn open_sockets(&self) -> usize {
        *self.sockets.borrow()
    }

    /// Completes when no WebSocket is open.
    pub async fn sockets_closed(&self) {
        let _ = self.sockets.subscribe().wait_for(|n| *n == 0).await;
    }
}

/// One open WebSocket, counted by [`Lifecycle`].
pub struct SocketGuard(watch::Sender<usize>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
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
