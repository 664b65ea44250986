//! Running the server: the private development database when there is no other
//! ([`private_database`]), database bootstrap (and demo data, through the hook `main`
//! passes), the front ends' first build ([`frontend`]), listening, graceful shutdown with
//! a deadline.

pub mod frontend;

use std::{future::Future, net::SocketAddr, time::Duration};

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;

use crate::{
    config::Config,
    db, dev_db,
    graphql::subscription::Running,
    outbox::{
        Queue,
        webhook::{self, WebhookSender},
        worker::{OutboxConfig, Worker},
    },
    state::AppState,
};

/// Prepares the database, runs `seed_demo` when `DEMO_DATA` is on (`main` passes the
/// seed's demo set, which adds data only when there are no users yet), then serves until
/// SIGTERM or SIGINT.
pub async fn run(
    config: Config,
    seed_demo: impl AsyncFnOnce(&AppState) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    migrate(&config).await?;
    frontend::ensure_built(&config.frontend).await;
    let addr = SocketAddr::new(config.host, config.port);
    let shutdown_timeout = config.shutdown_timeout;
    let graphiql = config.graphiql;
    let demo_data = config.demo_data;
    let state = AppState::new(config)?;
    if demo_data {
        // Demo data is a convenience: a failure is reported, and the server serves anyway.
        if let Err(err) = seed_demo(&state).await {
            tracing::warn!(error = format!("{err:#}"), "could not seed demo data");
        }
    }
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let addr = listener.local_addr()?;
    let signal = shutdown_signal()?;
    let workers = tokio::runtime::Handle::current().metrics().num_workers();
    tracing::info!(%addr, workers, "listening");
    tracing::info!("web app: http://{addr}/");
    if graphiql {
        tracing::info!("GraphiQL: http://{addr}/graphql   Playground: http://{addr}/playground");
    }
    let _live = live_updates(&state).await;
    // Articles written without bodyHtml (by an older build, or the seed) get it now.
    let backfill =
        crate::domain::body_html::spawn_backfill(state.pool.clone(), Duration::from_secs(5));
    tracing::info!("{}", state.config.mail_transport.describe());
    let outbox = start_outbox(&state)?;
    // The outbox drains beside the HTTP requests, from the signal on.
    let stopping = outbox.stopper();
    let lifecycle = state.lifecycle.clone();
    tokio::spawn(async move {
        lifecycle.stopped().await;
        stopping.stop();
    });
    let pruner = tokio::spawn(crate::domain::sessions::prune_periodically(
        state.pool.clone(),
        state.session_rules(),
        state.config.sessions.prune_interval,
    ));
    let app = crate::app(state.clone());
    let served = serve(listener, app, &state, signal, shutdown_timeout).await;
    pruner.abort();
    backfill.abort();
    outbox.stop(shutdown_timeout).await;
    served
}

/// The instance's outbox workers (one per queue) and the outbox's pruning, running until
/// [`Outbox::stop`].
pub struct Outbox {
    stop: Stopper,
    workers: Vec<tokio::task::JoinHandle<()>>,
    pruner: tokio::task::JoinHandle<()>,
}

/// Tells the outbox's workers to stop claiming and drain (cheap to clone).
#[derive(Clone)]
pub struct Stopper(std::sync::Arc<tokio::sync::watch::Sender<bool>>);

