//! Sessions: sign-in, token refresh with reuse detection, sign-out, password changes, and
//! turning an access token into a [`Viewer`]. Every revocation is announced here
//! ([`Event::SessionRevoked`], [`Event::SessionsRevoked`]), in its write's transaction,
//! so that sockets on those sessions close on every instance.
//!
//! A session lives at most [`SessionConfig::max_age`] from sign-in, however often it is
//! refreshed; ended sessions (revoked, expired, too old) and their used refresh tokens
//! are deleted by [`prune`], which [`prune_periodically`] runs on every instance, one at
//! a time under an advisory lock. Both judge time by the [`SessionRules`]' clock.
//!
//! May call: `db`.

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use super::{
    clock::Clock,
    devices::Origin,
    events::{Event, Events},
    password::Passwords,
    policy::{self, Role, Viewer},
    tokens::{self, TokenPair},
    validation::{self, FieldErrors},
};
use crate::{
    db::{
        self, PgPool, RequestDb,
        sessions::{Pruned, Rotation, StoredPair},
        users::UserRow,
    },
    error::AppError,
};

/// Sessions' settings (`SESSION_MAX_AGE`, `SESSION_PRUNE_INTERVAL_MS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionConfig {
    /// A session's absolute lifetime from sign-in (90 days).
    pub max_age: std::time::Duration,
    /// How often each instance tries to prune ended sessions.
    pub prune_interval: std::time::Duration,
}

/// What the time-bound session rules need: the lifetime and the clock to judge it by.
#[derive(Debug, Clone)]
pub struct SessionRules {
    /// A session's absolute lifetime from sign-in.
    pub max_age: chrono::Duration,
    /// The clock (the system's, except in tests).
    pub clock: Clock,
}

impl SessionRules {
    /// The rules of `config`, judged by `clock`.
    pub fn new(config: &SessionConfig, clock: Clock) -> Self {
        Self {
            max_age: chrono::Duration::from_std(config.max_age).unwrap_or(chrono::Duration::MAX),
            clock,
        }
    }
}

/// A signed-in session as returned to the client: its user and a fresh token pair.
#[derive(Debug, Clone)]
pub struct AuthSession {
    /// The signed-in user.
    pub user: UserRow,
    /// The session, as a viewer.
    pub viewer: Viewer,
    /// The tokens, shown to the client once.
    pub tokens: TokenPair,
}

/// The one message for a failed sign-in, whether the email or the password was wrong.
pub const WRONG_CREDENTIALS: &str = "Wrong email or password.";

/// The stored form of a fresh pair: hashes and expiry times.
pub fn stored_pair(pair: &TokenPair) -> StoredPair<'_> {
    StoredPair {
        access_hash: &pair.access.hash,
        access_expires_at: pair.access.expires_at,
        refresh_hash: &pair.refresh.hash,
        refresh_expires_at: pair.refresh.expires_at,
    }
}

/// The viewer of a new session.
fn viewer_of(user: &UserRow, session_id: i64) -> Viewer {
    Viewer {
        user_id: user.id,
        session_id,
        role: Role::from_db(&user.role),
    }
}

/// Wraps a just-created session for the client.
pub fn new_session(user: UserRow, session_id: i64, tokens: TokenPair) -> AuthSession {
    AuthSession {
        viewer: viewer_of(&user, session_id),
        user,
        tokens,
    }
}

/// Signs in with email and password, from `origin`. An unknown email runs a dummy
/// verification, so both failures take the same path and give the same error.
pub async fn login(
    pool: &PgPool,
    passwords: &Passwords,
    email: &str,
    password: String,
    origin: &Origin,
) -> Result<AuthSession, AppError> {
    if validation::password(&password).is_some()
        && password.chars().count() > validation::PASSWORD_MAX
    {
        // No account has such a password; refuse before hashing a huge input.
        return Err(AppError::Unauthenticated(WRONG_CREDENTIALS.into()));
    }
    let credentials = {
        let mut conn = db::connect(pool).await?;
        db::users::find_credentials(&mut conn, email.trim()).await?
    };
    let (user, hash) = match credentials {
        Some((user, hash)) => (Some(user), Some(hash)),
        None => (None, None),
    };
    let matches = passwords.verify(password, hash.clone()).await?;
    let (Some(user), Some(hash), true) = (user, hash, matches) else {
        return Err(AppError::Unauthenticated(WRONG_CREDENTIALS.into()));
    };
    let tokens = TokenPair::generate(Utc::now());
    let mut conn = db::connect(pool).await?;
    // None: the password changed while this sign-in was being checked.
    let pair = stored_pair(&tokens);
    let session_id =
        db::sessions::create_if_password(&mut conn, user.id, &hash, pair, origin.stored())
            .await?
            .ok_or_else(|| AppError::Unauthenticated(WRONG_CREDENTIALS.into()))?;
    Ok(new_session(user, session_id, tokens))
}

