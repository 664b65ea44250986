//! Running the server: database bootstrap (and demo data), listening, graceful shutdown
//! with a deadline; and `conduit seed`.

use std::{
    future::Future,
    net::SocketAddr,
    time::{Duration, Instant},
};

use anyhow::Context;
use axum::Router;
use diesel_async::{AsyncConnection, AsyncPgConnection};
use tokio::net::TcpListener;

use crate::{
    config::Config,
    db::{
        self,
        seed::{DEMO_PASSWORD, SeedPlan, SeedReport},
    },
    domain::password::Passwords,
    graphql::subscription::Running,
    state::AppState,
};

/// Prepares the database (with demo data when `DEMO_DATA` is on and there are no users
/// yet), then serves until SIGTERM or SIGINT.
pub async fn run(config: Config) -> anyhow::Result<()> {
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
    let app = crate::app(state.clone());
    serve(listener, app, &state, signal, shutdown_timeout).await
}

/// Starts the instance's live updates (its LISTEN connection and subscription hub); they
/// stop when the returned value is dropped.
pub async fn live_updates(state: &AppState) -> Running {
    let database = &state.config.database;
    let (url, timeout) = (database.url.clone(), database.connect_timeout);
    state
        .hub
        .start(url, timeout, state.config.request_timeout)
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

/// Seeds [`SeedPlan::DEMO`] when the `users` table is empty, logging one line that says so.
async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    let started = Instant::now();
    if db::seed::has_users(&mut *db::connect(&state.pool).await?).await? {
        return Ok(());
    }
    // No pooled connection is held while hashing.
    let hash = state.passwords.hash(DEMO_PASSWORD.to_owned()).await?;
    let mut conn = db::connect(&state.pool).await?;
    let Some(report) = db::seed::seed_if_empty(&mut conn, &SeedPlan::DEMO, &hash).await? else {
        return Ok(());
    };
    let email = report.example_email.as_deref().unwrap_or_default();
    tracing::info!(
        users = report.users,
        articles = report.articles,
        comments = report.comments,
        favorites = report.favorites,
        follows = report.follows,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "seeded demo data into the empty database (DEMO_DATA=true): sign in as {email} \
         (or any seeded user) with the password {DEMO_PASSWORD}"
    );
    Ok(())
}

/// `conduit seed`: creates and migrates the database like [`migrate`], then adds `plan`'s
/// rows to it. Every seeded user's password is [`DEMO_PASSWORD`], hashed once.
pub async fn seed(config: &Config, plan: &SeedPlan) -> anyhow::Result<SeedReport> {
    migrate(config).await?;
    let hash = Passwords::new(1).hash(DEMO_PASSWORD.to_owned()).await?;
    let mut conn = AsyncPgConnection::establish(&config.database.url)
        .await
        .context("connecting to the database")?;
    db::seed::seed(&mut conn, plan, &hash)
        .await
        .context("seeding")
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
