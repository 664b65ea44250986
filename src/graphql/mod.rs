//! The GraphQL layer: the schema (root types, entity types, node ids, pagination), thin
//! resolvers, the loaders, the one operation pipeline both transports call
//! ([`execution`]: persisted lookup, parse, [`admission`] over one document walk
//! ([`document`]), execution), the subscription hub ([`subscription`]), and the one
//! error conversion ([`error`]). Resolvers stay thin: they parse arguments, call `domain`
//! (rules, every write) or `db` (plain reads, through the loaders), and map errors.
//!
//! May call: `domain`, `ratelimit`, `db` and the leaves; never `http` or the root.

pub mod admission;
pub mod document;
pub mod error;
pub mod execution;
pub mod guards;
pub mod input_text;
pub mod introspection;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod mutation_email;
pub mod node;
pub mod pagination;
pub mod persisted;
pub mod query;
pub mod response_order;
pub mod scalars;
pub mod subscription;
pub mod types;
pub mod webhooks;

use std::sync::Arc;

use async_graphql::{Context, Schema, SchemaBuilder};

use crate::{
    db::PgPool,
    domain::{
        events::Events, keys::ServerKeys, notifications::NotificationConfig, password::Passwords,
        sessions::SessionRules, webhooks::WebhookRules,
    },
    ratelimit::throttle::AuthThrottle,
};

/// Every write: the core ones, the email flows' and the webhooks' (merged into one root
/// type).
#[derive(async_graphql::MergedObject, Default)]
pub struct Mutation(
    mutation::CoreMutation,
    mutation_email::EmailMutation,
    webhooks::WebhookMutation,
);
pub use query::Query;
pub use subscription::Subscription;

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema's types with no runtime data attached: enough to export the SDL.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query, Mutation::default(), Subscription)
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

/// How notifications are written (the duplicate window), attached to the schema.
pub fn notices<'a>(ctx: &Context<'a>) -> &'a NotificationConfig {
    ctx.data_unchecked::<NotificationConfig>()
}

/// The session lifetime rules attached to the schema.
pub fn session_rules<'a>(ctx: &Context<'a>) -> &'a SessionRules {
    ctx.data_unchecked::<SessionRules>()
}

/// The webhook rules (server keys, settings) attached to the schema.
pub fn webhook_rules<'a>(ctx: &Context<'a>) -> &'a WebhookRules {
    ctx.data_unchecked::<WebhookRules>()
}

/// The server key ring attached to the schema (email tokens, webhook secrets).
pub fn server_keys<'a>(ctx: &Context<'a>) -> &'a ServerKeys {
    ctx.data_unchecked::<ServerKeys>()
}

/// The sign-in throttle attached to the schema.
pub fn throttle<'a>(ctx: &Context<'a>) -> &'a AuthThrottle {
    ctx.data_unchecked::<Arc<AuthThrottle>>()
}

/// What the resolvers read from the schema's data, and how the schema presents itself;
/// built by the composition root.
pub struct SchemaData {
    /// The database pool (writes, and reads outside the loaders).
    pub pool: PgPool,
    /// Password hashing.
    pub passwords: Passwords,
    /// The announcer of committed writes.
    pub events: Events,
    /// The sign-in throttle.
    pub throttle: Arc<AuthThrottle>,
    /// How notifications are written.
    pub notifications: NotificationConfig,
    /// Session lifetime rules and the clock they are judged by.
    pub sessions: SessionRules,
    /// The server key ring webhook secrets are sealed under, and the webhook settings.
    pub webhooks: WebhookRules,
    /// The server key ring.
    pub keys: ServerKeys,
    /// Whether introspection is served.
    pub introspection: bool,
    /// Whether validation errors suggest names ("Did you mean …?"): development only.
    pub suggestions: bool,
}

/// The schema as served: its data attached, introspection and suggestions as `data` says.
/// No extension is registered: what runs once per operation runs in [`admission`], called
/// by the operation pipeline, [`execution`] (an extension would slow every field down).
pub fn build_schema(data: SchemaData) -> AppSchema {
    let mut builder = schema_builder();
    if !data.introspection {
        builder = builder.disable_introspection();
    }
    if !data.suggestions {
        builder = builder.disable_suggestions();
    }
    builder
        .data(data.pool)
        .data(data.passwords)
        .data(data.events)
        .data(data.throttle)
        .data(data.notifications)
        .data(data.sessions)
        .data(data.webhooks)
        .data(data.keys)
        .finish()
}

/// The schema in SDL, exactly as committed in `schema.graphql`.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}
