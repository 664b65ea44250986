//! Which subscriptions answer alike. Two subscriptions with the same document, operation,
//! variables and viewer, listening to the same thing ([`super::Interest`], set when each
//! started), yield the same responses for every event: what an execution reads is its
//! inputs, its viewer (guards and viewer flags) and the event, never the socket it came
//! from (the client IP and User-Agent are read only by mutations, which a subscription
//! cannot run). So a hub shard runs one execution per group of alike subscriptions
//! concerned by an event and hands its responses to every member; with 10,000 readers of
//! one article subscribed anonymously, an event costs one execution instead of 10,000.
//!
//! Each subscription still starts on its own (its article is looked up by slug then, and
//! that answer may differ from an earlier subscriber's), so sharing begins after the
//! start, once the interests can be compared.
//!
//! May call: `domain` (viewers).

use std::sync::Arc;

use async_graphql::Variables;

use crate::domain::policy::Viewer;

/// What makes two subscriptions' executions alike: the document's text, the operation's
/// name, the variables (as JSON) and the viewer, in one string. Spelled differently
/// (another key order in a variable's object, other whitespace) is another key: never
/// shared wrongly, only less.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ShareKey(Arc<str>);

impl ShareKey {
    /// The key of a subscription to `query`'s `operation_name` with `variables`, for
    /// `viewer`.
    pub fn new(
        query: &str,
        operation_name: Option<&str>,
        variables: &Variables,
        viewer: Option<Viewer>,
    ) -> Self {
        let variables = serde_json::to_string(variables).unwrap_or_default();
        let viewer = viewer.map_or_else(String::new, |v| {
            format!("{}:{}:{:?}", v.user_id, v.session_id, v.role)
        });
        // The separators cannot occur in a viewer, an operation name or JSON text; the
        // query comes last, so whatever it holds cannot shift the other parts.
        let key = format!(
            "{viewer}\u{0}{}\u{0}{variables}\u{0}{query}",
            operation_name.unwrap_or("")
        );
        Self(key.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::policy::Role;

    fn variables(slug: &str) -> Variables {
        Variables::from_json(serde_json::json!({ "slug": slug }))
    }

    #[test]
    fn alike_only_when_every_input_and_the_viewer_are() {
        let query = "subscription($slug: String!) { commentAdded(articleSlug: $slug) { id } }";
        let viewer = Viewer {
            user_id: 1,
            session_id: 2,
            role: Role::User,
        };
        let key = |q: &str, op: Option<&str>, slug: &str, v: Option<Viewer>| {
            ShareKey::new(q, op, &variables(slug), v)
        };
        let anonymous = key(query, None, "a", None);
        assert_eq!(anonymous, key(query, None, "a", None));
        assert_ne!(anonymous, key(query, None, "b", None));
        assert_ne!(anonymous, key(query, Some("Named"), "a", None));
        assert_ne!(anonymous, key(&format!("{query} "), None, "a", None));
        assert_ne!(anonymous, key(query, None, "a", Some(viewer)));
        let other_session = Viewer {
            session_id: 3,
            ..viewer
        };
        assert_ne!(
            key(query, None, "a", Some(viewer)),
            key(query, None, "a", Some(other_session))
        );
    }
}
