//! `Mutation`: every write.

use std::sync::Arc;

use async_graphql::{Context, Object};

use super::{
    guards, state,
    types::{
        auth::{AuthPayload, LoginInput, RegisterInput, UpdateViewerInput},
        user::User,
    },
};
use crate::domain::{
    accounts::{self, Registration},
    sessions,
};

/// Every write.
#[derive(Debug, Default, Clone, Copy)]
pub struct Mutation;

/// Every write.
#[Object]
impl Mutation {
    /// Creates an account and signs it in.
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account.")] input: RegisterInput,
    ) -> async_graphql::Result<AuthPayload> {
        let registration = Registration {
            username: input.username,
            email: input.email,
            password: input.password,
        };
        Ok(accounts::register(state(ctx), registration).await?.into())
    }

    /// Signs in. Wrong email and wrong password give the same error (UNAUTHENTICATED).
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Email and password.")] input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        Ok(sessions::login(state(ctx), &input.email, input.password)
            .await?
            .into())
    }

    /// Rotates the refresh token. Reusing an old one revokes the whole session.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token from the latest AuthPayload.")] refresh_token: String,
    ) -> async_graphql::Result<AuthPayload> {
        Ok(sessions::refresh(state(ctx), &refresh_token).await?.into())
    }

    /// Revokes the current session at once, on HTTP and on open subscriptions.
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let viewer = guards::require_viewer(ctx)?;
        sessions::logout(state(ctx), &viewer).await?;
        Ok(true)
    }

    /// Changes the signed-in user's profile. Omitted fields stay as they are.
    async fn update_viewer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The fields to change.")] input: UpdateViewerInput,
    ) -> async_graphql::Result<User> {
        let viewer = guards::require_viewer(ctx)?;
        let row = accounts::update_profile(state(ctx), &viewer, input.into()).await?;
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
        let session =
            sessions::change_password(state(ctx), &viewer, current_password, new_password).await?;
        Ok(session.into())
    }
}
