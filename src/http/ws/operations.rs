//! The operations of one WebSocket: starting each through the operation pipeline
//! ([`crate::graphql::execution`]), running a query or mutation on the connection's task
//! or handing a subscription to the hub, and writing what comes back. It may call the
//! pipeline, the hub, `domain::sessions` (each query's authentication) and `db`.

use std::{panic::AssertUnwindSafe, sync::Arc};

use async_graphql::{Executor, ServerError, parser::types::OperationType};
use futures_util::{
    FutureExt,
    future::{AbortHandle, Abortable, BoxFuture},
    stream::FuturesUnordered,
};

use super::{
    super::graphql::TIMED_OUT,
    Connection,
    protocol::{Protocol, SubscribePayload},
    session::Session,
};
use crate::{
    db::RequestDb,
    domain::sessions,
    error::{AppError, ErrorCode},
    graphql::{
        admission::Caller,
        error::{coded_error, request_errors},
        execution::{Held, Outcome, Prepared, Transport},
        subscription::{Command, Inbox, Outgoing, outbox::SelectionOrder},
    },
};

/// A query or mutation running on the connection's task: its operation number, and its
/// outcome with what it holds of the memory budget until the outcome is sent (`None` when
/// the client completed it first).
pub(super) type RunningQuery = BoxFuture<'static, (u64, Option<(Outcome, Option<Held>)>)>;

/// One running operation.
pub(super) struct Op {
    /// The id the client chose.
    pub(super) id: String,
    pub(super) kind: OpKind,
}

/// What runs an operation.
pub(super) enum OpKind {
    /// A query or mutation on the connection's task.
    Query(AbortHandle),
    /// A subscription in the hub (which puts its results in selection order).
    Subscription,
}

impl<E: Executor> Connection<E> {
    /// Starts operation `id`.
    pub(super) async fn start(
        &mut self,
        protocol: Protocol,
        id: String,
        payload: SubscribePayload,
        session: Session,
        running: &mut FuturesUnordered<RunningQuery>,
    ) -> Result<(), ()> {
        let limit = self.sockets().config.max_operations;
        if self.ops.len() >= limit {
            let error = coded_error(
                ErrorCode::BadRequest,
                format!("At most {limit} operations may run at once on one WebSocket."),
            );
            return self.send_text(protocol.error(&id, &[error])).await;
        }
        // A persisted query's hash stands for its text here as over HTTP; in safelist
        // mode nothing else runs.
        let db = RequestDb::new(&self.state().pool);
        let pipeline = &self.endpoint.state().pipeline;
        let prepared = match pipeline
            .prepare(&db, payload.into(), Transport::WebSocket)
            .await
        {
            Ok(prepared) => prepared,
            Err(outcome) => return self.reply(protocol, &id, outcome).await,
        };
        let op = self.next_op;
        self.next_op += 1;
        if prepared.operation_type() != Some(OperationType::Subscription) {
            // Queries and mutations run here, as HTTP requests would (an unknown operation
            // name fails there with the usual error).
            let (abort, registration) = AbortHandle::new_pair();
            let query = self.query(session, prepared);
            running.push(Box::pin(async move {
                let outcome = Abortable::new(query, registration).await.ok();
                (op, outcome)
            }));
            self.insert(op, id, OpKind::Query(abort));
            return Ok(());
        }
        let caller = Caller {
            viewer: session.viewer,
            ip: self.ip,
            user_agent: self.user_agent.clone(),
        };
        let inbox = Arc::new(Inbox::default());
        let subscription = match pipeline.subscribe(
            self.endpoint.executor(),
            prepared,
            caller,
            self.hub.loaders(self.conn),
            Arc::clone(&inbox),
        ) {
            Ok(subscription) => subscription,
            Err(errors) => return self.send_text(protocol.error(&id, &errors)).await,
        };
        self.insert(op, id, OpKind::Subscription);
        self.hub.send(Command::Start {
            conn: self.conn,
            op,
            stream: subscription.stream,
            inbox,
            share: subscription.share,
            order: SelectionOrder {
                document: subscription.document,
                operation_name: subscription.operation_name,
            },
        });
        Ok(())
    }

    /// Notes operation `op`, which the client calls `id`, as running.
    fn insert(&mut self, op: u64, id: String, kind: OpKind) {
        self.ids.insert(id.clone(), op);
        self.ops.insert(op, Op { id, kind });
    }

