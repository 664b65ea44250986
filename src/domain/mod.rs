//! Business rules with no GraphQL and no HTTP in them: validation, policies, passwords,
//! tokens, the account and session flows that tie them to the database, and the events
//! each write announces ([`events`]). Each flow takes what it uses (the pool, the
//! password hasher, the event announcer), never the application state.
//!
//! May call: `db`.

pub mod accounts;
pub mod articles;
pub mod body_html;
pub mod clock;
pub mod comments;
pub mod devices;
pub mod email;
pub mod email_tokens;
pub mod events;
pub mod ids;
pub mod keys;
pub mod link_previews;
pub mod mail;
pub mod markdown;
pub mod notifications;
pub mod password;
pub mod policy;
pub mod sessions;
pub mod slug;
pub mod social;
pub mod tokens;
pub mod unsubscribe;
pub mod validation;
pub mod webhooks;
