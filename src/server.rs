//! Running the server: database bootstrap (and demo data, through the hook `main` passes),
//! listening, graceful shutdown with a deadline.

use std::{future::Future, net::SocketAddr, time::Duration};

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;

use tokio::{sync::watch, task::JoinHandle};

use crate::{
    config::Config,
    db,
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
    tracing::info!(%addr, "listening");
    if graphiql {
        tracing::info!("GraphiQL: http://{addr}/graphql   Playground: http://{addr}/playground");
    }
    let _live = live_updates(&state).await;
    let pruner = tokio::spawn(crate::domain::sessions::prune_periodically(
        state.pool.clone(),
        state.session_rules(),
        state.config.sessions.prune_interval,
    ));
    let (stop_workers, stopping) = watch::channel(false);
    let sender = WebhookSender::new(
        state.pool.clone(),
        state.events,
        state.config.server_keys.clone(),
        state.config.webhooks.clone(),
    )?;
    let config = OutboxConfig::default();
    let webhooks = spawn_webhook_worker(&state, sender, config, stopping, shutdown_timeout);
    let app = crate::app(state.clone());
    let served = serve(listener, app, &state, signal, shutdown_timeout).await;
    pruner.abort();
    let _ = stop_workers.send(true);
    let _ = webhooks.await;
    served
}

/// Starts this instance's worker of the `webhook` queue, sending through `sender`; when
/// `stop` turns true it finishes (or releases) its deliveries in flight within `drain`.
pub fn spawn_webhook_worker(
    state: &AppState,
    sender: WebhookSender,
    config: OutboxConfig,
    stop: watch::Receiver<bool>,
    drain: Duration,
) -> JoinHandle<()> {
    let worker = Worker {
        pool: state.pool.clone(),
        queue: Queue::Webhook,
        sender: std::sync::Arc::new(sender),
        config,
        // The POST's own timeout, and time to record what it did to the endpoint.
        attempt_timeout: webhook::TIMEOUT + Duration::from_secs(5),
        wake: state.outbox_wakeups.of(Queue::Webhook),
        metrics: std::sync::Arc::clone(&state.metrics),
    };
    tokio::spawn(worker.run(stop, drain))
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
