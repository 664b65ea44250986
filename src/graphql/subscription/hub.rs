//! The instance's hub: the handle every WebSocket connection talks to ([`Hub`], kept in
//! the application state), the commands it sends, and the one task that applies them and
//! runs each event heard on the LISTEN connection through the subscriptions it concerns
//! ([`Fanout`]).
//!
//! **One batched load per event, whatever the number of subscribers.** A subscription's
//! GraphQL execution is not polled by its connection but here, in waves
//! ([`super::wave`]), with one instance-wide set of loaders.
//!
//! **Slow clients never stall the others.** The hub never waits on a socket: each
//! connection has a bounded queue ([`Outbox`]), and a connection whose queue is full is
//! told to close (it reconnects and refetches; see the README) and loses its
//! subscriptions here.
//!
//! May call: `db` (the LISTEN connection, the loaders' pool), `domain` (events, viewers),
//! `graphql::loaders`, `metrics`.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use async_graphql::Response;
use futures_util::stream::BoxStream;
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

use super::{fanout::Fanout, inbox::Inbox, outbox::Outbox};
use crate::{
    db::{self, PgPool, RequestDb, listen::Heard},
    domain::{
        events::{CHANNEL, Event},
        policy::Viewer,
    },
    graphql::loaders::{BatchSizes, Loaders},
    metrics::Metrics,
};

/// A subscription: its connection and that connection's operation number.
pub type SubKey = (u64, u64);

/// A request to the hub.
pub enum Command {
    /// A connection was acknowledged, as `viewer`.
    Connect {
        /// The connection.
        conn: u64,
        /// Who it is signed in as.
        viewer: Option<Viewer>,
        /// Its queue and signals.
        outbox: Outbox,
        /// Told once the hub hears this connection's revocations.
        registered: oneshot::Sender<()>,
    },
    /// Start operation `op` of `conn`: `stream` is its execution, `inbox` the inbox in
    /// its request data.
    Start {
        /// The connection.
        conn: u64,
        /// The connection's number for the operation.
        op: u64,
        /// The execution.
        stream: BoxStream<'static, Response>,
        /// The subscription's inbox.
        inbox: Arc<Inbox>,
    },
    /// The client completed operation `op`.
    Stop {
        /// The connection.
        conn: u64,
        /// The operation.
        op: u64,
    },
    /// The connection is gone.
    Disconnect {
        /// The connection.
        conn: u64,
    },
    /// Answer once every command sent before this one is applied.
    Settle(oneshot::Sender<()>),
}

/// The handle on the instance's hub, kept in the application state.
#[derive(Clone)]
pub struct Hub {
    shared: Arc<Shared>,
}

struct Shared {
    commands: mpsc::UnboundedSender<Command>,
    receiver: Mutex<Option<mpsc::UnboundedReceiver<Command>>>,
    loaders: Arc<Loaders>,
    subscriptions: AtomicUsize,
    next_conn: AtomicU64,
}

impl Hub {
    /// A hub whose instance-wide loaders read from `pool` (their batch sizes recorded in
    /// `metrics`); it runs once [`Hub::run`] (or [`Hub::start`]) does.
    pub fn new(pool: &PgPool, metrics: &Metrics) -> Self {
        let (commands, receiver) = mpsc::unbounded_channel();
        Self {
            shared: Arc::new(Shared {
                commands,
                receiver: Mutex::new(Some(receiver)),
                loaders: Arc::new(Loaders::new(
                    RequestDb::new(pool),
                    &BatchSizes::new(metrics),
                )),
                subscriptions: AtomicUsize::new(0),
                next_conn: AtomicU64::new(1),
            }),
        }
    }

