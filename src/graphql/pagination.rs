//! Relay cursor connections: argument rules, opaque cursors, and the connection types.
//!
//! Every list is ordered newest first and read by keyset ([`db::keyset`]). A cursor names
//! a position in one particular list: it carries a tag of the list it came from, so a
//! cursor from another list (another type, another filter, another user's list) is
//! refused instead of silently paging somewhere else.

use std::{
    cell::OnceCell,
    sync::{Arc, OnceLock},
};

use async_graphql::{Context, Object, OutputType};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::DateTime;
use sha2::{Digest, Sha256};

use super::loaders::{DeliveryCount, loaders};
use crate::{
    db::{
        self,
        articles::ArticleFilter,
        follows::FollowList,
        keyset::{Direction, Order, Page, PageQuery, Position},
    },
    domain::validation::{FieldErrors, Steps},
    error::AppError,
};

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE: i64 = 20;
/// Largest `first` or `last`.
pub const MAX_PAGE: i64 = 100;

/// A list a connection pages through; its identity tags its cursors.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum List {
    /// Articles matching a filter.
    Articles(ArticleFilter),
    /// Users on one side of someone's follows.
    Follows(FollowList),
    /// The comments on an article.
    Comments(i64),
    /// A user's notifications, or only the unread ones.
    Notifications {
        /// The recipient.
        recipient: i64,
        /// Only unread ones.
        unread_only: bool,
    },
    /// A user's live sessions.
    Sessions(i64),
    /// A user's webhooks.
    Webhooks(i64),
    /// A webhook's deliveries, or only those in one status.
    Deliveries {
        /// The webhook.
        webhook: i64,
        /// Only this status (`outbox.status`).
        status: Option<&'static str>,
    },
}

impl List {
    /// How the list is ordered: comments oldest first, everything else newest first.
    pub fn order(&self) -> Order {
        match self {
            Self::Comments(_) => Order::OldestFirst,
            _ => Order::NewestFirst,
        }
    }

    /// A short digest of the list's identity, carried in its cursors.
    fn tag(&self) -> String {
        let digest = Sha256::digest(format!("{self:?}").as_bytes());
        hex_prefix(&digest[..6])
    }

    /// How many items the list holds.
    async fn count(&self, ctx: &Context<'_>) -> Result<i64, AppError> {
        if let Self::Deliveries { webhook, status } = *self {
            // Batched: a list of webhooks each asking its count is one statement.
            let key = DeliveryCount { webhook, status };
            return Ok(loaders(ctx)
                .delivery_counts
                .load_one(key)
                .await?
                .unwrap_or(0));
        }
        let list = self.clone();
        let rules = super::session_rules(ctx);
        let (now, max_age) = (rules.clock.now(), rules.max_age);
        loaders(ctx)
            .read(move |conn| {
                Box::pin(async move {
                    match list {
                        Self::Articles(filter) => db::articles::count(&conn, &filter).await,
                        Self::Follows(list) => db::follows::count(&conn, list).await,
                        Self::Comments(article) => db::comments::count(&conn, article).await,
                        Self::Notifications {
                            recipient,
                            unread_only,
                        } => db::notifications::count(&conn, recipient, unread_only).await,
                        Self::Sessions(user) => {
                            db::sessions::count_live(&conn, user, now, max_age).await
                        }
                        Self::Webhooks(user) => db::webhooks::count(&conn, user).await,
                        Self::Deliveries { webhook, status } => {
                            let counts = db::deliveries::counts(&conn, &[webhook], status).await?;
                            Ok(counts.first().map_or(0, |(_, n)| *n))
                        }
                    }
                })
            })
            .await
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The four Relay arguments, as given.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    /// `first`.
    pub first: Option<i32>,
    /// `after`.
    pub after: Option<String>,
    /// `last`.
    pub last: Option<i32>,
    /// `before`.
    pub before: Option<String>,
}

impl PageArgs {
    /// The four arguments, as a connection field receives them.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Self {
            first,
            after,
            last,
            before,
        }
    }
}

/// A validated page request on one list.
#[derive(Debug, Clone)]
pub struct PageRequest {
    /// The list.
    pub list: List,
    /// What to read from it.
    pub query: PageQuery,
}

