// Checks that the PostGraphile peer answers bench/workloads/postgraphile/W*.graphql as
// Conduit answers bench/workloads/conduit/W*.graphql, on the same seeded database:
// same articles in the same order, same counts, flags, authors, comments and tags,
// anonymous and signed in; W5a/W5b move favorites_count, notifications and pg_notify
// events identically and are idempotent. Both answers are mapped to Conduit's shape
// (PostGraphile's `articleBySlug` → `article`, mutation payload `.article` unwrapped,
// timestamps to UTC microseconds) and compared whole.
//
//   DATABASE_URL=... [CONDUIT_URL=http://127.0.0.1:18091/graphql]
//   [PEER_URL=http://127.0.0.1:18082/graphql] node compare.mjs
//
// Needs both servers running and viewer.sql applied. Exits 1 on any mismatch. Writes:
// W5 favorites and unfavorites an article per server, leaving counters as they were but
// adding `article_favorited` notifications (as Conduit itself does).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';

const here = dirname(fileURLToPath(import.meta.url));
const workloads = join(here, '..', '..', 'workloads');
const CONDUIT_URL = process.env.CONDUIT_URL || 'http://127.0.0.1:18091/graphql';
const PEER_URL = process.env.PEER_URL || 'http://127.0.0.1:18082/graphql';
const DATABASE_URL = process.env.DATABASE_URL;
const PASSWORD = process.env.SEED_PASSWORD || 'conduit-demo';
if (!DATABASE_URL) {
  console.error('DATABASE_URL is required');
  process.exit(2);
}

const doc = (peer, name) => readFileSync(join(workloads, peer, `${name}.graphql`), 'utf8');
const servers = {
  conduit: { url: CONDUIT_URL, doc: (n) => doc('conduit', n) },
  peer: { url: PEER_URL, doc: (n) => doc('postgraphile', n) },
};

async function gql(url, query, variables, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  return { status: res.status, data: body.data ?? null, errors: body.errors };
}

// --- one common shape ----------------------------------------------------------------

// '2025-11-24T23:27:59.301893Z' and '...+00:00' (any offset) → one UTC string with µs.
const TS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:?\d\d)$/;
function normTime(s) {
  const m = TS.exec(s);
  if (!m) return s;
  const offset = m[3] === 'Z' ? '+00:00' : m[3].length === 5 ? `${m[3].slice(0, 3)}:${m[3].slice(3)}` : m[3];
  const seconds = Date.parse(`${m[1]}${offset}`);
  const micros = (m[2] || '').padEnd(6, '0');
  return `${new Date(seconds).toISOString().slice(0, 19)}.${micros}Z`;
}
function deepNorm(x) {
  if (typeof x === 'string') return normTime(x);
  if (Array.isArray(x)) return x.map(deepNorm);
  if (x && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, deepNorm(v)]));
  }
  return x;
}
function common(server, workload, data) {
  if (data == null || server === 'conduit') return deepNorm(data);
  switch (workload) {
    case 'W1':
    case 'W4':
      return deepNorm({ article: data.articleBySlug });
    case 'W5a':
      return deepNorm({ favoriteArticle: data.favoriteArticle?.article ?? null });
    case 'W5b':
      return deepNorm({ unfavoriteArticle: data.unfavoriteArticle?.article ?? null });
    default:
      return deepNorm(data);
  }
}

function firstDifference(a, b, path = '$') {
  if (isDeepStrictEqual(a, b)) return null;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  return `${path}: ${JSON.stringify(a)?.slice(0, 120)} vs ${JSON.stringify(b)?.slice(0, 120)}`;
}

// --- reporting -------------------------------------------------------------------------

