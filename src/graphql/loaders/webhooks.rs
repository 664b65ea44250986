//! The webhook loaders: webhooks by id (`node`), deliveries by id with their webhook's
//! owner (`node`), and every delivery's attempts (`attemptLog`), one `= ANY($1)`
//! statement per batch.
//!
//! May call: `db` (the reads), `error`.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::Loader;
use uuid::Uuid;

use super::{
    batch::{LoadError, Named},
    meter::TextBytes,
};
use crate::db::{
    self, RequestDb,
    deliveries::{AttemptRow, DeliveryRow},
    webhooks::WebhookRow,
};

/// Webhooks by id.
pub struct WebhookLoader(pub(super) Arc<RequestDb>);

impl Named for WebhookLoader {
    const NAME: &'static str = "webhooks";
}

impl Loader<i64> for WebhookLoader {
    type Value = Arc<WebhookRow>;
    type Error = LoadError;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        let conn = self.0.conn().await?;
        let rows = db::webhooks::find_many(&conn, ids).await?;
        Ok(rows.into_iter().map(|r| (r.id, Arc::new(r))).collect())
    }
}

/// Deliveries by id, each with its webhook's owner.
pub struct DeliveryLoader(pub(super) Arc<RequestDb>);

impl Named for DeliveryLoader {
    const NAME: &'static str = "webhook_deliveries";
}

impl Loader<Uuid> for DeliveryLoader {
    type Value = Arc<(DeliveryRow, i64)>;
    type Error = LoadError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let conn = self.0.conn().await?;
        let rows = db::deliveries::find_many(&conn, ids).await?;
        Ok(rows.into_iter().map(|r| (r.0.id, Arc::new(r))).collect())
    }
}

/// Every attempt of each delivery, oldest first.
pub struct AttemptLoader(pub(super) Arc<RequestDb>);

impl Named for AttemptLoader {
    const NAME: &'static str = "webhook_attempts";
}

impl Loader<Uuid> for AttemptLoader {
    type Value = Arc<Vec<AttemptRow>>;
    type Error = LoadError;

    async fn load(&self, ids: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let conn = self.0.conn().await?;
        let mut by_delivery: HashMap<Uuid, Vec<AttemptRow>> = HashMap::new();
        for row in db::deliveries::attempts(&conn, ids).await? {
            by_delivery.entry(row.message_id).or_default().push(row);
        }
        Ok(by_delivery
            .into_iter()
            .map(|(id, rows)| (id, Arc::new(rows)))
            .collect())
    }
}

impl TextBytes for WebhookRow {
    fn text_bytes(&self) -> usize {
        self.url.len() + self.disabled_reason.as_ref().map_or(0, String::len)
    }
}

impl TextBytes for (DeliveryRow, i64) {
    fn text_bytes(&self) -> usize {
        self.0.payload.len() + self.0.last_error.as_ref().map_or(0, String::len)
    }
}

impl TextBytes for DeliveryRow {
    fn text_bytes(&self) -> usize {
        self.payload.len() + self.last_error.as_ref().map_or(0, String::len)
    }
}

impl TextBytes for Vec<AttemptRow> {
    fn text_bytes(&self) -> usize {
        self.iter()
            .map(|a| a.error.as_ref().map_or(0, String::len))
            .sum()
    }
}
