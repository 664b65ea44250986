//! The settings of what leaves Conduit: the outbox's workers (`OUTBOX_*`), email
//! (`SMTP_URL`, `EMAIL_FROM`, `MAIL_DIR`, `PUBLIC_URL`, `EMAIL_NOTIFICATIONS_PER_HOUR`) and
//! the server key (`WEBHOOK_SECRET_KEY`). Part of the composition root, read by
//! [`super::Config::from_lookup`] into each owner's type.

use std::{path::PathBuf, time::Duration};

use super::{AppEnv, ConfigError, invalid, millis, parse, positive};
use crate::{
    domain::{keys::ServerKeys, mail::MailConfig},
    outbox::{email::MailTransport, worker::OutboxConfig},
};

/// Where the server key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `WEBHOOK_SECRET_KEY`.
    Given(ServerKeys),
    /// Development without `WEBHOOK_SECRET_KEY`: a key generated into this file on the
    /// first start and reused after.
    DevFile(PathBuf),
}

/// The development key file, beside the development mail folder.
pub const DEV_KEY_FILE: &str = ".conduit/server-key";

/// Everything this module reads.
pub(super) struct External {
    pub outbox: OutboxConfig,
    pub mail: MailConfig,
    pub mail_transport: MailTransport,
    pub server_key: KeySource,
}

pub(super) fn read(
    get: &impl Fn(&'static str) -> Option<String>,
    env: AppEnv,
) -> Result<External, ConfigError> {
    let dev = env == AppEnv::Development;
    let defaults = OutboxConfig::default();
    let outbox = OutboxConfig {
        max_attempts: positive(parse(get, "OUTBOX_MAX_ATTEMPTS", 8)?, "OUTBOX_MAX_ATTEMPTS")?
            as u32,
        retry_base: millis(get, "OUTBOX_RETRY_BASE_MS", 1_000)?,
        retry_max: millis(get, "OUTBOX_RETRY_MAX_MS", 3_600_000)?,
        poll_interval: Duration::from_millis(positive(
            parse(get, "OUTBOX_POLL_INTERVAL_MS", 5_000)?,
            "OUTBOX_POLL_INTERVAL_MS",
        )? as u64),
        batch: positive(
            parse(get, "OUTBOX_BATCH", defaults.batch as usize)?,
            "OUTBOX_BATCH",
        )?
        .min(1_000) as u32,
        retention: {
            let raw = get("OUTBOX_RETENTION").unwrap_or_else(|| "7d".to_owned());
            humantime::parse_duration(raw.trim())
                .map_err(|e| invalid("OUTBOX_RETENTION", &raw, e))?
        },
        lease_margin: millis(get, "OUTBOX_LEASE_MARGIN_MS", 30_000)?,
    };
    let public_url = match get("PUBLIC_URL") {
        Some(url) => {
            let url = url.trim().trim_end_matches('/').to_owned();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid(
                    "PUBLIC_URL",
                    &url,
                    "must start with https:// or http://",
                ));
            }
            url
        }
        None if dev => "http://127.0.0.1:8080".to_owned(),
        None => return Err(ConfigError::RequiredInProduction("PUBLIC_URL")),
    };
    let from =
        get("EMAIL_FROM").unwrap_or_else(|| "Conduit <no-reply@conduit.localhost>".to_owned());
    if from.trim().parse::<lettre::message::Mailbox>().is_err() {
        return Err(invalid(
            "EMAIL_FROM",
            &from,
            "not an address (e.g. Conduit <no-reply@example.com>)",
        ));
    }
    let mail_transport = match get("SMTP_URL") {
        Some(url) => {
            let url = url.trim().to_owned();
            if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
                return Err(invalid(
                    "SMTP_URL",
                    "(hidden)",
                    "must start with smtp:// or smtps://",
                ));
            }
            MailTransport::Smtp {
                url,
                timeout: millis(get, "SMTP_TIMEOUT_MS", 10_000)?,
            }
        }
        None if dev => MailTransport::Folder(PathBuf::from(
            get("MAIL_DIR").unwrap_or_else(|| ".conduit/mail".to_owned()),
        )),
        None => MailTransport::Off,
    };
    let mail = MailConfig {
        public_url,
        from: from.trim().to_owned(),
        notifications_per_hour: parse(get, "EMAIL_NOTIFICATIONS_PER_HOUR", 10)?,
    };
    let server_key = match get("WEBHOOK_SECRET_KEY") {
        Some(value) => KeySource::Given(
            ServerKeys::parse(&value).map_err(|e| invalid("WEBHOOK_SECRET_KEY", "(hidden)", e))?,
        ),
        None if dev => KeySource::DevFile(PathBuf::from(DEV_KEY_FILE)),
        None => return Err(ConfigError::RequiredInProduction("WEBHOOK_SECRET_KEY")),
    };
    Ok(External {
        outbox,
        mail,
        mail_transport,
        server_key,
    })
}

impl KeySource {
    /// The key ring: the given one, or the development file's (created on first use,
    /// readable by its owner only).
    pub fn load(&self) -> anyhow::Result<ServerKeys> {
        match self {
            Self::Given(keys) => Ok(keys.clone()),
            Self::DevFile(path) => {
                if let Ok(text) = std::fs::read_to_string(path) {
                    return ServerKeys::parse(&text).map_err(|e| {
                        anyhow::anyhow!("{}: {e} (delete it to start over)", path.display())
                    });
                }
                let (keys, text) = ServerKeys::generate("dev1");
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                match write_private(path, &text) {
                    Ok(()) => {
                        tracing::info!(path = %path.display(), "generated a development server key (WEBHOOK_SECRET_KEY)");
                        Ok(keys)
                    }
                    // Another process made it first: use theirs.
                    Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
                        let text = std::fs::read_to_string(path)?;
                        ServerKeys::parse(&text)
                            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
                    }
                    Err(err) => Err(anyhow::anyhow!("cannot write {}: {err}", path.display())),
                }
            }
        }
    }
}

/// Writes `text` to `path`, readable by its owner only, all at once: into a file of its
/// own first, then linked into place (failing with `AlreadyExists` if `path` exists), so
/// that no reader ever sees a half-written key.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    linked
}
