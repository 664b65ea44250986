CREATE INDEX sessions_user_id_idx ON sessions (user_id);
DROP INDEX sessions_user_created_at_id_idx;
ALTER TABLE sessions DROP COLUMN client_ip, DROP COLUMN user_agent;