impl PageArgs {
    /// Checks the arguments against `list`: sizes 1–100 (default 20), not `first` with
    /// `last`, `after` only with `first` and `before` only with `last`, and cursors from
    /// this very list. Any violation is BAD_USER_INPUT naming the argument.
    pub fn check(self, list: List) -> Result<PageRequest, AppError> {
        let mut errors = FieldErrors::default();
        for (name, value) in [("first", self.first), ("last", self.last)] {
            if value.is_some_and(|n| !(1..=MAX_PAGE).contains(&i64::from(n))) {
                errors.check(name, Some(format!("must be between 1 and {MAX_PAGE}")));
            }
        }
        if self.first.is_some() && self.last.is_some() {
            errors.check("last", Some("cannot be combined with first".into()));
        }
        if self.after.is_some() && self.before.is_some() {
            errors.check("before", Some("cannot be combined with after".into()));
        } else if self.after.is_some() && self.last.is_some() {
            errors.check(
                "after",
                Some("pages with first; use before with last".into()),
            );
        } else if self.before.is_some() && self.first.is_some() {
            errors.check(
                "before",
                Some("pages with last; use after with first".into()),
            );
        }
        // The tag is a digest: worked out only when there is a cursor to check.
        let tag = OnceCell::new();
        let mut cursor = |name: &str, raw: &Option<String>| {
            let position = raw
                .as_deref()
                .map(|raw| decode_cursor(raw, tag.get_or_init(|| list.tag())));
            match position {
                Some(None) => {
                    errors.check(name, Some("is not a cursor of this list".into()));
                    None
                }
                Some(Some(position)) => Some(position),
                None => None,
            }
        };
        let after = cursor("after", &self.after);
        let before = cursor("before", &self.before);
        errors.into_result()?;

        let backward = self.last.is_some() || self.before.is_some();
        let order = list.order();
        let query = if backward {
            PageQuery {
                order,
                direction: Direction::Backward,
                from: before,
                limit: self.last.map_or(DEFAULT_PAGE, i64::from),
            }
        } else {
            PageQuery {
                order,
                direction: Direction::Forward,
                from: after,
                limit: self.first.map_or(DEFAULT_PAGE, i64::from),
            }
        };
        Ok(PageRequest { list, query })
    }
}

/// Encodes a position in the list tagged `tag`. Clients must treat it as opaque.
fn encode_cursor(tag: &str, position: Position) -> String {
    let micros = position.created_at.timestamp_micros();
    URL_SAFE_NO_PAD.encode(format!("{tag}:{micros}:{}", position.id))
}

/// Longest cursor, in bytes: ours are at most 72 (a 12-digit tag and two `i64`s,
/// base64url); a longer one is refused without decoding it.
pub const CURSOR_MAX_BYTES: usize = 96;

/// Decodes a cursor of the list tagged `tag`; `None` if it is malformed or another's.
fn decode_cursor(cursor: &str, tag: &str) -> Option<Position> {
    if cursor.len() > CURSOR_MAX_BYTES {
        return None;
    }
    Steps::add(cursor.len());
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let mut parts = text.split(':');
    let (found_tag, micros, id) = (parts.next()?, parts.next()?, parts.next()?);
    if found_tag != tag || parts.next().is_some() {
        return None;
    }
    Some(Position {
        created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        id: id.parse().ok()?,
    })
}

/// A list, and the tag of its cursors once one is asked for: most pages are read without
/// cursors, and the tag is a digest.
struct Tagged {
    list: List,
    tag: OnceLock<String>,
}

impl Tagged {
    fn cursor(&self, position: Position) -> String {
        encode_cursor(self.tag.get_or_init(|| self.list.tag()), position)
    }
}

/// A page of a list, with cursors to read on.
pub struct Connection<T> {
    edges: Vec<Edge<T>>,
    has_next: bool,
    has_previous: bool,
    list: Arc<Tagged>,
    /// The list's size when it is known without counting (from a counter column).
    known_total: Option<i64>,
}

impl<T> Connection<T> {
    /// Wraps a page read for `request`; `node` turns each row into its schema object.
    pub fn new<R>(
        request: PageRequest,
        page: Page<R>,
        position: impl Fn(&R) -> Position,
        node: impl Fn(R) -> T,
    ) -> Self {
        let list = Arc::new(Tagged {
            list: request.list,
            tag: OnceLock::new(),
        });
        let (has_next, has_previous) = match request.query.direction {
            Direction::Forward => (page.has_more, request.query.from.is_some()),
            Direction::Backward => (request.query.from.is_some(), page.has_more),
        };
        let edges = page
            .rows
            .into_iter()
            .map(|row| Edge {
                position: position(&row),
                node: node(row),
                list: Arc::clone(&list),
            })
            .collect();
        Self {
            edges,
            has_next,
            has_previous,
            list,
            known_total: None,
        }
    }

