-- Persisted GraphQL documents, shared by every instance: registered by clients through
-- Apollo's automatic persisted queries, or loaded from a build's manifest (safelisted).
CREATE TABLE persisted_queries (
    -- Lowercase hex SHA-256 of the document text.
    hash text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
    document text NOT NULL,
    -- Loaded from a manifest: allowed in safelist mode.
    safelisted boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now()
);
