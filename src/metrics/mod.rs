//! Prometheus metrics: what the instance counts, and the text `GET /metrics` serves.
//!
//! One [`Metrics`] per instance, in the application state (so each test app has its own).
//! It is handed to what records: the gate every GraphQL operation passes, the HTTP
//! middleware, the loaders (for batch sizes) and the rate limits. A leaf: it imports
//! nothing from the layers, and knows no other module's list — routes and loaders name
//! themselves.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `conduit_graphql_requests_total` | counter | `operation`, `type`, `outcome` |
//! | `conduit_graphql_request_duration_seconds` | histogram | `operation`, `type` |
//! | `conduit_http_requests_total` | counter | `method`, `path`, `status` |
//! | `conduit_http_request_duration_seconds` | histogram | `method`, `path` |
//! | `conduit_db_pool_max_size`, `conduit_db_pool_size`, `conduit_db_pool_available`, `conduit_db_pool_waiting` | gauge | |
//! | `conduit_websockets_open` | gauge | |
//! | `conduit_subscriptions_active` | gauge | |
//! | `conduit_loader_batch_size` | histogram | `loader` |
//! | `conduit_rate_limited_total` | counter | `limit` |
//! | `conduit_query_limit_rejections_total` | counter | `code` |
//! | `conduit_budget_store_fallback_total` | counter | |
//! | `conduit_connection_limit_refusals_total` | counter | `limit` ([`ConnectionLimit`]) |
//! | `conduit_http_requests_in_flight` | gauge | |
//! | `conduit_memory_refusals_total` | counter | `reason` (`budget`, `response_too_large`) |
//! | `conduit_outbox_attempts_total` | counter | `queue`, `outcome` ([`OutboxMetrics`]) |
//! | `conduit_outbox_attempt_duration_seconds` | histogram | `queue` |
//! | `conduit_outbox_messages` | gauge | `queue`, `status` |
//! | `conduit_outbox_oldest_pending_seconds` | gauge | `queue` |
//!
//! **GraphQL requests** are queries and mutations, over HTTP and WebSocket alike (both run
//! through the executor), one per operation of a JSON batch; subscriptions are followed by
//! `conduit_subscriptions_active` instead. `type` is `query`, `mutation`, `subscription`
//! (only ever `rejected`: one sent over HTTP) or `unknown` (the document did not parse, or
//! names no operation it holds). `outcome` is `ok` (no errors), `error` (it ran, with
//! errors) or `rejected` (refused before running: parse, validation, query limits, a
//! mutation over GET). The duration is the executor's (HTTP transport and authentication
//! excluded).
//!
//! **Operation names are bounded.** They come from clients, so `operation` is:
//! - `""` for an anonymous operation;
//! - the name, if it matches `^[A-Za-z_][A-Za-z0-9_]{0,63}$` (every GraphQL name up to 64
//!   characters) and is one of the first `METRICS_OPERATION_NAMES` (200) distinct names
//!   that *ran* on this instance — a request refused before running never adds a name;
//! - `other` for anything else (an operation actually named `other` shares that series).
//!
//! So a client sending random names adds at most 200 series per label combination.
//!
//! **Routes and loaders name themselves.** `path` is the route the request matched
//! (axum's [`MatchedPath`]: the router's template, never the request's own path) or
//! `other` when it matched none; `loader` is the `&'static str` a loader passes. Both come
//! from code, so their label sets are as small as the router and the loaders.
//!
//! **Gauges are read at scrape time**: the pool's `status()`, the open
//! WebSockets and the live subscriptions ([`LiveCounts`]).
//!
//! The text is the Prometheus text exposition format, version 0.0.4.

mod connections;
mod labels;
mod operation_names;
mod outbox;

use std::{sync::RwLock, time::Duration};

