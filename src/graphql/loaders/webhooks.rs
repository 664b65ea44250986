//! The webhook loaders: webhooks by id (`node`), deliveries by id with their webhook's
//! owner (`node`), every delivery's attempts (`attemptLog`), and pages and counts of
//! deliveries per webhook (`deliveries`, `totalCount`): one statement per batch (per
//! distinct page shape or status), however many webhooks a list holds.
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
    keyset::{Page, PageQuery},
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

/// One page of a webhook's deliveries (only those in `status`, when given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeliveryPage {
    /// The webhook.
    pub webhook: i64,
    /// Only this status (`outbox.status`).
    pub status: Option<&'static str>,
    /// The page.
    pub query: PageQuery,
}

/// Pages of deliveries for many webhooks at once: one statement per page shape.
pub struct DeliveryPageLoader(pub(super) Arc<RequestDb>);

impl Named for DeliveryPageLoader {
    const NAME: &'static str = "webhook_delivery_pages";
}

impl Loader<DeliveryPage> for DeliveryPageLoader {
    type Value = Arc<Page<DeliveryRow>>;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[DeliveryPage],
    ) -> Result<HashMap<DeliveryPage, Self::Value>, Self::Error> {
        let conn = self.0.conn().await?;
        type Shape = (Option<&'static str>, PageQuery);
        let mut by_shape: HashMap<Shape, Vec<i64>> = HashMap::new();
        for key in keys {
            by_shape
                .entry((key.status, key.query))
                .or_default()
                .push(key.webhook);
        }
        let mut pages = HashMap::new();
        for ((status, query), webhooks) in by_shape {
            for (webhook, page) in db::deliveries::pages(&conn, &webhooks, status, &query).await? {
                let key = DeliveryPage {
                    webhook,
                    status,
                    query,
                };
                pages.insert(key, Arc::new(page));
            }
        }
        Ok(pages)
    }
}

/// How many deliveries a webhook has (in a status, when given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeliveryCount {
    /// The webhook.
    pub webhook: i64,
    /// Only this status.
    pub status: Option<&'static str>,
}

/// Delivery counts for many webhooks at once: one statement per status asked.
pub struct DeliveryCountLoader(pub(super) Arc<RequestDb>);

impl Named for DeliveryCountLoader {
    const NAME: &'static str = "webhook_delivery_counts";
}

impl Loader<DeliveryCount> for DeliveryCountLoader {
    type Value = i64;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[DeliveryCount],
    ) -> Result<HashMap<DeliveryCount, i64>, Self::Error> {
        let conn = self.0.conn().await?;
        let mut by_status: HashMap<Option<&'static str>, Vec<i64>> = HashMap::new();
        for key in keys {
            by_status.entry(key.status).or_default().push(key.webhook);
        }
        let mut counts: HashMap<DeliveryCount, i64> = keys.iter().map(|k| (*k, 0)).collect();
        for (status, webhooks) in by_status {
            for (webhook, n) in db::deliveries::counts(&conn, &webhooks, status).await? {
                counts.insert(DeliveryCount { webhook, status }, n);
            }
        }
        Ok(counts)
    }
}

impl TextBytes for i64 {
    fn text_bytes(&self) -> usize {
        0
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
