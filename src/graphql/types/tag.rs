//! The `Tag` type.

use async_graphql::SimpleObject;

use crate::db::tags::TagRow;

/// A tag and how many articles carry it.
#[derive(Debug, Clone, SimpleObject)]
pub struct Tag {
    /// The tag, lower-case.
    pub name: String,
    /// How many articles carry it.
    pub articles_count: i32,
}

impl From<TagRow> for Tag {
    fn from(row: TagRow) -> Self {
        Self {
            name: row.name,
            articles_count: row.articles_count,
        }
    }
}
