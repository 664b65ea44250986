//! Comments: adding and deleting, each in one transaction with its counter and
//! notification.

use diesel_async::AsyncConnection;

use super::{
    notifications,
    policy::{self, Viewer},
    validation::{self, FieldErrors},
};
use crate::{
    db::{self, comments::CommentRow},
    error::AppError,
    state::AppState,
};

/// `viewer` comments `body` on the article `slug`.
pub async fn add(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
    body: &str,
) -> Result<CommentRow, AppError> {
    let mut errors = FieldErrors::default();
    errors.check("body", validation::comment(body));
    errors.into_result()?;

    let mut conn = db::connect(&state.pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let article = db::articles::find_by_slug(tx, slug)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("No article has the slug {slug:?}.")))?;
        let comment = db::comments::insert(tx, article.id, viewer.user_id, body).await?;
        notifications::comment_added(tx, &article, &comment).await?;
        Ok(comment)
    })
    .await
}

/// Deletes comment `id`: its author or an admin. Returns the comment's article id.
pub async fn delete(state: &AppState, viewer: &Viewer, id: i64) -> Result<i64, AppError> {
    let mut conn = db::connect(&state.pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let comment = db::comments::lock(tx, id)
            .await?
            .ok_or_else(|| AppError::NotFound("No such comment.".into()))?;
        if !policy::can_delete_comment(Some(viewer), comment.author_id) {
            return Err(AppError::Forbidden(
                "Only the comment's author or an admin may delete it.".into(),
            ));
        }
        db::comments::delete(tx, &comment).await?;
        Ok(comment.article_id)
    })
    .await
}
