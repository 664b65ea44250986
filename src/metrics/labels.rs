//! The label sets of every metric family, and the label values that are fixed lists:
//! outcomes, rate limits, operation types and HTTP methods.

use async_graphql::parser::types::OperationType;
use axum::http::Method;
use prometheus_client::encoding::EncodeLabelSet;

/// How a GraphQL request ended, the `outcome` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphqlOutcome {
    /// It ran without errors (`ok`).
    Ok,
    /// It ran, with errors (`error`).
    Error,
    /// It was refused before running: parse, validation, limits (`rejected`).
    Rejected,
}

impl GraphqlOutcome {
    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Error => "error",
            Self::Rejected => "rejected",
        }
    }
}

/// A rate limit, the `limit` label of `conduit_rate_limited_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Sign-in attempts per account from every IP (`auth_account`,
    /// `AUTH_ATTEMPTS_PER_ACCOUNT_TOTAL`).
    AuthAccount,
    /// Sign-in attempts per client IP (`auth_ip`, `AUTH_ATTEMPTS_PER_IP`).
    AuthIp,
    /// A client's query cost budget (`cost_budget`).
    CostBudget,
    /// Attempts per account from one client IP (`auth_account_ip`,
    /// `AUTH_ATTEMPTS_PER_ACCOUNT`).
    AuthAccountIp,
    /// A client's registrations of persisted documents (`persisted_registration`,
    /// `PERSISTED_QUERY_REGISTRATIONS_PER_MINUTE`).
    PersistedRegistration,
}

impl Limit {
    /// Every limit, in label order.
    pub const ALL: [Limit; 5] = [
        Self::AuthAccount,
        Self::AuthIp,
        Self::CostBudget,
        Self::AuthAccountIp,
        Self::PersistedRegistration,
    ];

    /// The label value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AuthAccount => "auth_account",
            Self::AuthIp => "auth_ip",
            Self::CostBudget => "cost_budget",
            Self::AuthAccountIp => "auth_account_ip",
            Self::PersistedRegistration => "persisted_registration",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
/// The labels of `conduit_graphql_requests_total`.
pub(super) struct GraphqlLabels {
    pub(super) operation: String,
    pub(super) r#type: &'static str,
    pub(super) outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
/// The labels of `conduit_graphql_request_duration_seconds`.
pub(super) struct OperationLabels {
    pub(super) operation: String,
    pub(super) r#type: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
/// The labels of `conduit_http_requests_total`.
pub(super) struct HttpLabels {
    pub(super) method: &'static str,
    pub(super) path: &'static str,
    pub(super) status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
/// The labels of `conduit_http_request_duration_seconds`.
pub(super) struct RouteLabels {
    pub(super) method: &'static str,
    pub(super) path: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
/// The labels of `conduit_rate_limited_total`.
pub(super) struct LimitLabels {
    pub(super) limit: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
/// The labels of `conduit_query_limit_rejections_total`.
pub(super) struct CodeLabels {
    pub(super) code: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
/// The labels of `conduit_memory_refusals_total`.
pub(super) struct ReasonLabels {
    pub(super) reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
/// The labels of `conduit_loader_batch_size`.
pub(super) struct LoaderLabels {
    pub(super) loader: &'static str,
}

/// The `type` label of an operation type (`unknown` when it could not be told).
pub(super) fn type_label(ty: Option<OperationType>) -> &'static str {
    match ty {
        Some(OperationType::Query) => "query",
        Some(OperationType::Mutation) => "mutation",
        Some(OperationType::Subscription) => "subscription",
        None => "unknown",
    }
}

/// The `method` label: the usual methods by name, anything else `other`.
pub(super) fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::OPTIONS => "OPTIONS",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}
