DELETE FROM notifications WHERE kind = 'webhook_disabled';
ALTER TABLE notifications DROP CONSTRAINT notifications_check,
    ADD CONSTRAINT notifications_check CHECK (recipient_id <> actor_id),
    DROP CONSTRAINT notifications_kind_check,
    ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('new_follower',
        'article_favorited', 'comment_added', 'article_published'));
DROP INDEX outbox_webhook_idx;
ALTER TABLE outbox DROP COLUMN seq, DROP COLUMN webhook_id;
DROP TABLE webhooks;
