//! One module per schema entity.

pub mod auth;
pub mod user;
