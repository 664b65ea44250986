//! `Mutation`'s core writes: accounts and sessions, publishing, comments, notifications.

use std::sync::Arc;

use async_graphql::{Context, ID, Object};

use super::{
    events, guards,
    loaders::release_reads,
    node::{self, NodeKind, global_id},
    notices, passwords, pool, server_keys, session_rules, throttle,
    types::{
        article::{Article, CreateArticleInput, UpdateArticleInput},
        auth::{AuthPayload, LoginInput, RegisterInput, UpdateViewerInput},
        comment::Comment,
        user::User,
    },
};
use crate::{
    db::PgPool,
    domain::{
        accounts::{self, Registration},
        articles, comments, notifications, sessions, social,
        validation::{self, FieldErrors},
    },
    ratelimit::throttle::{Account, Purpose},
};

/// The core writes.
#[derive(Debug, Default, Clone, Copy)]
pub struct CoreMutation;

/// The pool for a write, once the request's read connection is back in it
/// ([`release_reads`]): each resolver here hands the pool to `domain` through this.
pub(super) async fn writer<'a>(ctx: &Context<'a>) -> &'a PgPool {
    release_reads(ctx).await;
    pool(ctx)
}

/// The core writes.
#[Object]
impl CoreMutation {
    /// Creates an account and signs it in.
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account.")] input: RegisterInput,
    ) -> async_graphql::Result<AuthPayload> {
        let email = accounts::throttle_email(&input.email);
        let account = email.as_deref().map(Account::Email);
        let ip = guards::client_ip(ctx);
        throttle(ctx)
            .attempt(writer(ctx).await, ip, Purpose::Register, account)
            .await?;
        let registration = Registration {
            username: input.username,
            email: input.email,
            password: input.password,
        };
        let origin = guards::origin(ctx);
        Ok(accounts::register(
            writer(ctx).await,
            passwords(ctx),
            server_keys(ctx),
            registration,
            &origin,
        )
        .await?
        .into())
    }

    /// Signs in. Wrong email and wrong password give the same error (UNAUTHENTICATED).
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Email and password.")] input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let email = accounts::throttle_email(&input.email);
        let account = email.as_deref().map(Account::Email);
        let ip = guards::client_ip(ctx);
        throttle(ctx)
            .attempt(writer(ctx).await, ip, Purpose::Login, account)
            .await?;
        Ok(sessions::login(
            writer(ctx).await,
            passwords(ctx),
            &input.email,
            input.password,
            &guards::origin(ctx),
        )
        .await?
        .into())
    }

    /// Rotates the refresh token. Reusing an old one revokes the whole session.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token from the latest AuthPayload.")] refresh_token: String,
    ) -> async_graphql::Result<AuthPayload> {
        // Refresh tokens are not guessable; only the address is counted.
        let ip = guards::client_ip(ctx);
        throttle(ctx)
            .attempt(writer(ctx).await, ip, Purpose::Login, None)
            .await?;
        Ok(sessions::refresh(
            writer(ctx).await,
            events(ctx),
            session_rules(ctx),
            &refresh_token,
        )
        .await?
        .into())
    }

    /// Revokes the current session at once, on HTTP and on open subscriptions.
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let viewer = guards::require_viewer(ctx)?;
        sessions::logout(writer(ctx).await, events(ctx), &viewer).await?;
        Ok(true)
    }

    /// Changes the signed-in user's profile. Omitted fields stay as they are. A new email
    /// needs `currentPassword`, and is throttled like sign-in (per user and client IP).
    async fn update_viewer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields to change.")] input: UpdateViewerInput,
    ) -> async_graphql::Result<User> {
        let viewer = guards::require_viewer(ctx)?;
        if input.email.is_some() {
            let account = Some(Account::User(viewer.user_id));
            let ip = guards::client_ip(ctx);
            throttle(ctx)
                .attempt(writer(ctx).await, ip, Purpose::EmailChange, account)
                .await?;
        }
        let row = accounts::update_profile(
            writer(ctx).await,
            passwords(ctx),
            server_keys(ctx),
            &viewer,
            input.into(),
        )
        .await?;
        Ok(User::new(Arc::new(row)))
    }

    /// Changes the password. Revokes every other session of the user and returns a fresh
    /// token pair for this one.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The password in use now.")] current_password: String,
        #[graphql(desc = "The new password: 8–128 characters.")] new_password: String,
    ) -> async_graphql::Result<AuthPayload> {
        let viewer = guards::require_viewer(ctx)?;
        let account = Some(Account::User(viewer.user_id));
        let ip = guards::client_ip(ctx);
        throttle(ctx)
            .attempt(writer(ctx).await, ip, Purpose::Password, account)
            .await?;
        let session = sessions::change_password(
            writer(ctx).await,
            passwords(ctx),
            events(ctx),
            &viewer,
            current_password,
            new_password,
        )
        .await?;
        Ok(session.into())
    }

    /// Follows the user with this username; following someone already followed changes
    /// nothing. Returns that user.
    async fn follow_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The username to follow, in any case.")] username: String,
    ) -> async_graphql::Result<User> {
        let viewer = guards::require_viewer(ctx)?;
        let row = social::follow(
            writer(ctx).await,
            events(ctx),
            notices(ctx),
            &viewer,
            &username,
        )
        .await?;
        Ok(User::new(Arc::new(row)))
    }

    /// Stops following the user with this username; idempotent. Returns that user.
    async fn unfollow_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The username to unfollow, in any case.")] username: String,
    ) -> async_graphql::Result<User> {
        let viewer = guards::require_viewer(ctx)?;
        let row = social::unfollow(writer(ctx).await, events(ctx), &viewer, &username).await?;
        Ok(User::new(Arc::new(row)))
    }

    /// Publishes an article by the signed-in user.
    async fn create_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new article.")] input: CreateArticleInput,
    ) -> async_graphql::Result<Article> {
        let viewer = guards::require_viewer(ctx)?;
        let row = articles::create(
            writer(ctx).await,
            events(ctx),
            notices(ctx),
            &viewer,
            input.into(),
        )
        .await?;
        Ok(row.into())
    }

    /// Edits an article. Author only. A new title gives a new slug.
    async fn update_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's current slug.")] slug: String,
        #[graphql(desc = "The fields to change.")] input: UpdateArticleInput,
    ) -> async_graphql::Result<Article> {
        let viewer = guards::require_viewer(ctx)?;
        let row =
            articles::update(writer(ctx).await, events(ctx), &viewer, &slug, input.into()).await?;
        Ok(row.into())
    }

    /// Deletes an article with its favorites. Author or admin. Returns the deleted
    /// article's ID.
    async fn delete_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's current slug.")] slug: String,
    ) -> async_graphql::Result<ID> {
        let viewer = guards::require_viewer(ctx)?;
        let id = articles::delete(writer(ctx).await, events(ctx), &viewer, &slug).await?;
        Ok(global_id(NodeKind::Article, id))
    }

    /// Favorites an article; favoriting it again changes nothing.
    async fn favorite_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's current slug.")] slug: String,
    ) -> async_graphql::Result<Article> {
        let viewer = guards::require_viewer(ctx)?;
        let row = articles::favorite(writer(ctx).await, events(ctx), notices(ctx), &viewer, &slug)
            .await?;
        Ok(Article::favorited_by_viewer(row, true))
    }

    /// Takes back a favorite; idempotent.
    async fn unfavorite_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's current slug.")] slug: String,
    ) -> async_graphql::Result<Article> {
        let viewer = guards::require_viewer(ctx)?;
        let row = articles::unfavorite(writer(ctx).await, events(ctx), &viewer, &slug).await?;
        Ok(Article::favorited_by_viewer(row, false))
    }

    /// Comments on an article as the signed-in user.
    async fn add_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's current slug.")] article_slug: String,
        #[graphql(desc = "The comment: 1–10000 characters.")] body: String,
    ) -> async_graphql::Result<Comment> {
        let viewer = guards::require_viewer(ctx)?;
        let row = comments::add(
            writer(ctx).await,
            events(ctx),
            notices(ctx),
            &viewer,
            &article_slug,
            &body,
        )
        .await?;
        Ok(row.into())
    }

    /// Deletes a comment. Comment author or admin. Returns the deleted comment's ID.
    async fn delete_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The comment's global ID.")] id: ID,
    ) -> async_graphql::Result<ID> {
        let viewer = guards::require_viewer(ctx)?;
        let comment_id = node::decode_as(&id, NodeKind::Comment, "id")?;
        comments::delete(writer(ctx).await, events(ctx), &viewer, comment_id).await?;
        Ok(id)
    }

    /// Marks the given notifications (all when ids is null) read; returns how many changed.
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Notification IDs, at most 100; null marks all of them.")] ids: Option<
            Vec<ID>,
        >,
    ) -> async_graphql::Result<i32> {
        let viewer = guards::require_viewer(ctx)?;
        // Counted before any ID is decoded.
        let too_many = ids
            .as_ref()
            .and_then(|ids| validation::list_len(ids.len(), notifications::MARK_READ_MAX, "IDs"));
        if too_many.is_some() {
            let mut errors = FieldErrors::default();
            errors.check("ids", too_many);
            errors.into_result()?;
        }
        let ids = ids
            .map(|ids| {
                ids.iter()
                    .map(|id| node::decode_as(id, NodeKind::Notification, "ids"))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let changed = notifications::mark_read(writer(ctx).await, &viewer, ids).await?;
        Ok(i32::try_from(changed).unwrap_or(i32::MAX))
    }

    /// Revokes one of the viewer's sessions (sign out that device), at once, on HTTP and
    /// on its open subscriptions; revoking the current one is a logout. Only the session's
    /// user: anyone else's, or an unknown ID, is NOT_FOUND. A session of theirs already
    /// revoked stays so (the ID is returned again).
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's global ID.")] id: ID,
    ) -> async_graphql::Result<ID> {
        let viewer = guards::require_viewer(ctx)?;
        let session_id = node::decode_as(&id, NodeKind::Session, "id")?;
        sessions::revoke_session(writer(ctx).await, events(ctx), &viewer, session_id).await?;
        Ok(global_id(NodeKind::Session, session_id))
    }

    /// Deletes the viewer's account and everything of theirs; needs the current password
    /// (throttled like sign-in, per user and client IP). Every session of theirs ends, on
    /// every instance. Returns the deleted user's ID.
    async fn delete_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The password in use now.")] password: String,
    ) -> async_graphql::Result<ID> {
        let viewer = guards::require_viewer(ctx)?;
        let account = Some(Account::User(viewer.user_id));
        let ip = guards::client_ip(ctx);
        throttle(ctx)
            .attempt(writer(ctx).await, ip, Purpose::DeleteAccount, account)
            .await?;
        let user_id = accounts::delete_account(
            writer(ctx).await,
            passwords(ctx),
            events(ctx),
            &viewer,
            &password,
        )
        .await?;
        Ok(global_id(NodeKind::User, user_id))
    }
}
