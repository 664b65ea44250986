//! Database access: the pool, migrations, one module of queries per table, and the
//! notify/LISTEN pair live updates travel on. The runtime's SQL lives here and nowhere else (the seed, tooling,
//! writes its bulk statements itself); `db`
//! announces nothing itself (the domain decides what a write announces).
//!
//! Called by `domain` (every write and the flows' reads) and by `graphql`'s loaders and
//! resolvers for plain reads (pages, lookups, counts), by the seed, and by the root.
//! May call: the leaves (`error`, `metrics`), nothing above.

pub mod articles;
pub mod bootstrap;
pub mod comments;
pub mod deletion;
pub mod deliveries;
pub mod email_tokens;
pub mod follows;
pub mod keyset;
pub mod link_previews;
pub mod listen;
pub mod notifications;
pub mod notify;
pub mod outbox;
pub mod persisted_queries;
pub mod pool;
pub mod request;
pub mod sessions;
pub mod tags;
pub mod throttle;
pub mod tls;
pub mod users;
pub mod webhooks;
#[rustfmt::skip]
pub mod schema;

pub use pool::{DatabaseConfig, DbConn, DbError, PgPool, build_pool};
pub use request::{RequestDb, connect};

#[diesel::declare_sql_function]
extern "SQL" {
    /// SQL `lower(text)`, matching the case-insensitive unique indexes.
    fn lower(value: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Two ids from a raw query (`SELECT ... AS a, ... AS b`).
#[derive(diesel::QueryableByName)]
struct IdPair {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    a: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    b: i64,
}
