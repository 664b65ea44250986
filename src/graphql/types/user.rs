//! The `User` type.

use async_graphql::{ID, SimpleObject};

/// A registered account and its public profile.
#[derive(Debug, Clone, SimpleObject)]
pub struct User {
    /// Opaque global ID.
    pub id: ID,
    /// Unique public name: 3–32 letters, digits, `_` or `-`.
    pub username: String,
}
