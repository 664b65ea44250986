//! The email queue's sender: renders a queued mail ([`render`]) into a multipart message
//! (plain text and HTML) whose `Message-ID` is the outbox message's id, and sends it over
//! SMTP with lettre, or, in development without `SMTP_URL`, writes it as an `.eml` file
//! into `MAIL_DIR`. In production without `SMTP_URL`, email is off: each mail is FAILED
//! at once with that reason (an admin can retry it once SMTP is set).

pub mod render;

use std::{path::PathBuf, time::Duration};

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message as Email, Tokio1Executor,
    message::{Mailbox, MultiPart},
};

use super::{Attempt, Message, Sender};
use crate::domain::{
    keys::ServerKeys,
    mail::{Envelope, MailConfig},
};

/// How email leaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// Over SMTP (`SMTP_URL`: `smtp://` with STARTTLS when the URL's `tls=required` or
    /// `opportunistic` asks, `smtps://` for implicit TLS; credentials in the URL).
    Smtp {
        /// The URL.
        url: String,
        /// The longest wait for the server at each step (`SMTP_TIMEOUT_MS`, 10 s).
        timeout: Duration,
    },
    /// Written as `.eml` files into this folder (development without `SMTP_URL`).
    Folder(PathBuf),
    /// Not sent (production without `SMTP_URL`).
    Off,
}

impl MailTransport {
    /// The longest one attempt may take (the worker cuts it off there): the SMTP
    /// timeout applies to each step of the conversation.
    pub fn attempt_timeout(&self) -> Duration {
        match self {
            Self::Smtp { timeout, .. } => *timeout * 3,
            Self::Folder(_) | Self::Off => Duration::from_secs(10),
        }
    }

    /// How the start-up log describes it.
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp { url, .. } => {
                let credentials = url.split_once("://").is_some_and(|(_, rest)| {
                    rest.split('/')
                        .next()
                        .is_some_and(|authority| authority.contains('@'))
                });
                if url.starts_with("smtp://") && credentials && !url.contains("tls=") {
                    "email goes out over SMTP (SMTP_URL), WITHOUT TLS although it carries \
                     credentials: add ?tls=required (STARTTLS) or use smtps://"
                        .to_owned()
                } else {
                    "email goes out over SMTP (SMTP_URL)".to_owned()
                }
            }
            Self::Folder(dir) => format!(
                "email is written to {} as .eml files (no SMTP_URL in development)",
                dir.display()
            ),
            Self::Off => "email is OFF: SMTP_URL is not set (mails are marked FAILED)".to_owned(),
        }
    }
}

enum Outlet {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Folder(PathBuf),
    Off,
}

/// Sends the email queue's messages.
pub struct EmailSender {
    outlet: Outlet,
    from: Mailbox,
    domain: String,
    config: MailConfig,
    keys: ServerKeys,
}

impl EmailSender {
    /// A sender through `transport`, from `config.from`, deriving link tokens with `keys`.
    pub fn new(
        transport: &MailTransport,
        config: MailConfig,
        keys: ServerKeys,
    ) -> anyhow::Result<Self> {
        let outlet = match transport {
            MailTransport::Smtp { url, timeout } => Outlet::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("SMTP_URL: {e}"))?
                    .timeout(Some(*timeout))
                    .build(),
            ),
            MailTransport::Folder(dir) => Outlet::Folder(dir.clone()),
            MailTransport::Off => Outlet::Off,
        };
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("EMAIL_FROM: {e}"))?;
        let domain = from.email.domain().to_owned();
        Ok(Self {
            outlet,
            from,
            domain,
            config,
            keys,
        })
    }

    /// The message for `queued`, or why it cannot be built.
    fn build(&self, queued: &Message) -> Result<Email, String> {
        let envelope: Envelope =
            serde_json::from_str(&queued.payload).map_err(|e| format!("unreadable mail: {e}"))?;
        let to: Mailbox = envelope
            .to
            .parse()
            .map_err(|e| format!("bad recipient address: {e}"))?;
        let rendered = render::render(&envelope.mail, &self.config, &self.keys).map_err(|e| e.0)?;
        Email::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject)
            .message_id(Some(format!("<{}@{}>", queued.id, self.domain)))
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))
            .map_err(|e| format!("cannot build the mail: {e}"))
    }
}

impl Sender for EmailSender {
    async fn send(&self, queued: &Message) -> Attempt {
        let email = match self.build(queued) {
            Ok(email) => email,
            Err(error) => return Attempt::give_up(None, error),
        };
        match &self.outlet {
            Outlet::Off => Attempt::give_up(None, "email is off: SMTP_URL is not set"),
            Outlet::Smtp(transport) => match transport.send(email).await {
                Ok(response) => Attempt::delivered(Some(i32::from(u16::from(response.code())))),
                Err(err) => {
                    let status = err.status().map(|code| i32::from(u16::from(code)));
                    let error = format!("SMTP: {err}");
                    if err.is_permanent() {
                        Attempt::give_up(status, error)
                    } else {
                        Attempt::retry(status, error)
                    }
                }
            },
            Outlet::Folder(dir) => {
                let path = dir.join(format!(
                    "{}-{}.eml",
                    queued.created_at.format("%Y%m%dT%H%M%S"),
                    queued.id
                ));
                let (bytes, target) = (email.formatted(), path.clone());
                let written = tokio::task::spawn_blocking(move || {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::write(&target, bytes)
                })
                .await;
                match written {
                    Ok(Ok(())) => {
                        tracing::info!(file = %path.display(), kind = queued.kind, "mail written (MAIL_DIR)");
                        Attempt::delivered(None)
                    }
                    Ok(Err(err)) => {
                        Attempt::retry(None, format!("cannot write {}: {err}", path.display()))
                    }
                    Err(err) => {
                        Attempt::retry(None, format!("cannot write {}: {err}", path.display()))
                    }
                }
            }
        }
    }
}
