//! Delivery of the transactional outbox: the workers that claim due messages
//! ([`worker`]) and the senders that carry them out of Conduit (email over SMTP, webhooks
//! over HTTPS). A message is written by `domain`, in the transaction of the change that
//! causes it (`db::outbox::enqueue`); nothing here runs inside a request.
//!
//! Guarantees: a committed message is sent at least once (a worker that dies loses
//! nothing: its lease expires and another worker takes over), a rolled-back one never;
//! receivers dedupe on the message's id (`webhook-id`, the email's `Message-ID`).
//!
//! May call: `domain`, `db`, and the leaves.

pub mod email;
pub mod webhook;
pub mod worker;

use std::future::Future;

pub use crate::db::outbox::{Claimed as Message, Queue};

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver took the message.
    Delivered,
    /// It failed in a way worth another attempt (timeout, refused, 5xx, 4xx).
    Retry,
    /// It failed for good (a webhook endpoint answered 410 Gone, the message cannot be
    /// built): no more attempts, the message is FAILED at once.
    GiveUp,
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// How it ended.
    pub outcome: Outcome,
    /// The receiver's status (HTTP status, SMTP reply code), when it answered.
    pub response_status: Option<i32>,
    /// Why it failed, when it did (kept short: it is shown to the owner).
    pub error: Option<String>,
}

impl Attempt {
    /// A delivered attempt.
    pub fn delivered(response_status: Option<i32>) -> Self {
        Self {
            outcome: Outcome::Delivered,
            response_status,
            error: None,
        }
    }

    /// A failed attempt worth retrying.
    pub fn retry(response_status: Option<i32>, error: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::Retry,
            response_status,
            error: Some(error.into()),
        }
    }

    /// A failed attempt not worth retrying.
    pub fn give_up(response_status: Option<i32>, error: impl Into<String>) -> Self {
        Self {
            outcome: Outcome::GiveUp,
            response_status,
            error: Some(error.into()),
        }
    }
}

/// Carries the messages of one queue out. The worker bounds each call by the attempt
/// timeout (a call past it counts as a failed attempt), and records what it returns.
pub trait Sender: Send + Sync + 'static {
    /// Makes one attempt at delivering `message`.
    fn send(&self, message: &Message) -> impl Future<Output = Attempt> + Send;
}