/// Exchanges a refresh token for a new pair. Presenting a token that was already
/// exchanged revokes the whole session; a session past `rules.max_age` has ended, and the
/// new pair never outlives it.
pub async fn refresh(
    pool: &PgPool,
    events: &Events,
    rules: &SessionRules,
    refresh_token: &str,
) -> Result<AuthSession, AppError> {
    let now = rules.clock.now();
    let mut tokens = TokenPair::generate(now);
    let old_hash = tokens::hash(refresh_token);
    let mut conn = db::connect(pool).await?;
    let rotation = conn
        .transaction::<_, AppError, _>(async |tx| {
            let pair = stored_pair(&tokens);
            let rotation = db::sessions::rotate(tx, &old_hash, pair, now, rules.max_age).await?;
            if let Rotation::Reused { session_id } = rotation {
                revoke(tx, events, Revocation::Session(session_id), now).await?;
            }
            Ok(rotation)
        })
        .await?;
    match rotation {
        Rotation::Rotated {
            session_id,
            user_id,
            ends_at,
        } => {
            tokens.access.expires_at = tokens.access.expires_at.min(ends_at);
            tokens.refresh.expires_at = tokens.refresh.expires_at.min(ends_at);
            let user = db::users::find(&mut conn, user_id)
                .await?
                .ok_or_else(|| AppError::Unauthenticated("The account no longer exists.".into()))?;
            let viewer = Viewer {
                user_id,
                session_id,
                role: Role::from_db(&user.role),
            };
            Ok(AuthSession {
                user,
                viewer,
                tokens,
            })
        }
        Rotation::Reused { .. } => Err(AppError::Unauthenticated(
            "This refresh token was already used, so the session has been revoked. Sign in again."
                .into(),
        )),
        Rotation::Ended => Err(AppError::Unauthenticated(
            "The session has ended. Sign in again.".into(),
        )),
        Rotation::Unknown => Err(AppError::Unauthenticated("Invalid refresh token.".into())),
    }
}

/// Revokes the viewer's session.
pub async fn logout(pool: &PgPool, events: &Events, viewer: &Viewer) -> Result<(), AppError> {
    let mut conn = db::connect(pool).await?;
    let which = Revocation::Session(viewer.session_id);
    revoke(&mut conn, events, which, Utc::now()).await
}

/// Revokes every session of `user` (a password reset, a deleted account) and announces
/// it, in the caller's transaction.
pub(super) async fn revoke_all(
    conn: &mut AsyncPgConnection,
    events: &Events,
    user: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    // Session ids start at 1: keeping session 0 keeps none.
    revoke(conn, events, Revocation::AllBut { user, keep: 0 }, now).await
}

/// The one message for a session that is not the viewer's or does not exist: nothing
/// says which.
pub const NO_SUCH_SESSION: &str = "No such session.";

/// Revokes session `session_id` of the viewer (their current one too: that is a logout),
/// announced so that its sockets close on every instance. Idempotent: a session of theirs
/// already revoked stays so. Someone else's session, or none, is NOT_FOUND, with the same
/// message either way.
pub async fn revoke_session(
    pool: &PgPool,
    events: &Events,
    viewer: &Viewer,
    session_id: i64,
) -> Result<(), AppError> {
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let owner = db::sessions::owner(tx, session_id).await?;
        if !owner.is_some_and(|owner| policy::can_manage_sessions(Some(viewer), owner)) {
            return Err(AppError::NotFound(NO_SUCH_SESSION.into()));
        }
        revoke(tx, events, Revocation::Session(session_id), Utc::now()).await
    })
    .await
}

/// The event that closes every socket of `user` (their account is gone): no session has
/// id 0 (ids start at 1), so none is kept. An existing event, so that instances of an
/// older build hear it too.
pub fn all_sessions_revoked(user: i64) -> Event {
    Event::SessionsRevoked { user, except: 0 }
}

/// The sessions a revocation ends.
#[derive(Debug, Clone, Copy)]
enum Revocation {
    /// One session.
    Session(i64),
    /// Every session of `user` but `keep`.
    AllBut { user: i64, keep: i64 },
}

/// Revokes `which` (idempotent) and announces it to every instance, whose sockets on
/// those sessions close; in a transaction of its own (a savepoint inside the caller's).
async fn revoke(
    conn: &mut AsyncPgConnection,
    events: &Events,
    which: Revocation,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    conn.transaction::<_, AppError, _>(async |tx| {
        let (revoked, event) = match which {
            Revocation::Session(session) => (
                db::sessions::revoke(tx, session, now).await?,
                Event::SessionRevoked { session },
            ),
            Revocation::AllBut { user, keep } => (
                db::sessions::revoke_others(tx, user, keep, now).await?,
                Event::SessionsRevoked { user, except: keep },
            ),
        };
        if revoked > 0 {
            events.publish(tx, &event).await?;
        }
        Ok(())
    })
    .await
}

