//! The gate every operation passes, whichever way it comes in (HTTP GET or POST, a query,
//! mutation or subscription over WebSocket, a persisted query's text): before the
//! executor, the query limits ([`super::limits`]), introspection when it is off, and the
//! cost budget; after it, a code on every error, the cost report and the metrics.
//!
//! [`super::execution`], the one operation pipeline, is the gate's only caller: it calls
//! [`Gate::parse`], then [`Gate::admit`] and [`Gate::charge`], then [`Gate::finish`] (or
//! [`Gate::refused`] when it stops early). These are not async-graphql schema extensions on purpose: with any
//! extension registered, async-graphql 7 leaves its fast path for *every field it
//! resolves* (it builds a `ResolveInfo`, looks the field's type up by name in the
//! registry, and runs a chain of boxed futures, one per extension). On list pages that
//! chain was about a fifth of Conduit's CPU (bench/RESULTS.md), to run hooks that only
//! need to run once per request.
//!
//! An operation's complexity is spent from the caller's budget ([`Gate::charge`]) once the
//! document has passed the limits and the pipeline has its memory reservation, before
//! validation: a document that fails validation is charged too (it was parsed, measured
//! and validated all the same); one the memory budget refuses is not.
//!
//! It may call the other admission checks of [`super`] (limits, introspection, the
//! documents cache, error codes), the cost budget in `ratelimit`, and the `metrics` leaf.

use std::{sync::Arc, time::Instant};

use async_graphql::{
    Response, ServerError, Variables,
    parser::types::{ExecutableDocument, OperationType},
    value,
};

use super::{
    document,
    document::cache::Documents,
    error::{code_errors, with_code},
    introspection,
    limits::{self, Estimate, QueryLimits},
    subscription::is_request_error,
};
use crate::{
    domain::{devices::UserAgent, policy::Viewer},
    error::ErrorCode,
    metrics::{GraphqlOutcome, Metrics},
    ratelimit::{
        ClientIp,
        budget::{Charge, CostBudget, Spender},
    },
};

/// What the gate checks operations against and records them in, one per instance (built
/// by the composition root from the configuration).
pub struct Gate {
    /// Recently parsed documents, by their text.
    pub documents: Arc<Documents>,
    /// The document limits.
    pub limits: QueryLimits,
    /// Whether introspection is allowed.
    pub introspection: bool,
    /// Each user's and anonymous IP's cost budget (`None`: off).
    pub budget: Option<Arc<CostBudget>>,
    /// Where operations are recorded.
    pub metrics: Arc<Metrics>,
}

/// One operation on its way through the gate: what the metrics and the cost report need
/// once it is over.
#[derive(Debug)]
pub struct Ticket {
    started: Instant,
    /// The operation's name: the one the client sent, or the document's only one.
    name: Option<String>,
    /// The selected operation's type, once the document is parsed (`None` when the name
    /// selects nothing).
    ty: Option<OperationType>,
    /// What it spent from the caller's budget.
    charge: Option<Charge>,
    /// What it is expected to take, once admitted.
    estimate: Estimate,
}

impl Ticket {
    /// Starts timing the operation the client calls `operation_name`.
    pub fn new(operation_name: Option<&str>) -> Self {
        Self {
            started: Instant::now(),
            name: operation_name.map(str::to_owned),
            ty: None,
            charge: None,
            estimate: Estimate::default(),
        }
    }

    /// What the admitted operation is expected to take (zero before [`Gate::admit`]).
    pub fn estimate(&self) -> Estimate {
        self.estimate
    }

    /// The selected operation's type, once [`Gate::parse`] has read the document.
    pub fn operation_type(&self) -> Option<OperationType> {
        self.ty
    }

    /// Starts the operation's clock again: a transport that authenticates after preparing
    /// (a WebSocket query) keeps its authentication out of the measured duration.
    pub fn restart_clock(&mut self) {
        self.started = Instant::now();
    }
}

/// Who an operation is for: the signed-in viewer, the client's address and its
/// User-Agent.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The viewer named by the credentials, if any.
    pub viewer: Option<Viewer>,
    /// The client's IP, when known (budgets and throttles of anonymous callers).
    pub ip: Option<ClientIp>,
    /// The request's User-Agent, if it sent one (kept by the sessions it signs in).
    pub user_agent: Option<UserAgent>,
}

impl Gate {
    /// Checks the text's size and tokens, then parses it (or finds it parsed before) and
    /// notes which operation it selects. Each refusal is a request error with its code.
    pub fn parse(
        &self,
        ticket: &mut Ticket,
        query: &str,
    ) -> Result<Arc<ExecutableDocument>, ServerError> {
        limits::check_text(query, &self.limits)?;
        let document = self
            .documents
            .parse(query)
            .map_err(|err| with_code(ServerError::from(err), ErrorCode::GraphqlParseFailed))?;
        let (name, ty) = selected_operation(&document, ticket.name.as_deref());
        ticket.name = name;
        ticket.ty = ty;
        Ok(document)
    }

