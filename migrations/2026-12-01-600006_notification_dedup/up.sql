-- A repeat of the same (recipient, kind, actor, article) within NOTIFICATION_DEDUP_WINDOW
-- adds no notification: the insert's NOT EXISTS looks for the latest such row here.
CREATE INDEX notifications_dedup_idx ON notifications (recipient_id, actor_id, kind, created_at DESC);
