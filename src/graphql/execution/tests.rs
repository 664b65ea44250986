//! The pipeline's own rules, without a server: each transport's refusals, and what
//! reaches the executor.

use diesel_async::{AsyncPgConnection, pooled_connection::AsyncDieselConnectionManager};

use super::*;
use crate::{
    db::PgPool,
    graphql::{document::cache::Documents, limits::QueryLimits, persisted::PersistedMode},
    metrics::Metrics,
};

fn pipeline() -> Pipeline {
    let gate = Gate {
        documents: Arc::new(Documents::default()),
        limits: QueryLimits {
            bytes: 10_000,
            tokens: 1_000,
            depth: 10,
            aliases: 10,
            root_fields: 10,
            complexity: 1_000,
        },
        introspection: true,
        budget: None,
        metrics: Arc::new(Metrics::new(10)),
    };
    Pipeline::new(
        gate,
        Arc::new(PersistedQueries::new(PersistedMode::Automatic)),
    )
}

/// A pool that is never connected to: preparing these operations reads nothing.
fn db() -> Arc<RequestDb> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new("postgres://-");
    let pool: PgPool = PgPool::builder(manager).build().expect("pool");
    RequestDb::new(&pool)
}

async fn prepare(query: Option<&str>, transport: Transport) -> Result<Prepared, Outcome> {
    let params = Params {
        query: query.map(str::to_owned),
        ..Params::default()
    };
    pipeline().prepare(&db(), params, transport).await
}

fn code(outcome: Result<Prepared, Outcome>) -> String {
    match outcome {
        Err(Outcome::Rejected(errors)) => {
            let code = errors[0].extensions.as_ref().and_then(|e| e.get("code"));
            code.expect("coded")
                .to_string()
                .trim_matches('"')
                .to_owned()
        }
        Err(other) => format!("{other:?}"),
        Ok(prepared) => format!("{:?}", prepared.operation_type()),
    }
}

#[tokio::test]
async fn each_transport_keeps_its_rules() {
    let mutation = Some("mutation { a }");
    let subscription = Some("subscription { a }");
    assert!(matches!(
        prepare(mutation, Transport::HttpGet).await,
        Err(Outcome::MutationNotAllowed)
    ));
    assert_eq!(
        code(prepare(mutation, Transport::HttpPost).await),
        "Some(Mutation)"
    );
    assert_eq!(
        code(prepare(subscription, Transport::HttpPost).await),
        "BAD_REQUEST"
    );
    assert_eq!(
        code(prepare(subscription, Transport::WebSocket).await),
        "Some(Subscription)"
    );
}

#[tokio::test]
async fn refusals_before_execution_are_coded() {
    assert!(matches!(
        prepare(None, Transport::HttpPost).await,
        Err(Outcome::Malformed(_))
    ));
    assert_eq!(
        code(prepare(Some("{ a"), Transport::HttpPost).await),
        "GRAPHQL_PARSE_FAILED"
    );
}

#[tokio::test]
async fn a_subscription_selects_one_root_field() {
    let pipeline = pipeline();
    let db = db();
    for (query, admitted) in [
        ("subscription { a }", true),
        ("subscription { a b }", false),
        ("subscription { __typename }", false),
    ] {
        let params = Params {
            query: Some(query.to_owned()),
            ..Params::default()
        };
        let prepared = pipeline
            .prepare(&db, params, Transport::WebSocket)
            .await
            .expect("prepared");
        let loaders = Arc::new(Loaders::new(Arc::clone(&db), &pipeline.batch_sizes));
        let result = pipeline.subscribe(
            &crate::graphql::schema_builder().finish(),
            prepared,
            Caller::default(),
            loaders,
            Arc::default(),
        );
        assert_eq!(result.is_ok(), admitted, "{query}");
    }
}
