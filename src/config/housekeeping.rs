//! The settings of what keeps Conduit's tables bounded and its users unspammed:
//! persisted-document registrations per client, the notifications' duplicate window,
//! sessions' absolute lifetime and pruning. Part of the composition root, read by
//! [`super::Config::from_lookup`] into each owner's type.

use std::{num::NonZeroU32, time::Duration};

use super::{ConfigError, invalid, parse, positive};
use crate::{
    db::notifications::MailLimits,
    domain::{notifications::NotificationConfig, sessions::SessionConfig},
};

/// `PERSISTED_QUERY_REGISTRATIONS_PER_MINUTE` (30; 0 is unlimited),
/// `NOTIFICATION_DEDUP_WINDOW` (`1h`), `SESSION_MAX_AGE` (`90d`) and
/// `SESSION_PRUNE_INTERVAL_MS` (1 hour).
pub(super) fn read(
    get: &impl Fn(&'static str) -> Option<String>,
) -> Result<(Option<NonZeroU32>, NotificationConfig, SessionConfig), ConfigError> {
    let registrations =
        NonZeroU32::new(parse(get, "PERSISTED_QUERY_REGISTRATIONS_PER_MINUTE", 30)?);
    let notifications = NotificationConfig {
        dedup_window: human(get, "NOTIFICATION_DEDUP_WINDOW", "1h")?,
        // Set from the email settings by `Config::from_lookup`.
        mail: MailLimits {
            per_hour: 10,
            summary_delay: Duration::from_secs(3600),
        },
    };
    let sessions = SessionConfig {
        max_age: human(get, "SESSION_MAX_AGE", "90d")?,
        prune_interval: Duration::from_millis(positive(
            parse(get, "SESSION_PRUNE_INTERVAL_MS", 3_600_000)?,
            "SESSION_PRUNE_INTERVAL_MS",
        )? as u64),
    };
    if sessions.max_age.is_zero() {
        return Err(invalid("SESSION_MAX_AGE", "0", "must be longer than 0"));
    }
    Ok((registrations, notifications, sessions))
}

/// A duration in `humantime`'s format (`90s`, `30m`, `1h`, `90d`).
fn human(
    get: &impl Fn(&'static str) -> Option<String>,
    name: &'static str,
    default: &str,
) -> Result<Duration, ConfigError> {
    let raw = get(name).unwrap_or_else(|| default.to_owned());
    humantime::parse_duration(raw.trim()).map_err(|e| invalid(name, &raw, e))
}

#[cfg(test)]
mod tests {
    use super::super::tests::config;
    use super::*;

    #[test]
    fn housekeeping_settings_default_and_read_humantime() {
        let c = config(&[]).unwrap();
        assert_eq!(c.notifications.dedup_window, Duration::from_secs(3600));
        assert_eq!(c.sessions.max_age, Duration::from_secs(90 * 86_400));
        assert_eq!(c.sessions.prune_interval, Duration::from_secs(3600));
        assert_eq!(c.persisted_registrations.map(|n| n.get()), Some(30));
        let c = config(&[
            ("NOTIFICATION_DEDUP_WINDOW", "0"),
            ("SESSION_MAX_AGE", "7d"),
            ("PERSISTED_QUERY_REGISTRATIONS_PER_MINUTE", "0"),
            ("SESSION_PRUNE_INTERVAL_MS", "50"),
        ])
        .unwrap();
        assert_eq!(c.notifications.dedup_window, Duration::ZERO);
        assert_eq!(c.sessions.max_age, Duration::from_secs(7 * 86_400));
        assert_eq!(c.sessions.prune_interval, Duration::from_millis(50));
        assert!(c.persisted_registrations.is_none());
        for (name, value) in [
            ("NOTIFICATION_DEDUP_WINDOW", "an hour"),
            ("SESSION_MAX_AGE", "3 fortnights"),
            ("SESSION_MAX_AGE", "0"),
            ("SESSION_PRUNE_INTERVAL_MS", "0"),
            ("PERSISTED_QUERY_REGISTRATIONS_PER_MINUTE", "-1"),
        ] {
            let err = config(&[(name, value)]).unwrap_err().to_string();
            assert!(err.starts_with(name), "{err}");
        }
    }
}
