-- Documents clients registered through Apollo's automatic persisted queries, shared by
-- every instance. Bounded: rows expire, and registration stops at a row cap (see
-- src/graphql/persisted.rs). The production safelist is not stored here: each instance
-- holds its own build's manifest in memory.
CREATE TABLE persisted_queries (
    -- Lowercase hex SHA-256 of the document text.
    hash text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
    document text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
