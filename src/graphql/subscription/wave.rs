//! One wave: every subscription an event (or a start) concerns, polled together inside
//! one [`LoadQueue::drive_wide`](crate::graphql::loaders::LoadQueue::drive_wide) with the
//! instance-wide loaders, so that what they load at one level (the comment, its author,
//! each subscriber's viewer flags) goes out as one statement for all of them, level after
//! level. Each execution still runs with its own subscriber's viewer.
//!
//! **One subscription's failure is its own.** A step that panics ends that subscription
//! with INTERNAL_SERVER_ERROR; when a wave takes longer than the request timeout, only
//! the subscriptions that had not finished end.
//!
//! May call: `graphql::loaders`, `error`.

use std::{future::Future, pin::Pin, sync::Arc, task::Poll, time::Duration};

use async_graphql::{Response, ServerError};
use futures_util::{
    FutureExt, Stream,
    future::{join_all, poll_fn},
    stream::BoxStream,
};

use super::{inbox::Inbox, outbox::SelectionOrder, share::ShareKey};
use crate::graphql::loaders::Loaders;

/// Passes [`LoadQueue::drive_wide`](crate::graphql::loaders::LoadQueue::drive_wide) makes
/// before a wave, on top of one per subscription stepped together. Measured with 1,000
/// subscribers, one per 8 still split a level's loads into several statements; the bound
/// costs nothing when unused, as polling stops once nothing woke itself.
const PASSES_BASE: usize = 64;

/// A live subscription: its execution, its inbox, what makes it alike others, and what
/// puts its responses in selection order.
pub(super) struct LiveSub {
    /// The execution, polled only by the hub.
    pub(super) stream: BoxStream<'static, Response>,
    /// Where the hub hands it its events.
    pub(super) inbox: Arc<Inbox>,
    /// Which subscriptions answer alike.
    pub(super) share: ShareKey,
    /// The order its responses go out in.
    pub(super) order: SelectionOrder,
}

/// What one round of polling a subscription produced.
#[derive(Debug, Default)]
pub(super) struct Step {
    /// Its results, in order.
    pub(super) responses: Vec<Response>,
    /// The execution ended.
    pub(super) ended: bool,
    /// The step failed (panicked or timed out): the subscription ends with this error.
    pub(super) failure: Option<ServerError>,
}

impl Step {
    fn failed(error: ServerError) -> Self {
        Self {
            failure: Some(error),
            ..Self::default()
        }
    }
}

