//! The hub shard registry's tests: routing, keys, revocation, overflow and sharing.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering::Relaxed},
};

use tokio::sync::{mpsc, oneshot};

use super::{
    super::{
        inbox::Interest,
        outbox::{ConnSignals, Outgoing},
        wave::testing::{answer, counted, loaders, share_and_order},
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

/// Starts subscription `op` of `conn` on `interest` to `document`; returns how many
/// answers its execution made so far. Subscriptions to the same document and interest
/// are alike.
fn start_to(conn: u64, op: u64, interest: Interest, document: &str) -> (Command, Arc<AtomicUsize>) {
    let (stream, inbox, answered) = counted(interest);
    let (share, order) = share_and_order(document);
    let command = Command::Start {
        conn,
        op,
        stream,
        inbox,
        share,
        order,
    };
    (command, answered)
}

/// Starts a subscription alike no other.
fn start(conn: u64, op: u64, interest: Interest) -> Command {
    start_to(
        conn,
        op,
        interest,
        &format!("subscription {{ c{conn}op{op} }}"),
    )
    .0
}

/// Starts a subscription on article 1 alike every other one started so; returns how
/// many answers its execution made so far.
fn start_alike(conn: u64, op: u64) -> (Command, Arc<AtomicUsize>) {
    start_to(conn, op, Interest::Article(1), ALIKE)
}

/// The document of [`start_alike`].
const ALIKE: &str = "subscription { alike }";

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

#[tokio::test]
async fn alike_subscriptions_share_one_execution_per_event() {
    let (mut fanout, mut sockets) = registry(&[None, None, None], 16, &[]).await;
    let (commands, counters): (Vec<_>, Vec<_>) = [(1, 1), (2, 1), (3, 1), (3, 2)]
        .map(|(c, o)| start_alike(c, o))
        .into_iter()
        .unzip();
    fanout.apply(commands).await;
    fanout.apply(vec![start(2, 2, Interest::Article(1))]).await;
    fanout.dispatch(ADDED).await;
    let answered: Vec<usize> = counters.iter().map(|c| c.load(Relaxed)).collect();
    assert_eq!(answered, [1, 0, 0, 0], "one execution for the four alike");
    assert_eq!(sockets[0].drain(), [("next", 1)]);
    assert_eq!(sockets[1].drain(), [("next", 1), ("next", 2)]);
    assert_eq!(sockets[2].drain(), [("next", 1), ("next", 2)]);

    // The one that ran leaves: the next in line runs for the rest.
    fanout.apply(vec![Command::Disconnect { conn: 1 }]).await;
    fanout.dispatch(ADDED).await;
    let answered: Vec<usize> = counters.iter().map(|c| c.load(Relaxed)).collect();
    assert_eq!(answered, [1, 1, 0, 0]);
    assert_eq!(sockets[1].drain(), [("next", 1), ("next", 2)]);
    assert_eq!(sockets[2].drain(), [("next", 1), ("next", 2)]);
    assert_eq!(fanout.subscriptions(), 4);

    // The group's end is every member's.
    fanout.dispatch(Event::ArticleDeleted { article: 1 }).await;
    assert_eq!(sockets[1].drain(), [("complete", 1), ("complete", 2)]);
    assert_eq!(sockets[2].drain(), [("complete", 1), ("complete", 2)]);
    assert_eq!(fanout.subscriptions(), 0);
}

#[tokio::test]
async fn alike_subscriptions_listening_to_different_things_do_not_share() {
    let (mut fanout, _sockets) = registry(&[None], 16, &[]).await;
    let (commands, counters): (Vec<_>, Vec<_>) = [(1, 7), (2, 8)]
        .map(|(op, user)| start_to(1, op, Interest::Notifications(user), ALIKE))
        .into_iter()
        .unzip();
    fanout.apply(commands).await;
    fanout
        .dispatch(Event::ArticlePublished { article: 1 })
        .await;
    let answered: Vec<usize> = counters.iter().map(|c| c.load(Relaxed)).collect();
    assert_eq!(answered, [1, 1]);
}
