//! Webhook delivery: the [`Sender`] of the `webhook` queue. For each message it loads the
//! endpoint (a deleted or disabled one gives up), opens its secrets (the previous one too
//! during a rotation), signs the stored body ([`sign`]) with `webhook-timestamp` = now,
//! and POSTs it with reqwest over rustls: a 10 s timeout, no redirects, no proxy from the
//! environment, every connection through [`resolve::GuardedResolver`] (SSRF checks on
//! the resolved addresses) and IP-literal URLs checked here, since no resolver sees them.
//!
//! 2xx is delivered (the endpoint's failure count resets); 410 Gone gives up and disables
//! the endpoint; anything else is retried, and counts towards `WEBHOOK_MAX_FAILURES`,
//! which disables it too (`domain::webhooks::delivery`).
//!
//! May call: `domain`, `db`, and the leaves.

pub mod resolve;
pub mod sign;

use std::{error::Error as _, sync::Arc, time::Duration};

use url::Url;

use self::resolve::{GuardedResolver, Lookup, Refused, SystemLookup};
use super::{Attempt, Message, Sender};
use crate::{
    db::{PgPool, notifications::MailLimits},
    domain::{
        events::Events,
        ids,
        keys::ServerKeys,
        webhooks::{self, address::WebhookPolicy, delivery},
    },
};

/// The longest one POST may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The `user-agent` of every delivery.
pub const USER_AGENT: &str = "Conduit-Webhooks/1";

/// Sends webhook deliveries.
pub struct WebhookSender {
    pool: PgPool,
    events: Events,
    keys: ServerKeys,
    policy: WebhookPolicy,
    client: reqwest::Client,
    notice_mail: MailLimits,
}

impl WebhookSender {
    /// A sender resolving names through the system's resolver.
    pub fn new(
        pool: PgPool,
        events: Events,
        keys: ServerKeys,
        policy: WebhookPolicy,
    ) -> anyhow::Result<Self> {
        Self::with_lookup(pool, events, keys, policy, Arc::new(SystemLookup))
    }

    /// A sender resolving names through `lookup` (tests map names to addresses).
    pub fn with_lookup(
        pool: PgPool,
        events: Events,
        keys: ServerKeys,
        policy: WebhookPolicy,
        lookup: Arc<dyn Lookup>,
    ) -> anyhow::Result<Self> {
        let resolver = GuardedResolver::new(lookup, policy.clone());
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(USER_AGENT)
            .dns_resolver(Arc::new(resolver))
            .build()?;
        Ok(Self {
            pool,
            events,
            keys,
            policy,
            client,
            // The settings' defaults (10 an hour, the summary an hour later).
            notice_mail: MailLimits {
                per_hour: 10,
                summary_delay: Duration::from_secs(3600),
            },
        })
    }

    /// The limits of the notification mail an owner may get when an endpoint is disabled
    /// (`EMAIL_NOTIFICATIONS_PER_HOUR`; the defaults otherwise).
    pub fn notice_mail(mut self, limits: MailLimits) -> Self {
        self.notice_mail = limits;
        self
    }

    /// The endpoint failed an attempt: counted, and maybe disabled.
    async fn failed(&self, webhook_id: i64) {
        let max = self.policy.max_failures;
        if let Err(err) =
            delivery::failed(&self.pool, &self.events, &self.notice_mail, webhook_id, max).await
        {
            tracing::warn!(webhook_id, error = %err, "webhooks: cannot count a failure");
        }
    }

    async fn attempt(&self, message: &Message, webhook_id: i64) -> Attempt {
        let row = match delivery::load(&self.pool, webhook_id).await {
            Ok(Some(row)) => row,
            Ok(None) => return Attempt::give_up(None, "the webhook was deleted"),
            Err(err) => return Attempt::retry(None, format!("database: {err}")),
        };
        if !row.active {
            return Attempt::give_up(None, "the webhook is disabled");
        }
        let url = match Url::parse(&row.url) {
            Ok(url) => url,
            Err(err) => return Attempt::give_up(None, format!("invalid URL: {err}")),
        };
        if let Err(why) = self.policy.check_target(&url) {
            self.failed(webhook_id).await;
            return Attempt::give_up(None, format!("refused: the URL {why}"));
        }
        let now = chrono::Utc::now();
        let secrets = match webhooks::signing_secrets(&self.keys, &row, now) {
            Ok(secrets) => secrets,
            Err(err) => return Attempt::give_up(None, err.to_string()),
        };
        let id = ids::delivery_id(message.id);
        let timestamp = now.timestamp();
        let signature = sign::header(&secrets, &id, timestamp, &message.payload);
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(message.payload.clone())
            .send()
            .await;
        let status = match sent {
            Ok(response) => response.status(),
            Err(err) => {
                self.failed(webhook_id).await;
                return Attempt::retry(None, describe(&err));
            }
        };
        let code = Some(i32::from(status.as_u16()));
        if status.is_success() {
            if let Err(err) = delivery::delivered(&self.pool, webhook_id).await {
                tracing::warn!(webhook_id, error = %err, "webhooks: cannot reset the failure count");
            }
            return Attempt::delivered(code);
        }
        if status == reqwest::StatusCode::GONE {
            if let Err(err) =
                delivery::gone(&self.pool, &self.events, &self.notice_mail, webhook_id).await
            {
                tracing::warn!(webhook_id, error = %err, "webhooks: cannot disable after 410");
            }
            return Attempt::give_up(code, "HTTP 410 Gone: the webhook is disabled");
        }
        self.failed(webhook_id).await;
        let note = if status.is_redirection() {
            " (redirects are not followed)"
        } else {
            ""
        };
        Attempt::retry(code, format!("HTTP {}{note}", status.as_u16()))
    }
}

impl Sender for WebhookSender {
    async fn send(&self, message: &Message) -> Attempt {
        let webhook_id = message
            .ordering_key
            .as_deref()
            .and_then(|key| key.strip_prefix("webhook:"))
            .and_then(|id| id.parse::<i64>().ok());
        match webhook_id {
            Some(webhook_id) => self.attempt(message, webhook_id).await,
            None => Attempt::give_up(None, "not a webhook delivery"),
        }
    }
}

/// A short account of a failed POST: the SSRF refusal, a timeout, or the innermost cause.
fn describe(err: &reqwest::Error) -> String {
    let mut source = err.source();
    let mut innermost = None;
    while let Some(cause) = source {
        if let Some(refused) = cause.downcast_ref::<Refused>() {
            return refused.to_string();
        }
        innermost = Some(cause.to_string());
        source = cause.source();
    }
    if err.is_timeout() {
        return format!("timed out after {} s", TIMEOUT.as_secs());
    }
    let kind = if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    match innermost {
        Some(cause) => format!("{kind}: {cause}"),
        None => format!("{kind}: {err}"),
    }
}
