//! The one operation pipeline, shared by HTTP and WebSocket: it turns what a client sent
//! (a document's text or a persisted query's hash, the operation name, variables,
//! extensions) and who sent it into a request ready for the executor, or a coded refusal.
//!
//! [`Pipeline::prepare`] looks the persisted query up ([`super::persisted`]), starts the
//! operation's [`Ticket`], parses the document and applies the transport's rules
//! ([`Transport`]); then [`Pipeline::execute`] admits a query or mutation
//! ([`super::admission`]), builds its request (viewer, client IP, per-request loaders),
//! runs it and finishes it (error codes, cost report, metrics, registering a persisted
//! query, selection order), while [`Pipeline::subscribe`] admits a subscription and gives
//! its stream for the hub to run. The transports only frame: they read bodies and
//! messages, authenticate, and render an [`Outcome`].
//!
//! **Memory** (`memory.rs`). An admitted query or mutation then reserves what its response
//! may hold (the admission's byte estimate, at most the text its reply may still load
//! plus 256 bytes per unit of complexity, at most the whole budget: one that needs all of
//! it runs alone) from the instance's memory budget (`REQUEST_MEMORY_BUDGET_BYTES`), waiting at
//! most `REQUEST_MEMORY_WAIT_MS` (then `SERVICE_UNAVAILABLE` with `retryAfter`: HTTP 503
//! and `Retry-After`, and nothing charged to the cost budget). The reservation goes into
//! the transport's [`Held`], dropped once the reply is written. While it runs, the text
//! its rows bring is counted as they load (the [`Held`]'s response meter, one per HTTP
//! request, batch included); past `RESPONSE_MAX_BYTES` the whole operation answers
//! `RESPONSE_TOO_LARGE` with `data: null`, no partial data, and later operations of the
//! batch are refused the same way without running.
//!
//! It may call the rest of [`super`] (admission, persisted queries, loaders, response
//! order, error codes), `db` (the request's read connection), the hub's request data and
//! the `domain` types of a caller.

mod memory;

use std::sync::Arc;

use async_graphql::{
    Executor, Extensions, Response, ServerError, Value, Variables,
    parser::types::{ExecutableDocument, OperationType, SelectionSet},
};
use futures_util::{StreamExt, stream::BoxStream};
use serde::Deserialize;

use self::memory::MemoryBudget;
pub use self::memory::{Held, MemoryLimits};
use super::{
    admission::{Caller, Gate, Ticket},
    document,
    error::{code_errors, coded_error, request_errors},
    loaders::{BatchSizes, Loaders},
    persisted::{PersistedQueries, Resolved},
    response_order,
    subscription::{Inbox, ShareKey},
};
use crate::{
    db::RequestDb,
    error::{AppError, ErrorCode},
    metrics::Metrics,
};

/// The `retryAfter` (seconds) of an operation the memory budget could not take.
const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// The parameters of one GraphQL request (GraphQL-over-HTTP's "request parameters"),
/// typed as that spec requires: a wrong type is a request error, unknown keys are
/// ignored. HTTP reads them as they are; WebSocket from its `subscribe` payload.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Params {
    /// The document's text (absent when a persisted query's hash stands for it).
    #[serde(default)]
    pub query: Option<String>,
    /// The operation to run, when the document holds several.
    #[serde(default)]
    pub operation_name: Option<String>,
    /// The variables' values.
    #[serde(default)]
    pub variables: Option<Variables>,
    /// The request extensions (`persistedQuery`).
    #[serde(default)]
    pub extensions: Option<Extensions>,
    /// A persisted document's id, `sha256:<hex>` (the GraphQL-over-HTTP persisted
    /// documents draft's `documentId`, which current clients send): the same as
    /// `extensions.persistedQuery.sha256Hash`.
    #[serde(default)]
    pub document_id: Option<String>,
}

/// How an operation came in, and so which rules it is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// HTTP GET: no mutations (GET must be safe), no subscriptions.
    HttpGet,
    /// HTTP POST: no subscriptions.
    HttpPost,
    /// A WebSocket message: everything, a subscription with exactly one root field.
    WebSocket,
}

impl Transport {
    /// Whether an operation refused at the persisted lookup counts as a rejected request:
    /// over HTTP every request is one; over WebSocket an operation becomes one once its
    /// document is known.
    fn counts_lookup_refusals(self) -> bool {
        self != Self::WebSocket
    }
}

