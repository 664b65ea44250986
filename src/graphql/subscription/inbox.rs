//! One subscription's side of the hub: what it listens to ([`Interest`], set by its
//! resolver when it starts) and the events waiting for it ([`Inbox`]). Which events
//! reach which subscription is decided here.
//!
//! May call: `domain` (the events).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    task::{Poll, Waker},
};

use futures_util::Stream;

use crate::domain::events::Event;

/// What a subscription listens to, set by its resolver when it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    /// Events of one article (its comments, edits, deletion).
    Article(i64),
    /// The notifications of one user.
    Notifications(i64),
}

impl Interest {
    /// True when `event` concerns the subscriptions with this interest.
    pub(super) fn wants(self, event: &Event) -> bool {
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

    /// What the subscription listens to, once its resolver has started.
    pub(super) fn interest(&self) -> Option<Interest> {
        self.lock().interest
    }

    /// Hands `event` to the subscription, waking its resolver.
    pub(super) fn push(&self, event: Event) {
        let mut state = self.lock();
        state.events.push_back(event);
        state.waiting = false;
        if let Some(waker) = state.waker.take() {
            waker.wake();
        }
    }

    /// True when the resolver has taken every event and waits for the next: the
    /// subscription has nothing more to do until then.
    pub(super) fn idle(&self) -> bool {
        let state = self.lock();
        state.interest.is_some() && state.waiting && state.events.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{FutureExt, StreamExt};

    use super::*;

    const ADDED: Event = Event::CommentAdded {
        article: 1,
        comment: 10,
    };

    #[test]
    fn an_article_subscription_wants_its_articles_events_only() {
        let interest = Interest::Article(1);
        for event in [
            ADDED,
            Event::CommentDeleted {
                article: 1,
                comment: 10,
            },
            Event::ArticleUpdated { article: 1 },
            Event::ArticleDeleted { article: 1 },
        ] {
            assert!(interest.wants(&event), "{event:?}");
        }
        for event in [
            Event::CommentAdded {
                article: 2,
                comment: 11,
            },
            Event::ArticleUpdated { article: 2 },
            Event::ArticlePublished { article: 1 },
            Event::NotificationAdded {
                recipient: 1,
                notification: 5,
            },
            Event::SessionRevoked { session: 1 },
        ] {
            assert!(!interest.wants(&event), "{event:?}");
        }
    }

    #[test]
    fn a_notification_subscription_wants_its_users_notifications_and_every_publication() {
        let interest = Interest::Notifications(7);
        let mine = Event::NotificationAdded {
            recipient: 7,
            notification: 5,
        };
        let theirs = Event::NotificationAdded {
            recipient: 8,
            notification: 6,
        };
        assert!(interest.wants(&mine));
        assert!(!interest.wants(&theirs));
        assert!(interest.wants(&Event::ArticlePublished { article: 3 }));
        assert!(!interest.wants(&ADDED));
        assert!(!interest.wants(&Event::SessionsRevoked { user: 7, except: 1 }));
    }

    #[test]
    fn only_the_articles_deletion_ends_an_article_subscription() {
        let interest = Interest::Article(1);
        assert!(interest.ends_with(&Event::ArticleDeleted { article: 1 }));
        assert!(!interest.ends_with(&Event::ArticleDeleted { article: 2 }));
        assert!(!interest.ends_with(&ADDED));
        let notifications = Interest::Notifications(1);
        assert!(!notifications.ends_with(&Event::ArticleDeleted { article: 1 }));
    }

    #[test]
    fn the_inbox_yields_events_in_order_and_is_idle_only_when_drained() {
        let inbox = Arc::new(Inbox::default());
        assert_eq!(inbox.interest(), None);
        assert!(!inbox.idle(), "not started");
        let mut events = Box::pin(Arc::clone(&inbox).listen(Interest::Article(1)));
        assert_eq!(inbox.interest(), Some(Interest::Article(1)));
        assert!(!inbox.idle(), "not polled yet");
        assert_eq!(events.next().now_or_never(), None, "nothing yet");
        assert!(inbox.idle());
        let updated = Event::ArticleUpdated { article: 1 };
        inbox.push(ADDED);
        inbox.push(updated);
        assert!(!inbox.idle());
        assert_eq!(events.next().now_or_never(), Some(Some(ADDED)));
        assert_eq!(events.next().now_or_never(), Some(Some(updated)));
        assert!(!inbox.idle(), "not asked for more yet");
        assert_eq!(events.next().now_or_never(), None);
        assert!(inbox.idle());
    }

    #[test]
    fn the_articles_deletion_ends_the_stream() {
        let inbox = Arc::new(Inbox::default());
        let mut events = Box::pin(Arc::clone(&inbox).listen(Interest::Article(1)));
        inbox.push(ADDED);
        inbox.push(Event::ArticleDeleted { article: 1 });
        assert_eq!(events.next().now_or_never(), Some(Some(ADDED)));
        assert_eq!(events.next().now_or_never(), Some(None));
    }
}
