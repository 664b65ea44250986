//! The notification mails (one per notification, and the summary of those past the
//! hourly limit), the new-sign-in notice and the farewell. Notification mails link into
//! the web app (`/article/<slug>`, `/profile/<username>`) and carry a signed one-click
//! unsubscribe URL ([`crate::domain::unsubscribe`]); no mail names anyone's address.

use super::{Rendered, page};
use crate::{
    db::notifications::{Summarized, kind},
    domain::{
        keys::ServerKeys,
        mail::{ArticleRef, MailConfig},
        unsubscribe,
    },
};

/// What a summary mail lists, at most.
pub const SUMMARY_LISTED: i64 = 5;

/// A notification of `kind` by `actor`: one line saying who did what, and its link.
fn what(
    config: &MailConfig,
    kind_: &str,
    actor: &str,
    article: Option<(&str, &str)>,
) -> (String, String) {
    if kind_ == kind::WEBHOOK_DISABLED {
        let line = "One of your webhooks was disabled: its deliveries kept failing".to_owned();
        return (line, format!("{}/settings", config.public_url));
    }
    let profile = format!("{}/profile/{actor}", config.public_url);
    let Some((slug, title)) = article else {
        return (format!("{actor} started following you"), profile);
    };
    let link = format!("{}/article/{slug}", config.public_url);
    let line = match kind_ {
        kind::ARTICLE_FAVORITED => format!("{actor} favorited your article “{title}”"),
        kind::COMMENT_ADDED => format!("{actor} commented on your article “{title}”"),
        kind::ARTICLE_PUBLISHED => format!("{actor} published “{title}”"),
        _ => format!("{actor} did something on “{title}”"),
    };
    (line, link)
}

/// How a kind is named in the unsubscribe note.
fn kind_label(kind_: &str) -> &'static str {
    match kind_ {
        kind::NEW_FOLLOWER => "new followers",
        kind::ARTICLE_FAVORITED => "favorites of your articles",
        kind::COMMENT_ADDED => "comments on your articles",
        kind::ARTICLE_PUBLISHED => "new articles by people you follow",
        kind::WEBHOOK_DISABLED => "disabled webhooks",
        _ => "notifications",
    }
}

/// One notification, as its mail tells it.
pub struct Notice<'a> {
    /// The recipient.
    pub user_id: i64,
    /// The recipient's name.
    pub username: &'a str,
    /// Its kind.
    pub kind: &'a str,
    /// Who acted.
    pub actor: &'a str,
    /// The article concerned.
    pub article: Option<&'a ArticleRef>,
    /// The start of the comment concerned.
    pub comment: Option<&'a str>,
}

/// A mail about one notification.
pub fn notification(config: &MailConfig, keys: &ServerKeys, notice: &Notice<'_>) -> Rendered {
    let Notice {
        user_id,
        username,
        kind: kind_,
        actor,
        article,
        comment,
    } = *notice;
    let article = article.map(|a| (a.slug.as_str(), a.title.as_str()));
    let (line, link) = what(config, kind_, actor, article);
    let mut body = format!("{line}.");
    if let Some(comment) = comment {
        body.push_str(&format!(" They wrote: “{comment}”"));
    }
    let unsubscribe = unsubscribe::url(keys, &config.public_url, user_id, kind_);
    let note = format!(
        "You get this mail because you turned on email for {}. Unsubscribe with one click: {unsubscribe}",
        kind_label(kind_)
    );
    let mut rendered = page(
        &line,
        &format!("Hello {username},"),
        &body,
        Some(("Open it on Conduit", &link)),
        &note,
    );
    rendered.unsubscribe = Some(unsubscribe);
    rendered
}

/// The summary of the notifications past the hourly limit: how many, the newest few.
pub fn summary(
    config: &MailConfig,
    keys: &ServerKeys,
    user_id: i64,
    username: &str,
    listed: &[Summarized],
) -> Rendered {
    let total = listed.first().map_or(0, |row| row.total);
    let mut body = format!(
        "You reached this hour's limit of notification mails; since then, {total} more \
         notification{} came in:",
        if total == 1 { "" } else { "s" }
    );
    for row in listed {
        let article = row.slug.as_deref().zip(row.title.as_deref());
        let (line, link) = what(config, &row.kind, &row.actor, article);
        body.push_str(&format!("\n- {line} ({link})"));
    }
    let rest = total - listed.len() as i64;
    if rest > 0 {
        body.push_str(&format!(
            "\n…and {rest} more notification{}.",
            if rest == 1 { "" } else { "s" }
        ));
    }
    let unsubscribe = unsubscribe::url(keys, &config.public_url, user_id, unsubscribe::ALL);
    let note = format!("Stop every notification mail with one click: {unsubscribe}");
    let mut rendered = page(
        &format!("And {total} more notifications on Conduit"),
        &format!("Hello {username},"),
        &body,
        Some(("Open Conduit", &config.public_url)),
        &note,
    );
    rendered.unsubscribe = Some(unsubscribe);
    rendered
}

/// The notice of a sign-in from a new device.
pub fn new_sign_in(
    username: &str,
    at: &chrono::DateTime<chrono::Utc>,
    user_agent: Option<&str>,
    client_ip: Option<&str>,
) -> Rendered {
    let body = format!(
        "Your account was just signed in to from a device it had not been used on before.\n\
         Time: {}\nDevice (user agent): {}\nIP address: {}",
        at.format("%Y-%m-%d %H:%M:%S UTC"),
        user_agent.unwrap_or("unknown"),
        client_ip.unwrap_or("unknown"),
    );
    page(
        "New sign-in to your account",
        &format!("Hello {username},"),
        &body,
        None,
        "If this was you, there is nothing to do. If not, change your password at once and \
         revoke that session in your account's settings.",
    )
}

/// The farewell, after the account was deleted.
pub fn account_deleted(username: &str) -> Rendered {
    page(
        "Your account was deleted",
        &format!("Goodbye {username},"),
        "Your Conduit account was deleted, with everything in it: articles, comments, \
         favorites, follows and sessions.",
        None,
        "If you did not ask for this, contact us at once. We will not mail this address again.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_webhook_is_told_as_such() {
        let config = MailConfig {
            public_url: "https://app.example".into(),
            from: "Conduit <no-reply@example.com>".into(),
            notifications_per_hour: 10,
            summary_delay: std::time::Duration::from_secs(3600),
        };
        let (line, link) = what(&config, kind::WEBHOOK_DISABLED, "jane", None);
        assert!(line.contains("webhooks was disabled"), "{line}");
        assert_eq!(link, "https://app.example/settings");
        assert_eq!(kind_label(kind::WEBHOOK_DISABLED), "disabled webhooks");
        let (line, _) = what(&config, kind::NEW_FOLLOWER, "jane", None);
        assert_eq!(line, "jane started following you");
    }
}