use async_graphql::parser::types::OperationType;
use axum::{
    extract::MatchedPath,
    http::{Method, StatusCode},
};
use prometheus_client::{
    encoding::prometheus_text,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

pub use self::connections::{ConnectionLimit, ConnectionMetrics};
pub use self::labels::{GraphqlOutcome, Limit};
pub use self::outbox::OutboxMetrics;
use self::{
    labels::{
        CodeLabels, GraphqlLabels, HttpLabels, LimitLabels, LoaderLabels, OperationLabels,
        RouteLabels, method_label, type_label,
    },
    operation_names::OperationNames,
};
use crate::error::ErrorCode;

/// The `Content-Type` of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// The default of `METRICS_OPERATION_NAMES`: most distinct operation names used as labels.
pub const DEFAULT_OPERATION_NAMES: usize = 200;

/// The `path` label of requests that matched no route.
pub const OTHER_PATH: &str = "other";

/// Request durations, in seconds: 1 ms to 15 s (the default request timeout).
const DURATION_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0,
];

/// Keys per loader batch: a page is at most 100, a hub batch spans every subscriber.
const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// The query limits' codes, each a `code` of `conduit_query_limit_rejections_total`.
const QUERY_LIMIT_CODES: [ErrorCode; 6] = [
    ErrorCode::DocumentTooLarge,
    ErrorCode::TokenLimitExceeded,
    ErrorCode::DepthLimitExceeded,
    ErrorCode::AliasLimitExceeded,
    ErrorCode::RootFieldLimitExceeded,
    ErrorCode::ComplexityLimitExceeded,
];

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn durations() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

fn batch_sizes() -> Histogram {
    Histogram::new(BATCH_BUCKETS)
}

/// What the scrape-time gauges show, read from the running instance.
#[derive(Debug, Clone, Copy, Default)]
pub struct LiveCounts {
    /// Most connections the pool may hold.
    pub pool_max_size: usize,
    /// Connections the pool holds.
    pub pool_size: usize,
    /// Idle connections in the pool.
    pub pool_available: usize,
    /// Requests waiting for a connection.
    pub pool_waiting: usize,
    /// Open WebSockets.
    pub open_websockets: usize,
    /// Live subscriptions.
    pub subscriptions: usize,
}

/// The instance's metrics, and the registry they are rendered from.
pub struct Metrics {
    registry: Registry,
    names: OperationNames,
    graphql_requests: Family<GraphqlLabels, Counter>,
    graphql_durations: Histograms<OperationLabels>,
    http_requests: Family<HttpLabels, Counter>,
    http_durations: Histograms<RouteLabels>,
    rate_limited: Family<LimitLabels, Counter>,
    query_limit_rejections: Family<CodeLabels, Counter>,
    memory_refusals: Family<labels::ReasonLabels, Counter>,
    pool_max_size: Gauge,
    pool_size: Gauge,
    pool_available: Gauge,
    pool_waiting: Gauge,
    websockets_open: Gauge,
    subscriptions_active: Gauge,
    loader_batches: Histograms<LoaderLabels>,
    budget_store_fallbacks: Counter,
    /// The connection limits' refusals and the requests in flight.
    pub connections: ConnectionMetrics,
    /// The outbox's attempts, latency and depth.
    pub outbox: OutboxMetrics,
    /// Every route label seen, kept for the process's life: the router's route patterns
    /// only (axum's `MatchedPath`), so the list stays as short as the route table.
    routes: RwLock<Vec<&'static str>>,
}

impl Default for Metrics {
    /// Metrics with [`DEFAULT_OPERATION_NAMES`].
    fn default() -> Self {
        Self::new(DEFAULT_OPERATION_NAMES)
    }
}

