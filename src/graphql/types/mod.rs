//! One module per schema entity.

pub mod article;
pub mod auth;
pub mod comment;
pub mod notification;
pub mod session;
pub mod tag;
pub mod user;
pub mod webhook;
