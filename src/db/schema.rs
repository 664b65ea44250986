// @generated automatically by Diesel CLI.

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
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(used_refresh_tokens -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(sessions, used_refresh_tokens, users,);
