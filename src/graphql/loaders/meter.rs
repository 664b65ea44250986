//! The response meter: the bytes of text one request has loaded so far, counted as its
//! rows arrive (by [`super::Measured`] for every batch and by the article lists), against
//! `RESPONSE_MAX_BYTES`. Past the limit every further load of the request is refused and
//! the pipeline answers `RESPONSE_TOO_LARGE` with no data.
//!
//! May call: `db` (the row types it weighs), `error`.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use crate::{
    db::{articles::ArticleRow, comments::CommentRow, keyset::Page, users::UserRow},
    error::AppError,
};

/// What one request may load, and what it has loaded.
#[derive(Debug)]
pub struct ResponseMeter {
    limit: usize,
    used: AtomicUsize,
}

impl ResponseMeter {
    /// A meter refusing loads past `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            used: AtomicUsize::new(0),
        }
    }

    /// A meter that never refuses (the hub's loaders, shared by subscriptions).
    pub fn unlimited() -> Self {
        Self::new(usize::MAX)
    }

    /// The limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The bytes it may still load before refusing.
    pub fn remaining(&self) -> usize {
        self.limit.saturating_sub(self.used.load(Ordering::Relaxed))
    }

    /// True once the request has loaded more than its limit.
    pub fn exceeded(&self) -> bool {
        self.used.load(Ordering::Relaxed) > self.limit
    }

    /// Fails when the limit is already passed: a load not worth starting.
    pub fn check(&self) -> Result<(), AppError> {
        if self.exceeded() {
            return Err(self.refusal());
        }
        Ok(())
    }

    /// Counts `bytes` just loaded; fails when they take the request past its limit.
    pub fn charge(&self, bytes: usize) -> Result<(), AppError> {
        let before = self.used.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > self.limit {
            // Saturate rather than wrap on a later charge.
            self.used.store(usize::MAX, Ordering::Relaxed);
            return Err(self.refusal());
        }
        Ok(())
    }

    fn refusal(&self) -> AppError {
        AppError::ResponseTooLarge { limit: self.limit }
    }
}

impl Default for ResponseMeter {
    fn default() -> Self {
        Self::unlimited()
    }
}

/// The bytes of text a loaded value brings into the response.
pub trait TextBytes {
    /// Its text's length in bytes.
    fn text_bytes(&self) -> usize;
}

impl<T: TextBytes> TextBytes for Arc<T> {
    fn text_bytes(&self) -> usize {
        T::text_bytes(self)
    }
}

impl TextBytes for bool {
    fn text_bytes(&self) -> usize {
        0
    }
}

impl TextBytes for ArticleRow {
    fn text_bytes(&self) -> usize {
        let tags: usize = self.tags.0.iter().map(String::len).sum();
        self.slug.len() + self.title.len() + self.description.len() + self.body.len() + tags
    }
}

impl TextBytes for CommentRow {
    fn text_bytes(&self) -> usize {
        self.body.len()
    }
}

impl TextBytes for UserRow {
    fn text_bytes(&self) -> usize {
        let optional = |text: &Option<String>| text.as_ref().map_or(0, String::len);
        self.username.len() + self.email.len() + optional(&self.bio) + optional(&self.image)
    }
}

impl<T: TextBytes> TextBytes for Page<T> {
    fn text_bytes(&self) -> usize {
        self.rows.iter().map(T::text_bytes).sum()
    }
}

impl TextBytes for crate::db::notifications::NotificationRow {
    fn text_bytes(&self) -> usize {
        0
    }
}

impl TextBytes for crate::db::sessions::SessionRow {
    fn text_bytes(&self) -> usize {
        let optional = |text: &Option<String>| text.as_ref().map_or(0, String::len);
        optional(&self.user_agent) + optional(&self.client_ip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_past_the_limit_and_stays_refusing() {
        let meter = ResponseMeter::new(10);
        assert!(meter.charge(10).is_ok());
        assert!(meter.check().is_ok());
        assert!(meter.charge(1).is_err());
        assert!(meter.exceeded());
        assert!(meter.check().is_err());
        assert!(meter.charge(0).is_err());
        assert!(ResponseMeter::unlimited().charge(usize::MAX).is_ok());
    }
}
