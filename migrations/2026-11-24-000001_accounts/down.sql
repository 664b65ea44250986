DROP TABLE used_refresh_tokens;
DROP TABLE sessions;
DROP TABLE users;