impl Metrics {
    /// Fresh metrics, labelling at most `operation_names` distinct operation names.
    pub fn new(operation_names: usize) -> Self {
        let mut registry = Registry::default();
        let graphql_requests = Family::default();
        registry.register(
            "conduit_graphql_requests",
            "GraphQL queries and mutations, by operation name, type and outcome",
            Family::clone(&graphql_requests),
        );
        let graphql_durations = Histograms::new_with_constructor(durations as fn() -> _);
        registry.register(
            "conduit_graphql_request_duration_seconds",
            "Time to execute a GraphQL query or mutation, in seconds",
            graphql_durations.clone(),
        );
        let http_requests = Family::default();
        registry.register(
            "conduit_http_requests",
            "HTTP requests, by method, route and status",
            Family::clone(&http_requests),
        );
        let http_durations = Histograms::new_with_constructor(durations as fn() -> _);
        registry.register(
            "conduit_http_request_duration_seconds",
            "Time to answer an HTTP request (until the response head), in seconds",
            http_durations.clone(),
        );
        let rate_limited: Family<LimitLabels, Counter> = Family::default();
        for limit in Limit::ALL {
            rate_limited.get_or_create_owned(&LimitLabels {
                limit: limit.as_str(),
            });
        }
        registry.register(
            "conduit_rate_limited",
            "Calls refused with RATE_LIMITED, by limit",
            rate_limited.clone(),
        );
        let query_limit_rejections: Family<CodeLabels, Counter> = Family::default();
        for code in QUERY_LIMIT_CODES {
            query_limit_rejections.get_or_create_owned(&CodeLabels {
                code: code.as_str(),
            });
        }
        registry.register(
            "conduit_query_limit_rejections",
            "GraphQL documents refused by a query limit, by error code",
            query_limit_rejections.clone(),
        );
        let memory_refusals: Family<labels::ReasonLabels, Counter> = Family::default();
        for reason in ["budget", "response_too_large"] {
            memory_refusals.get_or_create_owned(&labels::ReasonLabels { reason });
        }
        registry.register(
            "conduit_memory_refusals",
            "Operations refused for memory: the budget for requests in flight stayed full \
             (budget), or what one loaded passed RESPONSE_MAX_BYTES (response_too_large)",
            memory_refusals.clone(),
        );
        let mut gauge = |name: &str, help: &str| {
            let gauge = Gauge::default();
            registry.register(name, help, gauge.clone());
            gauge
        };
        let pool_max_size = gauge(
            "conduit_db_pool_max_size",
            "Most connections the database pool may hold",
        );
        let pool_size = gauge(
            "conduit_db_pool_size",
            "Connections the database pool holds (in use or idle)",
        );
        let pool_available = gauge(
            "conduit_db_pool_available",
            "Idle connections in the database pool",
        );
        let pool_waiting = gauge(
            "conduit_db_pool_waiting",
            "Requests waiting for a pooled database connection",
        );
        let websockets_open = gauge("conduit_websockets_open", "Open WebSockets");
        let subscriptions_active = gauge(
            "conduit_subscriptions_active",
            "Live GraphQL subscriptions on this instance",
        );
        let loader_batches = Histograms::new_with_constructor(batch_sizes as fn() -> _);
        registry.register(
            "conduit_loader_batch_size",
            "Keys per DataLoader batch load, by loader",
            loader_batches.clone(),
        );
        let budget_store_fallbacks = Counter::default();
        registry.register(
            "conduit_budget_store_fallback",
            "Times the shared cost budget (Redis) was unreachable and fell back to per instance",
            budget_store_fallbacks.clone(),
        );
        let connections = ConnectionMetrics::register(&mut registry);
        let outbox = OutboxMetrics::register(&mut registry);
        Self {
            outbox,
            budget_store_fallbacks,
            connections,
            registry,
            names: OperationNames::new(operation_names),
            graphql_requests,
            graphql_durations,
            http_requests,
            http_durations,
            rate_limited,
            query_limit_rejections,
            memory_refusals,
            pool_max_size,
            pool_size,
            pool_available,
            pool_waiting,
            websockets_open,
            subscriptions_active,
            loader_batches,
            routes: RwLock::default(),
        }
    }

