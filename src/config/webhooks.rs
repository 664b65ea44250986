//! The webhook settings: where endpoints may point and when one is disabled
//! (`WEBHOOK_ALLOW_HTTP`, `WEBHOOK_ALLOWED_HOSTS`, `WEBHOOK_MAX_FAILURES`). The key their
//! secrets are sealed under is the server key ring (`WEBHOOK_SECRET_KEY`, read with the
//! email settings). Part of the composition root, read by
//! [`super::Config::from_lookup`] into the domain's [`WebhookPolicy`].

use super::{ConfigError, invalid, parse};
use crate::domain::webhooks::address::WebhookPolicy;

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
    }
}
