//! In-browser IDEs: GraphiQL on `GET /graphql` (for browsers) and GraphQL Playground on
//! `/playground`, both with subscriptions on the same URL over ws://.

use std::sync::LazyLock;

use async_graphql::http::{GraphQLPlaygroundConfig, GraphiQLSource, playground_source};
use axum::response::Html;

/// The path GraphQL is served on, over HTTP and WebSocket alike.
pub const GRAPHQL_PATH: &str = "/graphql";

static GRAPHIQL: LazyLock<String> = LazyLock::new(|| {
    GraphiQLSource::build()
        .endpoint(GRAPHQL_PATH)
        .subscription_endpoint(GRAPHQL_PATH)
        .title("Conduit GraphiQL")
        .finish()
});

static PLAYGROUND: LazyLock<String> = LazyLock::new(|| {
    playground_source(
        GraphQLPlaygroundConfig::new(GRAPHQL_PATH)
            .subscription_endpoint(GRAPHQL_PATH)
            .title("Conduit Playground"),
    )
});

/// The GraphiQL page.
pub fn graphiql() -> Html<&'static str> {
    Html(GRAPHIQL.as_str())
}

/// `GET /playground`: the GraphQL Playground page.
pub async fn playground() -> Html<&'static str> {
    Html(PLAYGROUND.as_str())
}
