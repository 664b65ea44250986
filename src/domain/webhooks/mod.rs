//! Webhooks: endpoints a user registers for events on their own content, each delivery
//! signed by the Standard Webhooks spec. Here: the events ([`WebhookEvent`]), the rules
//! on registering and changing an endpoint (owner only, [`MAX_PER_USER`], [`address`]'s
//! SSRF checks, secrets sealed by [`secret`]), the deliveries writes queue ([`events`],
//! bodies by [`payload`]), and what a delivery's outcome does to its endpoint
//! ([`delivery`]). Sending is `outbox::webhook`'s.
//!
//! May call: `db`.

pub mod address;
pub mod delivery;
pub mod events;
pub mod payload;
pub mod secret;

use std::collections::HashSet;

use diesel_async::AsyncConnection;
use uuid::Uuid;

use self::{
    address::WebhookPolicy,
    secret::{Sealed, Secret},
};
use super::{
    keys::ServerKeys,
    policy::Viewer,
    validation::{self, FieldErrors},
};
use crate::{
    db::{
        self, PgPool,
        deliveries::DeliveryRow,
        webhooks::{NewWebhook, SealedColumns, WebhookChanges, WebhookRow},
    },
    error::AppError,
};

/// Most webhooks one user may register.
pub const MAX_PER_USER: i64 = 20;

/// How long a rotated-out secret keeps signing.
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

/// What a webhook can be told of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookEvent {
    /// The owner published an article.
    ArticlePublished,
    /// The owner edited an article.
    ArticleUpdated,
    /// The owner's article was deleted.
    ArticleDeleted,
    /// Someone favorited the owner's article.
    ArticleFavorited,
    /// Someone commented on the owner's article.
    CommentAdded,
    /// Someone followed the owner.
    NewFollower,
    /// A test delivery (`pingWebhook` only; nobody subscribes to it).
    Ping,
}

impl WebhookEvent {
    /// Every event.
    pub const ALL: [Self; 7] = [
        Self::ArticlePublished,
        Self::ArticleUpdated,
        Self::ArticleDeleted,
        Self::ArticleFavorited,
        Self::CommentAdded,
        Self::NewFollower,
        Self::Ping,
    ];

    /// The value stored in `webhooks.events` and `outbox.kind`.
    pub const fn as_db(self) -> &'static str {
        match self {
            Self::ArticlePublished => "article_published",
            Self::ArticleUpdated => "article_updated",
            Self::ArticleDeleted => "article_deleted",
            Self::ArticleFavorited => "article_favorited",
            Self::CommentAdded => "comment_added",
            Self::NewFollower => "new_follower",
            Self::Ping => "ping",
        }
    }

    /// The event stored as `value`.
    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_db() == value)
    }

    /// The body's `type`.
    pub const fn type_name(self) -> &'static str {
        match self {
            Self::ArticlePublished => "article.published",
            Self::ArticleUpdated => "article.updated",
            Self::ArticleDeleted => "article.deleted",
            Self::ArticleFavorited => "article.favorited",
            Self::CommentAdded => "comment.added",
            Self::NewFollower => "user.followed",
            Self::Ping => "ping",
        }
    }
}

/// What the webhook flows need: the server key ring the secrets are sealed under, and the
/// settings.
#[derive(Debug, Clone)]
pub struct WebhookRules {
    /// `WEBHOOK_SECRET_KEY`.
    pub keys: ServerKeys,
    /// `WEBHOOK_*`.
    pub policy: WebhookPolicy,
}

/// A webhook and its secret in the clear, shown to its owner this once.
#[derive(Debug, Clone)]
pub struct WithSecret {
    /// The webhook.
    pub row: WebhookRow,
    /// `whsec_...`.
    pub secret: String,
}

/// Changes to a webhook: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookEdit {
    /// A new endpoint.
    pub url: Option<String>,
    /// New events.
    pub events: Option<Vec<WebhookEvent>>,
    /// Pause (false) or resume (true; this also clears `disabledReason`).
    pub active: Option<bool>,
}

fn not_found() -> AppError {
    AppError::NotFound("No webhook has that ID.".into())
}

fn checked_url(errors: &mut FieldErrors, rules: &WebhookRules, url: &str) -> String {
    match rules.policy.check_url(url) {
        Ok(url) => url.to_string(),
        Err(message) => {
            errors.check("url", Some(message));
            String::new()
        }
    }
}

