//! Accounts: registration, profile edits (a new email needs the current password),
//! roles, deletion, and the normalized email the sign-in throttle keys on.
//!
//! May call: `db`.

use diesel_async::AsyncConnection;

use super::{
    devices::Origin,
    email,
    events::{Event, Events},
    keys::ServerKeys,
    password::Passwords,
    policy::{Role, Viewer},
    sessions::{self, AuthSession},
    tokens::TokenPair,
    validation::{self, FieldErrors},
};
use crate::{
    db::{
        self, PgPool,
        users::{NewUser, ProfileChanges, Taken, UserRow, UserWriteError},
    },
    error::AppError,
};

/// What `register` needs.
#[derive(Debug, Clone)]
pub struct Registration {
    /// Wanted username.
    pub username: String,
    /// Email address.
    pub email: String,
    /// Plain password (8–128 characters).
    pub password: String,
}

/// Profile changes: `None` leaves a field as it is; for `bio` and `image`, `Some(None)`
/// clears it.
#[derive(Debug, Clone, Default)]
pub struct ProfileEdit {
    /// New username.
    pub username: Option<String>,
    /// New email.
    pub email: Option<String>,
    /// New bio, or clear it.
    pub bio: Option<Option<String>>,
    /// New image URL, or clear it.
    pub image: Option<Option<String>>,
    /// The password in use now: required with a new `email`.
    pub current_password: Option<String>,
    /// The notification kinds (`db::notifications::kind` values) to receive by email too.
    pub email_notifications: Option<Vec<&'static str>>,
}

/// The form of `email` the sign-in throttle keys on: trimmed, once it is a valid address
/// (`None` otherwise: such an address names no account, and is never a key). The
/// throttle's table folds its case with the database's `lower()`, as the account lookup
/// does (folding it here first would differ: Rust turns `İ` into `i` + U+0307).
pub fn throttle_email(email: &str) -> Option<String> {
    let email = email.trim();
    validation::email(email).is_none().then(|| email.to_owned())
}

fn taken_errors(taken: &[Taken]) -> Result<(), AppError> {
    let mut errors = FieldErrors::default();
    for field in taken {
        match field {
            Taken::Username => errors.check("username", Some("is already taken".into())),
            Taken::Email => errors.check("email", Some("is already registered".into())),
        }
    }
    errors.into_result()
}

fn write_error(err: UserWriteError) -> AppError {
    match err {
        UserWriteError::Taken(taken) => taken_errors(&[taken]).expect_err("one field error"),
        UserWriteError::Db(err) => err.into(),
    }
}

/// Creates an account and signs it in, from `origin`, and queues the welcome mail with
/// its verification link, in the same transaction.
pub async fn register(
    pool: &PgPool,
    passwords: &Passwords,
    keys: &ServerKeys,
    input: Registration,
    origin: &Origin,
) -> Result<AuthSession, AppError> {
    let username = input.username.trim().to_owned();
    let email = input.email.trim().to_owned();
    let mut errors = FieldErrors::default();
    errors.check("username", validation::username(&username));
    errors.check("email", validation::email(&email));
    errors.check("password", validation::password(&input.password));
    errors.into_result()?;

    {
        let mut conn = db::connect(pool).await?;
        taken_errors(&db::users::taken(&mut conn, Some(&username), Some(&email), None).await?)?;
    }
    // No pooled connection is held while hashing.
    let hash = passwords.hash(input.password).await?;

    let tokens = TokenPair::generate(chrono::Utc::now());
    let mut conn = db::connect(pool).await?;
    let new = NewUser {
        username: &username,
        email: &email,
        password_hash: &hash,
    };
    let pair = sessions::stored_pair(&tokens);
    let (user, session_id) = conn
        .transaction::<_, UserWriteError, _>(async |tx| {
            let user = db::users::insert(tx, &new).await?;
            let session_id = db::sessions::create(tx, user.id, pair, origin.stored()).await?;
            email::queue_verification(tx, keys, &user, true).await?;
            Ok((user, session_id))
        })
        .await
        .map_err(write_error)?;
    Ok(sessions::new_session(user, session_id, tokens))
}

