//! A connection's side of the hub: the bounded queue the hub writes that connection's
//! messages to, and the signals it raises out of band (the queue overflowed, the session
//! was revoked). The hub never waits on a socket: a full queue is an overflow, and the
//! connection is told to close.
//!
//! May call: `graphql::execution` (the selection order), async-graphql's response types.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use async_graphql::{Response, ServerError, parser::types::ExecutableDocument};
use tokio::sync::{Notify, mpsc};

use crate::graphql::execution;

/// A message for one WebSocket connection, about one of its operations (by number).
#[derive(Debug)]
pub enum Outgoing {
    /// A result (`next`, or `data` in the legacy protocol), already in selection order.
    /// Shared: alike subscriptions ([`super::share`]) get the same one; and every
    /// connection's queue allocates its first block of slots up front, idle or not, where
    /// a response is some hundred bytes and a pointer eight.
    Next(u64, Arc<Response>),
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

    /// Tells the connection that its session was revoked.
    pub(super) fn revoke(&self) {
        self.raise(&self.revoked);
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

impl Outbox {
    /// Queues `messages` without waiting. False when the connection is gone or fell
    /// behind (its queue full: then it is told to close); the rest of the messages are
    /// dropped, and the hub forgets the connection.
    pub(super) fn send_all(&self, conn: u64, messages: Vec<Outgoing>) -> bool {
        for message in messages {
            if let Err(err) = self.queue.try_send(message) {
                if matches!(err, mpsc::error::TrySendError::Full(_)) {
                    tracing::warn!(conn, "a WebSocket fell behind its queue; closing it");
                    self.signals.raise(&self.signals.overflowed);
                }
                return false;
            }
        }
        true
    }
}

/// What puts a subscription's responses in the order of its document's selections
/// ([`execution::in_selection_order`]): its document and operation name.
pub struct SelectionOrder {
    /// The parsed document.
    pub document: Arc<ExecutableDocument>,
    /// The operation's name as the client sent it.
    pub operation_name: Option<String>,
}

impl SelectionOrder {
    /// `response` in selection order, to share.
    pub(super) fn apply(&self, mut response: Response) -> Arc<Response> {
        execution::in_selection_order(
            &self.document,
            self.operation_name.as_deref(),
            &mut response,
        );
        Arc::new(response)
    }
}

/// The messages for operation `op` from the `responses` one step of its execution (or
/// of an alike subscription's) produced; `ended` when the execution ended, `failure`
/// when the step failed. Returns them and whether the operation is over: a request
/// error (see [`is_request_error`]) or a failure ends it with `error`; an ended
/// execution ends with `complete`.
pub(super) fn messages(
    op: u64,
    responses: &[Arc<Response>],
    ended: bool,
    failure: Option<&ServerError>,
) -> (Vec<Outgoing>, bool) {
    let mut messages = Vec::new();
    let mut over = ended;
    for response in responses {
        if is_request_error(response) {
            messages.push(Outgoing::Error(op, response.errors.clone()));
            over = true;
            break;
        }
        messages.push(Outgoing::Next(op, Arc::clone(response)));
    }
    if let Some(error) = failure {
        messages.push(Outgoing::Error(op, vec![error.clone()]));
        over = true;
    }
    if over && !matches!(messages.last(), Some(Outgoing::Error(..))) {
        messages.push(Outgoing::Complete(op));
    }
    (messages, over)
}

/// A failure before execution (parse, validation): no data and no error path.
pub fn is_request_error(response: &Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

#[cfg(test)]
mod tests {
    use async_graphql::{PathSegment, Value};

    use super::*;

    fn outbox(capacity: usize) -> (Outbox, mpsc::Receiver<Outgoing>) {
        let (queue, received) = mpsc::channel(capacity);
        let signals = Arc::default();
        (Outbox { queue, signals }, received)
    }

    fn data(n: i32) -> Arc<Response> {
        Arc::new(Response::new(Value::from(n)))
    }

    fn request_error() -> Arc<Response> {
        Arc::new(Response::from_errors(vec![ServerError::new(
            "Unknown field",
            None,
        )]))
    }

    fn kinds(messages: &[Outgoing]) -> Vec<String> {
        messages
            .iter()
            .map(|m| match m {
                Outgoing::Next(op, _) => format!("next {op}"),
                Outgoing::Error(op, _) => format!("error {op}"),
                Outgoing::Complete(op) => format!("complete {op}"),
            })
            .collect()
    }

    #[test]
    fn a_full_queue_overflows_and_signals_the_connection() {
        let (outbox, mut received) = outbox(2);
        assert!(outbox.send_all(1, vec![Outgoing::Complete(1)]));
        assert!(!outbox.signals.overflowed());
        let more = vec![Outgoing::Complete(2), Outgoing::Complete(3)];
        assert!(!outbox.send_all(1, more));
        assert!(outbox.signals.overflowed());
        assert!(!outbox.signals.revoked());
        let queued: Vec<_> = std::iter::from_fn(|| received.try_recv().ok()).collect();
        assert_eq!(kinds(&queued), ["complete 1", "complete 2"]);
    }

    #[test]
    fn a_closed_queue_fails_without_an_overflow() {
        let (outbox, received) = outbox(2);
        drop(received);
        assert!(!outbox.send_all(1, vec![Outgoing::Complete(1)]));
        assert!(!outbox.signals.overflowed());
    }

    #[tokio::test]
    async fn signals_wake_the_connection() {
        let signals = Arc::new(ConnSignals::default());
        let waiting = tokio::spawn({
            let signals = Arc::clone(&signals);
            async move { signals.notified().await }
        });
        signals.revoke();
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .expect("woken")
            .unwrap();
        assert!(signals.revoked());
        assert!(!signals.overflowed());
    }

    #[test]
    fn results_go_out_as_next_and_an_end_as_complete() {
        let (out, over) = messages(7, &[data(1), data(2)], false, None);
        assert_eq!(kinds(&out), ["next 7", "next 7"]);
        assert!(!over);
        let (out, over) = messages(7, &[data(3)], true, None);
        assert_eq!(kinds(&out), ["next 7", "complete 7"]);
        assert!(over);
    }

    #[test]
    fn a_request_error_or_a_failure_ends_with_error_and_no_complete() {
        let responses = vec![data(1), request_error(), data(2)];
        let (out, over) = messages(3, &responses, false, None);
        assert_eq!(kinds(&out), ["next 3", "error 3"]);
        assert!(over);
        let failure = ServerError::new("timed out", None);
        let (out, over) = messages(3, &[], true, Some(&failure));
        assert_eq!(kinds(&out), ["error 3"]);
        assert!(over);
    }

    #[test]
    fn field_errors_with_a_path_are_results_not_request_errors() {
        assert!(is_request_error(&request_error()));
        let mut field_error = ServerError::new("Forbidden", None);
        field_error.path = vec![PathSegment::Field("article".into())];
        assert!(!is_request_error(&Response::from_errors(vec![field_error])));
        assert!(!is_request_error(&data(1)));
    }
}
