//! The webhook settings: where endpoints may point and when one is disabled
//! (`WEBHOOK_ALLOW_HTTP`, `WEBHOOK_ALLOWED_HOSTS`, `WEBHOOK_MAX_FAILURES`), and, until the
//! email work reads it with the rest of the server key ring, `WEBHOOK_SECRET_KEY`. Part
//! of the composition root, read by [`super::Config::from_lookup`] into the domain's
//! [`WebhookPolicy`].

use super::{ConfigError, invalid, parse};
use crate::domain::{keys::ServerKeys, webhooks::address::WebhookPolicy};

/// `WEBHOOK_ALLOW_HTTP` (false), `WEBHOOK_ALLOWED_HOSTS` (none), `WEBHOOK_MAX_FAILURES`
/// (10, at least 1).
pub(super) fn read(
    get: &impl Fn(&'static str) -> Option<String>,
) -> Result<WebhookPolicy, ConfigError> {
    let allowed_hosts = get("WEBHOOK_ALLOWED_HOSTS")
        .map(|list| {
            list.split(',')
                .map(|h| h.trim().trim_matches(['[', ']']).to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let max_failures: u32 = parse(get, "WEBHOOK_MAX_FAILURES", 10)?;
    if max_failures == 0 {
        return Err(invalid("WEBHOOK_MAX_FAILURES", "0", "must be at least 1"));
    }
    Ok(WebhookPolicy {
        allow_http: parse(get, "WEBHOOK_ALLOW_HTTP", false)?,
        allowed_hosts,
        max_failures,
    })
}

/// `WEBHOOK_SECRET_KEY` (`id:base64[,id:base64...]`, current first); unset, a random key
/// for this process (secrets sealed under it do not open after a restart). Provisional:
/// the email work reads the ring into the configuration (a development key file, the key
/// required in production) and replaces this.
pub(super) fn server_keys(
    get: &impl Fn(&'static str) -> Option<String>,
) -> Result<ServerKeys, ConfigError> {
    match get("WEBHOOK_SECRET_KEY") {
        Some(raw) => {
            ServerKeys::parse(&raw).map_err(|e| invalid("WEBHOOK_SECRET_KEY", "(hidden)", e))
        }
        None => Ok(ServerKeys::generate("ephemeral").0),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::super::Config;

    fn config(vars: &[(&str, &str)]) -> Result<Config, super::ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn reads_the_webhook_settings() {
        let policy = config(&[]).unwrap().webhooks;
        assert!(!policy.allow_http);
        assert!(policy.allowed_hosts.is_empty());
        assert_eq!(policy.max_failures, 10);
        let set = config(&[
            ("WEBHOOK_ALLOW_HTTP", "true"),
            ("WEBHOOK_ALLOWED_HOSTS", "LocalHost, 127.0.0.1,[::1]"),
            ("WEBHOOK_MAX_FAILURES", "3"),
        ])
        .unwrap()
        .webhooks;
        assert!(set.allow_http);
        assert_eq!(set.allowed_hosts, ["localhost", "127.0.0.1", "::1"]);
        assert_eq!(set.max_failures, 3);
        assert!(config(&[("WEBHOOK_MAX_FAILURES", "0")]).is_err());
        assert!(config(&[("WEBHOOK_SECRET_KEY", "k1:short")]).is_err());
    }
}