    /// A fresh connection number.
    pub fn next_conn(&self) -> u64 {
        self.shared.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a command; lost only when the hub is not running (the server is stopping).
    pub fn send(&self, command: Command) {
        let _ = self.shared.commands.send(command);
    }

    /// The instance-wide loaders every subscription's execution reads through.
    pub fn loaders(&self) -> Arc<Loaders> {
        Arc::clone(&self.shared.loaders)
    }

    /// Completes once the hub has applied every command sent before (subscriptions
    /// started or stopped, connections registered).
    pub async fn settled(&self) {
        let (answer, applied) = oneshot::channel();
        self.send(Command::Settle(answer));
        let _ = applied.await;
    }

    /// How many subscriptions are live on this instance.
    pub fn subscriptions(&self) -> usize {
        self.shared.subscriptions.load(Ordering::Relaxed)
    }

    /// How many SQL statements subscriptions have sent on this instance so far.
    pub fn statements(&self) -> usize {
        self.shared.loaders.db.statements()
    }

    /// Starts the instance's LISTEN connection (to `database_url`, on the events channel
    /// and the `wakers`' channels) and this hub, and waits (up to `connect_timeout`, and a second) until it listens,
    /// so that no event committed after startup is missed. If the database is
    /// unreachable, this returns anyway and the listener keeps trying. `step_timeout`
    /// bounds one wave.
    pub async fn start(
        &self,
        database_url: String,
        wakers: db::listen::Wakers,
        connect_timeout: Duration,
        step_timeout: Duration,
    ) -> Running {
        let (heard, received) = mpsc::unbounded_channel();
        let (listening, ready) = oneshot::channel();
        let listener = tokio::spawn(db::listen::run(
            database_url,
            CHANNEL,
            wakers,
            connect_timeout,
            heard,
            listening,
        ));
        let hub = self.clone();
        let fanout = tokio::spawn(async move { hub.run(received, step_timeout).await });
        if tokio::time::timeout(connect_timeout + Duration::from_secs(1), ready)
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

    /// Runs the hub until `heard` closes: applies commands, and runs each event through
    /// the subscriptions it concerns. `step_timeout` bounds one wave. Panics if called
    /// twice.
    pub async fn run(&self, mut heard: mpsc::UnboundedReceiver<Heard>, step_timeout: Duration) {
        let mut commands = self
            .shared
            .receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("the hub runs once");
        let mut fanout = Fanout::new(Arc::clone(&self.shared.loaders), step_timeout);
        loop {
            // Not biased: a flood of commands must not hold events back, nor the reverse.
            tokio::select! {
                command = commands.recv() => {
                    let Some(command) = command else { break };
                    let mut batch = vec![command];
                    while let Ok(more) = commands.try_recv() {
                        batch.push(more);
                    }
                    fanout.apply(batch).await;
                }
                heard = heard.recv() => {
                    match heard {
                        Some(Heard::Payload(payload)) => match Event::parse(&payload) {
                            Ok(event) => fanout.dispatch(event).await,
                            Err(err) => tracing::warn!(
                                error = %err,
                                payload,
                                "ignoring an unreadable event"
                            ),
                        },
                        Some(Heard::Reconnected) => fanout.recover_gap().await,
                        None => break,
                    }
                }
            }
            self.shared
                .subscriptions
                .store(fanout.subscriptions(), Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("subscriptions", &self.subscriptions())
            .finish()
    }
}

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

#[cfg(test)]
mod tests {
    use tokio::sync::oneshot;

    use super::{
        super::{
            inbox::Interest,
            outbox::{ConnSignals, Outgoing},
            wave::testing::{pool, subscription},
        },
        *,
    };

    #[tokio::test]
    async fn the_hub_runs_heard_payloads_through_its_subscriptions() {
        let hub = Hub::new(&pool(), &Metrics::default());
        let (heard, received) = mpsc::unbounded_channel();
        let task = tokio::spawn({
            let hub = hub.clone();
            async move { hub.run(received, Duration::from_secs(5)).await }
        });
        let conn = hub.next_conn();
        assert_ne!(hub.next_conn(), conn, "connection numbers are fresh");
        let (queue, mut outgoing) = mpsc::channel(16);
        let outbox = Outbox {
            queue,
            signals: Arc::new(ConnSignals::default()),
        };
        let (registered, known) = oneshot::channel();
        hub.send(Command::Connect {
            conn,
            viewer: None,
            outbox,
            registered,
        });
        known.await.expect("registered");
        let (stream, inbox) = subscription(Interest::Article(1));
        hub.send(Command::Start {
            conn,
            op: 1,
            stream,
            inbox,
        });
        hub.settled().await;
        assert_eq!(hub.subscriptions(), 1);

        heard.send(Heard::Payload("not an event".into())).unwrap();
        let event = Event::ArticleUpdated { article: 1 };
        heard.send(Heard::Payload(event.payload())).unwrap();
        let message = tokio::time::timeout(Duration::from_secs(5), outgoing.recv())
            .await
            .expect("in time");
        assert!(matches!(message, Some(Outgoing::Next(1, _))), "{message:?}");
        assert_eq!(hub.statements(), 0, "nothing loaded");

        drop(heard);
        task.await.expect("the hub stops when the listener does");
    }
}
