// Checks that a PostGraphile peer answers its documents as Conduit answers
// bench/workloads/conduit/W*.graphql, on the same database: the v4 peer's
// (bench/workloads/postgraphile/, the default) or, with the folder as the argument, the v5
// peer's (`compare.mjs postgraphile5`: its documents ask for v4's shapes). Run by
// bench/run.py before any load (interface: bench/README.md, "Peers"):
//
//   CONDUIT_URL=… PEER_URL=… DATABASE_URL=… BENCH_FIXTURES='{…}' node compare.mjs [workloads]
//
// First every workload of the run's plan with the run's fixtures (compare-common.mjs),
// then more subjects: three viewers, several articles (newest, most commented, none,
// favorited, by a followed author, one's own, missing), page sizes 1–100, and W5's
// counters, notifications and pg_notify events, idempotency, a second favorite and
// interleaving. Answers are mapped to Conduit's shape (`articleBySlug` → `article`,
// `articleTotal` → `articles.totalCount`, mutation payload `.article` unwrapped) and
// normalized (ids, cursors, timestamps). Conduit must run with NOTIFICATION_DEDUP_WINDOW=0,
// as the harness runs it (viewer.sql's favorite has no dedup). Exits 1 on any mismatch,
// printing the first differing path. Writes: W5 favorites and unfavorites, leaving
// counters as they were but adding `article_favorited` notifications (as Conduit itself
// does).

import { isDeepStrictEqual } from 'node:util';
import pg from 'pg';
import {
  check as report, checkPlan, documents, finish, firstDifference, fixtures, gql, normalize,
} from '../compare-common.mjs';

const fx = fixtures();
const { conduitUrl: CONDUIT_URL, peerUrl: PEER_URL, databaseUrl: DATABASE_URL } = fx;
const PASSWORD = fx.password;

// The peer's answer in Conduit's shape.
function toConduit(workload, data) {
  if (data == null) return data;
  switch (workload) {
    case 'W1':
    case 'W4':
      return { article: data.articleBySlug };
    case 'W2':
      return { articles: { totalCount: data.articleTotal, ...data.articles } };
    case 'W5a':
      return { favoriteArticle: data.favoriteArticle?.article ?? null };
    case 'W5b':
      return { unfavoriteArticle: data.unfavoriteArticle?.article ?? null };
    default:
      return data;
  }
}
const PEER_WORKLOADS = process.argv[2] || 'postgraphile';
const docs = { conduit: documents('conduit'), peer: documents(PEER_WORKLOADS), toConduit };
const servers = {
  conduit: { url: CONDUIT_URL, doc: docs.conduit },
  peer: { url: PEER_URL, doc: docs.peer },
};
const common = (server, workload, data) =>
  normalize(server === 'conduit' ? data : toConduit(workload, data));

console.log('— the run\'s plan');
await checkPlan(fx, docs);

let checks = 0;
let failures = 0;
function check(label, ok, detail = '') {
  checks++;
  if (!ok) failures++;
  report(label, ok, detail);
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

console.log('\n— more subjects');
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

// favorite, favorite, unfavorite, unfavorite, favorite, unfavorite on `server` (the other
// way round when the viewer has favorited `slug` already, so that each run ends where it
// started): repeats, and a second favorite right after the first, which notifies the
// author again only while Conduit's NOTIFICATION_DEDUP_WINDOW is 0, as the harness runs it
// (the peer's function has no dedup); the answers, states and events of each step.
async function favoriteRun(server, slug) {
  const s = servers[server];
  const steps = [];
  const order = (await state(slug)).favorited
    ? ['W5b', 'W5b', 'W5a', 'W5a', 'W5b', 'W5a']
    : ['W5a', 'W5a', 'W5b', 'W5b', 'W5a', 'W5b'];
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
console.log(`\nmore subjects: ${checks - failures}/${checks} checks passed`);
finish();
