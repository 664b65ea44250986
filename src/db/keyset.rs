//! Keyset pagination over lists ordered by `(created_at, id)`, newest or oldest first.
//!
//! A page is read from a position (exclusive) in one direction with `LIMIT n + 1`; the
//! extra row only says whether more exist. Never OFFSET: a page costs the same wherever it
//! is in the list.

use chrono::{DateTime, Utc};

/// A position in a list: the sort key of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Position {
    /// The row's timestamp, at full (microsecond) precision.
    pub created_at: DateTime<Utc>,
    /// The row's id, breaking ties between equal timestamps.
    pub id: i64,
}

/// How a list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// Newest first (articles, follows, notifications).
    NewestFirst,
    /// Oldest first (an article's comments).
    OldestFirst,
}

/// Which way to read from the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Along the list's order (`first`/`after`).
    Forward,
    /// Against it (`last`/`before`).
    Backward,
}

/// One page to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageQuery {
    /// The list's order.
    pub order: Order,
    /// Which way to read.
    pub direction: Direction,
    /// Start after (forward) or before (backward) this position; `None` starts at the end
    /// the direction reads from.
    pub from: Option<Position>,
    /// How many rows the page holds at most.
    pub limit: i64,
}

/// The rows of a page, in list order, and whether more lie beyond it in its direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows, in list order.
    pub rows: Vec<T>,
    /// True when the list goes on past the page, in the direction it was read.
    pub has_more: bool,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            has_more: false,
        }
    }
}

impl PageQuery {
    /// The `LIMIT` to send: one more row than the page holds.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }

    /// True when the SQL must read newest first (`ORDER BY ... DESC`).
    pub fn descending(&self) -> bool {
        (self.order == Order::NewestFirst) == (self.direction == Direction::Forward)
    }

    /// For raw SQL (the LATERAL page loaders): the keyset comparison past the cursor and
    /// the `ORDER BY` direction, `("<", "DESC")` or `(">", "ASC")`.
    pub fn sql_order(&self) -> (&'static str, &'static str) {
        if self.descending() {
            ("<", "DESC")
        } else {
            (">", "ASC")
        }
    }

    /// Turns the rows fetched (in reading order, up to `fetch_limit`) into a page.
    pub fn finish<T>(&self, mut rows: Vec<T>) -> Page<T> {
        let has_more = rows.len() as i64 > self.limit;
        rows.truncate(usize::try_from(self.limit).unwrap_or(0));
        if self.direction == Direction::Backward {
            rows.reverse();
        }
        Page { rows, has_more }
    }
}

/// Applies a page to a boxed query: the keyset condition, the order and the limit.
/// `$created` and `$id` are the sort columns.
macro_rules! paginate {
    ($query:expr, $page:expr, $created:expr, $id:expr) => {{
        let page: &$crate::db::keyset::PageQuery = $page;
        let mut query = $query;
        // `created_at <= t` (or `>=`) bounds the index range; the rest settles ties on
        // the id.
        if let Some(p) = page.from {
            query = if page.descending() {
                query.filter(
                    $created
                        .le(p.created_at)
                        .and($created.lt(p.created_at).or($id.lt(p.id))),
                )
            } else {
                query.filter(
                    $created
                        .ge(p.created_at)
                        .and($created.gt(p.created_at).or($id.gt(p.id))),
                )
            };
        }
        let query = if page.descending() {
            query.order(($created.desc(), $id.desc()))
        } else {
            query.order(($created.asc(), $id.asc()))
        };
        query.limit(page.fetch_limit())
    }};
}
pub(crate) use paginate;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_trims_the_probe_row_and_restores_newest_first() {
        let forward = PageQuery {
            order: Order::NewestFirst,
            direction: Direction::Forward,
            from: None,
            limit: 2,
        };
        assert_eq!(
            forward.finish(vec![3, 2, 1]),
            Page {
                rows: vec![3, 2],
                has_more: true
            }
        );
        let backward = PageQuery {
            direction: Direction::Backward,
            ..forward
        };
        assert_eq!(
            backward.finish(vec![1, 2]),
            Page {
                rows: vec![2, 1],
                has_more: false
            }
        );
    }
}
