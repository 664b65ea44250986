//! Live updates: committed writes announce themselves with `pg_notify` ([`crate::db::events`]),
//! every instance hears them on one LISTEN connection ([`listener`]), and the instance's
//! [`hub`] runs each event through the subscriptions it concerns.

pub mod hub;

pub use crate::domain::events::{CHANNEL, Event};

use std::time::Duration;

use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

use crate::state::AppState;

/// The instance's listener and hub, running; dropping this stops both.
pub struct Running {
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// Starts the instance's LISTEN connection and hub, and waits (up to the database connect
/// timeout) until it listens, so that no event committed after startup is missed. If the
/// database is unreachable, the server starts anyway and the listener keeps trying.
pub async fn start(state: &AppState) -> Running {
    let (events, received) = mpsc::unbounded_channel();
    let (listening, ready) = oneshot::channel();
    let config = &state.config;
    let timeout = config.database.connect_timeout;
    let listener = tokio::spawn(crate::db::listen::run(
        config.database.url.clone(),
        CHANNEL,
        timeout,
        events,
        listening,
    ));
    let hub = state.hub.clone();
    let step_timeout = config.request_timeout;
    let fanout = tokio::spawn(async move { hub.run(received, step_timeout).await });
    if tokio::time::timeout(timeout + Duration::from_secs(1), ready)
        .await
        .is_err()
    {
        tracing::warn!(
            "not listening for events yet; subscriptions start once the database is reachable"
        );
    }
    Running {
        tasks: vec![listener, fanout],
    }
}
