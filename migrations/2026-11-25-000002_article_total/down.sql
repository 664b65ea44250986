DROP TRIGGER article_total_truncate ON articles;
DROP TRIGGER article_total_delete ON articles;
DROP TRIGGER article_total_insert ON articles;
DROP FUNCTION count_articles();
DROP TABLE article_total;
