//! Business rules with no GraphQL and no HTTP in them: validation, policies, passwords,
//! tokens, and the account and session flows that tie them to the database.

pub mod accounts;
pub mod articles;
pub mod comments;
pub mod notifications;
pub mod password;
pub mod policy;
pub mod sessions;
pub mod slug;
pub mod social;
pub mod tokens;
pub mod validation;
