-- Webhooks: endpoints a user registers for events on their own content. Deliveries are
-- outbox messages (queue 'webhook') tied to their endpoint by `outbox.webhook_id`.
CREATE TABLE webhooks (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    -- WebhookEvent values, lower case (article_published, ...).
    events TEXT[] NOT NULL,
    -- False when the owner paused it, or delivery stopped (a 410, too many failures).
    active BOOLEAN NOT NULL DEFAULT true,
    disabled_reason TEXT,
    -- The signing secret, encrypted with ChaCha20-Poly1305 under server key `secret_key_id`.
    secret_ciphertext BYTEA NOT NULL,
    secret_nonce BYTEA NOT NULL,
    secret_key_id TEXT NOT NULL,
    -- The secret before the latest rotation: it keeps signing until `previous_expires_at`.
    previous_ciphertext BYTEA,
    previous_nonce BYTEA,
    previous_key_id TEXT,
    previous_expires_at TIMESTAMPTZ,
    -- Failed attempts in a row; reset by a delivered one.
    consecutive_failures INT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- A user's webhooks, newest first (and the events' fan-out: user_id first).
CREATE INDEX webhooks_user_idx ON webhooks (user_id, created_at DESC, id DESC);

-- A delivery belongs to its endpoint, and goes with it. `seq` orders deliveries written
-- at the same instant (one transaction's deliveries share created_at).
ALTER TABLE outbox
    ADD COLUMN webhook_id BIGINT REFERENCES webhooks (id) ON DELETE CASCADE,
    ADD COLUMN seq BIGINT GENERATED ALWAYS AS IDENTITY;
-- A webhook's deliveries, newest first.
CREATE INDEX outbox_webhook_idx ON outbox (webhook_id, created_at DESC, seq DESC)
    WHERE webhook_id IS NOT NULL;

-- A webhook disabled by delivery failures tells its owner: a notification of its own
-- kind, the owner being its actor (nobody else acted).
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('new_follower',
        'article_favorited', 'comment_added', 'article_published', 'webhook_disabled')),
    DROP CONSTRAINT notifications_check,
    ADD CONSTRAINT notifications_check CHECK (recipient_id <> actor_id OR kind = 'webhook_disabled');