/// How one operation ended.
#[derive(Debug)]
pub enum Outcome {
    /// It ran (possibly with field errors).
    Executed(Response),
    /// The request is malformed (no `query` and no persisted query).
    Malformed(ServerError),
    /// The document failed before execution (persisted lookup, parse, limits, budget or
    /// validation failure).
    Rejected(Vec<ServerError>),
    /// A mutation over a transport that allows none ([`Transport::HttpGet`]).
    MutationNotAllowed,
}

/// An operation whose document is known and allowed on its transport, not admitted yet.
pub struct Prepared {
    ticket: Ticket,
    /// The document's text.
    query: String,
    /// The persisted-query hash to store the text under once it has run.
    register: Option<String>,
    document: Arc<ExecutableDocument>,
    operation_name: Option<String>,
    variables: Variables,
    extensions: Extensions,
}

impl Prepared {
    /// The selected operation's type (`None` when the name selects nothing).
    pub fn operation_type(&self) -> Option<OperationType> {
        self.ticket.operation_type()
    }

    /// See [`Ticket::restart_clock`].
    pub fn restart_clock(&mut self) {
        self.ticket.restart_clock();
    }
}

/// An admitted subscription: its responses (each error coded), and what puts them in
/// selection order ([`in_selection_order`]).
pub struct Subscription {
    /// The executor's responses.
    pub stream: BoxStream<'static, Response>,
    /// The parsed document.
    pub document: Arc<ExecutableDocument>,
    /// The operation's name as the client sent it.
    pub operation_name: Option<String>,
    /// Which subscriptions answer alike (the hub runs one execution for each group).
    pub share: ShareKey,
}

/// The instance's pipeline: the gate and the persisted queries (built by the composition
/// root).
pub struct Pipeline {
    gate: Gate,
    persisted: Arc<PersistedQueries>,
    batch_sizes: BatchSizes,
    memory: MemoryBudget,
}

impl Pipeline {
    /// A pipeline checking operations at `gate` and resolving hashes in `persisted`, with
    /// the default [`MemoryLimits`].
    pub fn new(gate: Gate, persisted: Arc<PersistedQueries>) -> Self {
        let batch_sizes = BatchSizes::new(&gate.metrics);
        Self {
            gate,
            persisted,
            batch_sizes,
            memory: MemoryBudget::new(MemoryLimits::default()),
        }
    }

    /// This pipeline with the memory bounds `limits` (and a budget of its own).
    pub fn with_memory(mut self, limits: MemoryLimits) -> Self {
        self.memory = MemoryBudget::new(limits);
        self
    }

    fn metrics(&self) -> &Metrics {
        &self.gate.metrics
    }

    /// What one reply (a single operation, a whole HTTP batch, one WebSocket operation)
    /// will hold: a fresh response meter, nothing reserved yet. Drop it once the reply
    /// is written.
    pub fn held(&self) -> Held {
        self.memory.held()
    }

    /// [`Pipeline::prepare`], then [`Pipeline::execute`]: a query or mutation from start
    /// to end.
    pub async fn run<E: Executor>(
        &self,
        executor: &E,
        db: &Arc<RequestDb>,
        params: Params,
        transport: Transport,
        caller: Caller,
        held: &mut Held,
    ) -> Outcome {
        match self.prepare(db, params, transport).await {
            Ok(prepared) => self.execute(executor, db, prepared, caller, held).await,
            Err(outcome) => outcome,
        }
    }

