DROP TABLE outbox_attempts;
DROP TABLE outbox;
DROP FUNCTION outbox_wake();
