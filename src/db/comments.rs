//! Queries on `comments`.