impl Stopper {
    /// Tells the workers to stop (idempotent).
    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl Outbox {
    /// What tells the workers to stop, for whoever hears the shutdown signal first.
    pub fn stopper(&self) -> Stopper {
        self.stop.clone()
    }

    /// Stops claiming (if not told already), lets the attempts in flight finish within
    /// the drain (releasing the leases of those that do not), and waits for the workers
    /// to end, at most `deadline`.
    pub async fn stop(self, deadline: Duration) {
        self.stop.stop();
        self.pruner.abort();
        for worker in self.workers {
            let _ = tokio::time::timeout(deadline, worker).await;
        }
    }
}

/// Starts the outbox's workers for `state` (they wake on `state.outbox_wakeups`, which the
/// LISTEN connection of [`live_updates`] rings; without it they poll).
pub fn start_outbox(state: &AppState) -> anyhow::Result<Outbox> {
    use crate::outbox::email::EmailSender;
    let config = &state.config;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Four fifths of the shutdown deadline, so that releasing what is left fits in it.
    let drain = config
        .shutdown_timeout
        .saturating_sub(config.shutdown_timeout / 5);
    let email = Worker {
        pool: state.pool.clone(),
        queue: Queue::Email,
        sender: std::sync::Arc::new(EmailSender::new(
            &config.mail_transport,
            config.mail.clone(),
            state.server_keys.clone(),
            state.pool.clone(),
        )?),
        config: config.outbox,
        attempt_timeout: config.mail_transport.attempt_timeout(),
        wake: state.outbox_wakeups.of(Queue::Email),
        metrics: std::sync::Arc::clone(&state.metrics),
    };
    let webhooks = WebhookSender::new(
        state.pool.clone(),
        state.events,
        state.server_keys.clone(),
        config.webhooks.clone(),
    )?
    .notice_mail(config.notifications.mail);
    let webhooks = webhook_worker(state, webhooks, config.outbox);
    let workers = vec![
        tokio::spawn(email.run(stopped.clone(), drain)),
        tokio::spawn(webhooks.run(stopped.clone(), drain)),
    ];
    let pruner = tokio::spawn(crate::outbox::worker::prune_periodically(
        state.pool.clone(),
        config.outbox,
        std::sync::Arc::clone(&state.metrics),
    ));
    Ok(Outbox {
        stop: Stopper(std::sync::Arc::new(stop)),
        workers,
        pruner,
    })
}

/// The worker of the `webhook` queue for `state`, sending through `sender` (tests pass
/// one with their own resolver).
pub fn webhook_worker(
    state: &AppState,
    sender: WebhookSender,
    config: OutboxConfig,
) -> Worker<WebhookSender> {
    Worker {
        pool: state.pool.clone(),
        queue: Queue::Webhook,
        sender: std::sync::Arc::new(sender),
        config,
        // The POST's own timeout, and time to record what it did to the endpoint.
        attempt_timeout: webhook::TIMEOUT + Duration::from_secs(5),
        wake: state.outbox_wakeups.of(Queue::Webhook),
        metrics: std::sync::Arc::clone(&state.metrics),
    }
}

/// Starts the instance's live updates (its LISTEN connection and subscription hub); they
/// stop when the returned value is dropped.
pub async fn live_updates(state: &AppState) -> Running {
    let database = &state.config.database;
    let (url, timeout) = (database.url.clone(), database.connect_timeout);
    state
        .hub
        .start(
            url,
            state.outbox_wakeups.wakers(),
            timeout,
            state.config.request_timeout,
        )
        .await
}

/// Development without `DATABASE_URL`: when the default address cannot be used, gets the
/// checkout's (the working folder's) private cluster running and points `config` at it.
/// Keep the lease while the process uses the database; dropping it stops the cluster
/// when this kind of process started it and nobody else uses it (see [`crate::dev_db`]).
pub async fn private_database(config: &mut Config) -> anyhow::Result<Option<dev_db::Lease>> {
    if !config.dev_db_fallback {
        return Ok(None);
    }
    let checkout = std::env::current_dir().context("reading the working folder")?;
    let database = &mut config.database;
    let timeout = database.connect_timeout.min(Duration::from_secs(3));
    let lease = dev_db::fallback(&database.url, timeout, &checkout, dev_db::Owner::Server).await?;
    if let Some(lease) = &lease {
        database.url = lease.url_like(&database.url);
    }
    Ok(lease)
}

/// Creates the database if it is missing and applies pending migrations.
pub async fn migrate(config: &Config) -> anyhow::Result<()> {
    let applied =
        db::bootstrap::prepare(&config.database.url, config.database.connect_timeout).await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    Ok(())
}

/// Serves `app` on `listener` until `signal` completes, then closes WebSockets (1001) and
/// lets in-flight requests finish, for at most `deadline` in all, before returning.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    state: &AppState,
    signal: impl Future<Output = ()> + Send + 'static,
    deadline: Duration,
) -> anyhow::Result<()> {
    let lifecycle = state.lifecycle.clone();
    let stopping = lifecycle.clone();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        signal.await;
        tracing::info!("shutting down: no new connections, finishing requests in flight");
        stopping.stop();
    });
    let expired = async {
        lifecycle.stopped().await;
        tokio::time::sleep(deadline).await;
    };
    let finished = async {
        server.await.context("server failed")?;
        // WebSockets outlive their upgrade request: axum does not wait for them.
        lifecycle.sockets_closed().await;
        anyhow::Ok(())
    };
    tokio::select! {
        result = finished => result?,
        () = expired => tracing::warn!(
            deadline_ms = deadline.as_millis(),
            open_websockets = lifecycle.open_sockets(),
            "shutdown deadline passed; closing remaining connections"
        ),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Installs SIGINT (Ctrl-C) and SIGTERM handlers now, and returns a future that completes
/// when either arrives. Installing before the "listening" line means a signal sent as soon
/// as the server is up still shuts it down gracefully.
pub fn shutdown_signal() -> anyhow::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
    })
}
