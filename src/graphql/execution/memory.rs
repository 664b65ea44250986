//! The instance's memory budget for requests in flight (`REQUEST_MEMORY_BUDGET_BYTES`),
//! and [`Held`]: what one reply holds of it, with the response meter its operations
//! share, until the transport has written the reply.
//!
//! May call the response meter ([`super::super::loaders`]) and the admission's
//! [`Estimate`].

use std::{sync::Arc, time::Duration};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::super::{limits::Estimate, loaders::ResponseMeter};

/// The memory bounds of the requests in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryLimits {
    /// Most bytes of text one reply may load (`RESPONSE_MAX_BYTES`, 8 MiB): one
    /// operation, a whole HTTP batch, or one operation over WebSocket.
    pub response_max_bytes: usize,
    /// What all operations in flight may reserve together (`REQUEST_MEMORY_BUDGET_BYTES`,
    /// 512 MiB).
    pub budget_bytes: usize,
    /// Longest wait for a reservation (`REQUEST_MEMORY_WAIT_MS`, 1000).
    pub wait: Duration,
}

impl Default for MemoryLimits {
    fn default() -> Self {
        Self {
            response_max_bytes: 8 << 20,
            budget_bytes: 512 << 20,
            wait: Duration::from_millis(1000),
        }
    }
}

/// The budget's unit: permits are KiB, so budgets beyond 4 GiB fit a semaphore.
const PERMIT_BYTES: usize = 1024;

/// What one reply holds: the meter all its operations' text is counted against, and the
/// reservations of those that ran. The transport drops it once the reply is rendered
/// (HTTP) or handed to the socket (WebSocket).
#[derive(Debug)]
pub struct Held {
    pub(super) meter: Arc<ResponseMeter>,
    permits: Vec<OwnedSemaphorePermit>,
}

/// The instance's memory budget: a semaphore weighted by the admission's estimate.
pub(super) struct MemoryBudget {
    pub(super) limits: MemoryLimits,
    permits: Arc<Semaphore>,
    /// The most permits one operation takes: all of them.
    total: u32,
}

impl MemoryBudget {
    pub(super) fn new(limits: MemoryLimits) -> Self {
        let total = limits
            .budget_bytes
            .div_ceil(PERMIT_BYTES)
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        Self {
            limits,
            permits: Arc::new(Semaphore::new(total)),
            total: total as u32,
        }
    }

    /// A fresh reply: nothing reserved, a meter of `RESPONSE_MAX_BYTES`.
    pub(super) fn held(&self) -> Held {
        Held {
            meter: Arc::new(ResponseMeter::new(self.limits.response_max_bytes)),
            permits: Vec::new(),
        }
    }

    /// Reserves into `held` what an operation estimated at `estimate` may hold: its
    /// estimate, at most the text `held`'s meter still allows plus its other fields
    /// ([`Estimate::held_bytes`]), at most the whole budget; waits at most the configured
    /// bound. False when the budget stayed full.
    pub(super) async fn reserve(&self, estimate: Estimate, held: &mut Held) -> bool {
        let bytes = estimate.held_bytes(held.meter.remaining());
        let permits = (bytes.div_ceil(PERMIT_BYTES) as u64).clamp(1, u64::from(self.total));
        let acquire = Arc::clone(&self.permits).acquire_many_owned(permits as u32);
        match tokio::time::timeout(self.limits.wait, acquire).await {
            Ok(Ok(permit)) => {
                held.permits.push(permit);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reply_holds_its_reservations_and_each_is_clamped() {
        let budget = MemoryBudget::new(MemoryLimits {
            response_max_bytes: 100 << 10,
            budget_bytes: 1 << 20,
            wait: Duration::ZERO,
        });
        // Estimated at 10 MiB, of one field: holds at most 100 KiB of text plus 256.
        let big = Estimate {
            complexity: 1,
            bytes: 10 << 20,
        };
        let mut held = budget.held();
        assert!(budget.reserve(big, &mut held).await);
        assert_eq!(budget.permits.available_permits(), 1024 - 101);
        assert!(budget.reserve(big, &mut held).await);
        assert_eq!(budget.permits.available_permits(), 1024 - 202);
        drop(held);
        assert_eq!(budget.permits.available_permits(), 1024);
        // Past the whole budget: all of it, once.
        let huge = Estimate {
            complexity: 10_000,
            bytes: 10 << 20,
        };
        let mut held = budget.held();
        assert!(budget.reserve(huge, &mut held).await);
        assert!(!budget.reserve(huge, &mut budget.held()).await);
    }
}