fn checked_events(errors: &mut FieldErrors, events: &[WebhookEvent]) -> Vec<String> {
    let subscribable = WebhookEvent::ALL.len() - 1;
    if let Some(message) = validation::list_len(events.len(), subscribable, "events") {
        errors.check("events", Some(message));
        return Vec::new();
    }
    let mut seen = HashSet::new();
    let message = if events.is_empty() {
        Some("must name at least one event".to_owned())
    } else if events.contains(&WebhookEvent::Ping) {
        Some("PING is sent by pingWebhook only".to_owned())
    } else if !events.iter().all(|e| seen.insert(*e)) {
        Some("must not repeat an event".to_owned())
    } else {
        None
    };
    errors.check("events", message);
    events.iter().map(|e| e.as_db().to_owned()).collect()
}

fn columns(sealed: &Sealed) -> SealedColumns<'_> {
    SealedColumns {
        ciphertext: &sealed.ciphertext,
        nonce: &sealed.nonce,
        key_id: &sealed.key_id,
    }
}

/// Registers an endpoint for `viewer`: at most [`MAX_PER_USER`] each.
pub async fn create(
    pool: &PgPool,
    rules: &WebhookRules,
    viewer: &Viewer,
    url: &str,
    events: &[WebhookEvent],
) -> Result<WithSecret, AppError> {
    let mut errors = FieldErrors::default();
    let events = checked_events(&mut errors, events);
    let url = checked_url(&mut errors, rules, url);
    errors.into_result()?;
    let secret = Secret::generate();
    let sealed = secret::seal(&rules.keys, &secret);
    let new = NewWebhook {
        user_id: viewer.user_id,
        url: &url,
        events: &events,
        secret: columns(&sealed),
    };
    let mut conn = db::connect(pool).await?;
    let row = conn
        .transaction::<_, AppError, _>(async |tx| {
            Ok(db::webhooks::insert(tx, new, MAX_PER_USER).await?)
        })
        .await?;
    let Some(row) = row else {
        let mut errors = FieldErrors::default();
        errors.check(
            "url",
            Some(format!(
                "at most {MAX_PER_USER} webhooks per user; delete one first"
            )),
        );
        return Err(errors.into_result().expect_err("one error"));
    };
    Ok(WithSecret {
        row,
        secret: secret.display(),
    })
}

/// Changes `viewer`'s webhook `id`.
pub async fn update(
    pool: &PgPool,
    rules: &WebhookRules,
    viewer: &Viewer,
    id: i64,
    edit: WebhookEdit,
) -> Result<WebhookRow, AppError> {
    let mut errors = FieldErrors::default();
    let events = edit
        .events
        .as_deref()
        .map(|events| checked_events(&mut errors, events));
    let url = edit
        .url
        .as_deref()
        .map(|url| checked_url(&mut errors, rules, url));
    errors.into_result()?;
    let mut changes = WebhookChanges {
        url,
        events,
        active: edit.active,
        ..WebhookChanges::default()
    };
    if edit.active == Some(true) {
        changes.disabled_reason = Some(None);
        changes.consecutive_failures = Some(0);
    }
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let current = db::webhooks::lock_owned(tx, id, viewer.user_id)
            .await?
            .ok_or_else(not_found)?;
        if changes.url.is_none() && changes.events.is_none() && changes.active.is_none() {
            return Ok(current);
        }
        Ok(db::webhooks::update(tx, current.id, &changes).await?)
    })
    .await
}

/// Deletes `viewer`'s webhook `id` with its deliveries.
pub async fn delete(pool: &PgPool, viewer: &Viewer, id: i64) -> Result<(), AppError> {
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        db::webhooks::lock_owned(tx, id, viewer.user_id)
            .await?
            .ok_or_else(not_found)?;
        Ok(db::webhooks::delete(tx, id).await?)
    })
    .await
}

/// A new secret for `viewer`'s webhook `id`; the current one keeps signing beside it for
/// [`ROTATION_OVERLAP`].
pub async fn rotate_secret(
    pool: &PgPool,
    rules: &WebhookRules,
    viewer: &Viewer,
    id: i64,
) -> Result<WithSecret, AppError> {
    let secret = Secret::generate();
    let sealed = secret::seal(&rules.keys, &secret);
    let mut conn = db::connect(pool).await?;
    let row = conn
        .transaction::<_, AppError, _>(async |tx| {
            db::webhooks::lock_owned(tx, id, viewer.user_id)
                .await?
                .ok_or_else(not_found)?;
            let expires = chrono::Utc::now() + ROTATION_OVERLAP;
            Ok(db::webhooks::rotate(tx, id, columns(&sealed), expires).await?)
        })
        .await?;
    Ok(WithSecret {
        row,
        secret: secret.display(),
    })
}

