DROP TABLE follows;
DROP TABLE favorites;
DROP TABLE tags;
DROP TABLE articles;
ALTER TABLE users DROP COLUMN followers_count, DROP COLUMN following_count;
