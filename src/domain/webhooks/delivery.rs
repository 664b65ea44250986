//! What a delivery's outcome does to its endpoint: a delivered one resets the failure
//! count; each failed attempt counts, and the `WEBHOOK_MAX_FAILURES`-th in a row disables
//! the endpoint; a 410 Gone disables it at once. Disabling tells the owner: a
//! `WEBHOOK_DISABLED` notification (the owner as its actor: nobody else acted), announced
//! to their live subscriptions, in the transaction that disables.
//!
//! May call: `db`.

use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::{
    db::{
        self, DbError, PgPool,
        notifications::{MailLimits, NewNotification, kind},
        webhooks::{Disabled, WebhookRow},
    },
    domain::events::{Event, Events},
};

/// Webhook `id`, as a delivery needs it (`None` once deleted).
pub async fn load(pool: &PgPool, id: i64) -> Result<Option<WebhookRow>, DbError> {
    let mut conn = db::connect(pool).await?;
    db::webhooks::find(&mut conn, id).await
}

/// A delivery to webhook `id` was delivered.
pub async fn delivered(pool: &PgPool, id: i64) -> Result<(), DbError> {
    let mut conn = db::connect(pool).await?;
    db::webhooks::record_delivered(&mut conn, id).await
}

/// An attempt to webhook `id` failed; after `max_failures` in a row it is disabled.
/// Returns true when this attempt disabled it.
pub async fn failed(
    pool: &PgPool,
    events: &Events,
    mail: &MailLimits,
    id: i64,
    max_failures: u32,
) -> Result<bool, DbError> {
    let max = i32::try_from(max_failures).unwrap_or(i32::MAX);
    let reason = format!("delivery failed {max} times in a row");
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, DbError, _>(async |tx| {
        let disabled = db::webhooks::record_failure(tx, id, max, &reason).await?;
        tell_owner(tx, events, mail, disabled).await
    })
    .await
}

/// Webhook `id`'s endpoint answered 410 Gone: it is disabled. Returns true when this
/// disabled it.
pub async fn gone(
    pool: &PgPool,
    events: &Events,
    mail: &MailLimits,
    id: i64,
) -> Result<bool, DbError> {
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, DbError, _>(async |tx| {
        let reason = "the endpoint answered 410 Gone";
        let disabled = db::webhooks::disable(tx, id, reason).await?;
        tell_owner(tx, events, mail, disabled).await
    })
    .await
}

async fn tell_owner(
    tx: &mut AsyncPgConnection,
    events: &Events,
    mail: &MailLimits,
    disabled: Option<Disabled>,
) -> Result<bool, DbError> {
    let Some(Disabled {
        user_id,
        now_disabled: true,
    }) = disabled
    else {
        return Ok(false);
    };
    let new = NewNotification {
        recipient_id: user_id,
        kind: kind::WEBHOOK_DISABLED,
        actor_id: user_id,
        article_id: None,
        comment_id: None,
    };
    if let Some(notification) = db::notifications::insert(tx, new, None, mail).await? {
        let event = Event::NotificationAdded {
            recipient: user_id,
            notification,
        };
        events.publish(tx, &event).await?;
    }
    Ok(true)
}
