-- The sign-in throttle, shared by every instance on this database (src/db/throttle.rs,
-- src/ratelimit/throttle.rs). One row per namespaced key (`ip:…`, `login:email:…`,
-- `login:email+ip:…`, `password:user:…`, ...): GCRA's theoretical arrival time. A key
-- whose `tat` is in the past has its whole budget back, so such rows may go at any time.
CREATE TABLE auth_throttle (
    key text PRIMARY KEY,
    tat timestamptz NOT NULL
);
CREATE INDEX auth_throttle_tat ON auth_throttle (tat);

-- One attempt against every key in `keys`, each with its own emission interval (seconds:
-- 60 / attempts per minute), all or nothing: when every key has room, each spends one and
-- `wait` is 0; otherwise nothing is spent, `wait` is the seconds until the attempt would
-- pass and `refused` the key that needs the longest wait. Rows are locked in key order, so concurrent attempts on the same
-- keys queue instead of deadlocking or losing counts. Now and then (1 call in 64) up to 500
-- expired rows are deleted, so the table stays about as big as one minute of attempts.
CREATE FUNCTION auth_throttle_attempt(
    keys text[], intervals double precision[],
    OUT wait double precision, OUT refused text)
LANGUAGE plpgsql AS $$
DECLARE
    t_now timestamptz := clock_timestamp();
    key_wait double precision;
    r record;
BEGIN
    wait := 0;
    INSERT INTO auth_throttle (key, tat)
    SELECT k, '-infinity' FROM unnest(keys) AS k ORDER BY k
    ON CONFLICT (key) DO NOTHING;
    FOR r IN
        SELECT t.key, t.tat, u.iv
        FROM auth_throttle t JOIN unnest(keys, intervals) AS u(k, iv) ON t.key = u.k
        ORDER BY t.key
        FOR UPDATE OF t
    LOOP
        key_wait := extract(epoch FROM
            GREATEST(r.tat, t_now) + make_interval(secs => r.iv)
            - t_now - interval '60 seconds');
        IF key_wait > wait THEN
            wait := key_wait;
            refused := r.key;
        END IF;
    END LOOP;
    IF wait > 0 THEN
        RETURN;
    END IF;
    UPDATE auth_throttle t
    SET tat = GREATEST(t.tat, t_now) + make_interval(secs => u.iv)
    FROM unnest(keys, intervals) AS u(k, iv)
    WHERE t.key = u.k;
    IF random() < 1.0 / 64 THEN
        DELETE FROM auth_throttle
        WHERE key IN (
            SELECT key FROM auth_throttle WHERE tat < t_now
            LIMIT 500 FOR UPDATE SKIP LOCKED);
    END IF;
END
$$;
