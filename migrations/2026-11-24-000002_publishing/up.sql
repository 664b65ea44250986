-- Publishing: articles, their tags, favorites and follows, with counters kept in the
-- writing transaction so lists never aggregate at read time.

ALTER TABLE users
    ADD COLUMN followers_count INTEGER NOT NULL DEFAULT 0 CHECK (followers_count >= 0),
    ADD COLUMN following_count INTEGER NOT NULL DEFAULT 0 CHECK (following_count >= 0);

CREATE TABLE articles (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    body TEXT NOT NULL,
    -- Normalised tag names, in the order the author gave them.
    tags TEXT[] NOT NULL DEFAULT '{}',
    favorites_count INTEGER NOT NULL DEFAULT 0 CHECK (favorites_count >= 0),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- text_pattern_ops also serves `slug LIKE 'base-%'` when picking a free suffix.
CREATE UNIQUE INDEX articles_slug_key ON articles (slug text_pattern_ops);
-- Keyset pagination, newest first: the global list and each author's list (which also
-- serves the feed, one index range per followed author).
CREATE INDEX articles_created_at_id_idx ON articles (created_at DESC, id DESC);
CREATE INDEX articles_author_created_at_id_idx ON articles (author_id, created_at DESC, id DESC);
-- `articles(tag:)`: `tags @> ARRAY[$1]`.
CREATE INDEX articles_tags_idx ON articles USING GIN (tags);
-- updated_at is set by edits only (not by counter changes), so there is no trigger.

-- How many articles carry each tag, for `popularTags`.
CREATE TABLE tags (
    name TEXT PRIMARY KEY,
    articles_count INTEGER NOT NULL DEFAULT 0 CHECK (articles_count >= 0)
);
CREATE INDEX tags_popularity_idx ON tags (articles_count DESC, name);

CREATE TABLE favorites (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    article_id BIGINT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, article_id)
);
CREATE INDEX favorites_article_id_idx ON favorites (article_id);

CREATE TABLE follows (
    follower_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    followee_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (follower_id, followee_id),
    CHECK (follower_id <> followee_id)
);
-- `followers` and `following`, newest follow first.
CREATE INDEX follows_followee_created_at_idx ON follows (followee_id, created_at DESC, follower_id DESC);
CREATE INDEX follows_follower_created_at_idx ON follows (follower_id, created_at DESC, followee_id DESC);
