//! One subscription's side of the hub: what it listens to ([`Interest`], set by its
//! resolver when it starts) and the events waiting for it ([`Inbox`]). Which events
//! reach which subscriptions ([`Audience`]) is decided here.
//!
//! May call: `domain` (the events).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    task::{Poll, Waker},
};

use futures_util::Stream;

use crate::domain::events::Event;

/// What a subscription listens to, set by its resolver when it starts. The hub indexes
/// its subscriptions by it ([`super::index`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interest {
    /// Events of one article (its comments, edits, deletion).
    Article(i64),
    /// The notifications of one user.
    Notifications(i64),
}

/// The subscriptions an event concerns, by what they listen to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Audience {
    /// Those with this interest.
    Only(Interest),
    /// Every notification subscription: who follows the author is answered by the
    /// subscriptions' batched load.
    EveryNotifications,
    /// None (revocations go to connections, not subscriptions).
    Nobody,
}

impl Audience {
    /// Who `event` concerns.
    pub(super) fn of(event: &Event) -> Self {
        match *event {
            Event::CommentAdded { article, .. }
            | Event::CommentDeleted { article, .. }
            | Event::ArticleUpdated { article }
            | Event::ArticleDeleted { article } => Self::Only(Interest::Article(article)),
            Event::NotificationAdded { recipient, .. } => {
                Self::Only(Interest::Notifications(recipient))
            }
            Event::ArticlePublished { .. } => Self::EveryNotifications,
            Event::SessionRevoked { .. }
            | Event::SessionsRevoked { .. }
            | Event::RoleChanged { .. } => Self::Nobody,
        }
    }
}

impl Interest {
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
    fn an_articles_events_concern_its_subscriptions() {
        let article = Audience::Only(Interest::Article(1));
        for event in [
            ADDED,
            Event::CommentDeleted {
                article: 1,
                comment: 10,
            },
            Event::ArticleUpdated { article: 1 },
            Event::ArticleDeleted { article: 1 },
        ] {
            assert_eq!(Audience::of(&event), article, "{event:?}");
        }
        let other = Event::CommentAdded {
            article: 2,
            comment: 11,
        };
        assert_eq!(Audience::of(&other), Audience::Only(Interest::Article(2)));
    }

    #[test]
    fn notifications_concern_their_users_subscriptions_and_a_publication_every_one() {
        let mine = Event::NotificationAdded {
            recipient: 7,
            notification: 5,
        };
        assert_eq!(
            Audience::of(&mine),
            Audience::Only(Interest::Notifications(7))
        );
        assert_eq!(
            Audience::of(&Event::ArticlePublished { article: 3 }),
            Audience::EveryNotifications
        );
        for revocation in [
            Event::SessionRevoked { session: 1 },
            Event::SessionsRevoked { user: 7, except: 1 },
            Event::RoleChanged { user: 7 },
        ] {
            assert_eq!(
                Audience::of(&revocation),
                Audience::Nobody,
                "{revocation:?}"
            );
        }
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
