// @generated automatically by Diesel CLI.

diesel::table! {
    article_total (id) {
        id -> Bool,
        articles -> Int8,
    }
}

diesel::table! {
    articles (id) {
        id -> Int8,
        author_id -> Int8,
        slug -> Text,
        title -> Text,
        description -> Text,
        body -> Text,
        tags -> Array<Nullable<Text>>,
        favorites_count -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        comments_count -> Int4,
        body_html -> Nullable<Text>,
    }
}

diesel::table! {
    auth_throttle (key) {
        key -> Text,
        tat -> Timestamptz,
    }
}

diesel::table! {
    comments (id) {
        id -> Int8,
        article_id -> Int8,
        author_id -> Int8,
        body -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    email_tokens (id) {
        id -> Uuid,
        user_id -> Int8,
        purpose -> Text,
        email -> Text,
        token_hash -> Bytea,
        key_id -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    favorites (user_id, article_id) {
        user_id -> Int8,
        article_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    follows (follower_id, followee_id) {
        follower_id -> Int8,
        followee_id -> Int8,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    notifications (id) {
        id -> Int8,
        recipient_id -> Int8,
        kind -> Text,
        actor_id -> Int8,
        article_id -> Nullable<Int8>,
        comment_id -> Nullable<Int8>,
        created_at -> Timestamptz,
        read_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    outbox (id) {
        id -> Uuid,
        queue -> Text,
        kind -> Text,
        ordering_key -> Nullable<Text>,
        payload -> Text,
        status -> Text,
        attempts -> Int4,
        retry_base -> Int4,
        next_attempt_at -> Timestamptz,
        leased_by -> Nullable<Text>,
        leased_until -> Nullable<Timestamptz>,
        last_attempt_at -> Nullable<Timestamptz>,
        response_status -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        webhook_id -> Nullable<Int8>,
        seq -> Int8,
    }
}

diesel::table! {
    outbox_attempts (message_id, attempt) {
        message_id -> Uuid,
        attempt -> Int4,
        at -> Timestamptz,
        response_status -> Nullable<Int4>,
        error -> Nullable<Text>,
        duration_ms -> Int4,
    }
}

diesel::table! {
    persisted_queries (hash) {
        hash -> Text,
        document -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    sessions (id) {
        id -> Int8,
        user_id -> Int8,
        access_token_hash -> Bytea,
        access_expires_at -> Timestamptz,
        refresh_token_hash -> Bytea,
        refresh_expires_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        refreshed_at -> Timestamptz,
        user_agent -> Nullable<Text>,
        client_ip -> Nullable<Text>,
    }
}

diesel::table! {
    tags (name) {
        name -> Text,
        articles_count -> Int4,
    }
}

diesel::table! {
    used_refresh_tokens (token_hash) {
        token_hash -> Bytea,
        session_id -> Int8,
        used_at -> Timestamptz,
    }
}

diesel::table! {
    users (id) {
        id -> Int8,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        bio -> Nullable<Text>,
        image -> Nullable<Text>,
        role -> Text,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        followers_count -> Int4,
        following_count -> Int4,
        email_verified_at -> Nullable<Timestamptz>,
        email_notifications -> Array<Nullable<Text>>,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Int8,
        user_id -> Int8,
        url -> Text,
        events -> Array<Nullable<Text>>,
        active -> Bool,
        disabled_reason -> Nullable<Text>,
        secret_ciphertext -> Bytea,
        secret_nonce -> Bytea,
        secret_key_id -> Text,
        previous_ciphertext -> Nullable<Bytea>,
        previous_nonce -> Nullable<Bytea>,
        previous_key_id -> Nullable<Text>,
        previous_expires_at -> Nullable<Timestamptz>,
        consecutive_failures -> Int4,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(articles -> users (author_id));
diesel::joinable!(comments -> articles (article_id));
diesel::joinable!(comments -> users (author_id));
diesel::joinable!(email_tokens -> users (user_id));
diesel::joinable!(favorites -> articles (article_id));
diesel::joinable!(favorites -> users (user_id));
diesel::joinable!(notifications -> articles (article_id));
diesel::joinable!(notifications -> comments (comment_id));
diesel::joinable!(outbox -> webhooks (webhook_id));
diesel::joinable!(outbox_attempts -> outbox (message_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(used_refresh_tokens -> sessions (session_id));
diesel::joinable!(webhooks -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    article_total,
    articles,
    auth_throttle,
    comments,
    email_tokens,
    favorites,
    follows,
    notifications,
    outbox,
    outbox_attempts,
    persisted_queries,
    sessions,
    tags,
    used_refresh_tokens,
    users,
    webhooks,
);