/// Applies `edit` to the viewer's profile. A new email needs the viewer's current
/// password (checked before anything says whether the address is taken); it is
/// unverified, gets a verification mail, and the old address a notice, in the same
/// transaction as the change.
pub async fn update_profile(
    pool: &PgPool,
    passwords: &Passwords,
    keys: &ServerKeys,
    viewer: &Viewer,
    edit: ProfileEdit,
) -> Result<UserRow, AppError> {
    let username = edit.username.map(|u| u.trim().to_owned());
    let email = edit.email.map(|e| e.trim().to_owned());
    let mut errors = FieldErrors::default();
    if let Some(username) = &username {
        errors.check("username", validation::username(username));
    }
    if let Some(email) = &email {
        errors.check("email", validation::email(email));
    }
    if let Some(Some(bio)) = &edit.bio {
        errors.check("bio", validation::bio(bio));
    }
    if let Some(Some(image)) = &edit.image {
        errors.check("image", validation::image(image));
    }
    errors.into_result()?;
    if email.is_some() && edit.current_password.is_none() {
        let mut errors = FieldErrors::default();
        errors.check(
            "currentPassword",
            Some("is required to change the email".into()),
        );
        errors.into_result()?;
    }

    if let (Some(_), Some(current)) = (&email, &edit.current_password) {
        let field = "currentPassword";
        sessions::check_current_password(pool, passwords, viewer.user_id, current, field).await?;
    }

    let mut conn = db::connect(pool).await?;
    if username.is_some() || email.is_some() {
        let taken = db::users::taken(
            &mut conn,
            username.as_deref(),
            email.as_deref(),
            Some(viewer.user_id),
        )
        .await?;
        taken_errors(&taken)?;
    }
    let email_changes = email.is_some();
    let mut changes = ProfileChanges {
        username,
        email,
        bio: edit.bio,
        image: edit.image,
        email_verified_at: None,
        email_notifications: edit.email_notifications.map(|mut kinds| {
            kinds.sort_unstable();
            kinds.dedup();
            kinds.into_iter().map(|k| Some(k.to_owned())).collect()
        }),
    };
    if !email_changes {
        return db::users::update_profile(&mut conn, viewer.user_id, &changes)
            .await
            .map_err(write_error);
    }
    conn.transaction::<_, UserWriteError, _>(async |tx| {
        let old = db::users::find(tx, viewer.user_id)
            .await?
            .ok_or(UserWriteError::Db(db::DbError::Query(
                diesel::result::Error::NotFound,
            )))?;
        let moved = changes
            .email
            .as_deref()
            .is_some_and(|new| !new.eq_ignore_ascii_case(&old.email));
        if moved {
            changes.email_verified_at = Some(None);
        }
        let user = db::users::update_profile(tx, viewer.user_id, &changes).await?;
        if moved {
            email::queue_email_change(tx, keys, &user, &old.email).await?;
        }
        Ok(user)
    })
    .await
    .map_err(write_error)
}

/// Sets the role of the user named `username`. Errors with NOT_FOUND if there is none.
pub async fn set_role(pool: &PgPool, username: &str, role: Role) -> Result<(), AppError> {
    let mut conn = db::connect(pool).await?;
    if db::users::set_role(&mut conn, username, role.as_db()).await? {
        Ok(())
    } else {
        Err(AppError::NotFound(format!("No user named {username}")))
    }
}

/// Deletes the viewer's account and everything of theirs, once `password` is their
/// password (else a `password` field error, and nothing is deleted): their articles (with
/// every comment, favorite and notification on them), comments, favorites, follows both
/// ways, notifications as recipient and actor, sessions and used refresh tokens, in one
/// transaction that keeps every counter of the rows that stay true
/// ([`db::deletion::delete_user`]). It announces, in that transaction, that all their
/// sessions are revoked (their sockets close on every instance), that their articles and
/// their comments on others' articles are deleted, and that others' articles they had
/// favorited changed. Returns the deleted user's id.
pub async fn delete_account(
    pool: &PgPool,
    passwords: &Passwords,
    events: &Events,
    viewer: &Viewer,
    password: &str,
) -> Result<i64, AppError> {
    sessions::check_current_password(pool, passwords, viewer.user_id, password, "password").await?;
    let user = viewer.user_id;
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let deleted = db::deletion::delete_user(tx, user)
            .await?
            .ok_or_else(|| AppError::Unauthenticated("The account no longer exists.".into()))?;
        let mut announced = vec![sessions::all_sessions_revoked(user)];
        announced.extend(
            deleted
                .articles
                .iter()
                .map(|&article| Event::ArticleDeleted { article }),
        );
        announced.extend(
            deleted
                .comments
                .iter()
                .map(|&(comment, article)| Event::CommentDeleted { article, comment }),
        );
        announced.extend(
            deleted
                .unfavorited
                .iter()
                .map(|&article| Event::ArticleUpdated { article }),
        );
        events.publish_all(tx, &announced).await?;
        // outbox: final email
        Ok(())
    })
    .await?;
    Ok(user)
}
