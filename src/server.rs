//! Running the server: database bootstrap, listening, graceful shutdown with a deadline.

use std::{future::Future, net::SocketAddr, time::Duration};

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;

use crate::{config::Config, db, state::AppState};

/// Prepares the database, then serves until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
    migrate(&config).await?;
    let addr = SocketAddr::new(config.host, config.port);
    let shutdown_timeout = config.shutdown_timeout;
    let graphiql = config.graphiql;
    let state = AppState::new(config)?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let addr = listener.local_addr()?;
    let signal = shutdown_signal()?;
    tracing::info!(%addr, "listening");
    if graphiql {
        tracing::info!("GraphiQL: http://{addr}/graphql   Playground: http://{addr}/playground");
    }
    serve(listener, crate::app(state), signal, shutdown_timeout).await
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

/// Serves `app` on `listener` until `signal` completes, then lets in-flight requests finish
/// for at most `deadline` before returning.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    signal: impl Future<Output = ()> + Send + 'static,
    deadline: Duration,
) -> anyhow::Result<()> {
    let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        signal.await;
        tracing::info!("shutting down: no new connections, finishing requests in flight");
        let _ = stopping_tx.send(true);
    });
    let expired = async move {
        let _ = stopping_rx.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(deadline).await;
    };
    tokio::select! {
        result = server => result.context("server failed")?,
        () = expired => tracing::warn!(
            deadline_ms = deadline.as_millis(),
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
