//! Integration tests: the real router, the real binary, a real PostgreSQL.

mod accounts;
mod articles;
mod comments;
mod cors_and_request_ids;
mod database;
mod email_guard;
mod faults;
mod helpers;
mod http_audit;
mod ide_and_probes;
mod js_clients;
mod live;
mod notifications;
mod pagination;
mod production;
mod publishing_guards;
mod query_plans;
mod schema_export;
mod seed;
mod server_process;
mod sessions;
mod social;
mod statement_counts;
mod subscriptions;
mod transport;
mod ws_protocol;
