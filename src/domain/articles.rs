//! Articles: publishing, editing, deleting and favoriting, each in one transaction with
//! the events it announces and the webhook deliveries it queues.
//!
//! May call: `db`.

use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::{
    body_html,
    events::{Event, Events},
    notifications,
    policy::{self, Viewer},
    slug,
    validation::{self, FieldErrors},
    webhooks,
};
use crate::{
    db::{
        self, PgPool,
        articles::{ArticleChanges, ArticleRow, Lock, NewArticle},
    },
    error::AppError,
};

/// Times a write retries when a concurrent write took the slug it picked.
const SLUG_ATTEMPTS: usize = 5;

/// A new article, as submitted.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Title: 1–200 characters.
    pub title: String,
    /// Summary: up to 1000 characters.
    pub description: String,
    /// Markdown body: 1–100000 characters.
    pub body: String,
    /// Tags, normalised on the way in.
    pub tags: Vec<String>,
}

/// Changes to an article: `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    /// New title (and so a new slug).
    pub title: Option<String>,
    /// New summary.
    pub description: Option<String>,
    /// New body.
    pub body: Option<String>,
    /// New tags, replacing the old ones.
    pub tags: Option<Vec<String>>,
}

/// Publishes `draft` as `viewer`; the author's followers are notified (and mailed, as
/// `rules` allow).
pub async fn create(
    pool: &PgPool,
    events: &Events,
    rules: &notifications::NotificationConfig,
    viewer: &Viewer,
    draft: Draft,
) -> Result<ArticleRow, AppError> {
    let mut errors = FieldErrors::default();
    let title = draft.title.trim();
    let description = draft.description.trim();
    errors.check("description", validation::description(description));
    errors.check("body", validation::body(&draft.body));
    let body_html = body_html::rendered(&mut errors, &draft.body);
    let tags = checked_tags(&mut errors, &draft.tags);
    let base = slug_base(&mut errors, title);
    errors.into_result()?;

    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        for _ in 0..SLUG_ATTEMPTS {
            let slug = free_slug(tx, &base).await?;
            let new = NewArticle {
                author_id: viewer.user_id,
                slug: &slug,
                title,
                description,
                body: &draft.body,
                body_html: &body_html,
                tags: &tags,
            };
            if let Some(row) = db::articles::insert(tx, &new).await? {
                db::tags::adjust(tx, &tags, &[]).await?;
                notifications::article_published(tx, events, rules, &row).await?;
                webhooks::events::article_published(tx, &row).await?;
                return Ok(row);
            }
        }
        Err(slug_contention())
    })
    .await
}

/// Applies `edit` to the article `slug`: its author only. A new title gives a new slug
/// (the old one stops resolving); an edit that changes nothing writes nothing.
pub async fn update(
    pool: &PgPool,
    events: &Events,
    viewer: &Viewer,
    slug: &str,
    edit: Edit,
) -> Result<ArticleRow, AppError> {
    let mut errors = FieldErrors::default();
    let title = edit.title.as_deref().map(str::trim);
    let description = edit.description.as_deref().map(str::trim);
    if let Some(description) = description {
        errors.check("description", validation::description(description));
    }
    if let Some(body) = &edit.body {
        errors.check("body", validation::body(body));
    }
    // Rendered only when the body changes (below); checked here, before any write.
    let body_html = edit
        .body
        .as_deref()
        .map(|body| body_html::rendered(&mut errors, body));
    let tags = edit
        .tags
        .as_ref()
        .map(|tags| checked_tags(&mut errors, tags));
    let base = title.map(|title| slug_base(&mut errors, title));
    errors.into_result()?;

    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let current = find_for_write(tx, slug, Lock::Update).await?;
        if !policy::can_update_article(Some(viewer), current.author_id) {
            return Err(AppError::Forbidden(
                "Only the article's author may edit it.".into(),
            ));
        }
        let mut changes = ArticleChanges {
            title: title.filter(|t| *t != current.title).map(str::to_owned),
            description: description
                .filter(|d| *d != current.description)
                .map(str::to_owned),
            body: edit.body.clone().filter(|b| *b != current.body),
            body_html: body_html.filter(|_| edit.body.as_ref() != Some(&current.body)),
            tags: tags.clone().filter(|t| *t != current.tags.0),
            ..ArticleChanges::default()
        };
        if changes.title.is_none()
            && changes.description.is_none()
            && changes.body.is_none()
            && changes.tags.is_none()
        {
            return Ok(current);
        }
        changes.updated_at = Some(chrono::Utc::now());
        if let Some(new_tags) = &changes.tags {
            let added: Vec<String> = new_tags
                .iter()
                .filter(|t| !current.tags.0.contains(t))
                .cloned()
                .collect();
            let removed: Vec<String> = current
                .tags
                .0
                .iter()
                .filter(|t| !new_tags.contains(t))
                .cloned()
                .collect();
            db::tags::adjust(tx, &added, &removed).await?;
        }
        let base = base
            .as_deref()
            .filter(|base| !slug::has_base(&current.slug, base));
        let Some(base) = base else {
            let row = db::articles::update(tx, current.id, &changes)
                .await?
                .ok_or_else(slug_contention)?;
            webhooks::events::article_updated(tx, &row).await?;
            return announce_update(tx, events, row).await;
        };
        for _ in 0..SLUG_ATTEMPTS {
            changes.slug = Some(free_slug(tx, base).await?);
            // In a savepoint: a slug taken meanwhile fails the UPDATE, which would
            // otherwise abort the whole transaction.
            let changes = &changes;
            let updated = tx
                .transaction::<_, AppError, _>(async |savepoint| {
                    Ok(db::articles::update(savepoint, current.id, changes).await?)
                })
                .await?;
            if let Some(row) = updated {
                webhooks::events::article_updated(tx, &row).await?;
                return announce_update(tx, events, row).await;
            }
        }
        Err(slug_contention())
    })
    .await
}

