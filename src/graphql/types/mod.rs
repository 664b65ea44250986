//! One module per schema entity.

pub mod article;
pub mod auth;
pub mod tag;
pub mod user;
