-- How many articles exist, kept by statement triggers so that the unfiltered
-- `articles { totalCount }` (the home page) reads one row instead of counting the
-- table on every request (src/db/articles.rs). Triggers rather than application code,
-- so that every writer keeps it: the mutations, the seed's bulk inserts, cascades.
-- Article creation already serialises on its tags' rows; this adds one more short
-- row lock per insert or delete, held until commit.
CREATE TABLE article_total (
    -- The one row's key: the table holds exactly one row.
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    articles bigint NOT NULL CHECK (articles >= 0)
);
INSERT INTO article_total (articles) SELECT count(*) FROM articles;

CREATE FUNCTION count_articles() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        UPDATE article_total SET articles = 0;
        RETURN NULL;
    END IF;
    SELECT count(*) INTO n FROM changed;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        n := -n;
    END IF;
    UPDATE article_total SET articles = articles + n;
    RETURN NULL;
END
$$;

CREATE TRIGGER article_total_insert AFTER INSERT ON articles
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION count_articles();
CREATE TRIGGER article_total_delete AFTER DELETE ON articles
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION count_articles();
CREATE TRIGGER article_total_truncate AFTER TRUNCATE ON articles
    FOR EACH STATEMENT EXECUTE FUNCTION count_articles();
