//! The hub task's registry: the connections of this instance (with their viewers and
//! outboxes) and their live subscriptions, keyed by connection and by the connection's
//! own operation number, never by the client's id: a client may reuse an id once its
//! operation is over, and a message still queued for the old operation must not reach
//! the new one. It applies the hub's commands, routes each event to the subscriptions it
//! concerns and runs them in one [`wave`], and closes the sockets of revoked sessions.
//!
//! May call: `db` (after a listener gap), `domain` (events, viewers).

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::Duration,
};

use super::{
    hub::{Command, SubKey},
    inbox::Interest,
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

/// The hub task's state.
pub(super) struct Fanout {
    loaders: Arc<Loaders>,
    conns: HashMap<u64, Connected>,
    subs: HashMap<SubKey, LiveSub>,
    step_timeout: Duration,
}

impl Fanout {
    /// An empty registry whose waves read through `loaders` and last at most
    /// `step_timeout`.
    pub(super) fn new(loaders: Arc<Loaders>, step_timeout: Duration) -> Self {
        Self {
            loaders,
            conns: HashMap::new(),
            subs: HashMap::new(),
            step_timeout,
        }
    }

    /// How many subscriptions are live.
    pub(super) fn subscriptions(&self) -> usize {
        self.subs.len()
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

    /// Runs `event` through the subscriptions it concerns, or closes the sockets of the
    /// sessions it revokes.
    pub(super) async fn dispatch(&mut self, event: Event) {
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

    /// Polls the subscriptions `keys` together (one [`wave`]); then delivers what they
    /// produced.
    async fn run_steps(&mut self, keys: Vec<SubKey>) {
        let wanted: HashSet<SubKey> = keys.into_iter().collect();
        let (keys, running): (Vec<SubKey>, Vec<&mut LiveSub>) = self
            .subs
            .iter_mut()
            .filter(|(key, _)| wanted.contains(*key))
            .map(|(key, sub)| (*key, sub))
            .unzip();
        let steps = wave::run(&self.loaders, running, self.step_timeout).await;
        for (key, step) in keys.into_iter().zip(steps) {
            self.deliver(&key, step);
        }
    }

    /// Sends a step's messages to the subscription's connection.
    fn deliver(&mut self, key: &SubKey, step: Step) {
        let (conn, op) = *key;
        let (messages, over) = outbox::messages(op, step.responses, step.ended, step.failure);
        if over {
            self.subs.remove(key);
        }
        let Some(connected) = self.conns.get(&conn) else {
            return;
        };
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
        self.subs.retain(|(c, _), _| *c != conn);
    }
}

/// True when `event` revokes `viewer`'s session.
fn ends_session(event: &Event, viewer: &Viewer) -> bool {
    match *event {
        Event::SessionRevoked { session } => viewer.session_id == session,
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
        /// What the hub queued, as (kind, operation) pairs.
        fn drain(&mut self) -> Vec<(&'static str, u64)> {
            std::iter::from_fn(|| self.received.try_recv().ok())
                .map(|message| match message {
                    Outgoing::Next(op, response) => {
                        assert_eq!(response.data, answer(ADDED).data);
                        ("next", op)
                    }
                    Outgoing::Error(op, _) => ("error", op),
                    Outgoing::Complete(op) => ("complete", op),
                })
                .collect()
        }
    }

    fn fanout() -> Fanout {
        Fanout::new(loaders(), Duration::from_secs(5))
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

    #[tokio::test]
    async fn an_event_reaches_only_the_subscriptions_it_concerns() {
        let mut fanout = fanout();
        let (connect, mut socket) = connect(1, None, 16);
        fanout
            .apply(vec![
                connect,
                start(1, 1, Interest::Article(1)),
                start(1, 2, Interest::Article(2)),
                start(1, 3, Interest::Notifications(7)),
                start(1, 4, Interest::Article(1)),
            ])
            .await;
        assert_eq!(fanout.subscriptions(), 4);
        assert!(socket.drain().is_empty(), "starting answers nothing");
        fanout.dispatch(ADDED).await;
        let mut got = socket.drain();
        got.sort_unstable();
        assert_eq!(got, [("next", 1), ("next", 4)]);
    }

    #[tokio::test]
    async fn subscriptions_are_keyed_by_connection_and_operation_number() {
        let mut fanout = fanout();
        let (first, mut one) = connect(1, None, 16);
        let (second, mut two) = connect(2, None, 16);
        fanout
            .apply(vec![
                first,
                second,
                start(1, 1, Interest::Article(1)),
                start(2, 1, Interest::Article(1)),
            ])
            .await;
        assert_eq!(fanout.subscriptions(), 2);
        fanout.apply(vec![Command::Stop { conn: 1, op: 1 }]).await;
        fanout.dispatch(ADDED).await;
        assert!(one.drain().is_empty(), "stopped");
        assert_eq!(two.drain(), [("next", 1)]);
        // The same number again on connection 1 is a new operation.
        fanout.apply(vec![start(1, 1, Interest::Article(1))]).await;
        fanout.dispatch(ADDED).await;
        assert_eq!(one.drain(), [("next", 1)]);
        assert_eq!(two.drain(), [("next", 1)]);
    }

    #[tokio::test]
    async fn a_start_for_an_unknown_or_gone_connection_is_ignored() {
        let mut fanout = fanout();
        fanout.apply(vec![start(9, 1, Interest::Article(1))]).await;
        assert_eq!(fanout.subscriptions(), 0);
        let (connect, _socket) = connect(1, None, 16);
        fanout
            .apply(vec![
                connect,
                start(1, 1, Interest::Article(1)),
                Command::Disconnect { conn: 1 },
                start(1, 2, Interest::Article(1)),
            ])
            .await;
        assert_eq!(fanout.subscriptions(), 0);
    }

    #[tokio::test]
    async fn settling_answers_after_the_commands_before_it() {
        let mut fanout = fanout();
        let (connect, _socket) = connect(1, None, 16);
        let (answer, settled) = oneshot::channel();
        fanout
            .apply(vec![
                connect,
                start(1, 1, Interest::Article(1)),
                Command::Settle(answer),
            ])
            .await;
        settled.await.expect("answered");
        assert_eq!(fanout.subscriptions(), 1);
    }

    #[tokio::test]
    async fn the_articles_deletion_completes_its_subscriptions() {
        let mut fanout = fanout();
        let (connect, mut socket) = connect(1, None, 16);
        fanout
            .apply(vec![
                connect,
                start(1, 1, Interest::Article(1)),
                start(1, 2, Interest::Article(2)),
            ])
            .await;
        fanout.dispatch(Event::ArticleDeleted { article: 1 }).await;
        assert_eq!(socket.drain(), [("complete", 1)]);
        assert_eq!(fanout.subscriptions(), 1);
    }

    #[tokio::test]
    async fn a_revoked_session_signals_its_sockets_and_ends_their_subscriptions() {
        let mut fanout = fanout();
        let (revoked, mut gone) = connect(1, viewer(7, 70), 16);
        let (other, mut kept) = connect(2, viewer(7, 71), 16);
        let (anonymous, _anonymous) = connect(3, None, 16);
        fanout
            .apply(vec![
                revoked,
                other,
                anonymous,
                start(1, 1, Interest::Article(1)),
                start(2, 1, Interest::Article(1)),
                start(3, 1, Interest::Article(1)),
            ])
            .await;
        fanout.dispatch(Event::SessionRevoked { session: 70 }).await;
        assert!(gone.signals.revoked());
        assert!(!kept.signals.revoked());
        assert_eq!(fanout.subscriptions(), 2);
        fanout.dispatch(ADDED).await;
        assert!(gone.drain().is_empty());
        assert_eq!(kept.drain(), [("next", 1)]);
    }

    #[tokio::test]
    async fn a_password_change_revokes_every_session_of_the_user_but_one() {
        let mut fanout = fanout();
        let (kept_conn, kept) = connect(1, viewer(7, 70), 16);
        let (other_conn, other) = connect(2, viewer(7, 71), 16);
        let (stranger_conn, stranger) = connect(3, viewer(8, 80), 16);
        fanout
            .apply(vec![kept_conn, other_conn, stranger_conn])
            .await;
        let event = Event::SessionsRevoked {
            user: 7,
            except: 70,
        };
        fanout.dispatch(event).await;
        assert!(!kept.signals.revoked());
        assert!(other.signals.revoked());
        assert!(!stranger.signals.revoked());
    }

    #[tokio::test]
    async fn a_socket_that_falls_behind_is_told_to_close_and_loses_its_subscriptions() {
        let mut fanout = fanout();
        let (slow_conn, mut slow) = connect(1, None, 1);
        let (fast_conn, mut fast) = connect(2, None, 16);
        fanout
            .apply(vec![
                slow_conn,
                fast_conn,
                start(1, 1, Interest::Article(1)),
                start(1, 2, Interest::Article(1)),
                start(2, 1, Interest::Article(1)),
            ])
            .await;
        fanout.dispatch(ADDED).await;
        assert!(slow.signals.overflowed());
        assert_eq!(slow.drain().len(), 1, "what fitted");
        assert_eq!(fast.drain(), [("next", 1)]);
        assert_eq!(fanout.subscriptions(), 1);
        fanout.dispatch(ADDED).await;
        assert!(slow.drain().is_empty());
        assert_eq!(fast.drain(), [("next", 1)]);
    }
}
