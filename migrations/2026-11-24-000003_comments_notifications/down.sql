DROP TABLE notifications;
DROP TABLE comments;
ALTER TABLE articles DROP COLUMN comments_count;
