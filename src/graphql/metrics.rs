//! Records every GraphQL query and mutation in `conduit_graphql_requests_total` and
//! `conduit_graphql_request_duration_seconds` (see [`crate::metrics`]), and documents a
//! query limit refused in `conduit_query_limit_rejections_total`.
//!
//! A schema extension, so that HTTP and WebSocket operations alike are counted: both run
//! through the executor. Its hooks, per request:
//!
//! - `prepare_request` notes the operation name the client asked for;
//! - `parse_query` notes the selected operation's name and type from the document (it
//!   must be the **last** extension registered, so that it sees the document before the
//!   limits and introspection checks, which may refuse it);
//! - `execute` notes that the operation ran (otherwise it was `rejected`);
//! - `request` times the whole request and records it with the final response.
//!
//! Transports record what they refuse before the executor (a document that does not
//! parse, a mutation over GET) themselves, through [`crate::metrics::Metrics`].

use std::{
    sync::{Arc, Mutex},
    time::Instant,
};

use async_graphql::{
    Request, Response, ServerResult, Value, Variables,
    extensions::{
        Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery,
        NextPrepareRequest, NextRequest,
    },
    parser::types::{DocumentOperations, ExecutableDocument, OperationType},
};

use crate::metrics::{GraphqlOutcome, Metrics};

/// The extension factory, holding the instance's metrics.
pub struct RecordMetrics(pub Arc<Metrics>);

impl ExtensionFactory for RecordMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestMetrics {
            metrics: Arc::clone(&self.0),
            seen: Mutex::default(),
        })
    }
}

/// One request's extension: what its hooks saw so far.
struct RequestMetrics {
    metrics: Arc<Metrics>,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    /// The `operationName` the client sent.
    requested: Option<String>,
    /// The selected operation's name and type, once the document is known.
    selected: Option<(Option<String>, Option<OperationType>)>,
    /// The operation ran.
    executed: bool,
}

impl RequestMetrics {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestMetrics {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let response = next.run(ctx).await;
        let elapsed = started.elapsed();
        let seen = std::mem::take(&mut *self.seen());
        let outcome = if !seen.executed {
            GraphqlOutcome::Rejected
        } else if response.errors.is_empty() {
            GraphqlOutcome::Ok
        } else {
            GraphqlOutcome::Error
        };
        let (name, ty) = seen.selected.unwrap_or((seen.requested, None));
        self.metrics
            .graphql_request(name.as_deref(), ty, outcome, elapsed);
        if outcome == GraphqlOutcome::Rejected {
            for error in &response.errors {
                if let Some(Value::String(code)) =
                    error.extensions.as_ref().and_then(|e| e.get("code"))
                {
                    self.metrics.query_limit_rejected(code);
                }
            }
        }
        response
    }

    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        self.seen().requested = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut seen = self.seen();
        let selected = selected_operation(&document, seen.requested.as_deref());
        seen.selected = Some(selected);
        drop(seen);
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        self.seen().executed = true;
        next.run(ctx, operation_name).await
    }
}

/// The name and type of the operation `requested` selects in `document`, as the executor
/// will choose it: the named one, or the only one. An unknown name keeps the name, with
/// no type.
pub fn selected_operation(
    document: &ExecutableDocument,
    requested: Option<&str>,
) -> (Option<String>, Option<OperationType>) {
    let ty = super::response_order::operation(document, requested).map(|op| op.ty);
    let name = match (&document.operations, requested) {
        (_, Some(name)) => Some(name.to_owned()),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.keys().next().map(ToString::to_string)
        }
        _ => None,
    };
    (name, ty)
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
