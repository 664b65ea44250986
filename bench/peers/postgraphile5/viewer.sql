-- What PostGraphile v5 needs on top of Conduit's tables to do Conduit's work: a copy of
-- the v4 peer's bench/peers/postgraphile/viewer.sql (the viewer flags, `feed()`, the
-- favorite mutations, `article_total()`), function for function and body for body: the
-- harness applies both files to one database, so in either order they leave the same
-- functions; keep the two in step. Idempotent: the harness applies it (psql -v
-- ON_ERROR_STOP=1 -f viewer.sql) after Conduit's migrations and before starting server.js.
-- Everything lives in `public`, the one schema PostGraphile introspects; it changes no
-- table.
--
-- The viewer is the transaction-local setting `conduit.viewer_id`, set by server.js's
-- grafast context (`pgSettings`) from the session an access token names; absent or ''
-- means anonymous.

-- Article.viewerHasFavorited: false when anonymous, as in Conduit.
CREATE OR REPLACE FUNCTION public.articles_viewer_has_favorited(a public.articles)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.favorites f
    WHERE f.user_id = nullif(current_setting('conduit.viewer_id', true), '')::bigint
      AND f.article_id = a.id
  )
$$;

-- User.viewerIsFollowing: false when anonymous and for oneself (follows forbids
-- self-follows), as in Conduit.
CREATE OR REPLACE FUNCTION public.users_viewer_is_following(u public.users)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT EXISTS (
    SELECT 1 FROM public.follows f
    WHERE f.follower_id = nullif(current_setting('conduit.viewer_id', true), '')::bigint
      AND f.followee_id = u.id
  )
$$;

-- Query.feed: articles by users the viewer follows, newest first (created_at DESC,
-- id DESC), the order Conduit's feed uses. Plain SQL so that the planner can inline it
-- and use articles_author_created_at_id_idx. Empty when anonymous (Conduit answers
-- UNAUTHENTICATED instead).
CREATE OR REPLACE FUNCTION public.feed()
RETURNS SETOF public.articles
LANGUAGE sql STABLE
AS $$
  SELECT a.*
  FROM public.articles a
  WHERE a.author_id IN (
    SELECT f.followee_id FROM public.follows f
    WHERE f.follower_id = nullif(current_setting('conduit.viewer_id', true), '')::bigint
  )
  ORDER BY a.created_at DESC, a.id DESC
$$;

-- Mutation.favoriteArticle: Conduit's side effects in the same order (src/domain/articles.rs
-- set_favorite, src/db/articles.rs favorite): lock the article FOR NO KEY UPDATE, insert the
-- favorite (idempotent), and only if it was new: bump favorites_count, notify the author
-- (not oneself) with its pg_notify, and announce article_updated. Returns the article.
CREATE OR REPLACE FUNCTION public.favorite_article(slug text)
RETURNS public.articles
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  viewer bigint := nullif(current_setting('conduit.viewer_id', true), '')::bigint;
  art public.articles;
  added integer;
  notification bigint;
BEGIN
  IF viewer IS NULL THEN
    RAISE EXCEPTION 'Sign in to do this.' USING ERRCODE = '28000';
  END IF;
  SELECT * INTO art FROM public.articles a WHERE a.slug = favorite_article.slug
    FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No article has the slug "%".', favorite_article.slug USING ERRCODE = 'P0002';
  END IF;
  INSERT INTO public.favorites (user_id, article_id) VALUES (viewer, art.id)
    ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS added = ROW_COUNT;
  IF added = 0 THEN
    RETURN art;
  END IF;
  UPDATE public.articles a SET favorites_count = a.favorites_count + added
    WHERE a.id = art.id RETURNING * INTO art;
  IF art.author_id <> viewer THEN
    INSERT INTO public.notifications (recipient_id, kind, actor_id, article_id, comment_id)
      VALUES (art.author_id, 'article_favorited', viewer, art.id, NULL)
      RETURNING id INTO notification;
    PERFORM pg_notify('conduit_events', format(
      '{"e":"notification_added","recipient":%s,"notification":%s}', art.author_id, notification));
  END IF;
  PERFORM pg_notify('conduit_events', format('{"e":"article_updated","article":%s}', art.id));
  RETURN art;
END
$$;

-- Mutation.unfavoriteArticle: Conduit's unfavorite: lock, delete the favorite
-- (idempotent), and only if there was one: decrement favorites_count and announce
-- article_updated. The notification stays, as in Conduit.
CREATE OR REPLACE FUNCTION public.unfavorite_article(slug text)
RETURNS public.articles
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  viewer bigint := nullif(current_setting('conduit.viewer_id', true), '')::bigint;
  art public.articles;
  removed integer;
BEGIN
  IF viewer IS NULL THEN
    RAISE EXCEPTION 'Sign in to do this.' USING ERRCODE = '28000';
  END IF;
  SELECT * INTO art FROM public.articles a WHERE a.slug = unfavorite_article.slug
    FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No article has the slug "%".', unfavorite_article.slug USING ERRCODE = 'P0002';
  END IF;
  DELETE FROM public.favorites f WHERE f.user_id = viewer AND f.article_id = art.id;
  GET DIAGNOSTICS removed = ROW_COUNT;
  IF removed = 0 THEN
    RETURN art;
  END IF;
  UPDATE public.articles a SET favorites_count = a.favorites_count - removed
    WHERE a.id = art.id RETURNING * INTO art;
  PERFORM pg_notify('conduit_events', format('{"e":"article_updated","article":%s}', art.id));
  RETURN art;
END
$$;

-- Query.articleTotal: how many articles exist, read from Conduit's counter (migration
-- article_total, kept by statement triggers) instead of `articles { totalCount }`'s
-- count(*) over the table. W2 selects it; compare.mjs maps it back to
-- `articles.totalCount`. integer (GraphQL Int, as Conduit's totalCount) rather than
-- bigint (PostGraphile's BigInt is a string).
CREATE OR REPLACE FUNCTION public.article_total()
RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT t.articles::integer FROM public.article_total t
$$;