/// Polls `subs` together until each has answered, ended or gone back to waiting, for at
/// most `timeout`; returns their steps in the same order (one that did not finish in time
/// is a failure). The loaders' connection goes back to the pool afterwards.
pub(super) async fn run(
    loaders: &Loaders,
    mut subs: Vec<&mut LiveSub>,
    timeout: Duration,
) -> Vec<Step> {
    let mut results: Vec<Option<Step>> = Vec::new();
    results.resize_with(subs.len(), || None);
    let max_passes = PASSES_BASE + subs.len();
    let steps = join_all(
        subs.iter_mut()
            .zip(results.iter_mut())
            .map(|(sub, slot)| async move {
                // A bug in one execution ends that subscription, not the hub.
                let outcome = std::panic::AssertUnwindSafe(step(sub)).catch_unwind().await;
                *slot = Some(outcome.unwrap_or_else(|_| {
                    Step::failed(internal_error("a subscription step panicked"))
                }));
            }),
    );
    let finished = tokio::time::timeout(timeout, loaders.queue.drive_wide(steps, max_passes))
        .await
        .is_ok();
    drop(subs);
    // The loaders' connection goes back to the pool between events.
    loaders.db.release().await;
    if !finished {
        tracing::error!(
            subscriptions = results.len(),
            unfinished = results.iter().filter(|r| r.is_none()).count(),
            timeout_ms = timeout.as_millis() as u64,
            "subscriptions took too long to handle an event; ending the unfinished ones"
        );
    }
    results
        .into_iter()
        .map(|result| {
            result.unwrap_or_else(|| Step::failed(internal_error("a subscription step timed out")))
        })
        .collect()
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

/// INTERNAL_SERVER_ERROR, with `cause` only in the log.
fn internal_error(cause: &'static str) -> ServerError {
    tracing::error!(cause, "ending a subscription");
    ServerError::from(crate::error::AppError::Internal(anyhow::anyhow!(cause)))
}

/// What the hub's unit tests share: loaders on a pool that never connects (nothing here
/// reads), and subscriptions made of plain streams.
#[cfg(test)]
pub(super) mod testing {
    use std::sync::Arc;

    use std::sync::atomic::{AtomicUsize, Ordering};

    use async_graphql::{Response, Value, Variables, parser::parse_query};
    use diesel_async::{
        AsyncPgConnection,
        pooled_connection::{AsyncDieselConnectionManager, deadpool::Pool},
    };
    use futures_util::{StreamExt, stream::BoxStream};

    use super::super::{
        inbox::{Inbox, Interest},
        outbox::SelectionOrder,
        share::ShareKey,
    };
    use crate::{
        db::RequestDb,
        domain::events::Event,
        graphql::loaders::{BatchSizes, Loaders},
        metrics::Metrics,
    };

    /// A pool on a port nothing listens on: building it connects to nothing.
    pub fn pool() -> crate::db::PgPool {
        let manager =
            AsyncDieselConnectionManager::<AsyncPgConnection>::new("postgres://127.0.0.1:1/none");
        Pool::builder(manager).build().expect("a lazy pool")
    }

    /// Loaders reading through [`pool`].
    pub fn loaders() -> Arc<Loaders> {
        Arc::new(Loaders::new(
            RequestDb::new(&pool()),
            &BatchSizes::new(&Metrics::default()),
        ))
    }

    /// What a test subscription answers for `event`.
    pub fn answer(event: Event) -> Response {
        Response::new(Value::from(format!("{event:?}")))
    }

    /// A subscription on `interest` that answers each event with [`answer`].
    pub fn subscription(interest: Interest) -> (BoxStream<'static, Response>, Arc<Inbox>) {
        let (stream, inbox, _) = counted(interest);
        (stream, inbox)
    }

    /// [`subscription`], with a counter of the answers its execution made.
    pub fn counted(
        interest: Interest,
    ) -> (BoxStream<'static, Response>, Arc<Inbox>, Arc<AtomicUsize>) {
        let inbox = Arc::new(Inbox::default());
        let answered = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&answered);
        let stream = Arc::clone(&inbox)
            .listen(interest)
            .map(move |event| {
                count.fetch_add(1, Ordering::Relaxed);
                answer(event)
            })
            .boxed();
        (stream, inbox, answered)
    }

    /// What makes a test subscription to `document` alike others, and its order.
    pub fn share_and_order(document: &str) -> (ShareKey, SelectionOrder) {
        let share = ShareKey::new(document, None, &Variables::default(), None);
        let order = SelectionOrder {
            document: Arc::new(parse_query(document).expect("a test document")),
            operation_name: None,
        };
        (share, order)
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{StreamExt, stream};

    use super::{super::inbox::Interest, testing::*, *};
    use crate::domain::events::Event;

    const ADDED: Event = Event::CommentAdded {
        article: 1,
        comment: 10,
    };

    fn live((stream, inbox): (BoxStream<'static, Response>, Arc<Inbox>)) -> LiveSub {
        let (share, order) = share_and_order("subscription { a }");
        LiveSub {
            stream,
            inbox,
            share,
            order,
        }
    }

    fn code(step: &Step) -> Option<String> {
        let failure = step.failure.as_ref()?;
        let code = failure.extensions.as_ref()?.get("code")?;
        Some(code.to_string())
    }

    #[tokio::test]
    async fn a_wave_steps_each_subscription_until_it_waits_again() {
        let loaders = loaders();
        let mut first = live(subscription(Interest::Article(1)));
        let mut second = live(subscription(Interest::Article(1)));
        let timeout = Duration::from_secs(5);
        let steps = run(&loaders, vec![&mut first, &mut second], timeout).await;
        assert!(steps.iter().all(|s| s.responses.is_empty() && !s.ended));
        first.inbox.push(ADDED);
        first.inbox.push(ADDED);
        second.inbox.push(ADDED);
        let steps = run(&loaders, vec![&mut first, &mut second], timeout).await;
        let answered: Vec<usize> = steps.iter().map(|s| s.responses.len()).collect();
        assert_eq!(answered, [2, 1]);
        assert!(steps.iter().all(|s| !s.ended && s.failure.is_none()));
    }

    #[tokio::test]
    async fn an_ended_execution_says_so() {
        let loaders = loaders();
        let inbox = Arc::new(Inbox::default());
        let stream = stream::iter([answer(ADDED)]).boxed();
        let mut sub = live((stream, inbox));
        let steps = run(&loaders, vec![&mut sub], Duration::from_secs(5)).await;
        assert_eq!(steps[0].responses.len(), 1);
        assert!(steps[0].ended);
    }

    /// Runs `broken` beside a subscription with one event to answer: `broken` fails with
    /// INTERNAL_SERVER_ERROR, the other answers.
    async fn fails_alone(broken: BoxStream<'static, Response>, timeout: Duration) {
        let loaders = loaders();
        // Pending and not waiting on its inbox: when it does not panic, it never finishes.
        let mut broken = live((broken, Arc::default()));
        let mut fine = live(subscription(Interest::Article(1)));
        fine.inbox.push(ADDED);
        let steps = run(&loaders, vec![&mut broken, &mut fine], timeout).await;
        assert_eq!(
            code(&steps[0]).as_deref(),
            Some("\"INTERNAL_SERVER_ERROR\"")
        );
        assert!(steps[1].failure.is_none());
        assert_eq!(steps[1].responses.len(), 1);
    }

    #[tokio::test]
    async fn a_panicking_step_fails_only_its_own_subscription() {
        let panicking = stream::poll_fn(|_| -> Poll<Option<Response>> { panic!("a bug") });
        fails_alone(panicking.boxed(), Duration::from_secs(5)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_that_outlasts_the_timeout_fails_and_the_others_answer() {
        fails_alone(stream::pending().boxed(), Duration::from_secs(1)).await;
    }
}