/// Queues a PING delivery to `viewer`'s webhook `id`.
pub async fn ping(pool: &PgPool, viewer: &Viewer, id: i64) -> Result<DeliveryRow, AppError> {
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        db::webhooks::lock_owned(tx, id, viewer.user_id)
            .await?
            .ok_or_else(not_found)?;
        let body = payload::ping(id);
        Ok(db::deliveries::enqueue(tx, id, WebhookEvent::Ping.as_db(), &body).await?)
    })
    .await
}

/// Queues delivery `id` of one of `viewer`'s webhooks again, with the same id (and so the
/// same `webhook-id`) and a fresh budget of attempts; one still pending stays as it is.
pub async fn redeliver(pool: &PgPool, viewer: &Viewer, id: Uuid) -> Result<DeliveryRow, AppError> {
    let not_found = || AppError::NotFound("No webhook delivery has that ID.".into());
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let (_, owner) = db::deliveries::find_with_owner(tx, id)
            .await?
            .ok_or_else(not_found)?;
        if owner != viewer.user_id {
            return Err(not_found());
        }
        db::outbox::requeue(tx, id).await?;
        let (row, _) = db::deliveries::find_with_owner(tx, id)
            .await?
            .ok_or_else(not_found)?;
        Ok(row)
    })
    .await
}

/// The secrets that sign a delivery of `row` now: the current one, and the previous one
/// while its overlap lasts (and while the ring still has its key). An error when the
/// current one does not open.
pub fn signing_secrets(
    keys: &ServerKeys,
    row: &WebhookRow,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Secret>, secret::OpenError> {
    let current = Sealed {
        ciphertext: row.secret_ciphertext.clone(),
        nonce: row.secret_nonce.clone(),
        key_id: row.secret_key_id.clone(),
    };
    let mut secrets = vec![secret::open(keys, &current)?];
    if let (Some(ciphertext), Some(nonce), Some(key_id), Some(expires)) = (
        &row.previous_ciphertext,
        &row.previous_nonce,
        &row.previous_key_id,
        row.previous_expires_at,
    ) && expires > now
    {
        let previous = Sealed {
            ciphertext: ciphertext.clone(),
            nonce: nonce.clone(),
            key_id: key_id.clone(),
        };
        // A previous secret whose server key left the ring no longer signs; the current
        // one still does.
        if let Ok(previous) = secret::open(keys, &previous) {
            secrets.push(previous);
        }
    }
    Ok(secrets)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::db::articles::TagList;

    fn row(current: &Sealed, previous: Option<(&Sealed, chrono::DateTime<Utc>)>) -> WebhookRow {
        WebhookRow {
            id: 1,
            user_id: 1,
            url: "https://hooks.example.com/".into(),
            events: TagList(vec!["ping".into()]),
            active: true,
            disabled_reason: None,
            secret_ciphertext: current.ciphertext.clone(),
            secret_nonce: current.nonce.clone(),
            secret_key_id: current.key_id.clone(),
            previous_ciphertext: previous.map(|(p, _)| p.ciphertext.clone()),
            previous_nonce: previous.map(|(p, _)| p.nonce.clone()),
            previous_key_id: previous.map(|(p, _)| p.key_id.clone()),
            previous_expires_at: previous.map(|(_, at)| at),
            consecutive_failures: 0,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn the_previous_secret_signs_only_during_its_overlap_and_while_its_key_is_kept() {
        let (old_ring, old_text) = ServerKeys::generate("k1");
        let (_, new_text) = ServerKeys::generate("k2");
        let both = ServerKeys::parse(&format!("{new_text},{old_text}")).unwrap();
        let new_only = ServerKeys::parse(&new_text).unwrap();
        let (a, b) = (Secret::generate(), Secret::generate());
        let (sealed_a, sealed_b) = (secret::seal(&old_ring, &a), secret::seal(&both, &b));
        let now = Utc::now();
        let later = now + ROTATION_OVERLAP;
        let rotated = row(&sealed_b, Some((&sealed_a, later)));
        assert_eq!(
            signing_secrets(&both, &rotated, now).unwrap(),
            [b.clone(), a]
        );
        let just_b = vec![b.clone()];
        assert_eq!(signing_secrets(&both, &rotated, later).unwrap(), just_b);
        assert_eq!(signing_secrets(&new_only, &rotated, now).unwrap(), just_b);
        assert_eq!(
            signing_secrets(&both, &row(&sealed_b, None), now).unwrap(),
            [b]
        );
        assert!(signing_secrets(&old_ring, &rotated, now).is_err());
    }
}
