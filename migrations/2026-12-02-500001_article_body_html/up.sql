-- Article.bodyHtml: the body rendered from Markdown and sanitized, once per write. Nullable,
-- so that an instance of an older build (which does not know the column) still inserts;
-- a NULL is rendered on read, and filled in by the newer build's backfill at start.
ALTER TABLE articles ADD COLUMN body_html TEXT;

-- An older build's update of `body` leaves `body_html` as it was: it would be stale.
-- Cleared here instead (read as NULL: rendered on read, backfilled), unless the update set
-- it too, as the newer build's does.
CREATE FUNCTION articles_stale_body_html() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.body IS DISTINCT FROM OLD.body AND NEW.body_html IS NOT DISTINCT FROM OLD.body_html THEN
        NEW.body_html := NULL;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER articles_stale_body_html BEFORE UPDATE OF body ON articles
    FOR EACH ROW EXECUTE FUNCTION articles_stale_body_html();

-- The backfill's work list.
CREATE INDEX articles_body_html_missing_idx ON articles (id) WHERE body_html IS NULL;
