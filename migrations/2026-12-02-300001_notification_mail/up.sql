-- Notification mails (issue 17): a notification also goes out by email to a recipient who
-- opted into its kind, at most EMAIL_NOTIFICATIONS_PER_HOUR per recipient and rolling
-- hour; past that, one summary. Both carry `ordering_key = 'user:<recipient id>'`.

-- The per-hour count: that recipient's notification mails of the last hour (index scan).
CREATE INDEX outbox_notification_mail_idx ON outbox (ordering_key, created_at)
    WHERE kind = 'email.notification';

-- At most one pending summary per recipient (two concurrent writers cannot both add one:
-- the second's INSERT ... ON CONFLICT DO NOTHING skips it).
CREATE UNIQUE INDEX outbox_pending_summary_idx ON outbox (ordering_key)
    WHERE kind = 'email.notification_summary' AND status = 'pending';
