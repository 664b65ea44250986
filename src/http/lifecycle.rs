//! The instance's lifecycle as the HTTP layer sees it: shutdown signalling, and the count
//! of open WebSockets (which outlive their upgrade request, so the server tracks them
//! itself). Calls nothing else in the crate.

use tokio::sync::watch;

/// What graceful shutdown needs beyond axum's: WebSockets outlive their HTTP upgrade
/// request, so the server tracks them itself.
#[derive(Clone, Default)]
pub struct Lifecycle {
    stopping: watch::Sender<bool>,
    sockets: watch::Sender<usize>,
}

impl Lifecycle {
    /// Tells every open WebSocket to close (with 1001).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Completes once [`Lifecycle::stop`] has been called.
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut stopping = self.stopping.subscribe();
        async move {
            let _ = stopping.wait_for(|stopping| *stopping).await;
        }
    }

    /// Counts an open WebSocket until the returned guard is dropped.
    pub fn socket(&self) -> SocketGuard {
        self.sockets.send_modify(|n| *n += 1);
        SocketGuard(self.sockets.clone())
    }

    /// How many WebSockets are open.
    pub fn open_sockets(&self) -> usize {
        *self.sockets.borrow()
    }

    /// Completes when no WebSocket is open.
    pub async fn sockets_closed(&self) {
        let _ = self.sockets.subscribe().wait_for(|n| *n == 0).await;
    }
}

/// One open WebSocket, counted by [`Lifecycle`].
pub struct SocketGuard(watch::Sender<usize>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}
