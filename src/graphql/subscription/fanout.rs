//! One hub shard's registry: the connections of the shard (with their viewers and
//! outboxes) and their live subscriptions, keyed by connection and by the connection's
//! own operation number, never by the client's id: a client may reuse an id once its
//! operation is over, and a message still queued for the old operation must not reach
//! the new one. It applies the shard's commands, finds the subscriptions each event
//! concerns in its [`Index`], runs one of each group of alike ones ([`super::share`]) in
//! one [`wave`] and hands its messages to the whole group, and closes the sockets of
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

use async_graphql::{Response, ServerError};

use super::{
    hub::{Command, SubKey},
    inbox::{Audience, Interest},
    index::Index,
    outbox::{self, Outbox},
    share::ShareKey,
    wave::{self, LiveSub},
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
                    share,
                    order,
                } => {
                    if self.conns.contains_key(&conn) {
                        let sub = LiveSub {
                            stream,
                            inbox,
                            share,
                            order,
                        };
                        self.subs.insert((conn, op), sub);
                        started.push(vec![(conn, op)]);
                    }
                }
                Command::Stop { conn, op } => {
                    self.remove_sub((conn, op));
                    started.retain(|key| key[0] != (conn, op));
                }
                Command::Disconnect { conn } => self.drop_conn(conn),
                Command::Settle(answer) => settled.push(answer),
            }
        }
        // Each starts on its own: its resolver looks up what it watches now.
        if !started.is_empty() {
            self.run_groups(started).await;
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
        if keys.is_empty() {
            return;
        }
        let subscribers = keys.len();
        let groups = self.alike(keys);
        for group in &groups {
            if let Some(sub) = self.subs.get(&group[0]) {
                sub.inbox.push(event);
            }
        }
        let started = std::time::Instant::now();
        let (executions, statements) = (groups.len(), self.loaders.db.statements());
        self.run_groups(groups).await;
        tracing::debug!(
            ?event,
            subscribers,
            executions,
            statements = self.loaders.db.statements() - statements,
            elapsed_us = started.elapsed().as_micros() as u64,
            "event handled"
        );
    }

    /// `keys` in groups of alike subscriptions (same [`ShareKey`] and interest), each in
    /// key order; the groups in the order of their first keys.
    fn alike(&self, mut keys: Vec<SubKey>) -> Vec<Vec<SubKey>> {
        keys.sort_unstable();
        let mut groups: Vec<Vec<SubKey>> = Vec::new();
        let mut by_kind: HashMap<(&ShareKey, Option<Interest>), usize> = HashMap::new();
        for key in keys {
            let Some(sub) = self.subs.get(&key) else {
                continue;
            };
            let kind = (&sub.share, sub.inbox.interest());
            match by_kind.get(&kind) {
                Some(&group) => groups[group].push(key),
                None => {
                    by_kind.insert(kind, groups.len());
                    groups.push(vec![key]);
                }
            }
        }
        groups
    }

    /// Polls the first subscription of each of `groups` together (one [`wave`]), taken
    /// out of the registry meanwhile; then delivers what each produced to every member
    /// of its group and puts back those still live. The others' executions are not
    /// polled: they would have answered the same.
    async fn run_groups(&mut self, groups: Vec<Vec<SubKey>>) {
        let mut running: Vec<(Vec<SubKey>, LiveSub)> = groups
            .into_iter()
            .filter_map(|group| {
                let sub = self.subs.remove(group.first()?)?;
                Some((group, sub))
            })
            .collect();
        let subs = running.iter_mut().map(|(_, sub)| sub).collect();
        let steps = wave::run(&self.loaders, subs, self.step_timeout).await;
        for ((group, sub), step) in running.into_iter().zip(steps) {
            let responses: Vec<Arc<Response>> = step
                .responses
                .into_iter()
                .map(|response| sub.order.apply(response))
                .collect();
            let step = Delivered {
                responses,
                ended: step.ended,
                failure: step.failure,
            };
            self.deliver(group[0], sub, &step);
            for &member in &group[1..] {
                if let Some(sub) = self.subs.remove(&member) {
                    self.deliver(member, sub, &step);
                }
            }
        }
    }

    /// Sends a step's messages to the subscription's connection, and puts the
    /// subscription back (filed under its interest, which its first step set) unless it
    /// is over or its connection gone.
    fn deliver(&mut self, key: SubKey, sub: LiveSub, step: &Delivered) {
        let (conn, op) = key;
        let failure = step.failure.as_ref();
        let (messages, over) = outbox::messages(op, &step.responses, step.ended, failure);
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

/// What one step of a group's execution produced, ready for each member: its responses
/// in selection order.
struct Delivered {
    responses: Vec<Arc<Response>>,
    ended: bool,
    failure: Option<ServerError>,
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
mod tests;
