-- Email: verified addresses, the notification kinds a user also wants by email, and the
-- single-use tokens that verification and password-reset mails carry.
ALTER TABLE users
    ADD COLUMN email_verified_at TIMESTAMPTZ,
    ADD COLUMN email_notifications TEXT[] NOT NULL DEFAULT '{}';

-- A token's value is never stored: it is derived from the server key and the row's id
-- (so that a retried mail carries the same link), and only its SHA-256 is kept here.
CREATE TABLE email_tokens (
    id UUID PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    -- The address a verification token confirms (the user may change it meanwhile).
    email TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    -- The server key the value was derived with.
    key_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
);
CREATE INDEX email_tokens_user_idx ON email_tokens (user_id, purpose);
