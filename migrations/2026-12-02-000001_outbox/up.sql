-- The transactional outbox: a message to the outside world (an email, a webhook delivery)
-- is a row written in the transaction of the change that causes it. Workers in every
-- instance claim due rows (FOR UPDATE SKIP LOCKED) under a lease, and record each attempt.
CREATE TABLE outbox (
    -- The idempotency key: a webhook's `webhook-id`, an email's Message-ID.
    id UUID PRIMARY KEY,
    -- Separate queues, so that mail never waits behind a slow webhook endpoint.
    queue TEXT NOT NULL CHECK (queue IN ('email', 'webhook')),
    -- What the message is (an email template, a webhook event).
    kind TEXT NOT NULL,
    -- At most one message per key is in flight at a time (a webhook endpoint).
    ordering_key TEXT,
    -- What the sender needs: for a webhook, the exact JSON body it signs and sends.
    payload TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    -- Attempts made, in all; `attempts - retry_base` counts against the maximum (a retry
    -- or a redelivery moves `retry_base` up to `attempts`).
    attempts INT NOT NULL DEFAULT 0,
    retry_base INT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- The worker holding the message and until when; expired, another worker takes over.
    leased_by TEXT,
    leased_until TIMESTAMPTZ,
    last_attempt_at TIMESTAMPTZ,
    response_status INT,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);

-- The claim: due pending rows of one queue, oldest due first.
CREATE INDEX outbox_due_idx ON outbox (queue, next_attempt_at) WHERE status = 'pending';
-- One in flight per key: the claim looks for a live lease on the same key.
CREATE INDEX outbox_leased_key_idx ON outbox (ordering_key) WHERE status = 'pending' AND leased_until IS NOT NULL;
-- Pruning delivered rows past the retention.
CREATE INDEX outbox_finished_idx ON outbox (finished_at) WHERE status = 'delivered';

-- Every attempt of a message, for webhook owners (`attemptLog`) and admins.
CREATE TABLE outbox_attempts (
    message_id UUID NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    attempt INT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    response_status INT,
    error TEXT,
    duration_ms INT NOT NULL,
    PRIMARY KEY (message_id, attempt)
);

-- Wakes the workers of every instance once the writing transaction commits, when a message
-- becomes claimable now: queued, released by a worker that stopped, or queued again.
-- (PostgreSQL folds repeats of one payload in a transaction into one notification.) A
-- retry scheduled for later wakes no one: the worker that scheduled it looks again.
CREATE FUNCTION outbox_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('conduit_outbox', NEW.queue);
    RETURN NULL;
END $$;

CREATE TRIGGER outbox_wake AFTER INSERT OR UPDATE OF next_attempt_at, status, leased_until ON outbox
    FOR EACH ROW WHEN (NEW.status = 'pending' AND NEW.leased_until IS NULL AND NEW.next_attempt_at <= now())
    EXECUTE FUNCTION outbox_wake();
