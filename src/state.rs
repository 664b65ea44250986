//! What every request shares: configuration and the database pool. Cheap to clone.

use std::sync::Arc;

use crate::{config::Config, db, domain::password::Passwords};

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    /// The configuration this process started with.
    pub config: Arc<Config>,
    /// The database pool.
    pub pool: db::PgPool,
    /// Password hashing, bounded in concurrency.
    pub passwords: Passwords,
}

impl AppState {
    /// Builds the state; opens no connection yet.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let pool = db::build_pool(&config.database)?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Self {
            config: Arc::new(config),
            pool,
            passwords: Passwords::new(cores),
        })
    }
}
