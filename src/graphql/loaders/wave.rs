//! Waves: the batch loads of a request queued, not spawned, and run a level at a time by
//! [`LoadQueue::drive`] (see the module above for why statement counts depend on it).
//!
//! May call: nothing of the crate.

use std::{
    pin::pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context as TaskContext, Poll, Wake, Waker},
};

use futures_util::{
    StreamExt,
    future::{BoxFuture, poll_fn},
    stream::FuturesUnordered,
    task::AtomicWaker,
};

/// Batch loads waiting to run on the request's task.
#[derive(Default)]
pub struct LoadQueue {
    pending: Mutex<Vec<BoxFuture<'static, ()>>>,
    waker: AtomicWaker,
}

impl LoadQueue {
    pub(super) fn push(&self, load: BoxFuture<'static, ()>) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(load);
        self.waker.wake();
    }

    fn has_pending(&self) -> bool {
        !self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Runs `work` (an execution using these loaders) to completion, running the batch
    /// loads it queues after each of its passes. Loads queued here never run otherwise.
    pub async fn drive<F: Future>(&self, work: F) -> F::Output {
        self.drive_wide(work, MAX_PASSES).await
    }

    /// [`LoadQueue::drive`] for an execution made of many concurrent ones (a hub step over
    /// many subscriptions): re-polls it up to `max_passes` times before starting a wave.
    /// futures' `FuturesUnordered` polls at most 32 of its futures before yielding, so
    /// `n` concurrent executions need about `n / 32` passes to all reach their loads.
    pub async fn drive_wide<F: Future>(&self, work: F, max_passes: usize) -> F::Output {
        let mut work = pin!(work);
        let mut loads = FuturesUnordered::new();
        poll_fn(|cx| {
            self.waker.register(cx.waker());
            // Poll the execution until it waits on something real. futures' combinators
            // yield part-way through long lists (and wake themselves to go on); without
            // this, the loads queued so far would start with half of a list's keys.
            let flag = Arc::new(WokenFlag {
                woken: AtomicBool::new(false),
                inner: cx.waker().clone(),
            });
            let waker = Waker::from(Arc::clone(&flag));
            let mut work_cx = TaskContext::from_waker(&waker);
            for _ in 0..max_passes {
                flag.woken.store(false, Ordering::Relaxed);
                if let Poll::Ready(output) = work.as_mut().poll(&mut work_cx) {
                    return Poll::Ready(output);
                }
                if !flag.woken.load(Ordering::Relaxed) {
                    break;
                }
            }
            // A new wave only once the last one is done: what its answers unblock joins
            // the next wave whole, instead of trickling into several.
            if loads.is_empty() {
                loads.extend(self.take());
            }
            // Completed loads wake the resolvers waiting on them, and so this task.
            while let Poll::Ready(Some(())) = loads.poll_next_unpin(cx) {}
            // A wave may end with nobody left to wake us (its waiters gone, e.g. a
            // try_join_all that failed early): start the queued wave on the next poll.
            if loads.is_empty() && self.has_pending() {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        })
        .await
    }
}

/// Most times [`LoadQueue::drive`] re-polls an execution that keeps yielding before it
/// starts the queued loads (a bound, so a busy execution cannot starve its loads).
const MAX_PASSES: usize = 64;

/// A waker that records being woken, then wakes the task.
struct WokenFlag {
    woken: AtomicBool,
    inner: Waker,
}

impl Wake for WokenFlag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Relaxed);
        self.inner.wake_by_ref();
    }
}