    /// Resolves the persisted query (through `db`, the request's read connection), parses
    /// the document and applies `transport`'s rules; the refusal is already recorded.
    pub async fn prepare(
        &self,
        db: &RequestDb,
        params: Params,
        transport: Transport,
    ) -> Result<Prepared, Outcome> {
        let Params {
            query,
            operation_name,
            variables,
            mut extensions,
            document_id,
        } = params;
        if let Some(id) = document_id {
            // As if sent as an Apollo persistedQuery (one lookup path); one sent beside
            // it wins.
            let extensions = extensions.get_or_insert_with(Extensions::default);
            extensions
                .entry("persistedQuery".to_owned())
                .or_insert_with(|| {
                    Value::from_json(serde_json::json!({"version": 1, "sha256Hash": id}))
                        .unwrap_or(Value::Null)
                });
        }
        let mut ticket = Ticket::new(operation_name.as_deref());
        let malformed = query.is_none()
            && !extensions
                .as_ref()
                .is_some_and(|e| e.contains_key("persistedQuery"));
        let resolved = self.persisted.resolve(db, query, extensions.as_ref()).await;
        let Resolved { query, register } = match resolved {
            Ok(resolved) => resolved,
            Err(error) => {
                if transport.counts_lookup_refusals() {
                    self.gate.refused(ticket, std::slice::from_ref(&error));
                }
                return Err(if malformed {
                    Outcome::Malformed(error)
                } else {
                    Outcome::Rejected(vec![error])
                });
            }
        };
        let document = match self.gate.parse(&mut ticket, &query) {
            Ok(document) => document,
            Err(error) => return Err(self.refuse(ticket, error)),
        };
        match (ticket.operation_type(), transport) {
            (Some(OperationType::Mutation), Transport::HttpGet) => {
                self.gate.refused(ticket, &[]);
                return Err(Outcome::MutationNotAllowed);
            }
            (Some(OperationType::Subscription), Transport::HttpGet | Transport::HttpPost) => {
                let error = coded_error(
                    ErrorCode::BadRequest,
                    "Subscriptions are served over WebSocket (graphql-transport-ws) on this URL.",
                );
                return Err(self.refuse(ticket, error));
            }
            _ => {}
        }
        Ok(Prepared {
            ticket,
            query,
            register,
            document,
            operation_name,
            variables: variables.unwrap_or_default(),
            extensions: extensions.unwrap_or_default(),
        })
    }

    /// Admits a prepared query or mutation, reserves its memory into `held` (which keeps
    /// it until the transport drops it), charges the caller's budget, runs it with fresh
    /// loaders reading through `db` and counting their text on `held`'s meter, and
    /// finishes it. Once that meter is past its limit (an earlier operation of the same
    /// batch), it does not run.
    pub async fn execute<E: Executor>(
        &self,
        executor: &E,
        db: &Arc<RequestDb>,
        prepared: Prepared,
        caller: Caller,
        held: &mut Held,
    ) -> Outcome {
        if held.meter.exceeded() {
            self.metrics().memory_refused("response_too_large");
            let limit = held.meter.limit();
            return self.refuse(prepared.ticket, AppError::ResponseTooLarge { limit }.into());
        }
        let (mut ticket, mut request, parts) = match self.admit(prepared, &caller) {
            Ok(admitted) => admitted,
            Err(error) => return Outcome::Rejected(vec![error]),
        };
        let Parts {
            query,
            register,
            document,
            operation_name,
        } = parts;
        if !self.memory.reserve(ticket.estimate(), held).await {
            self.metrics().memory_refused("budget");
            let mut error: ServerError = AppError::ServiceUnavailable(anyhow::anyhow!(
                "the memory budget for requests in flight stayed full"
            ))
            .into();
            if let Some(extensions) = error.extensions.as_mut() {
                extensions.set("retryAfter", BUSY_RETRY_AFTER_SECS);
            }
            return self.refuse(ticket, error);
        }
        if let Err(error) = self.gate.charge(&mut ticket, &caller) {
            return self.refuse(ticket, error);
        }
        let meter = Arc::clone(&held.meter);
        let loaders = Loaders::metered(Arc::clone(db), &self.batch_sizes, Arc::clone(&meter));
        let loaders = Arc::new(loaders);
        let queue = Arc::clone(&loaders.queue);
        request.data.insert(loaders);
        // Boxed where it is made: the executor's future is large, and each wrapper around
        // it (the waves, the statement counter) would otherwise copy it.
        let execution = Box::pin(executor.execute(request));
        let mut response = db.counting(queue.drive(execution)).await;
        if self.gate.finish(ticket, &mut response) {
            return Outcome::Rejected(request_errors(std::mem::take(&mut response.errors)));
        }
        if meter.exceeded() {
            // No partial data: the whole operation is refused.
            self.metrics().memory_refused("response_too_large");
            let limit = meter.limit();
            response.data = Value::Null;
            response.errors = vec![AppError::ResponseTooLarge { limit }.into()];
            return Outcome::Executed(response);
        }
        if let Some(hash) = register
            && let Err(err) = self.persisted.register(db, hash, query, &caller).await
        {
            // The operation ran; the client will send the text again next time.
            tracing::warn!(error = ?err, "could not store a persisted query");
        }
        in_selection_order(&document, operation_name.as_deref(), &mut response);
        Outcome::Executed(response)
    }

