//! One hub shard's registry: the connections of the shard (with their viewers and
//! outboxes) and their live subscriptions, keyed by connection and by the connection's
//! own operation number, never by the client's id: a client may reuse an id once its
//! operation is over, and a message still queued for the old operation must not reach
//! the new one. It applies the shard's commands, finds the subscriptions each event
//! concerns in its [`Index`] and runs them in one [`wave`], and closes the sockets of
//! revoked sessions.
//!
//! May call: the rest of [`super`] and `graphql::loaders`, `db` (after a listener gap),
//! `domain` (events, viewers).

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use super::{
    hub::{Command, SubKey},
    inbox::Audience,
    index::Index,
    outbox::{self, Outbox},
    wave::{self, LiveSub, Step},
};
use crate::{
    db,
    domain::{events::Event, policy::Viewer},
    graphql::loaders::Loaders,
};

/// An acknowledged connection.
struct Connected {
    viewer: Option<Viewer>,
    outbox: Outbox,
}

/// A hub shard's state.
pub(super) struct Fanout {
    loaders: Arc<Loaders>,
    conns: HashMap<u64, Connected>,
    /// Ordered, so that a connection's subscriptions are one range.
    subs: BTreeMap<SubKey, LiveSub>,
    /// The subscriptions of `subs` by interest (those whose resolver has started).
    index: Index,
    /// How many subscriptions are live, for [`super::Hub::subscriptions`].
    live: Arc<AtomicUsize>,
    step_timeout: Duration,
}

impl Fanout {
    /// An empty registry whose waves read through `loaders` and last at most
    /// `step_timeout`; it keeps its count of subscriptions in `live`.
    pub(super) fn new(
        loaders: Arc<Loaders>,
        live: Arc<AtomicUsize>,
        step_timeout: Duration,
    ) -> Self {
        Self {
            loaders,
            conns: HashMap::new(),
            subs: BTreeMap::new(),
            index: Index::default(),
            live,
            step_timeout,
        }
    }

    /// How many subscriptions are live.
    pub(super) fn subscriptions(&self) -> usize {
        self.subs.len()
    }

    /// Publishes how many subscriptions are live.
    pub(super) fn count(&self) {
        self.live.store(self.subscriptions(), Ordering::Relaxed);
    }

