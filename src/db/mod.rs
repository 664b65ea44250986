//! Database access: the pool, migrations and, later, one module of queries per table.
//! SQL lives here and nowhere else.

pub mod bootstrap;
pub mod pool;
pub mod sessions;
pub mod users;
#[rustfmt::skip]
pub mod schema;

pub use pool::{DbConn, DbError, PgPool, build_pool, connect};
