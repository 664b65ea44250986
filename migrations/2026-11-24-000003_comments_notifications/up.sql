-- Comments on articles, and notifications written in the same transaction as their cause.

ALTER TABLE articles
    ADD COLUMN comments_count INTEGER NOT NULL DEFAULT 0 CHECK (comments_count >= 0);

CREATE TABLE comments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    author_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- An article's comments, oldest first (keyset on (created_at, id)).
CREATE INDEX comments_article_created_at_id_idx ON comments (article_id, created_at, id);
CREATE INDEX comments_author_id_idx ON comments (author_id);

CREATE TABLE notifications (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    recipient_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('new_follower', 'article_favorited', 'comment_added', 'article_published')),
    actor_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    article_id BIGINT REFERENCES articles (id) ON DELETE CASCADE,
    comment_id BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    read_at TIMESTAMPTZ,
    CHECK (recipient_id <> actor_id)
);
-- A user's notifications, newest first, and their unread ones.
CREATE INDEX notifications_recipient_created_at_id_idx ON notifications (recipient_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread_idx ON notifications (recipient_id, created_at DESC, id DESC) WHERE read_at IS NULL;
-- Cascades from deleted users, articles and comments.
CREATE INDEX notifications_actor_id_idx ON notifications (actor_id);
CREATE INDEX notifications_article_id_idx ON notifications (article_id) WHERE article_id IS NOT NULL;
CREATE INDEX notifications_comment_id_idx ON notifications (comment_id) WHERE comment_id IS NOT NULL;
