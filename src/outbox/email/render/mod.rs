//! What each mail says: its subject, a plain-text part and an HTML part, with links into
//! the web app (`PUBLIC_URL`): `/verify-email?token=…` and `/reset-password?token=…`;
//! the notification mails and account notices are in [`notices`].

pub mod notices;

use crate::{
    db::notifications::Summarized,
    domain::{
        email_tokens::{self, Purpose},
        keys::ServerKeys,
        mail::{Mail, MailConfig, TokenRef},
        markdown::escape_html as escape,
    },
};

/// A mail, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
    /// The one-click unsubscribe URL (`List-Unsubscribe`), for notification mails.
    pub unsubscribe: Option<String>,
}

/// Why a mail cannot be rendered (it is then FAILED: a retry would not help).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unrenderable(pub String);

/// Renders `mail` with links into `config.public_url`; a summary lists `summarized` (what
/// `db::notifications::summarize` found when it is sent).
pub fn render(
    mail: &Mail,
    config: &MailConfig,
    keys: &ServerKeys,
    summarized: &[Summarized],
) -> Result<Rendered, Unrenderable> {
    let link = |path: &str, purpose: Purpose, token: &TokenRef| {
        let value = email_tokens::value(keys, purpose, token).ok_or_else(|| {
            Unrenderable(format!(
                "the server key {:?} is no longer configured",
                token.key_id
            ))
        })?;
        Ok::<_, Unrenderable>(format!("{}/{path}?token={value}", config.public_url))
    };
    Ok(match mail {
        Mail::Welcome { username, token } => {
            let url = link("verify-email", Purpose::VerifyEmail, token)?;
            page(
                "Welcome to Conduit — confirm your email",
                &format!("Welcome to Conduit, {username}!"),
                "Confirm that this address is yours to receive password resets and notifications:",
                Some(("Confirm my email", &url)),
                "The link works once, for 24 hours. If you did not sign up, ignore this mail.",
            )
        }
        Mail::VerifyEmail { username, token } => {
            let url = link("verify-email", Purpose::VerifyEmail, token)?;
            page(
                "Confirm your email address",
                &format!("Hello {username},"),
                "Confirm that this address is yours:",
                Some(("Confirm my email", &url)),
                "The link works once, for 24 hours. If you did not ask for it, ignore this mail.",
            )
        }
        Mail::EmailChanged { username } => page(
            "Your Conduit email address was changed",
            &format!("Hello {username},"),
            "The email address of your Conduit account was just changed; mail now goes to the new address.",
            None,
            "If you did not change it, reset your password and contact us at once.",
        ),
        Mail::PasswordReset { username, token } => {
            let url = link("reset-password", Purpose::ResetPassword, token)?;
            page(
                "Reset your Conduit password",
                &format!("Hello {username},"),
                "Someone (hopefully you) asked to reset your password. Choose a new one here:",
                Some(("Choose a new password", &url)),
                "The link works once, for 30 minutes, and signs you out everywhere. If you did not ask for it, ignore this mail: your password stays as it is.",
            )
        }
        Mail::Notification {
            user_id,
            username,
            kind,
            actor,
            article,
            comment,
        } => {
            let notice = notices::Notice {
                user_id: *user_id,
                username,
                kind,
                actor,
                article: article.as_ref(),
                comment: comment.as_deref(),
            };
            notices::notification(config, keys, &notice)
        }
        Mail::NotificationSummary {
            user_id, username, ..
        } => notices::summary(config, keys, *user_id, username, summarized),
        Mail::NewSignIn {
            username,
            at,
            user_agent,
            client_ip,
        } => notices::new_sign_in(username, at, user_agent.as_deref(), client_ip.as_deref()),
        Mail::AccountDeleted { username } => notices::account_deleted(username),
    })
}

/// One simple page: a greeting, a paragraph, an optional button link, a footnote.
fn page(
    subject: &str,
    greeting: &str,
    body: &str,
    action: Option<(&str, &str)>,
    note: &str,
) -> Rendered {
    let mut text = format!("{greeting}\n\n{body}\n\n");
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><p>{}</p><p>{}</p>",
        escape(greeting),
        escape(body).replace('\n', "<br>")
    );
    if let Some((label, url)) = action {
        text.push_str(&format!("{url}\n\n"));
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p><p style=\"font-size:small\">{}</p>",
            escape(url),
            escape(label),
            escape(url)
        ));
    }
    text.push_str(note);
    text.push_str("\n\n— Conduit\n");
    html.push_str(&format!(
        "<p style=\"font-size:small\">{}</p><p>— Conduit</p></body></html>",
        escape(note)
    ));
    Rendered {
        subject: subject.to_owned(),
        text,
        html,
        unsubscribe: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_the_derived_token_and_html_is_escaped() {
        let (keys, _) = ServerKeys::generate("k1");
        let config = MailConfig {
            public_url: "https://app.example".into(),
            from: "Conduit <no-reply@example.com>".into(),
            notifications_per_hour: 10,
            summary_delay: std::time::Duration::from_secs(3600),
        };
        let (token, hash) = email_tokens::mint(&keys, Purpose::ResetPassword);
        let mail = Mail::PasswordReset {
            username: "<jane>".into(),
            token,
        };
        let rendered = render(&mail, &config, &keys, &[]).unwrap();
        let start = rendered
            .text
            .find("https://app.example/reset-password?token=")
            .unwrap();
        let value = rendered.text[start..].split_whitespace().next().unwrap();
        let value = value.split_once("token=").unwrap().1;
        assert_eq!(crate::domain::tokens::hash(value), hash);
        assert!(rendered.html.contains("&lt;jane&gt;"), "{}", rendered.html);
        assert!(!rendered.html.contains("<jane>"));
        let (other, _) = ServerKeys::generate("k2");
        assert!(render(&mail, &config, &other, &[]).is_err());
    }
}
