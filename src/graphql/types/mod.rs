//! One module per schema entity.

pub mod user;