    /// Applies `commands` in order, then runs the subscriptions they started (one wave)
    /// and answers the settle requests among them.
    pub(super) async fn apply(&mut self, commands: Vec<Command>) {
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
                    self.remove_sub((conn, op));
                    started.retain(|key| *key != (conn, op));
                }
                Command::Disconnect { conn } => self.drop_conn(conn),
                Command::Settle(answer) => settled.push(answer),
            }
        }
        if !started.is_empty() {
            self.run_steps(started).await;
        }
        self.count();
        for answer in settled {
            let _ = answer.send(());
        }
    }

    /// Runs `event` through the subscriptions it concerns, or closes the sockets of the
    /// sessions it revokes.
    pub(super) async fn dispatch(&mut self, event: Event) {
        if event.revokes() {
            self.revoke(event);
            return;
        }
        let keys = self.index.concerned(Audience::of(&event));
        for key in &keys {
            if let Some(sub) = self.subs.get(key) {
                sub.inbox.push(event);
            }
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

    /// Polls the subscriptions `keys` together (one [`wave`]), taken out of the registry
    /// meanwhile; then delivers what they produced and puts back those still live.
    async fn run_steps(&mut self, keys: Vec<SubKey>) {
        let mut running: Vec<(SubKey, LiveSub)> = keys
            .into_iter()
            .filter_map(|key| self.subs.remove_entry(&key))
            .collect();
        let subs = running.iter_mut().map(|(_, sub)| sub).collect();
        let steps = wave::run(&self.loaders, subs, self.step_timeout).await;
        for ((key, sub), step) in running.into_iter().zip(steps) {
            self.deliver(key, sub, step);
        }
    }

    /// Sends a step's messages to the subscription's connection, and puts the
    /// subscription back (filed under its interest, which its first step set) unless it
    /// is over or its connection gone.
    fn deliver(&mut self, key: SubKey, sub: LiveSub, step: Step) {
        let (conn, op) = key;
        let (messages, over) = outbox::messages(op, step.responses, step.ended, step.failure);
        let interest = sub.inbox.interest();
        let Some(connected) = self.conns.get(&conn) else {
            if let Some(interest) = interest {
                self.index.remove(key, interest);
            }
            return;
        };
        match interest {
            Some(interest) if over => self.index.remove(key, interest),
            Some(interest) => self.index.insert(key, interest),
            None => {}
        }
        if !over {
            self.subs.insert(key, sub);
        }
        if !connected.outbox.send_all(conn, messages) {
            self.drop_conn(conn);
        }
    }

    /// Events may have been missed while the listener was away. Revocations and
    /// deletions must not be: checks the session of every signed-in connection and the
    /// article of every article subscription (one statement each), then closes the
    /// sockets of ended sessions and completes the subscriptions of deleted articles.
    pub(super) async fn recover_gap(&mut self) {
        let mut sessions: Vec<i64> = self
            .conns
            .values()
            .filter_map(|c| c.viewer.map(|v| v.session_id))
            .collect();
        sessions.sort_unstable();
        sessions.dedup();
        let articles = self.index.articles();
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

    /// Signals and forgets the connections whose sessions `event` revokes.
    fn revoke(&mut self, event: Event) {
        let revoked: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.viewer.is_some_and(|v| ends_session(&event, &v)))
            .map(|(conn, _)| *conn)
            .collect();
        for conn in revoked {
            if let Some(connected) = self.conns.get(&conn) {
                connected.outbox.signals.revoke();
            }
            self.drop_conn(conn);
        }
    }

    fn drop_conn(&mut self, conn: u64) {
        self.conns.remove(&conn);
        let ops: Vec<SubKey> = self
            .subs
            .range((conn, 0)..=(conn, u64::MAX))
            .map(|(key, _)| *key)
            .collect();
        for key in ops {
            self.remove_sub(key);
        }
    }

    /// Forgets subscription `key`, and its place in the index.
    fn remove_sub(&mut self, key: SubKey) {
        if let Some(sub) = self.subs.remove(&key)
            && let Some(interest) = sub.inbox.interest()
        {
            self.index.remove(key, interest);
        }
    }
}

/// True when `event` revokes `viewer`'s session.
fn ends_session(event: &Event, viewer: &Viewer) -> bool {
    match *event {
        Event::SessionRevoked { session } => viewer.session_id == session,
        Event::RoleChanged { user } => viewer.user_id == user,
        Event::SessionsRevoked { user, except } => {
            viewer.user_id == user && viewer.session_id != except
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::{mpsc, oneshot};

    use super::{
        super::{
            inbox::Interest,
            outbox::{ConnSignals, Outgoing},
            wave::testing::{answer, loaders, subscription},
        },
        *,
    };
    use crate::domain::policy::Role;

    const ADDED: Event = Event::CommentAdded {
        article: 1,
        comment: 10,
    };

    /// One test connection: what the hub queued for it, and its signals.
    struct Socket {
        received: mpsc::Receiver<Outgoing>,
        signals: Arc<ConnSignals>,
    }

    impl Socket {
        /// What the hub queued, as (kind, operation) pairs, sorted.
        fn drain(&mut self) -> Vec<(&'static str, u64)> {
            let mut queued: Vec<_> = std::iter::from_fn(|| self.received.try_recv().ok())
                .map(|message| match message {
                    Outgoing::Next(op, response) => {
                        assert_eq!(response.data, answer(ADDED).data);
                        ("next", op)
                    }
                    Outgoing::Error(op, _) => ("error", op),
                    Outgoing::Complete(op) => ("complete", op),
                })
                .collect();
            queued.sort_unstable();
            queued
        }
    }

    fn viewer(user_id: i64, session_id: i64) -> Option<Viewer> {
        Some(Viewer {
            user_id,
            session_id,
            role: Role::User,
        })
    }

    fn connect(conn: u64, viewer: Option<Viewer>, capacity: usize) -> (Command, Socket) {
        let (queue, received) = mpsc::channel(capacity);
        let signals = Arc::new(ConnSignals::default());
        let outbox = Outbox {
            queue,
            signals: Arc::clone(&signals),
        };
        let (registered, _) = oneshot::channel();
        let command = Command::Connect {
            conn,
            viewer,
            outbox,
            registered,
        };
        (command, Socket { received, signals })
    }

    fn start(conn: u64, op: u64, interest: Interest) -> Command {
        let (stream, inbox) = subscription(interest);
        Command::Start {
            conn,
            op,
            stream,
            inbox,
        }
    }

    /// A registry with connections 1, 2... as `viewers` says (each with a queue of
    /// `capacity`), and the subscriptions `subs` (connection, operation, interest).
    async fn registry(
        viewers: &[Option<Viewer>],
        capacity: usize,
        subs: &[(u64, u64, Interest)],
    ) -> (Fanout, Vec<Socket>) {
        let mut fanout = Fanout::new(loaders(), Arc::default(), Duration::from_secs(5));
        let (mut commands, mut sockets) = (Vec::new(), Vec::new());
        for (conn, viewer) in (1..).zip(viewers) {
            let (command, socket) = connect(conn, *viewer, capacity);
            commands.push(command);
            sockets.push(socket);
        }
        commands.extend(subs.iter().map(|&(conn, op, i)| start(conn, op, i)));
        fanout.apply(commands).await;
        (fanout, sockets)
    }

    #[tokio::test]
    async fn an_event_reaches_only_the_subscriptions_it_concerns() {
        let subs = [
            (1, 1, Interest::Article(1)),
            (1, 2, Interest::Article(2)),
            (1, 3, Interest::Notifications(7)),
            (1, 4, Interest::Article(1)),
        ];
        let (mut fanout, mut sockets) = registry(&[None], 16, &subs).await;
        assert_eq!(fanout.subscriptions(), 4);
        assert!(sockets[0].drain().is_empty(), "starting answers nothing");
        fanout.dispatch(ADDED).await;
        assert_eq!(sockets[0].drain(), [("next", 1), ("next", 4)]);
    }

    #[tokio::test]
    async fn subscriptions_are_keyed_by_connection_and_operation_number() {
        let subs = [(1, 1, Interest::Article(1)), (2, 1, Interest::Article(1))];
        let (mut fanout, mut sockets) = registry(&[None, None], 16, &subs).await;
        assert_eq!(fanout.subscriptions(), 2);
        fanout.apply(vec![Command::Stop { conn: 1, op: 1 }]).await;
        fanout.dispatch(ADDED).await;
        assert!(sockets[0].drain().is_empty(), "stopped");
        assert_eq!(sockets[1].drain(), [("next", 1)]);
        // The same number again on connection 1 is a new operation.
        fanout.apply(vec![start(1, 1, Interest::Article(1))]).await;
        fanout.dispatch(ADDED).await;
        assert_eq!(sockets[0].drain(), [("next", 1)]);
        assert_eq!(sockets[1].drain(), [("next", 1)]);
    }

    #[tokio::test]
    async fn a_start_for_an_unknown_or_gone_connection_is_ignored() {
        let (mut fanout, _sockets) = registry(&[None], 16, &[(9, 1, Interest::Article(1))]).await;
        assert_eq!(fanout.subscriptions(), 0);
        fanout
            .apply(vec![
                start(1, 1, Interest::Article(1)),
                Command::Disconnect { conn: 1 },
                start(1, 2, Interest::Article(1)),
            ])
            .await;
        assert_eq!(fanout.subscriptions(), 0);
    }

    #[tokio::test]
    async fn settling_answers_after_the_commands_before_it() {
        let (mut fanout, _sockets) = registry(&[None], 16, &[]).await;
        let (answer, settled) = oneshot::channel();
        let commands = vec![start(1, 1, Interest::Article(1)), Command::Settle(answer)];
        fanout.apply(commands).await;
        settled.await.expect("answered");
        assert_eq!(fanout.subscriptions(), 1);
    }

    #[tokio::test]
    async fn the_articles_deletion_completes_its_subscriptions() {
        let subs = [(1, 1, Interest::Article(1)), (1, 2, Interest::Article(2))];
        let (mut fanout, mut sockets) = registry(&[None], 16, &subs).await;
        fanout.dispatch(Event::ArticleDeleted { article: 1 }).await;
        assert_eq!(sockets[0].drain(), [("complete", 1)]);
        assert_eq!(fanout.subscriptions(), 1);
    }

    #[tokio::test]
    async fn a_revoked_session_signals_its_sockets_and_ends_their_subscriptions() {
        let viewers = [viewer(7, 70), viewer(7, 71), None];
        let subs = [1, 2, 3].map(|conn| (conn, 1, Interest::Article(1)));
        let (mut fanout, mut sockets) = registry(&viewers, 16, &subs).await;
        fanout.dispatch(Event::SessionRevoked { session: 70 }).await;
        let revoked: Vec<bool> = sockets.iter().map(|s| s.signals.revoked()).collect();
        assert_eq!(revoked, [true, false, false]);
        assert_eq!(fanout.subscriptions(), 2);
        fanout.dispatch(ADDED).await;
        assert!(sockets[0].drain().is_empty());
        assert_eq!(sockets[1].drain(), [("next", 1)]);
    }

    #[tokio::test]
    async fn a_password_change_revokes_every_session_of_the_user_but_one() {
        let viewers = [viewer(7, 70), viewer(7, 71), viewer(8, 80)];
        let (mut fanout, sockets) = registry(&viewers, 16, &[]).await;
        let event = Event::SessionsRevoked {
            user: 7,
            except: 70,
        };
        fanout.dispatch(event).await;
        let revoked: Vec<bool> = sockets.iter().map(|s| s.signals.revoked()).collect();
        assert_eq!(revoked, [false, true, false]);
    }

    #[tokio::test]
    async fn a_socket_that_falls_behind_is_told_to_close_and_loses_its_subscriptions() {
        let subs = [
            (1, 1, Interest::Article(1)),
            (1, 2, Interest::Article(1)),
            (2, 1, Interest::Article(1)),
        ];
        let (mut fanout, mut sockets) = registry(&[None, None], 1, &subs).await;
        fanout.dispatch(ADDED).await;
        assert!(sockets[0].signals.overflowed());
        assert_eq!(sockets[0].drain().len(), 1, "what fitted");
        assert!(!sockets[1].signals.overflowed());
        assert_eq!(sockets[1].drain(), [("next", 1)]);
        assert_eq!(fanout.subscriptions(), 1);
        fanout.dispatch(ADDED).await;
        assert!(sockets[0].drain().is_empty());
        assert_eq!(sockets[1].drain(), [("next", 1)]);
    }
}
