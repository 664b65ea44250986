//! The instance's fan-out: every live subscription of every WebSocket on this instance, and
//! the one task that runs events through them.
//!
//! **One batched load per event, whatever the number of subscribers.** A subscription's
//! GraphQL execution is not polled by its connection but here. When an event arrives, the
//! hub hands it to each subscription it concerns and polls all of their executions
//! together inside one [`LoadQueue::drive_wide`](crate::graphql::loaders::LoadQueue::drive_wide),
//! with one instance-wide set of loaders: the comment, its author and each subscriber's
//! viewer flags (keyed by viewer) load in one statement per level for all subscribers.
//! Each execution still runs with its own subscriber's viewer, so every field guard
//! applies per subscriber, as over HTTP.
//!
//! **Slow clients never stall the others.** The hub never waits on a socket: each
//! connection has a bounded queue ([`Outbox`]), and a connection whose queue is full is
//! told to close (it reconnects and refetches; see the README) and loses its
//! subscriptions here.
//!
//! **One subscription's failure is its own.** A step that panics ends that subscription
//! with INTERNAL_SERVER_ERROR; when a round of steps takes longer than the request
//! timeout, only the subscriptions that had not finished end.
//!
//! Subscriptions are keyed by connection and by the connection's own operation number,
//! never by the client's id: a client may reuse an id once its operation is over, and a
//! message still queued for the old operation must not reach the new one.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    task::{Poll, Waker},
    time::Duration,
};

use async_graphql::{Response, ServerError};
use futures_util::{
    FutureExt, Stream,
    future::{join_all, poll_fn},
    stream::BoxStream,
};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::{
    db::{self, PgPool, RequestDb, listen::Heard},
    domain::events::Event,
    domain::policy::Viewer,
    graphql::loaders::Loaders,
    metrics::Metrics,
};

/// A subscription: its connection and that connection's operation number.
pub type SubKey = (u64, u64);

/// A message for one WebSocket connection, about one of its operations (by number).
#[derive(Debug)]
pub enum Outgoing {
    /// A result (`next`, or `data` in the legacy protocol).
    Next(u64, Response),
    /// The operation failed (`error`): before it ran, or by timing out; no `complete`
    /// follows.
    Error(u64, Vec<ServerError>),
    /// The operation is over (`complete`).
    Complete(u64),
}

/// What the hub tells a connection out of band.
#[derive(Debug, Default)]
pub struct ConnSignals {
    overflowed: AtomicBool,
    revoked: AtomicBool,
    notify: Notify,
}

impl ConnSignals {
    /// Waits until something is signalled.
    pub async fn notified(&self) {
        self.notify.notified().await;
    }

    /// The connection's queue overflowed: it must close.
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }

    /// The connection's session was revoked: it must end its operations and close.
    pub fn revoked(&self) -> bool {
        self.revoked.load(Ordering::Acquire)
    }

    fn raise(&self, flag: &AtomicBool) {
        flag.store(true, Ordering::Release);
        self.notify.notify_one();
    }
}

/// A connection's side of the hub: its bounded queue and its signals.
#[derive(Debug, Clone)]
pub struct Outbox {
    /// Where the hub queues the connection's messages.
    pub queue: mpsc::Sender<Outgoing>,
    /// Out-of-band signals.
    pub signals: Arc<ConnSignals>,
}

/// What a subscription listens to, set by its resolver when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Events of one article (its comments, edits, deletion).
    Article(i64),
    /// The notifications of one user.
    Notifications(i64),
}

impl Interest {
    fn wants(self, event: &Event) -> bool {
        match (self, *event) {
            (
                Self::Article(id),
                Event::CommentAdded { article, .. }
                | Event::CommentDeleted { article, .. }
                | Event::ArticleUpdated { article }
                | Event::ArticleDeleted { article },
            ) => id == article,
            (Self::Notifications(user), Event::NotificationAdded { recipient, .. }) => {
                user == recipient
            }
            // Who follows the author is answered by the subscriptions' batched load.
            (Self::Notifications(_), Event::ArticlePublished { .. }) => true,
            _ => false,
        }
    }

    /// True when `event` ends every subscription with this interest.
    fn ends_with(self, event: &Event) -> bool {
        matches!((self, *event), (Self::Article(id), Event::ArticleDeleted { article }) if id == article)
    }
}

