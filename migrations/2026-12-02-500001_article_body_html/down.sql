DROP TRIGGER articles_stale_body_html ON articles;
DROP FUNCTION articles_stale_body_html();
ALTER TABLE articles DROP COLUMN body_html;