    /// Checks the parsed document (NUL characters, the limits, introspection when it is
    /// off) and notes its [`Estimate`]; [`Gate::charge`] then spends it.
    pub fn admit(
        &self,
        ticket: &mut Ticket,
        query: &str,
        document: &ExecutableDocument,
        variables: &Variables,
    ) -> Result<(), ServerError> {
        let estimate = limits::check_document(
            query,
            document,
            variables,
            &self.limits,
            ticket.name.as_deref(),
        )?;
        ticket.estimate = estimate;
        if !self.introspection {
            introspection::refuse(document)?;
        }
        Ok(())
    }

    /// Spends the admitted operation's complexity from the caller's budget: the viewer's,
    /// or the client IP's when anonymous.
    pub fn charge(&self, ticket: &mut Ticket, caller: &Caller) -> Result<(), ServerError> {
        let cost = ticket.estimate.complexity;
        let Some(budget) = &self.budget else {
            return Ok(());
        };
        let spender = match (caller.viewer, caller.ip) {
            (Some(viewer), _) => Spender::User(viewer.user_id),
            (None, Some(ClientIp(ip))) => Spender::anonymous(ip),
            (None, None) => return Ok(()),
        };
        ticket.charge = Some(budget.spend(spender, cost).map_err(limits::over_budget)?);
        Ok(())
    }

    /// After the executor: codes every execution error, reports the cost in
    /// `extensions.cost` (`{"requested", "limit", "remaining"}`) and records the operation
    /// in the metrics. Returns `true` when it failed before execution (validation: no
    /// data, errors without a path), recorded as rejected.
    #[must_use]
    pub fn finish(&self, ticket: Ticket, response: &mut Response) -> bool {
        code_errors(&mut response.errors);
        if is_request_error(response) {
            self.refused(ticket, &response.errors);
            return true;
        }
        if let Some(charge) = ticket.charge {
            response.extensions.insert(
                limits::COST_KEY.to_owned(),
                value!({
                    "requested": charge.cost,
                    "limit": charge.limit,
                    "remaining": charge.remaining,
                }),
            );
        }
        let outcome = if response.errors.is_empty() {
            GraphqlOutcome::Ok
        } else {
            GraphqlOutcome::Error
        };
        self.metrics.graphql_request(
            ticket.name.as_deref(),
            ticket.ty,
            outcome,
            ticket.started.elapsed(),
        );
        false
    }

    /// Records an operation refused before it ran, with `errors` saying why: a query
    /// limit's code is counted in `conduit_query_limit_rejections_total`, and a query or
    /// mutation in the request metrics (subscriptions are not requests that end, and are
    /// not counted there).
    pub fn refused(&self, ticket: Ticket, errors: &[ServerError]) {
        if ticket.ty != Some(OperationType::Subscription) {
            self.metrics.graphql_request(
                ticket.name.as_deref(),
                ticket.ty,
                GraphqlOutcome::Rejected,
                ticket.started.elapsed(),
            );
        }
        for error in errors {
            if let Some(async_graphql::Value::String(code)) =
                error.extensions.as_ref().and_then(|e| e.get("code"))
            {
                self.metrics.query_limit_rejected(code);
            }
        }
    }
}

/// The name and type of the operation `requested` selects in `document`, as the executor
/// will choose it: the named one, or the only one. An unknown name keeps the name, with
/// no type.
fn selected_operation(
    document: &ExecutableDocument,
    requested: Option<&str>,
) -> (Option<String>, Option<OperationType>) {
    let selected = document::operation(document, requested);
    let name = requested
        .map(str::to_owned)
        .or_else(|| selected.and_then(|(name, _)| name).map(ToString::to_string));
    (name, selected.map(|(_, op)| op.ty))
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    #[test]
    fn selects_the_operation_the_executor_would() {
        let select = |query: &str, name: Option<&str>| {
            selected_operation(&parse_query(query).unwrap(), name)
        };
        assert_eq!(select("{ a }", None), (None, Some(OperationType::Query)));
        assert_eq!(
            select("mutation M { a }", None),
            (Some("M".into()), Some(OperationType::Mutation))
        );
        assert_eq!(
            select("query A { a } mutation B { b }", Some("B")),
            (Some("B".into()), Some(OperationType::Mutation))
        );
        assert_eq!(
            select("query A { a } mutation B { b }", Some("C")),
            (Some("C".into()), None)
        );
        assert_eq!(select("query A { a } query B { b }", None), (None, None));
        assert_eq!(select("{ a }", Some("X")), (Some("X".into()), None));
    }
}
