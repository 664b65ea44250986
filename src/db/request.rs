//! One pooled connection per request, shared by everything the request reads.
//!
//! diesel-async pipelines statements sent through a shared `&AsyncPgConnection`: the
//! DataLoaders of one request, resolving concurrently, write their statements to one
//! connection back to back instead of each waiting for a connection of its own. The
//! connection is taken from the pool on first use and returned when the request ends.
//!
//! Every statement sent on it is counted through diesel's instrumentation, so the count
//! can be reported per request (`extensions.sqlStatements`) and asserted by tests.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use tokio::sync::OnceCell;

use super::{DbConn, DbError, PgPool, connect};

/// The read connection of one request, taken lazily.
pub struct RequestDb {
    pool: PgPool,
    conn: OnceCell<DbConn>,
    statements: Arc<AtomicUsize>,
}

impl RequestDb {
    /// A handle that takes a connection from `pool` when the request first reads.
    pub fn new(pool: &PgPool) -> Arc<Self> {
        Arc::new(Self {
            pool: pool.clone(),
            conn: OnceCell::new(),
            statements: Arc::default(),
        })
    }

    /// The request's connection: share it (`&mut &*conn`) to pipeline concurrent reads.
    pub async fn conn(&self) -> Result<&AsyncPgConnection, DbError> {
        let conn = self
            .conn
            .get_or_try_init(|| async {
                let mut conn = connect(&self.pool).await?;
                conn.set_instrumentation(StatementCounter(Arc::clone(&self.statements)));
                Ok::<_, DbError>(conn)
            })
            .await?;
        Ok(conn)
    }

    /// How many SQL statements this request has sent on its connection so far.
    pub fn statements(&self) -> usize {
        self.statements.load(Ordering::Relaxed)
    }
}

impl Drop for RequestDb {
    fn drop(&mut self) {
        // The connection goes back to the pool: stop counting into this request.
        if let Some(conn) = self.conn.get_mut() {
            conn.set_instrumentation(NoCounting);
        }
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