    /// A query or mutation, run as an HTTP request would be: authenticated again with the
    /// socket's token, within the request timeout, a panic answered as an internal error.
    /// Its reservation of the memory budget comes with its outcome.
    fn query(
        &self,
        session: Session,
        mut prepared: Prepared,
    ) -> BoxFuture<'static, (Outcome, Option<Held>)> {
        let endpoint = self.endpoint.clone();
        let ip = self.ip;
        let user_agent = self.user_agent.clone();
        let timeout = self.state().limits.timeout;
        let mut held = endpoint.state().pipeline.held();
        let work = async move {
            let db = RequestDb::new(&endpoint.state().pool);
            let viewer = match &session.authorization {
                Some(header) => match sessions::authenticate(&db, header).await {
                    Ok(viewer) => Some(viewer),
                    Err(err) => return (Outcome::Rejected(vec![ServerError::from(err)]), None),
                },
                None => None,
            };
            // The operation's duration is the executor's, authentication excluded (as over
            // HTTP, where the clock starts once the caller is known).
            prepared.restart_clock();
            let caller = Caller {
                viewer,
                ip,
                user_agent,
            };
            let pipeline = &endpoint.state().pipeline;
            let outcome = pipeline
                .execute(endpoint.executor(), &db, prepared, caller, &mut held)
                .await;
            (outcome, Some(held))
        };
        Box::pin(async move {
            match tokio::time::timeout(timeout, AssertUnwindSafe(work).catch_unwind()).await {
                Ok(Ok(done)) => done,
                Ok(Err(_)) => {
                    let error = ServerError::from(AppError::Internal(anyhow::anyhow!(
                        "an operation over a WebSocket panicked"
                    )));
                    (Outcome::Rejected(vec![error]), None)
                }
                Err(_) => {
                    let error = coded_error(ErrorCode::InternalServerError, TIMED_OUT);
                    (Outcome::Rejected(vec![error]), None)
                }
            }
        })
    }

    /// Writes what the hub sent for one of this connection's subscriptions; messages about
    /// an operation that is over (completed by the client meanwhile) are dropped.
    pub(super) async fn forward(
        &mut self,
        protocol: Protocol,
        message: Outgoing,
    ) -> Result<(), ()> {
        match message {
            Outgoing::Next(op, response) => {
                let Some(Op {
                    id,
                    kind: OpKind::Subscription,
                }) = self.ops.get(&op)
                else {
                    return Ok(());
                };
                let text = protocol.next(id, &response);
                self.send_text(text).await
            }
            Outgoing::Error(op, errors) => {
                let Some(id) = self.end_op(op) else {
                    return Ok(());
                };
                let errors = request_errors(errors);
                self.send_text(protocol.error(&id, &errors)).await
            }
            Outgoing::Complete(op) => {
                let Some(id) = self.end_op(op) else {
                    return Ok(());
                };
                self.send_text(protocol.complete(&id)).await
            }
        }
    }

    /// Writes the result of a query or mutation run over the socket, then releases what
    /// it `held` of the memory budget.
    pub(super) async fn finish(
        &mut self,
        protocol: Protocol,
        op: u64,
        (outcome, held): (Outcome, Option<Held>),
    ) -> Result<(), ()> {
        let Some(id) = self.end_op(op) else {
            return Ok(());
        };
        let sent = self.reply(protocol, &id, outcome).await;
        drop(held);
        sent
    }

    /// Writes how operation `id` ended: its result and `complete`, or an `error`.
    async fn reply(&mut self, protocol: Protocol, id: &str, outcome: Outcome) -> Result<(), ()> {
        match outcome {
            Outcome::Executed(response) => {
                self.send_text(protocol.next(id, &response)).await?;
                self.send_text(protocol.complete(id)).await
            }
            Outcome::Rejected(errors) => self.send_text(protocol.error(id, &errors)).await,
            Outcome::Malformed(error) => self.send_text(protocol.error(id, &[error])).await,
            Outcome::MutationNotAllowed => {
                unreachable!("the WebSocket transport allows mutations")
            }
        }
    }

    /// Forgets operation `op`; returns its client id if it was still running.
    fn end_op(&mut self, op: u64) -> Option<String> {
        let Op { id, .. } = self.ops.remove(&op)?;
        self.ids.remove(&id);
        Some(id)
    }
}