/// The events waiting for one subscription's resolver.
#[derive(Debug, Default)]
pub struct Inbox {
    state: Mutex<InboxState>,
}

#[derive(Debug, Default)]
struct InboxState {
    interest: Option<Interest>,
    events: VecDeque<Event>,
    /// The resolver's stream asked for an event and there was none.
    waiting: bool,
    waker: Option<Waker>,
}

impl Inbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, InboxState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The events of `interest`, from now on; the stream ends with an event that ends the
    /// interest (the article's deletion). Called once, by the subscription's resolver.
    pub fn listen(
        self: Arc<Self>,
        interest: Interest,
    ) -> impl Stream<Item = Event> + Send + 'static {
        self.lock().interest = Some(interest);
        futures_util::stream::poll_fn(move |cx| {
            let mut state = self.lock();
            match state.events.pop_front() {
                Some(event) if interest.ends_with(&event) => Poll::Ready(None),
                Some(event) => {
                    state.waiting = false;
                    Poll::Ready(Some(event))
                }
                None => {
                    state.waiting = true;
                    state.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
    }

    fn interest(&self) -> Option<Interest> {
        self.lock().interest
    }

    fn push(&self, event: Event) {
        let mut state = self.lock();
        state.events.push_back(event);
        state.waiting = false;
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
    }

    /// True when the resolver has taken every event and waits for the next: the
    /// subscription has nothing more to do until then.
    fn idle(&self) -> bool {
        let state = self.lock();
        state.interest.is_some() && state.waiting && state.events.is_empty()
    }
}

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

/// The handle on the instance's hub, kept in [`crate::AppState`].
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
    /// `metrics`); it runs once [`Hub::run`] does.
    pub fn new(pool: &PgPool, metrics: &Metrics) -> Self {
        let (commands, receiver) = mpsc::unbounded_channel();
        Self {
            shared: Arc::new(Shared {
                commands,
                receiver: Mutex::new(Some(receiver)),
                loaders: Arc::new(Loaders::new(RequestDb::new(pool), metrics)),
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

    /// Runs the hub until `events` closes: applies commands, and runs each event through
    /// the subscriptions it concerns. `step_timeout` bounds one round of executions.
    /// Panics if called twice.
    pub async fn run(&self, mut events: mpsc::UnboundedReceiver<Heard>, step_timeout: Duration) {
        let mut commands = self
            .shared
            .receiver
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .expect("the hub runs once");
        let mut fanout = Fanout {
            loaders: Arc::clone(&self.shared.loaders),
            conns: HashMap::new(),
            subs: HashMap::new(),
            step_timeout,
        };
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
                event = events.recv() => {
                    match event {
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
                .store(fanout.subs.len(), Ordering::Relaxed);
        }
    }
}

/// Passes [`LoadQueue::drive_wide`](crate::graphql::loaders::LoadQueue::drive_wide) makes
/// before a wave, on top of one per subscription stepped together. Measured with 1,000
/// subscribers, one per 8 still split a level's loads into several statements; the bound
/// costs nothing when unused, as polling stops once nothing woke itself.
const PASSES_BASE: usize = 64;

/// A live subscription.
struct LiveSub {
    stream: BoxStream<'static, Response>,
    inbox: Arc<Inbox>,
}

/// What one round of polling a subscription produced.
#[derive(Default)]
struct Step {
    responses: Vec<Response>,
    ended: bool,
    /// The step failed (panicked or timed out): the subscription ends with this error.
    failure: Option<ServerError>,
}

impl Step {
    fn failed(error: ServerError) -> Self {
        Self {
            failure: Some(error),
            ..Self::default()
        }
    }
}

struct Connected {
    viewer: Option<Viewer>,
    outbox: Outbox,
}

/// The hub task's state.
struct Fanout {
    loaders: Arc<Loaders>,
    conns: HashMap<u64, Connected>,
    subs: HashMap<SubKey, LiveSub>,
    step_timeout: Duration,
}

impl Fanout {
    async fn apply(&mut self, commands: Vec<Command>) {
        let mut started = Vec::new();
        let mut settled = Vec::new();
        for command in commands {
            match command {
                Command::Connect {
                    conn,
                    viewer,
                    outbox,
                    registered,
                } => {
                    self.conns.insert(conn, Connected { viewer, outbox });
                    let _ = registered.send(());
                }
                Command::Start {
                    conn,
                    op,
                    stream,
                    inbox,
                } => {
                    if self.conns.contains_key(&conn) {
                        self.subs.insert((conn, op), LiveSub { stream, inbox });
                        started.push((conn, op));
                    }
                }
                Command::Stop { conn, op } => {
                    self.subs.remove(&(conn, op));
                    started.retain(|key| *key != (conn, op));
                }
                Command::Disconnect { conn } => self.drop_conn(conn),
                Command::Settle(answer) => settled.push(answer),
            }
        }
        if !started.is_empty() {
            self.run_steps(started).await;
        }
        for answer in settled {
            let _ = answer.send(());
        }
    }

    async fn dispatch(&mut self, event: Event) {
        if event.revokes() {
            self.revoke(event);
            return;
        }
        let keys: Vec<SubKey> = self
            .subs
            .iter()
            .filter(|(_, sub)| sub.inbox.interest().is_some_and(|i| i.wants(&event)))
            .map(|(key, _)| *key)
            .collect();
        for key in &keys {
            self.subs[key].inbox.push(event);
        }
        if keys.is_empty() {
            return;
        }
        let started = std::time::Instant::now();
        let (subscribers, statements) = (keys.len(), self.loaders.db.statements());
        self.run_steps(keys).await;
        tracing::debug!(
            ?event,
            subscribers,
            statements = self.loaders.db.statements() - statements,
            elapsed_us = started.elapsed().as_micros() as u64,
            "event handled"
        );
    }

    /// Polls the subscriptions `keys` together until each has answered, ended or gone
    /// back to waiting; then delivers what they produced.
    async fn run_steps(&mut self, keys: Vec<SubKey>) {
        let wanted: HashSet<SubKey> = keys.into_iter().collect();
        let mut running: Vec<(SubKey, &mut LiveSub)> = self
            .subs
            .iter_mut()
            .filter(|(key, _)| wanted.contains(*key))
            .map(|(key, sub)| (*key, sub))
            .collect();
        let keys: Vec<SubKey> = running.iter().map(|(key, _)| *key).collect();
        let mut results: Vec<Option<Step>> = Vec::new();
        results.resize_with(running.len(), || None);
        let max_passes = PASSES_BASE + running.len();
        let steps = join_all(running.iter_mut().zip(results.iter_mut()).map(
            |((_, sub), slot)| async move {
                // A bug in one execution ends that subscription, not the hub.
                let outcome = std::panic::AssertUnwindSafe(step(sub)).catch_unwind().await;
                *slot = Some(outcome.unwrap_or_else(|_| {
                    Step::failed(internal_error("a subscription step panicked"))
                }));
            },
        ));
        let finished = tokio::time::timeout(
            self.step_timeout,
            self.loaders.queue.drive_wide(steps, max_passes),
        )
        .await
        .is_ok();
        drop(running);
        // The loaders' connection goes back to the pool between events.
        self.loaders.db.release().await;
        if !finished {
            tracing::error!(
                subscriptions = keys.len(),
                unfinished = results.iter().filter(|r| r.is_none()).count(),
                timeout_ms = self.step_timeout.as_millis() as u64,
                "subscriptions took too long to handle an event; ending the unfinished ones"
            );
        }
        for (key, result) in keys.into_iter().zip(results) {
            let step = result
                .unwrap_or_else(|| Step::failed(internal_error("a subscription step timed out")));
            self.deliver(&key, step);
        }
    }

    /// Sends a step's messages to the subscription's connection.
    fn deliver(&mut self, key: &SubKey, step: Step) {
        let (conn, op) = *key;
        let mut messages = Vec::new();
        let mut over = step.ended;
        for response in step.responses {
            if is_request_error(&response) {
                messages.push(Outgoing::Error(op, response.errors));
                over = true;
                break;
            }
            messages.push(Outgoing::Next(op, response));
        }
        if let Some(error) = step.failure {
            messages.push(Outgoing::Error(op, vec![error]));
            over = true;
        }
        if over {
            if !matches!(messages.last(), Some(Outgoing::Error(..))) {
                messages.push(Outgoing::Complete(op));
            }
            self.subs.remove(key);
        }
        let Some(connected) = self.conns.get(&conn) else {
            return;
        };
        for message in messages {
            if let Err(err) = connected.outbox.queue.try_send(message) {
                if matches!(err, mpsc::error::TrySendError::Full(_)) {
                    tracing::warn!(conn, "a WebSocket fell behind its queue; closing it");
                    connected
                        .outbox
                        .signals
                        .raise(&connected.outbox.signals.overflowed);
                }
                self.drop_conn(conn);
                return;
            }
        }
    }

    /// Events may have been missed while the listener was away. Revocations and
    /// deletions must not be: checks the session of every signed-in connection and the
    /// article of every article subscription (one statement each), then closes the
    /// sockets of ended sessions and completes the subscriptions of deleted articles.
    async fn recover_gap(&mut self) {
        let mut sessions: Vec<i64> = self
            .conns
            .values()
            .filter_map(|c| c.viewer.map(|v| v.session_id))
            .collect();
        sessions.sort_unstable();
        sessions.dedup();
        let mut articles: Vec<i64> = self
            .subs
            .values()
            .filter_map(|sub| match sub.inbox.interest() {
                Some(Interest::Article(id)) => Some(id),
                _ => None,
            })
            .collect();
        articles.sort_unstable();
        articles.dedup();
        let db = &self.loaders.db;
        let found = match db.conn().await {
            Ok(conn) => {
                let sessions = db::sessions::live_among(&conn, &sessions).await;
                let articles = db::articles::existing_among(&conn, &articles).await;
                sessions.and_then(|s| Ok((s, articles?)))
            }
            Err(err) => Err(err),
        };
        db.release().await;
        let (live, existing) = match found {
            Ok((live, existing)) => (
                live.into_iter().collect::<HashSet<i64>>(),
                existing.into_iter().collect::<HashSet<i64>>(),
            ),
            Err(err) => {
                // The listener just reconnected, so the database is back; unlikely.
                tracing::error!(error = %err, "could not check open sockets after the event gap");
                return;
            }
        };
        for session in sessions.into_iter().filter(|s| !live.contains(s)) {
            self.revoke(Event::SessionRevoked { session });
        }
        for article in articles.into_iter().filter(|a| !existing.contains(a)) {
            self.dispatch(Event::ArticleDeleted { article }).await;
        }
    }

    fn revoke(&mut self, event: Event) {
        let revoked: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                c.viewer.is_some_and(|v| match event {
                    Event::SessionRevoked { session } => v.session_id == session,
                    Event::SessionsRevoked { user, except } => {
                        v.user_id == user && v.session_id != except
                    }
                    _ => false,
                })
            })
            .map(|(conn, _)| *conn)
            .collect();
        for conn in revoked {
            if let Some(connected) = self.conns.get(&conn) {
                connected
                    .outbox
                    .signals
                    .raise(&connected.outbox.signals.revoked);
            }
            self.drop_conn(conn);
        }
    }

    fn drop_conn(&mut self, conn: u64) {
        self.conns.remove(&conn);
        self.subs.retain(|(c, _), _| *c != conn);
    }
}

/// Polls one subscription until it has an answer, ends, or waits for its next event.
fn step(sub: &mut LiveSub) -> impl Future<Output = Step> + '_ {
    let mut out = Step::default();
    poll_fn(move |cx| {
        loop {
            match Pin::new(&mut sub.stream).poll_next(cx) {
                Poll::Ready(Some(response)) => out.responses.push(response),
                Poll::Ready(None) => {
                    out.ended = true;
                    return Poll::Ready(std::mem::take(&mut out));
                }
                Poll::Pending if sub.inbox.idle() => return Poll::Ready(std::mem::take(&mut out)),
                Poll::Pending => return Poll::Pending,
            }
        }
    })
}

/// A failure before execution (parse, validation): no data and no error path.
pub fn is_request_error(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// INTERNAL_SERVER_ERROR, with `cause` only in the log.
fn internal_error(cause: &'static str) -> ServerError {
    tracing::error!(cause, "ending a subscription");
    let error: async_graphql::Error =
        crate::error::AppError::Internal(anyhow::anyhow!(cause)).into();
    let mut server_error = ServerError::new(error.message, None);
    server_error.extensions = error.extensions;
    server_error
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("subscriptions", &self.subscriptions())
            .finish()
    }
}
