//! The GraphQL schema: root types, entity types and the error conversion.
//! Resolvers stay thin: they parse arguments, call `domain`/`db`, and map errors.

pub mod admission;
pub mod document;
pub mod documents;
pub mod error;
pub mod execution;
pub mod guards;
pub mod input_text;
pub mod introspection;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod node;
pub mod pagination;
pub mod persisted;
pub mod query;
pub mod response_order;
pub mod scalars;
pub mod subscription;
pub mod types;

use std::sync::Arc;

use async_graphql::{Context, Schema, SchemaBuilder};

use crate::{
    db::PgPool,
    domain::{events::Events, password::Passwords},
    ratelimit::throttle::AuthThrottle,
    state::AppState,
};

pub use mutation::Mutation;
pub use query::Query;
pub use subscription::Subscription;

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema's types with no runtime data attached: enough to export the SDL.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query, Mutation, Subscription)
}

/// The database pool attached to the schema.
pub fn pool<'a>(ctx: &Context<'a>) -> &'a PgPool {
    ctx.data_unchecked::<PgPool>()
}

/// The password hasher attached to the schema.
pub fn passwords<'a>(ctx: &Context<'a>) -> &'a Passwords {
    ctx.data_unchecked::<Passwords>()
}

/// The event announcer attached to the schema.
pub fn events<'a>(ctx: &Context<'a>) -> &'a Events {
    ctx.data_unchecked::<Events>()
}

/// The sign-in throttle attached to the schema.
pub fn throttle<'a>(ctx: &Context<'a>) -> &'a AuthThrottle {
    ctx.data_unchecked::<Arc<AuthThrottle>>()
}

/// The schema as served: state attached, introspection and suggestions per configuration.
/// No extension is registered: what runs once per operation runs in [`admission`], called
/// by the operation pipeline, [`execution`] (an extension would slow every field down).
pub fn build_schema(state: AppState) -> AppSchema {
    let mut builder = schema_builder();
    if !state.config.introspection {
        builder = builder.disable_introspection();
    }
    if !state.config.is_development() {
        builder = builder.disable_suggestions();
    }
    builder
        .data(state.pool.clone())
        .data(state.passwords.clone())
        .data(state.events)
        .data(Arc::clone(&state.throttle))
        .data(state)
        .finish()
}

/// The schema in SDL, exactly as committed in `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