/// Changes the viewer's password: needs the current one, revokes every other session, and
/// gives this session a fresh token pair.
pub async fn change_password(
    pool: &PgPool,
    passwords: &Passwords,
    events: &Events,
    viewer: &Viewer,
    current: String,
    new: String,
) -> Result<AuthSession, AppError> {
    let mut errors = FieldErrors::default();
    errors.check("newPassword", validation::password(&new));
    errors.into_result()?;

    let field = "currentPassword";
    check_current_password(pool, passwords, viewer.user_id, &current, field).await?;
    let new_hash = passwords.hash(new).await?;

    let now = Utc::now();
    let tokens = TokenPair::generate(now);
    let mut conn = db::connect(pool).await?;
    // One transaction: the new hash, the other sessions revoked, this one renewed.
    conn.transaction::<_, AppError, _>(async |tx| {
        db::sessions::set_password_hash(tx, viewer.user_id, &new_hash).await?;
        let others = Revocation::AllBut {
            user: viewer.user_id,
            keep: viewer.session_id,
        };
        revoke(tx, events, others, now).await?;
        let pair = stored_pair(&tokens);
        if !db::sessions::replace_tokens(tx, viewer.session_id, pair, now).await? {
            // Revoked meanwhile: everything rolls back.
            return Err(AppError::Unauthenticated(
                "The session has been revoked. Sign in again.".into(),
            ));
        }
        Ok(())
    })
    .await?;
    let user = db::users::find(&mut conn, viewer.user_id)
        .await?
        .ok_or_else(|| AppError::Unauthenticated("The account no longer exists.".into()))?;
    Ok(AuthSession {
        user,
        viewer: *viewer,
        tokens,
    })
}

/// Resolves an `Authorization` header value to the viewer, or says why it cannot.
pub async fn authenticate(db: &RequestDb, authorization: &str) -> Result<Viewer, AppError> {
    let token = tokens::from_authorization(authorization).ok_or_else(|| {
        AppError::Unauthenticated(
            "Send the access token as `Authorization: Bearer <token>`.".into(),
        )
    })?;
    let conn = db.conn().await?;
    let found = db::sessions::find_by_access_hash(&conn, &tokens::hash(token)).await?;
    let Some(found) = found else {
        return Err(AppError::Unauthenticated("Invalid access token.".into()));
    };
    if found.revoked_at.is_some() {
        return Err(AppError::Unauthenticated(
            "The session has been revoked. Sign in again.".into(),
        ));
    }
    if found.access_expires_at <= Utc::now() {
        return Err(AppError::Unauthenticated(
            "The access token has expired; refresh the session.".into(),
        ));
    }
    Ok(Viewer {
        user_id: found.user_id,
        session_id: found.session_id,
        role: Role::from_db(&found.role),
    })
}

/// Deletes the sessions ended at the rules' clock (revoked, expired, or past
/// `max_age`) and their used refresh tokens; `None` when another instance is pruning
/// right now (it holds the advisory lock), and nothing was deleted.
pub async fn prune(pool: &PgPool, rules: &SessionRules) -> Result<Option<Pruned>, AppError> {
    let mut conn = db::connect(pool).await?;
    Ok(db::sessions::prune(&mut conn, rules.clock.now(), rules.max_age).await?)
}

/// Prunes ([`prune`]) at once and then every `interval`, for ever (the caller aborts
/// it); each pass that removed something is logged, and a failure is logged and retried
/// at the next pass.
pub async fn prune_periodically(pool: PgPool, rules: SessionRules, interval: std::time::Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match prune(&pool, &rules).await {
            Ok(Some(pruned)) => tracing::info!(
                sessions = pruned.sessions,
                used_refresh_tokens = pruned.used_refresh_tokens,
                "pruned ended sessions"
            ),
            Ok(None) => tracing::debug!("another instance is pruning sessions"),
            Err(err) => tracing::warn!(error = ?err, "could not prune sessions"),
        }
    }
}

/// Gives the user `username` `role` (`conduit user set-role`) and announces it, in one
/// transaction: the user's open sockets on every instance close (as a revocation does),
/// so no subscription goes on under the old role; the client reconnects with its token.
pub async fn change_role(
    pool: &PgPool,
    events: &Events,
    username: &str,
    role: Role,
) -> Result<(), AppError> {
    let mut conn = db::connect(pool).await?;
    conn.transaction::<_, AppError, _>(async |tx| {
        let user = db::users::find_by_username(tx, username)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("No user named {username}")))?;
        db::users::set_role(tx, username, role.as_db()).await?;
        let event = Event::RoleChanged { user: user.id };
        Ok(events.publish(tx, &event).await?)
    })
    .await
}

/// Refuses `current` (a field error on `field`, e.g. `currentPassword`) unless it is
/// `user_id`'s password: changing the password or the email, and deleting the account,
/// need it.
pub async fn check_current_password(
    pool: &PgPool,
    passwords: &Passwords,
    user_id: i64,
    current: &str,
    field: &str,
) -> Result<(), AppError> {
    let hash = {
        let mut conn = db::connect(pool).await?;
        db::users::password_hash(&mut conn, user_id).await?
    };
    if current.chars().count() > validation::PASSWORD_MAX
        || !passwords.verify(current.to_owned(), hash).await?
    {
        let mut errors = FieldErrors::default();
        errors.check(field, Some("is not your current password".into()));
        errors.into_result()?;
    }
    Ok(())
}
