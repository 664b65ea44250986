//! Queries on `notifications`.
