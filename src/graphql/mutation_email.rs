//! `Mutation`'s email flows: confirming an address and resetting a forgotten password.
//! Each mail is queued in the outbox in the transaction of the change (`domain::email`).

use async_graphql::{Context, Object};

use super::{
    events, guards,
    mutation::writer,
    passwords, server_keys, throttle,
    types::{auth::AuthPayload, user::User},
};
use crate::{
    domain::{accounts, email},
    ratelimit::throttle::{Account, Purpose},
};

/// The email flows' writes.
#[derive(Debug, Default, Clone, Copy)]
pub struct EmailMutation;

/// The email flows' writes.
#[Object]
impl EmailMutation {
    /// Always true, whether or not an account has this email (no account enumeration);
    /// throttled like login. Mails a single-use reset link valid 30 minutes.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's email, in any case.")] email: String,
    ) -> async_graphql::Result<bool> {
        let normalized = accounts::throttle_email(&email);
        let account = normalized.as_deref().map(Account::Email);
        let ip = guards::client_ip(ctx);
        throttle(ctx)
            .attempt(writer(ctx).await, ip, Purpose::PasswordReset, account)
            .await?;
        // Not awaited: the answer takes the same time whether or not the account exists.
        email::spawn_reset(writer(ctx).await.clone(), server_keys(ctx).clone(), email);
        Ok(true)
    }

    /// Sets a new password from a reset token (single use), revokes every session of the
    /// user and signs in with a new one.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token from the reset link.")] token: String,
        #[graphql(desc = "The new password: 8–128 characters.")] new_password: String,
    ) -> async_graphql::Result<AuthPayload> {
        let ip = guards::client_ip(ctx);
        throttle(ctx)
            .attempt(writer(ctx).await, ip, Purpose::PasswordReset, None)
            .await?;
        let session = email::reset_password(
            writer(ctx).await,
            passwords(ctx),
            events(ctx),
            &token,
            new_password,
            &guards::origin(ctx),
        )
        .await?;
        Ok(session.into())
    }

    /// Mails the viewer a link that confirms their email address. Needs authentication.
    async fn request_email_verification(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let viewer = guards::require_viewer(ctx)?;
        let ip = guards::client_ip(ctx);
        throttle(ctx)
            .attempt(
                writer(ctx).await,
                ip,
                Purpose::EmailVerification,
                Some(Account::User(viewer.user_id)),
            )
            .await?;
        Ok(email::request_verification(writer(ctx).await, server_keys(ctx), &viewer).await?)
    }

    /// Confirms an email address from a verification token (single use, 24 hours).
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token from the verification link.")] token: String,
    ) -> async_graphql::Result<User> {
        let ip = guards::client_ip(ctx);
        throttle(ctx)
            .attempt(writer(ctx).await, ip, Purpose::EmailVerification, None)
            .await?;
        let row = email::verify(writer(ctx).await, &token).await?;
        Ok(User::new(std::sync::Arc::new(row)))
    }
}