    /// Records one GraphQL request: `name` is the operation's name as the client gave it
    /// (bounded as the module doc says), `ty` its type when known.
    pub fn graphql_request(
        &self,
        name: Option<&str>,
        ty: Option<OperationType>,
        outcome: GraphqlOutcome,
        elapsed: Duration,
    ) {
        let operation = self.names.label(name, outcome != GraphqlOutcome::Rejected);
        let r#type = type_label(ty);
        self.graphql_requests
            .get_or_create(&GraphqlLabels {
                operation: operation.clone(),
                r#type,
                outcome: outcome.as_str(),
            })
            .inc();
        self.graphql_durations
            .get_or_create(&OperationLabels { operation, r#type })
            .observe(elapsed.as_secs_f64());
    }

    /// Records one HTTP request to `route` (the route it matched; `None`: none, or one
    /// not labelled) answered with `status`.
    pub fn http_request(
        &self,
        method: &Method,
        route: Option<&MatchedPath>,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let route = RouteLabels {
            method: method_label(method),
            path: route.map_or(OTHER_PATH, |route| self.route_label(route.as_str())),
        };
        self.http_durations
            .get_or_create(&route)
            .observe(elapsed.as_secs_f64());
        self.http_requests
            .get_or_create(&HttpLabels {
                method: route.method,
                path: route.path,
                status: status.as_u16(),
            })
            .inc();
    }

    /// `route` as a label that lives as long as the process, without allocating once
    /// the route has been seen.
    fn route_label(&self, route: &str) -> &'static str {
        let known = |routes: &[&'static str]| routes.iter().copied().find(|r| *r == route);
        if let Some(label) = known(&self.routes.read().unwrap_or_else(|e| e.into_inner())) {
            return label;
        }
        let mut routes = self.routes.write().unwrap_or_else(|e| e.into_inner());
        known(&routes).unwrap_or_else(|| {
            let label: &'static str = Box::leak(route.to_owned().into_boxed_str());
            routes.push(label);
            label
        })
    }

    /// Counts one fall-back of the shared cost budget to per instance (Redis unreachable).
    pub fn budget_store_fell_back(&self) {
        self.budget_store_fallbacks.inc();
    }

    /// Counts one call refused by `limit` (with RATE_LIMITED).
    pub fn rate_limited(&self, limit: Limit) {
        self.rate_limited
            .get_or_create(&LimitLabels {
                limit: limit.as_str(),
            })
            .inc();
    }

    /// Counts a document refused with `code`, if `code` is a query limit's (one of the
    /// `*_LIMIT_EXCEEDED` codes or `DOCUMENT_TOO_LARGE`); other codes are ignored.
    pub fn query_limit_rejected(&self, code: &str) {
        if let Some(code) = QUERY_LIMIT_CODES.iter().find(|c| c.as_str() == code) {
            self.query_limit_rejections
                .get_or_create(&CodeLabels {
                    code: code.as_str(),
                })
                .inc();
        }
    }

    /// Counts an operation refused for memory: `reason` is `budget` or
    /// `response_too_large`.
    pub fn memory_refused(&self, reason: &'static str) {
        self.memory_refusals
            .get_or_create(&labels::ReasonLabels { reason })
            .inc();
    }

    /// The batch-size histogram of the loader named `loader` (created at the first call),
    /// cheap to clone and to record into.
    pub fn loader_batch_sizes(&self, loader: &'static str) -> Histogram {
        self.loader_batches
            .get_or_create_owned(&LoaderLabels { loader })
    }

    /// Every metric in the Prometheus text format, the gauges set from `live` first.
    pub fn render(&self, live: &LiveCounts) -> String {
        let gauge = |gauge: &Gauge, value: usize| {
            gauge.set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        gauge(&self.pool_max_size, live.pool_max_size);
        gauge(&self.pool_size, live.pool_size);
        gauge(&self.pool_available, live.pool_available);
        gauge(&self.pool_waiting, live.pool_waiting);
        gauge(&self.websockets_open, live.open_websockets);
        gauge(&self.subscriptions_active, live.subscriptions);
        let mut text = String::new();
        prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_with_prefilled_limits() {
        let metrics = Metrics::default();
        metrics.rate_limited(Limit::CostBudget);
        metrics.query_limit_rejected("DEPTH_LIMIT_EXCEEDED");
        metrics.query_limit_rejected("BAD_USER_INPUT");
        metrics.loader_batch_sizes("comment_pages");
        let text = metrics.render(&LiveCounts::default());
        for line in [
            "conduit_rate_limited_total{limit=\"auth_account\"} 0",
            "conduit_rate_limited_total{limit=\"cost_budget\"} 1",
            "conduit_query_limit_rejections_total{code=\"DEPTH_LIMIT_EXCEEDED\"} 1",
            "conduit_query_limit_rejections_total{code=\"COMPLEXITY_LIMIT_EXCEEDED\"} 0",
            "conduit_loader_batch_size_count{loader=\"comment_pages\"} 0",
            "conduit_db_pool_max_size 0",
            "conduit_subscriptions_active 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        assert!(!text.contains("BAD_USER_INPUT"), "{text}");
    }
}