let failures = 0;
let checks = 0;
function check(label, ok, detail = '') {
  checks++;
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${label}${detail ? `  — ${detail}` : ''}`);
}
function summary(data) {
  const list = data?.articles?.nodes ?? data?.feed?.nodes;
  if (list) {
    const flags = list.filter((a) => a.viewerHasFavorited).length;
    const following = list.filter((a) => a.author?.viewerIsFollowing).length;
    const comments = list.reduce((n, a) => n + (a.comments?.nodes?.length ?? 0), 0);
    return `${list.length} articles${data.articles?.totalCount != null ? ` of ${data.articles.totalCount}` : ''}, ` +
      `${flags} favorited, ${following} followed authors, ${comments} comments`;
  }
  const a = data?.article;
  if (a) {
    return [`favs ${a.favoritesCount}`,
      a.viewerHasFavorited !== undefined && `favorited ${a.viewerHasFavorited}`,
      a.author?.viewerIsFollowing !== undefined && `following ${a.author.viewerIsFollowing}`,
      a.comments && `${a.comments.nodes.length} comments`].filter(Boolean).join(', ');
  }
  return JSON.stringify(data).slice(0, 100);
}

// Runs `workload` on both servers and compares the mapped answers.
async function compareRead(workload, variables, token, who) {
  const [c, p] = await Promise.all(
    ['conduit', 'peer'].map((s) => gql(servers[s].url, servers[s].doc(workload), variables, token)),
  );
  const label = `${workload} ${who} ${JSON.stringify(variables)}`;
  if (c.errors || p.errors) {
    check(label, false, `errors: conduit ${JSON.stringify(c.errors)} peer ${JSON.stringify(p.errors)}`);
    return;
  }
  const a = common('conduit', workload, c.data);
  const b = common('peer', workload, p.data);
  const d = firstDifference(a, b);
  check(label, d === null, d ?? summary(a));
}

// --- subjects --------------------------------------------------------------------------

const db = new pg.Client({ connectionString: DATABASE_URL });
await db.connect();
const one = async (text, values = []) => (await db.query(text, values)).rows[0];

// The viewer: the user with the most favorites among the 100 newest articles, among
// those who follow someone (so that W2 and W3 carry true flags and the feed has rows).
const viewer = await one(`
  SELECT u.id, u.email, u.username
  FROM users u
  JOIN favorites f ON f.user_id = u.id
  JOIN (SELECT id FROM articles ORDER BY created_at DESC, id DESC LIMIT 100) a ON a.id = f.article_id
  WHERE u.following_count > 0
  GROUP BY u.id ORDER BY count(*) DESC, u.id LIMIT 1`);
async function signIn(email) {
  const r = await gql(
    CONDUIT_URL,
    'mutation ($email: String!, $password: String!) { login(input: {email: $email, password: $password}) { accessToken } }',
    { email, password: PASSWORD },
  );
  const accessToken = r.data?.login?.accessToken;
  if (!accessToken) {
    console.error('login failed', JSON.stringify(r.errors));
    process.exit(1);
  }
  return accessToken;
}
const token = await signIn(viewer.email);
// A second reader: whoever follows the most users (more true viewerIsFollowing, a fuller feed).
const follower = await one('SELECT id, email, username FROM users ORDER BY following_count DESC, id LIMIT 1');
const followerToken = await signIn(follower.email);
console.log(`viewers ${viewer.username} (id ${viewer.id}; W5 writes as this one) and ${follower.username} (id ${follower.id}), signed in through Conduit\n`);

const slugs = {
  newest: (await one('SELECT slug FROM articles ORDER BY created_at DESC, id DESC LIMIT 1')).slug,
  mostComments: (await one('SELECT slug FROM articles ORDER BY comments_count DESC, id LIMIT 1')).slug,
  noComments: (await one('SELECT slug FROM articles WHERE comments_count = 0 ORDER BY id LIMIT 1'))?.slug,
  favorited: (await one(
    'SELECT a.slug FROM articles a JOIN favorites f ON f.article_id = a.id AND f.user_id = $1 ORDER BY a.id LIMIT 1',
    [viewer.id],
  )).slug,
  followedAuthor: (await one(
    'SELECT a.slug FROM articles a JOIN follows f ON f.followee_id = a.author_id AND f.follower_id = $1 ORDER BY a.id LIMIT 1',
    [viewer.id],
  )).slug,
  own: (await one('SELECT slug FROM articles WHERE author_id = $1 ORDER BY id LIMIT 1', [viewer.id]))?.slug,
  missing: 'no-such-article-anywhere',
};
const anon = undefined;

// --- reads -----------------------------------------------------------------------------

for (const [who, tok] of [['anonymous', anon], [viewer.username, token], [follower.username, followerToken]]) {
  console.log(`— ${who}`);
  await compareRead('W0', {}, tok, who);
  for (const [kind, slug] of Object.entries(slugs)) {
    if (!slug) continue;
    await compareRead('W1', { slug }, tok, `${who} ${kind}`);
    await compareRead('W4', { slug }, tok, `${who} ${kind}`);
  }
  for (const first of [1, 20, 50, 100]) await compareRead('W2', { first }, tok, who);
  await compareRead('W6', {}, tok, who);
  if (tok) await compareRead('W3', {}, tok, who);
}

// W3 anonymous: Conduit refuses (UNAUTHENTICATED); the peer's feed() is empty.
{
  const c = await gql(CONDUIT_URL, servers.conduit.doc('W3'), {});
  const p = await gql(PEER_URL, servers.peer.doc('W3'), {});
  check('W3 anonymous (known difference)', !!c.errors && !p.errors && p.data.feed.nodes.length === 0,
    `conduit: ${c.errors?.[0]?.extensions?.code ?? c.errors?.[0]?.message}, peer: ${p.data?.feed?.nodes?.length} articles`);
}

// A token that names no session: both refuse the whole request.
{
  const c = await gql(CONDUIT_URL, servers.conduit.doc('W0'), {}, 'not-a-token');
  const p = await gql(PEER_URL, servers.peer.doc('W0'), {}, 'not-a-token');
  check('invalid token refused by both', !!c.errors && !c.data && !!p.errors && !p.data,
    `conduit HTTP ${c.status} (application/json), peer HTTP ${p.status}`);
}

// --- W5: favorite / unfavorite ---------------------------------------------------------

// What the writes touch, for `slug` and the viewer.
async function state(slug) {
  return one(`
    SELECT a.favorites_count,
           EXISTS (SELECT 1 FROM favorites f WHERE f.article_id = a.id AND f.user_id = $2) AS favorited,
           (SELECT count(*)::int FROM notifications n
             WHERE n.article_id = a.id AND n.actor_id = $2 AND n.kind = 'article_favorited') AS notifications,
           (SELECT count(*)::int FROM favorites f WHERE f.article_id = a.id) AS favorites_rows
    FROM articles a WHERE a.slug = $1`, [slug, viewer.id]);
}

const listener = new pg.Client({ connectionString: DATABASE_URL });
await listener.connect();
let heard = [];
listener.on('notification', (n) => heard.push(n.payload));
await listener.query('LISTEN conduit_events');
async function drainEvents() {
  await new Promise((r) => setTimeout(r, 150));
  // Notification ids differ between the runs: mask them.
  const events = heard.map((p) => p.replace(/"notification":\d+/, '"notification":N'));
  heard = [];
  return events;
}

// favorite, favorite, unfavorite, unfavorite on `server` (the other way round when the
// viewer has favorited `slug` already, so that each run ends where it started); the
// answers, states and events of each step.
async function favoriteRun(server, slug) {
  const s = servers[server];
  const steps = [];
  const order = (await state(slug)).favorited ? ['W5b', 'W5b', 'W5a', 'W5a'] : ['W5a', 'W5a', 'W5b', 'W5b'];
  for (const w of order) {
    await drainEvents();
    const r = await gql(s.url, s.doc(w), { slug }, token);
    steps.push({
      workload: w,
      answer: r.errors ? { errors: r.errors.map((e) => e.message) } : common(server, w, r.data),
      state: await state(slug),
      events: await drainEvents(),
    });
  }
  return steps;
}

console.log('— W5 (signed in)');
const w5Subjects = {
  otherAuthor: (await one(
    `SELECT a.slug FROM articles a WHERE a.author_id <> $1
       AND NOT EXISTS (SELECT 1 FROM favorites f WHERE f.article_id = a.id AND f.user_id = $1)
     ORDER BY a.created_at DESC, a.id DESC LIMIT 1`, [viewer.id])).slug,
  own: (await one(
    `SELECT a.slug FROM articles a WHERE a.author_id = $1
       AND NOT EXISTS (SELECT 1 FROM favorites f WHERE f.article_id = a.id AND f.user_id = $1)
     ORDER BY a.id LIMIT 1`, [viewer.id]))?.slug,
  alreadyFavorited: slugs.favorited,
};
for (const [kind, slug] of Object.entries(w5Subjects)) {
  if (!slug) continue;
  const before = await state(slug);
  const c = await favoriteRun('conduit', slug);
  const afterConduit = await state(slug);
  const p = await favoriteRun('peer', slug);
  const afterPeer = await state(slug);
  // Notifications accumulate (neither server deletes them on unfavorite): compare deltas.
  const rel = (steps, base) => steps.map((x) => ({ ...x, state: { ...x.state, notifications: x.state.notifications - base } }));
  const cs = rel(c, before.notifications);
  const ps = rel(p, afterConduit.notifications);
  const d = firstDifference(cs, ps);
  const counts = c.map((x) => x.answer.favoriteArticle?.favoritesCount ?? x.answer.unfavoriteArticle?.favoritesCount).join('→');
  check(`W5 ${kind} ${slug}: answers, counters, notifications, events`, d === null,
    d ?? `favoritesCount ${before.favorites_count}: ${counts}; events ${JSON.stringify(c.map((x) => x.events.length))}; ` +
      `+${afterConduit.notifications - before.notifications} notification per run`);
  const stable = (s) => ({ favorites_count: s.favorites_count, favorited: s.favorited, favorites_rows: s.favorites_rows });
  check(`W5 ${kind}: counter consistent and restored`,
    isDeepStrictEqual(stable(before), stable(afterConduit)) && isDeepStrictEqual(stable(before), stable(afterPeer)) &&
      afterPeer.favorites_count === Number(afterPeer.favorites_rows),
    `favorites_count ${afterPeer.favorites_count} = ${afterPeer.favorites_rows} rows`);
}

// Interleaved: a favorite made through one server is seen as already made by the other.
{
  const slug = w5Subjects.otherAuthor;
  const base = await state(slug);
  const a = await gql(CONDUIT_URL, servers.conduit.doc('W5a'), { slug }, token);
  const b = await gql(PEER_URL, servers.peer.doc('W5a'), { slug }, token);
  const mid = await state(slug);
  const c = await gql(PEER_URL, servers.peer.doc('W5b'), { slug }, token);
  const d = await gql(CONDUIT_URL, servers.conduit.doc('W5b'), { slug }, token);
  const end = await state(slug);
  const counts = [a.data.favoriteArticle.favoritesCount, b.data.favoriteArticle.article.favoritesCount,
    c.data.unfavoriteArticle.article.favoritesCount, d.data.unfavoriteArticle.favoritesCount];
  check('W5 interleaved conduit→peer→peer→conduit', isDeepStrictEqual(counts,
    [base.favorites_count + 1, base.favorites_count + 1, base.favorites_count, base.favorites_count]) &&
    mid.favorites_count === base.favorites_count + 1 && end.favorites_count === base.favorites_count,
    `favoritesCount ${counts.join('→')}`);
}

// Anonymous writes: both refuse.
{
  const slug = w5Subjects.otherAuthor;
  const before = await state(slug);
  const c = await gql(CONDUIT_URL, servers.conduit.doc('W5a'), { slug });
  const p = await gql(PEER_URL, servers.peer.doc('W5a'), { slug });
  const after = await state(slug);
  check('W5a anonymous refused by both, nothing written', !!c.errors && !!p.errors && isDeepStrictEqual(before, after),
    `conduit: ${c.errors?.[0]?.message}; peer: ${p.errors?.[0]?.message}`);
}
// Unknown slug: both answer an error.
{
  const c = await gql(CONDUIT_URL, servers.conduit.doc('W5a'), { slug: slugs.missing }, token);
  const p = await gql(PEER_URL, servers.peer.doc('W5a'), { slug: slugs.missing }, token);
  check('W5a unknown slug refused by both', !!c.errors && !!p.errors,
    `conduit: ${c.errors?.[0]?.message}; peer: ${p.errors?.[0]?.message}`);
}

await listener.end();
await db.end();
console.log(`\n${checks - failures}/${checks} checks passed`);
process.exit(failures ? 1 : 0);
