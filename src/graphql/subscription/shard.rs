//! One shard of the hub: a task with its own registry ([`Fanout`]), its own loaders
//! (and so its own read connection and waves), and its own command queue. The hub puts
//! each connection on one shard, by connection number, and tells every shard each event
//! the listener hears; the shards run on the runtime's worker threads side by side.
//!
//! May call: the rest of [`super`], `graphql::loaders`, `db` (the loaders' pool),
//! `domain` (the events).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::sync::mpsc;

use super::{fanout::Fanout, hub::Command};
use crate::{
    db::{PgPool, RequestDb},
    domain::events::Event,
    graphql::loaders::{BatchSizes, Loaders},
};

/// What the listener heard, as the hub tells each shard.
#[derive(Debug, Clone, Copy)]
pub(super) enum News {
    /// A committed change.
    Event(Event),
    /// The listener was away and is back: events may have been missed.
    Gap,
}

/// The hub's handle on one shard.
pub(super) struct Shard {
    commands: mpsc::UnboundedSender<Command>,
    loaders: Arc<Loaders>,
    live: Arc<AtomicUsize>,
}

impl Shard {
    /// A shard whose loaders read from `pool` (batch sizes recorded in `sizes`), and the
    /// receiving end of its command queue, for [`Shard::run`].
    pub(super) fn new(
        pool: &PgPool,
        sizes: &BatchSizes,
    ) -> (Self, mpsc::UnboundedReceiver<Command>) {
        let (commands, receiver) = mpsc::unbounded_channel();
        let shard = Self {
            commands,
            loaders: Arc::new(Loaders::new(RequestDb::new(pool), sizes)),
            live: Arc::default(),
        };
        (shard, receiver)
    }

    /// Queues a command; lost only when the shard is not running (the server is
    /// stopping).
    pub(super) fn send(&self, command: Command) {
        let _ = self.commands.send(command);
    }

    /// The loaders the executions of this shard's subscriptions read through.
    pub(super) fn loaders(&self) -> &Arc<Loaders> {
        &self.loaders
    }

    /// How many subscriptions are live on this shard.
    pub(super) fn subscriptions(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// The shard's task: applies `commands` and runs each of the `news` through the
    /// subscriptions it concerns, until `news` closes. `step_timeout` bounds one wave.
    pub(super) fn run(
        &self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut news: mpsc::UnboundedReceiver<News>,
        step_timeout: Duration,
    ) -> impl Future<Output = ()> + Send + 'static {
        let mut fanout = Fanout::new(
            Arc::clone(&self.loaders),
            Arc::clone(&self.live),
            step_timeout,
        );
        async move {
            loop {
                // Not biased: a flood of commands must not hold events back, nor the
                // reverse.
                tokio::select! {
                    command = commands.recv() => {
                        let Some(command) = command else { break };
                        let mut batch = vec![command];
                        while let Ok(more) = commands.try_recv() {
                            batch.push(more);
                        }
                        fanout.apply(batch).await;
                    }
                    heard = news.recv() => match heard {
                        Some(News::Event(event)) => fanout.dispatch(event).await,
                        Some(News::Gap) => fanout.recover_gap().await,
                        None => break,
                    },
                }
                fanout.count();
            }
        }
    }
}
