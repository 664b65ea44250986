//! One pooled connection per request, shared by everything the request reads.
//!
//! diesel-async pipelines statements sent through a shared `&AsyncPgConnection`: the
//! DataLoaders of one request, resolving concurrently, write their statements to one
//! connection back to back instead of each waiting for a connection of its own. The
//! connection is taken from the pool on first use and returned when the request ends,
//! or earlier with [`RequestDb::release`].
//!
//! Every statement sent on it is counted through diesel's instrumentation, so the count
//! can be reported per request (`extensions.sqlStatements`) and asserted by tests. So is
//! every statement of the connections the request's writes take with [`connect`] while
//! it runs inside [`RequestDb::counting`] (a task-local counter): a mutation's count is
//! its reads and its writes.

use std::{
    future::Future,
    ops::{Deref, DerefMut},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};

use deadpool::managed::TimeoutType;
use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::{AsyncConnection, AsyncPgConnection, pooled_connection::deadpool::PoolError};
use tokio::sync::Mutex;

use super::{DbConn, DbError, PgPool, pool};

tokio::task_local! {
    /// The statement counter of the request this task is running, if any.
    static STATEMENTS: Arc<AtomicUsize>;
}

/// A pooled connection (see [`pool::connect`]) for a write or a flow's own read; inside
/// [`RequestDb::counting`], its statements count into that request.
pub async fn connect(pool: &PgPool) -> Result<WriteConn, DbError> {
    let mut conn = pool::connect(pool).await?;
    if let Ok(counter) = STATEMENTS.try_with(Arc::clone) {
        conn.set_instrumentation(StatementCounter(counter));
    }
    Ok(WriteConn(conn))
}

/// A connection from [`connect`]; dereferences to the connection, and stops counting
/// when dropped (returned to the pool).
pub struct WriteConn(DbConn);

impl Deref for WriteConn {
    type Target = AsyncPgConnection;

    fn deref(&self) -> &AsyncPgConnection {
        &self.0
    }
}

impl DerefMut for WriteConn {
    fn deref_mut(&mut self) -> &mut AsyncPgConnection {
        &mut self.0
    }
}

impl Drop for WriteConn {
    fn drop(&mut self) {
        self.0.set_instrumentation(NoCounting);
    }
}

/// The read connection of one request, taken lazily.
pub struct RequestDb {
    pool: PgPool,
    conn: Mutex<Option<ReadConn>>,
    /// Set when taking a connection failed: the request's other reads fail at once
    /// instead of each waiting out the pool's wait again.
    failed: AtomicBool,
    statements: Arc<AtomicUsize>,
}

impl RequestDb {
    /// A handle that takes a connection from `pool` when the request first reads.
    pub fn new(pool: &PgPool) -> Arc<Self> {
        Arc::new(Self {
            pool: pool.clone(),
            conn: Mutex::new(None),
            failed: AtomicBool::new(false),
            statements: Arc::default(),
        })
    }

    /// The request's connection. Concurrent reads through it pipeline.
    pub async fn conn(&self) -> Result<ReadConn, DbError> {
        let mut slot = self.conn.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        if self.failed.load(Ordering::Relaxed) {
            return Err(DbError::Unavailable(PoolError::Timeout(TimeoutType::Wait)));
        }
        let mut conn = pool::connect(&self.pool).await.inspect_err(|_| {
            self.failed.store(true, Ordering::Relaxed);
        })?;
        conn.set_instrumentation(StatementCounter(Arc::clone(&self.statements)));
        let conn = ReadConn(Arc::new(Counted(conn)));
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Gives the connection back to the pool (once reads in flight finish); the next read
    /// takes one again. A mutation calls this before its transaction takes a connection
    /// of its own, so that no request ever holds one connection while waiting for another.
    ///
    /// It also forgets a failed checkout: the next read tries the pool again.
    pub async fn release(&self) {
        self.conn.lock().await.take();
        self.failed.store(false, Ordering::Relaxed);
    }

    /// How many SQL statements this request has sent on its connections so far.
    pub fn statements(&self) -> usize {
        self.statements.load(Ordering::Relaxed)
    }

    /// Runs `work` (the request's execution) so that the connections its writes take
    /// with [`connect`] count into this request too.
    pub async fn counting<F: Future>(&self, work: F) -> F::Output {
        STATEMENTS.scope(Arc::clone(&self.statements), work).await
    }
}

/// A handle on a request's read connection; dereferences to the connection.
#[derive(Clone)]
pub struct ReadConn(Arc<Counted>);

impl Deref for ReadConn {
    type Target = AsyncPgConnection;

    fn deref(&self) -> &AsyncPgConnection {
        &self.0.0
    }
}

/// A pooled connection counting into a request; stops counting when returned.
struct Counted(DbConn);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set_instrumentation(NoCounting);
    }
}

/// Counts each statement as it starts.
struct StatementCounter(Arc<AtomicUsize>);

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The instrumentation of a connection no request holds.
struct NoCounting;

impl Instrumentation for NoCounting {
    fn on_connection_event(&mut self, _event: InstrumentationEvent<'_>) {}
}
