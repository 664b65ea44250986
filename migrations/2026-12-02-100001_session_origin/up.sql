-- Where each session was signed in, for the viewer's sessions list (`User.sessions`):
-- the request's User-Agent (cut to 512 bytes by the server) and the client IP (after
-- TRUSTED_PROXIES), both unknown for sessions started before this migration.
ALTER TABLE sessions
    ADD COLUMN user_agent TEXT CHECK (octet_length(user_agent) <= 512),
    ADD COLUMN client_ip TEXT CHECK (octet_length(client_ip) <= 45);

-- The list reads a user's sessions newest first by keyset on (created_at, id); this
-- index also serves every lookup by user the old one did, so it replaces it.
CREATE INDEX sessions_user_created_at_id_idx ON sessions (user_id, created_at DESC, id DESC);
DROP INDEX sessions_user_id_idx;
