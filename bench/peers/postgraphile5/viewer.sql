-- What PostGraphile v5 needs on top of Conduit's tables to do Conduit's work: the viewer
-- flags, `feed()` and `article_total()` as in the v4 peer's
-- bench/peers/postgraphile/viewer.sql (identical bodies: the harness applies both files to
-- one database, so in either order they leave the same functions; keep them in step), and
-- this peer's own favorite mutations (pgv5_*, below: they add Conduit's notification
-- dedup). Idempotent: the harness applies it (psql -v ON_ERROR_STOP=1 -f viewer.sql)
-- after Conduit's migrations and before starting server.js. Everything lives in `public`,
-- the one schema PostGraphile introspects; it changes no table.
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

-- Mutation.pgv5FavoriteArticle / pgv5UnfavoriteArticle: this peer's own favorite
-- mutations. They differ from v4's favorite_article/unfavorite_article (which this file
-- does not define, as the v4 peer's file defines them in the same database) in one
-- respect, Conduit's notification dedup (migration notification_dedup,
-- src/db/notifications.rs insert): a repeat of the same (recipient, kind, actor, article)
-- within NOTIFICATION_DEDUP_WINDOW (1 hour, Conduit's default and the harness's setting)
-- adds no notification and no notification_added event. Not repeated: Conduit's
-- notification mail (outbox rows for recipients who opted in and verified their address;
-- no seeded user has), whose CTEs ride on Conduit's insert.
--
-- Conduit's side effects in the same order (src/domain/articles.rs set_favorite,
-- src/db/articles.rs favorite): lock the article FOR NO KEY UPDATE, insert the favorite
-- (idempotent), and only if it was new: bump favorites_count, notify the author (not
-- oneself, not a repeat within the window) with its pg_notify, and announce
-- article_updated. Returns the article.
CREATE OR REPLACE FUNCTION public.pgv5_favorite_article(slug text)
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
  SELECT * INTO art FROM public.articles a WHERE a.slug = pgv5_favorite_article.slug
    FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No article has the slug "%".', pgv5_favorite_article.slug USING ERRCODE = 'P0002';
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
      SELECT art.author_id, 'article_favorited', viewer, art.id, NULL
      WHERE NOT EXISTS (
        SELECT 1 FROM public.notifications n
        WHERE n.recipient_id = art.author_id AND n.actor_id = viewer
          AND n.kind = 'article_favorited' AND n.article_id IS NOT DISTINCT FROM art.id
          AND n.created_at > now() - interval '1 hour')
      RETURNING id INTO notification;
    IF notification IS NOT NULL THEN
      PERFORM pg_notify('conduit_events', format(
        '{"e":"notification_added","recipient":%s,"notification":%s}', art.author_id, notification));
    END IF;
  END IF;
  PERFORM pg_notify('conduit_events', format('{"e":"article_updated","article":%s}', art.id));
  RETURN art;
END
$$;

-- Conduit's unfavorite: lock, delete the favorite (idempotent), and only if there was
-- one: decrement favorites_count and announce article_updated. The notification stays,
-- as in Conduit. (The same body as v4's unfavorite_article.)
CREATE OR REPLACE FUNCTION public.pgv5_unfavorite_article(slug text)
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
  SELECT * INTO art FROM public.articles a WHERE a.slug = pgv5_unfavorite_article.slug
    FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'No article has the slug "%".', pgv5_unfavorite_article.slug USING ERRCODE = 'P0002';
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