/// Deletes the article `slug` (its favorites go with it): its author or an admin.
/// Returns its id.
pub async fn delete(
    pool: &PgPool,
    events: &Events,
    viewer: &Viewer,
    slug: &str,
) -> Result<i64, AppError> {
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let current = find_for_write(tx, slug, Lock::Update).await?;
        if !policy::can_delete_article(Some(viewer), current.author_id) {
            return Err(AppError::Forbidden(
                "Only the article's author or an admin may delete it.".into(),
            ));
        }
        db::articles::delete(tx, current.id).await?;
        db::tags::adjust(tx, &[], &current.tags.0).await?;
        webhooks::events::article_deleted(tx, &current).await?;
        let event = Event::ArticleDeleted {
            article: current.id,
        };
        events.publish(tx, &event).await?;
        Ok(current.id)
    })
    .await
}

/// Favorites the article `slug` for `viewer`; idempotent. The author is notified,
/// unless `rules` make it a repeat.
pub async fn favorite(
    pool: &PgPool,
    events: &Events,
    rules: &notifications::NotificationConfig,
    viewer: &Viewer,
    slug: &str,
) -> Result<ArticleRow, AppError> {
    set_favorite(pool, events, viewer, slug, Some(rules)).await
}

/// Takes back `viewer`'s favorite of the article `slug`; idempotent.
pub async fn unfavorite(
    pool: &PgPool,
    events: &Events,
    viewer: &Viewer,
    slug: &str,
) -> Result<ArticleRow, AppError> {
    set_favorite(pool, events, viewer, slug, None).await
}

async fn set_favorite(
    pool: &PgPool,
    events: &Events,
    viewer: &Viewer,
    slug: &str,
    favorite: Option<&notifications::NotificationConfig>,
) -> Result<ArticleRow, AppError> {
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let article = find_for_write(tx, slug, Lock::NoKeyUpdate).await?;
        let Some(rules) = favorite else {
            let (row, removed) = db::articles::unfavorite(tx, viewer.user_id, article.id).await?;
            if removed {
                return announce_update(tx, events, row).await;
            }
            return Ok(row);
        };
        let (row, added) = db::articles::favorite(tx, viewer.user_id, article.id).await?;
        if !added {
            return Ok(row);
        }
        notifications::article_favorited(tx, events, rules, viewer, &row).await?;
        webhooks::events::article_favorited(tx, viewer.user_id, &row).await?;
        announce_update(tx, events, row).await
    })
    .await
}

/// Announces that `row` changed (`articleUpdated`), in the writing transaction.
async fn announce_update(
    tx: &mut AsyncPgConnection,
    events: &Events,
    row: ArticleRow,
) -> Result<ArticleRow, AppError> {
    let event = Event::ArticleUpdated { article: row.id };
    events.publish(tx, &event).await?;
    Ok(row)
}

fn checked_tags(errors: &mut FieldErrors, tags: &[String]) -> Vec<String> {
    validation::tags(tags).unwrap_or_else(|message| {
        errors.check("tags", Some(message));
        Vec::new()
    })
}

/// Checks `title` and makes its slug base; a title refused on its length is not
/// transliterated (that would read all of it).
fn slug_base(errors: &mut FieldErrors, title: &str) -> String {
    if let Some(message) = validation::title(title) {
        errors.check("title", Some(message));
        return String::new();
    }
    let base = slug::base(title);
    if base.is_empty() {
        errors.check("title", Some("must contain a letter or a digit".into()));
    }
    base
}

async fn free_slug(tx: &mut AsyncPgConnection, base: &str) -> Result<String, AppError> {
    let taken = db::articles::slugs_like(tx, base).await?;
    Ok(slug::first_free(base, &taken))
}

/// The article `slug`, locked (so that it cannot be deleted under the write), or
/// NOT_FOUND.
pub(crate) async fn find_for_write(
    tx: &mut AsyncPgConnection,
    slug: &str,
    lock: Lock,
) -> Result<ArticleRow, AppError> {
    if slug.len() > slug::SLUG_MAX {
        // No slug is that long: not worth a round trip with it.
        return Err(not_found(slug));
    }
    db::articles::lock_by_slug(tx, slug, lock)
        .await?
        .ok_or_else(|| not_found(slug))
}

fn not_found(slug: &str) -> AppError {
    if slug.len() > slug::SLUG_MAX {
        return AppError::NotFound(format!(
            "No article has that slug (no slug is longer than {} bytes).",
            slug::SLUG_MAX
        ));
    }
    AppError::NotFound(format!("No article has the slug {slug:?}."))
}

fn slug_contention() -> AppError {
    AppError::Internal(anyhow::anyhow!(
        "no free slug after {SLUG_ATTEMPTS} attempts under concurrent writes"
    ))
}