    /// Answers `totalCount` with `total` instead of counting.
    pub fn with_total(mut self, total: i64) -> Self {
        self.known_total = Some(total);
        self
    }
}

/// A page of a list, with cursors to read on.
#[Object(
    concrete(name = "ArticleConnection", params(super::types::article::Article)),
    concrete(name = "UserConnection", params(super::types::user::User)),
    concrete(name = "CommentConnection", params(super::types::comment::Comment)),
    concrete(
        name = "NotificationConnection",
        params(super::types::notification::Notification)
    ),
    concrete(name = "SessionConnection", params(super::types::session::Session)),
    concrete(name = "WebhookConnection", params(super::types::webhook::Webhook)),
    concrete(
        name = "WebhookDeliveryConnection",
        params(super::types::webhook::WebhookDelivery)
    )
)]
impl<T: OutputType + Clone> Connection<T>
where
    Edge<T>: OutputType,
{
    /// The items of the page with their cursors, in list order.
    async fn edges(&self) -> &[Edge<T>] {
        &self.edges
    }

    /// The items of the page, in list order (the edges without cursors).
    async fn nodes(&self) -> Vec<T> {
        self.edges.iter().map(|e| e.node.clone()).collect()
    }

    /// Where the page lies in the list.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: self.has_previous,
            start_cursor: self.edges.first().map(Edge::encoded_cursor),
            end_cursor: self.edges.last().map(Edge::encoded_cursor),
        }
    }

    /// How many items the whole list holds (counted only when asked for).
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        if let Some(total) = self.known_total {
            return Ok(total);
        }
        Ok(self.list.list.count(ctx).await?)
    }
}

/// One item of a page and its cursor.
pub struct Edge<T> {
    position: Position,
    node: T,
    list: Arc<Tagged>,
}

impl<T> Edge<T> {
    fn encoded_cursor(&self) -> String {
        self.list.cursor(self.position)
    }
}

/// One item of a page and its cursor.
#[Object(
    concrete(name = "ArticleEdge", params(super::types::article::Article)),
    concrete(name = "UserEdge", params(super::types::user::User)),
    concrete(name = "CommentEdge", params(super::types::comment::Comment)),
    concrete(
        name = "NotificationEdge",
        params(super::types::notification::Notification)
    ),
    concrete(name = "SessionEdge", params(super::types::session::Session)),
    concrete(name = "WebhookEdge", params(super::types::webhook::Webhook)),
    concrete(
        name = "WebhookDeliveryEdge",
        params(super::types::webhook::WebhookDelivery)
    )
)]
impl<T: OutputType + Clone> Edge<T> {
    /// Pass as `after` (or `before`) to read on from this item.
    async fn cursor(&self) -> String {
        self.encoded_cursor()
    }

    /// The item.
    async fn node(&self) -> T {
        self.node.clone()
    }
}

/// Where a page lies in its list.
#[derive(async_graphql::SimpleObject)]
pub struct PageInfo {
    /// True when items follow the page (reading forward with `first`; with `last`,
    /// true when `before` was given).
    pub has_next_page: bool,
    /// True when items precede the page (reading backward with `last`; with `first`,
    /// true when `after` was given).
    pub has_previous_page: bool,
    /// The cursor of the page's first item.
    pub start_cursor: Option<String>,
    /// The cursor of the page's last item.
    pub end_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn articles() -> List {
        List::Articles(ArticleFilter::default())
    }

    #[test]
    fn cursors_round_trip_only_in_their_own_list() {
        let position = Position {
            created_at: DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            id: 7,
        };
        let cursor = encode_cursor(&articles().tag(), position);
        assert_eq!(decode_cursor(&cursor, &articles().tag()), Some(position));
        let tagged = List::Articles(ArticleFilter {
            tag: Some("rust".into()),
            ..ArticleFilter::default()
        });
        assert_eq!(decode_cursor(&cursor, &tagged.tag()), None);
        assert_eq!(decode_cursor("garbage", &articles().tag()), None);
    }

    #[test]
    fn arguments_are_checked() {
        let args = |first, last| PageArgs {
            first,
            last,
            ..PageArgs::default()
        };
        let default = args(None, None).check(articles()).unwrap().query;
        assert_eq!((default.direction, default.limit), (Direction::Forward, 20));
        let back = args(None, Some(5)).check(articles()).unwrap().query;
        assert_eq!((back.direction, back.limit), (Direction::Backward, 5));
        for (first, last) in [(Some(0), None), (Some(101), None), (None, Some(-1))] {
            assert!(args(first, last).check(articles()).is_err());
        }
        assert!(args(Some(1), Some(1)).check(articles()).is_err());
    }
}
