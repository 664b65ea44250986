//! The webhook mutations, merged into `Mutation`: register, change, delete, rotate the
//! secret, ping, redeliver. Each is its owner's alone: someone else's webhook or
//! delivery is NOT_FOUND, with the same message as one that does not exist.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use super::{
    guards,
    loaders::release_reads,
    node::{self, NodeKind, global_id},
    pool,
    types::webhook::{
        CreateWebhookInput, UpdateWebhookInput, Webhook, WebhookDelivery, WebhookSecretPayload,
    },
    webhook_rules,
};
use crate::{
    db::PgPool,
    domain::webhooks::{self, WebhookEdit, WebhookEvent, WithSecret},
};

/// The webhook mutations.
#[derive(Debug, Default, Clone, Copy)]
pub struct WebhookMutation;

async fn writer<'a>(ctx: &Context<'a>) -> &'a PgPool {
    release_reads(ctx).await;
    pool(ctx)
}

fn secret_payload(created: WithSecret) -> WebhookSecretPayload {
    WebhookSecretPayload {
        webhook: Webhook::new(Arc::new(created.row)),
        secret: created.secret,
    }
}

/// The webhook mutations.
#[Object]
impl WebhookMutation {
    /// Registers an endpoint. The signing secret is in the payload, and only there.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint and its events.")] input: CreateWebhookInput,
    ) -> async_graphql::Result<WebhookSecretPayload> {
        let viewer = guards::require_viewer(ctx)?;
        let events: Vec<WebhookEvent> = input.events.into_iter().map(Into::into).collect();
        let created = webhooks::create(
            writer(ctx).await,
            webhook_rules(ctx),
            &viewer,
            &input.url,
            &events,
        )
        .await?;
        Ok(secret_payload(created))
    }

    /// Only the webhook's owner.
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook's global ID.")] id: ID,
        #[graphql(desc = "The fields to change.")] input: UpdateWebhookInput,
    ) -> async_graphql::Result<Webhook> {
        let viewer = guards::require_viewer(ctx)?;
        let webhook_id = node::decode_as(&id, NodeKind::Webhook, "id")?;
        let edit = WebhookEdit {
            url: input.url,
            events: input
                .events
                .map(|events| events.into_iter().map(Into::into).collect()),
            active: input.active,
        };
        let rules = webhook_rules(ctx);
        let row = webhooks::update(writer(ctx).await, rules, &viewer, webhook_id, edit).await?;
        Ok(Webhook::new(Arc::new(row)))
    }

    /// Only the webhook's owner.
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook's global ID.")] id: ID,
    ) -> async_graphql::Result<ID> {
        let viewer = guards::require_viewer(ctx)?;
        let webhook_id = node::decode_as(&id, NodeKind::Webhook, "id")?;
        webhooks::delete(writer(ctx).await, &viewer, webhook_id).await?;
        Ok(global_id(NodeKind::Webhook, webhook_id))
    }

    /// A new secret; the old one keeps signing (both signatures sent) for 24 hours. Only the owner.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook's global ID.")] id: ID,
    ) -> async_graphql::Result<WebhookSecretPayload> {
        let viewer = guards::require_viewer(ctx)?;
        let webhook_id = node::decode_as(&id, NodeKind::Webhook, "id")?;
        let rules = webhook_rules(ctx);
        let rotated =
            webhooks::rotate_secret(writer(ctx).await, rules, &viewer, webhook_id).await?;
        Ok(secret_payload(rotated))
    }

    /// Queues a PING delivery now. Only the owner.
    async fn ping_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook's global ID.")] id: ID,
    ) -> async_graphql::Result<WebhookDelivery> {
        let viewer = guards::require_viewer(ctx)?;
        let webhook_id = node::decode_as(&id, NodeKind::Webhook, "id")?;
        let row = webhooks::ping(writer(ctx).await, &viewer, webhook_id).await?;
        Ok(WebhookDelivery::new(Arc::new((row, viewer.user_id))))
    }

    /// Queues a new attempt of a delivery (same webhook-id). Only the owner.
    async fn redeliver_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery's global ID.")] id: ID,
    ) -> async_graphql::Result<WebhookDelivery> {
        let viewer = guards::require_viewer(ctx)?;
        let delivery_id = node::decode_delivery_as(&id, "id")?;
        let row = webhooks::redeliver(writer(ctx).await, &viewer, delivery_id).await?;
        Ok(WebhookDelivery::new(Arc::new((row, viewer.user_id))))
    }
}
