//! `Query`: the root of every read.

use async_graphql::Object;

use super::types::user::User;

/// The root of every read.
#[derive(Debug, Default, Clone, Copy)]
pub struct Query;

/// The root of every read.
#[Object]
impl Query {
    /// The signed-in user; null for anonymous requests.
    async fn viewer(&self) -> Option<User> {
        // Accounts do not exist yet: every request is anonymous.
        None
    }
}
