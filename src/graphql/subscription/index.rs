//! A hub shard's subscriptions indexed by what they listen to ([`Interest`]), so that an
//! event finds the subscriptions it concerns ([`Audience`]) without being held against
//! every subscription of the shard: an article's events look up that article, a
//! notification its recipient, and a publication every notification subscription
//! (who follows the author is answered by their batched load).
//!
//! May call: the rest of [`super`].

use std::collections::{HashMap, HashSet};

use super::{
    hub::SubKey,
    inbox::{Audience, Interest},
};

/// The subscriptions of one shard by interest.
#[derive(Debug, Default)]
pub(super) struct Index {
    /// By article id.
    articles: HashMap<i64, HashSet<SubKey>>,
    /// By the id of the user whose notifications they follow.
    notifications: HashMap<i64, HashSet<SubKey>>,
}

impl Index {
    fn map(&mut self, interest: Interest) -> (&mut HashMap<i64, HashSet<SubKey>>, i64) {
        match interest {
            Interest::Article(id) => (&mut self.articles, id),
            Interest::Notifications(user) => (&mut self.notifications, user),
        }
    }

    /// Files subscription `key` under `interest` (again: filing twice is harmless).
    pub(super) fn insert(&mut self, key: SubKey, interest: Interest) {
        let (map, id) = self.map(interest);
        map.entry(id).or_default().insert(key);
    }

    /// Takes subscription `key` out from under `interest`.
    pub(super) fn remove(&mut self, key: SubKey, interest: Interest) {
        let (map, id) = self.map(interest);
        if let Some(keys) = map.get_mut(&id) {
            keys.remove(&key);
            if keys.is_empty() {
                map.remove(&id);
            }
        }
    }

    /// The subscriptions `audience` names.
    pub(super) fn concerned(&self, audience: Audience) -> Vec<SubKey> {
        let found = |map: &HashMap<i64, HashSet<SubKey>>, id| {
            map.get(&id)
                .map(|keys| keys.iter().copied().collect())
                .unwrap_or_default()
        };
        match audience {
            Audience::Only(Interest::Article(id)) => found(&self.articles, id),
            Audience::Only(Interest::Notifications(user)) => found(&self.notifications, user),
            Audience::EveryNotifications => {
                self.notifications.values().flatten().copied().collect()
            }
            Audience::Nobody => Vec::new(),
        }
    }

    /// The articles some subscription follows.
    pub(super) fn articles(&self) -> Vec<i64> {
        self.articles.keys().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut keys: Vec<SubKey>) -> Vec<SubKey> {
        keys.sort_unstable();
        keys
    }

    #[test]
    fn an_audience_finds_exactly_the_subscriptions_filed_under_it() {
        let mut index = Index::default();
        index.insert((1, 1), Interest::Article(10));
        index.insert((2, 1), Interest::Article(10));
        index.insert((2, 2), Interest::Article(11));
        index.insert((3, 1), Interest::Notifications(7));
        index.insert((4, 1), Interest::Notifications(8));
        let article = |id| Audience::Only(Interest::Article(id));
        assert_eq!(sorted(index.concerned(article(10))), [(1, 1), (2, 1)]);
        assert_eq!(index.concerned(article(11)), [(2, 2)]);
        assert!(index.concerned(article(12)).is_empty());
        let notifications = Audience::Only(Interest::Notifications(7));
        assert_eq!(index.concerned(notifications), [(3, 1)]);
        assert_eq!(
            sorted(index.concerned(Audience::EveryNotifications)),
            [(3, 1), (4, 1)]
        );
        assert!(index.concerned(Audience::Nobody).is_empty());
        let mut articles = index.articles();
        articles.sort_unstable();
        assert_eq!(articles, [10, 11]);
    }

    #[test]
    fn removing_forgets_a_subscription_and_its_empty_interest() {
        let mut index = Index::default();
        index.insert((1, 1), Interest::Article(10));
        index.insert((1, 1), Interest::Article(10));
        index.insert((1, 2), Interest::Article(10));
        index.remove((1, 1), Interest::Article(10));
        let audience = Audience::Only(Interest::Article(10));
        assert_eq!(index.concerned(audience), [(1, 2)], "filed once");
        index.remove((1, 2), Interest::Article(10));
        index.remove((1, 2), Interest::Article(10));
        assert!(index.concerned(audience).is_empty());
        assert!(index.articles().is_empty(), "the article is forgotten");
    }
}
