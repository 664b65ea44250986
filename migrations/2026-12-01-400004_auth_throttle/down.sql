DROP FUNCTION auth_throttle_attempt(text[], double precision[]);
DROP TABLE auth_throttle;
