//! The instance's hub: the handle every WebSocket connection talks to ([`Hub`], kept in
//! the application state), the commands it sends, and the task that tells each of the
//! hub's [`Shard`]s every event heard on the LISTEN connection.
//!
//! **Sharded.** The hub is one shard per core (`available_parallelism`), each a task
//! with its own registry ([`super::fanout`]), loaders and waves; a connection lives on
//! shard `connection number % shards`, so every command about it goes there, and every
//! shard hears every event. The shards run side by side on the runtime's workers.
//!
//! **One batched load per event per shard, whatever the number of subscribers.** A
//! subscription's GraphQL execution is not polled by its connection but by its shard, in
//! waves ([`super::wave`]), with the shard's loaders: an event costs each shard that has
//! a subscription it concerns one statement per level of the selection.
//!
//! **Slow clients never stall the others.** A shard never waits on a socket: each
//! connection has a bounded queue ([`Outbox`]), and a connection whose queue is full is
//! told to close (it reconnects and refetches; see the README) and loses its
//! subscriptions.
//!
//! May call: `db` (the LISTEN connection, the loaders' pool), `domain` (events, viewers),
//! `graphql::loaders`, `metrics`.

use std::{
    num::NonZeroUsize,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use async_graphql::Response;
use futures_util::{future::join_all, stream::BoxStream};
use tokio::{
    sync::{mpsc, oneshot},
    task::JoinHandle,
};

use super::{
    inbox::Inbox,
    outbox::{Outbox, SelectionOrder},
    shard::{News, Shard},
    share::ShareKey,
};
use crate::{
    db::{self, PgPool, listen::Heard},
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
        /// Which subscriptions answer alike (see [`super::share`]).
        share: ShareKey,
        /// The order its responses go out in.
        order: SelectionOrder,
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
    /// Answer once every command sent before this one to the same shard is applied
    /// ([`Hub::send`] gives it to the first shard; [`Hub::settled`] asks every shard).
    Settle(oneshot::Sender<()>),
}

/// The handle on the instance's hub, kept in the application state.
#[derive(Clone)]
pub struct Hub {
    shared: Arc<Shared>,
}

struct Shared {
    shards: Box<[Shard]>,
    /// The shards' command queues, until the hub runs.
    receivers: Mutex<Option<Vec<mpsc::UnboundedReceiver<Command>>>>,
    next_conn: AtomicU64,
}

impl Hub {
    /// A hub of one shard per core whose loaders read from `pool` (their batch sizes
    /// recorded in `metrics`); it runs once [`Hub::run`] (or [`Hub::start`]) does.
    pub fn new(pool: &PgPool, metrics: &Metrics) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Self::with_shards(pool, metrics, cores)
    }

    /// [`Hub::new`] with `shards` shards (at least one).
    pub fn with_shards(pool: &PgPool, metrics: &Metrics, shards: usize) -> Self {
        let sizes = BatchSizes::new(metrics);
        let (shards, receivers): (Vec<Shard>, Vec<_>) =
            (0..shards.max(1)).map(|_| Shard::new(pool, &sizes)).unzip();
        Self {
            shared: Arc::new(Shared {
                shards: shards.into_boxed_slice(),
                receivers: Mutex::new(Some(receivers)),
                next_conn: AtomicU64::new(1),
            }),
        }
    }

    /// How many shards the hub has.
    pub fn shards(&self) -> usize {
        self.shared.shards.len()
    }

    /// The shard of connection `conn`.
    fn shard(&self, conn: u64) -> &Shard {
        let shards = &self.shared.shards;
        // The remainder is below the number of shards, a usize.
        &shards[(conn % shards.len() as u64) as usize]
    }

    /// A fresh connection number.
    pub fn next_conn(&self) -> u64 {
        self.shared.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a command to its connection's shard; lost only when the hub is not running
    /// (the server is stopping).
    pub fn send(&self, command: Command) {
        let conn = match &command {
            Command::Connect { conn, .. }
            | Command::Start { conn, .. }
            | Command::Stop { conn, .. }
            | Command::Disconnect { conn } => *conn,
            Command::Settle(_) => 0,
        };
        self.shard(conn).send(command);
    }

    /// The loaders the subscriptions of connection `conn` read through (its shard's).
    pub fn loaders(&self, conn: u64) -> Arc<Loaders> {
        Arc::clone(self.shard(conn).loaders())
    }

    /// Completes once every shard has applied every command sent before (subscriptions
    /// started or stopped, connections registered).
    pub async fn settled(&self) {
        let answers = self.shared.shards.iter().map(|shard| {
            let (answer, applied) = oneshot::channel();
            shard.send(Command::Settle(answer));
            applied
        });
        join_all(answers).await;
    }

    /// How many subscriptions are live on this instance.
    pub fn subscriptions(&self) -> usize {
        self.shared.shards.iter().map(Shard::subscriptions).sum()
    }

    /// How many SQL statements subscriptions have sent on this instance so far.
    pub fn statements(&self) -> usize {
        let shards = self.shared.shards.iter();
        shards.map(|shard| shard.loaders().db.statements()).sum()
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

    /// Runs the hub until `heard` closes: spawns each shard's task, and tells every
    /// shard each event heard (parsed once). The shards stop with it, dropped or not.
    /// `step_timeout` bounds one wave. Panics if called twice.
    pub async fn run(&self, mut heard: mpsc::UnboundedReceiver<Heard>, step_timeout: Duration) {
        let receivers = self
            .shared
            .receivers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("the hub runs once");
        let (mut tell, mut tasks) = (Vec::new(), Vec::new());
        for (shard, commands) in self.shared.shards.iter().zip(receivers) {
            let (news, told) = mpsc::unbounded_channel();
            tell.push(news);
            tasks.push(tokio::spawn(shard.run(commands, told, step_timeout)));
        }
        while let Some(heard) = heard.recv().await {
            let news = match heard {
                Heard::Payload(payload) => match Event::parse(&payload) {
                    Ok(event) => News::Event(event),
                    Err(err) => {
                        tracing::warn!(error = %err, payload, "ignoring an unreadable event");
                        continue;
                    }
                },
                Heard::Reconnected => News::Gap,
            };
            for shard in &tell {
                let _ = shard.send(news);
            }
        }
        drop(tell);
        for task in tasks {
            if let Err(err) = task.await {
                tracing::error!(error = %err, "a hub shard failed");
            }
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
            wave::testing::{pool, share_and_order, subscription},
        },
        *,
    };

    /// Registers connection `conn` (anonymous) and starts its operation 1 on article 1;
    /// returns what the hub queues for it.
    async fn subscribed(hub: &Hub, conn: u64) -> mpsc::Receiver<Outgoing> {
        let (queue, outgoing) = mpsc::channel(16);
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
        let (share, order) = share_and_order("subscription { a }");
        hub.send(Command::Start {
            conn,
            op: 1,
            stream,
            inbox,
            share,
            order,
        });
        outgoing
    }

    #[tokio::test]
    async fn every_shard_runs_each_heard_event_through_its_subscriptions() {
        let hub = Hub::with_shards(&pool(), &Metrics::default(), 3);
        assert_eq!(hub.shards(), 3);
        let (heard, received) = mpsc::unbounded_channel();
        let task = tokio::spawn({
            let hub = hub.clone();
            async move { hub.run(received, Duration::from_secs(5)).await }
        });
        let conns: Vec<u64> = (0..4).map(|_| hub.next_conn()).collect();
        assert_eq!(conns.len(), 4);
        assert!(
            conns.windows(2).all(|w| w[0] != w[1]),
            "connection numbers are fresh"
        );
        // Four consecutive numbers: every shard has one, one has two.
        let mut sockets = Vec::new();
        for conn in &conns {
            sockets.push(subscribed(&hub, *conn).await);
        }
        hub.settled().await;
        assert_eq!(hub.subscriptions(), 4);
        let shards: Vec<usize> = hub.shared.shards.iter().map(Shard::subscriptions).collect();
        assert_eq!(shards.iter().filter(|n| **n > 0).count(), 3, "{shards:?}");

        heard.send(Heard::Payload("not an event".into())).unwrap();
        let event = Event::ArticleUpdated { article: 1 };
        heard.send(Heard::Payload(event.payload())).unwrap();
        for outgoing in &mut sockets {
            let message = tokio::time::timeout(Duration::from_secs(5), outgoing.recv())
                .await
                .expect("in time");
            assert!(matches!(message, Some(Outgoing::Next(1, _))), "{message:?}");
        }
        assert_eq!(hub.statements(), 0, "nothing loaded");

        hub.send(Command::Stop {
            conn: conns[0],
            op: 1,
        });
        hub.send(Command::Disconnect { conn: conns[1] });
        hub.settled().await;
        assert_eq!(hub.subscriptions(), 2);

        drop(heard);
        task.await.expect("the hub stops when the listener does");
    }
}
