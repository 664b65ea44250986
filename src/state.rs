//! What every request shares: configuration and the database pool. Cheap to clone.

use std::sync::Arc;

use crate::{config::Config, db};

/// Shared application state.
#[derive(Clone)]
pub struct AppState {
    /// The configuration this process started with.
    pub config: Arc<Config>,
    /// The database pool.
    pub pool: db::PgPool,
}

impl AppState {
    /// Builds the state; opens no connection yet.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let pool = db::build_pool(&config.database)?;
        Ok(Self {
            config: Arc::new(config),
            pool,
        })
    }
}