    /// Admits a prepared subscription (which must select exactly one root field) for the
    /// hub: its request reads through `loaders` (the hub's) and is woken through `inbox`.
    pub fn subscribe<E: Executor>(
        &self,
        executor: &E,
        prepared: Prepared,
        caller: Caller,
        loaders: Arc<Loaders>,
        inbox: Arc<Inbox>,
    ) -> Result<Subscription, Vec<ServerError>> {
        let operation = document::operation(&prepared.document, prepared.operation_name.as_deref())
            .map(|(_, op)| op);
        if let Some(problem) =
            operation.and_then(|o| single_root_field(&prepared.document, &o.selection_set.node))
        {
            let error = coded_error(ErrorCode::GraphqlValidationFailed, problem);
            self.gate
                .refused(prepared.ticket, std::slice::from_ref(&error));
            return Err(vec![error]);
        }
        let share = ShareKey::new(
            &prepared.query,
            prepared.operation_name.as_deref(),
            &prepared.variables,
            caller.viewer,
        );
        let (mut ticket, mut request, parts) =
            self.admit(prepared, &caller).map_err(|error| vec![error])?;
        if let Err(error) = self.gate.charge(&mut ticket, &caller) {
            self.gate.refused(ticket, std::slice::from_ref(&error));
            return Err(vec![error]);
        }
        request.data.insert(loaders);
        request.data.insert(inbox);
        let stream = executor
            .execute_stream(request, None)
            .map(|mut response| {
                code_errors(&mut response.errors);
                response
            })
            .boxed();
        Ok(Subscription {
            stream,
            document: parts.document,
            operation_name: parts.operation_name,
            share,
        })
    }

    /// Admits `prepared` for `caller` (not charged yet: [`Gate::charge`]) and builds its
    /// request (without loaders); a refusal is recorded.
    fn admit(
        &self,
        prepared: Prepared,
        caller: &Caller,
    ) -> Result<(Ticket, async_graphql::Request, Parts), ServerError> {
        let Prepared {
            mut ticket,
            query,
            register,
            document,
            operation_name,
            variables,
            extensions,
        } = prepared;
        if let Err(error) = self.gate.admit(&mut ticket, &query, &document, &variables) {
            self.gate.refused(ticket, std::slice::from_ref(&error));
            return Err(error);
        }
        let mut request = async_graphql::Request::new(query.clone());
        request.set_parsed_query(ExecutableDocument::clone(&document));
        request.operation_name = operation_name.clone();
        request.variables = variables;
        request.extensions = extensions;
        if let Some(viewer) = caller.viewer {
            request.data.insert(viewer);
        }
        if let Some(ip) = caller.ip {
            request.data.insert(ip);
        }
        if let Some(agent) = &caller.user_agent {
            request.data.insert(agent.clone());
        }
        let parts = Parts {
            query,
            register,
            document,
            operation_name,
        };
        Ok((ticket, request, parts))
    }

    /// An operation refused before the executor, recorded as such.
    fn refuse(&self, ticket: Ticket, error: ServerError) -> Outcome {
        self.gate.refused(ticket, std::slice::from_ref(&error));
        Outcome::Rejected(vec![error])
    }
}

/// What finishing an admitted operation needs besides its ticket.
struct Parts {
    query: String,
    register: Option<String>,
    document: Arc<ExecutableDocument>,
    operation_name: Option<String>,
}

/// Puts a response in the order of the document's selections, with the fields that
/// failed set to null (see [`response_order`]).
pub fn in_selection_order(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    response: &mut Response,
) {
    response_order::null_failed_fields(&mut response.data, &response.errors);
    response_order::restore(document, operation_name, &mut response.data);
}

/// Why a subscription's selection is not exactly one root field (GraphQL's "single root
/// field" rule, which async-graphql does not check), if it is not.
fn single_root_field(document: &ExecutableDocument, set: &SelectionSet) -> Option<String> {
    match document::root_keys(document, set).as_slice() {
        [key] if !key.starts_with("__") => None,
        [_] => Some("A subscription may not select an introspection field at its root.".into()),
        _ => Some("A subscription must select exactly one field at its root.".into()),
    }
}

#[cfg(test)]
mod tests;
