// Runs the benchmark documents (bench/workloads/conduit/W*.graphql) against two servers
// on the same database and checks that their `data` (and error codes) are identical,
// anonymous and signed in; then checks that W5a/W5b move favoritesCount the same way on
// both, idempotently. Restores the article's favorite state at the end.
//
//   node compare.mjs <conduitUrl> <peerUrl> <slug> <accessToken> [first=20]
//   e.g. node compare.mjs http://127.0.0.1:18090/graphql http://127.0.0.1:18083/graphql \
//          some-article-slug "$TOKEN"
//
// With DATABASE_URL set, also checks that each first favorite writes one notification
// for the author (none for your own article, none on repeats or unfavorites).
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const [a, b, slug, token, first = '20'] = process.argv.slice(2);
if (!token) {
  console.error('usage: node compare.mjs <conduitUrl> <peerUrl> <slug> <accessToken> [first]');
  process.exit(2);
}
const dir = new URL('../../workloads/conduit/', import.meta.url);
const doc = (name) => readFileSync(new URL(`${name}.graphql`, dir), 'utf8');
const vars = { slug, first: Number(first) };

async function run(url, name, auth) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(auth ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: doc(name), variables: vars }),
  });
  const json = await res.json();
  return {
    data: json.data ?? null,
    codes: (json.errors ?? []).map((e) => e.extensions?.code ?? '?'),
  };
}

// The first path where x and y differ, for the report.
function firstDiff(x, y, path = '') {
  if (isDeepStrictEqual(x, y)) return null;
  if (x && y && typeof x === 'object' && typeof y === 'object') {
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) {
      const d = firstDiff(x[k], y[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  return `${path || '.'}: ${JSON.stringify(x)?.slice(0, 120)} vs ${JSON.stringify(y)?.slice(0, 120)}`;
}

let failures = 0;
function check(label, ok, detail = '') {
  console.log(`${ok ? 'same' : 'DIFF'}  ${label}${ok ? '' : `  ${detail}`}`);
  if (!ok) failures++;
}

function describe(r) {
  const nodes = r.data?.articles?.nodes ?? r.data?.feed?.nodes;
  const comments = r.data?.article?.comments?.nodes;
  const parts = [];
  if (nodes) parts.push(`${nodes.length} nodes`);
  if (comments) parts.push(`${comments.length} comments`);
  if (r.data && 'article' in r.data && !r.data.article) parts.push('article null');
  if (r.codes.length) parts.push(`errors ${r.codes.join(',')}`);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

for (const name of ['W0', 'W1', 'W2', 'W3', 'W4', 'W6']) {
  for (const auth of [false, true]) {
    const [x, y] = await Promise.all([run(a, name, auth), run(b, name, auth)]);
    const label = `${name} ${auth ? 'signed in' : 'anonymous'}${describe(x)}`;
    check(label, isDeepStrictEqual(x, y), firstDiff(x, y));
  }
}

// W5: favoriteArticle / unfavoriteArticle, twice each, on each server in turn.
const pg = process.env.DATABASE_URL ? new (await import('pg')).default.Client(process.env.DATABASE_URL) : null;
await pg?.connect();
const notifications = async () =>
  pg ? Number((await pg.query('SELECT count(*) FROM notifications')).rows[0].count) : null;
const ownArticle = pg
  ? (await pg.query(
    `SELECT a.author_id = s.user_id AS own FROM articles a, sessions s
     WHERE a.slug = $1 AND s.access_token_hash = sha256(convert_to($2, 'UTF8'))`, [slug, token])).rows[0]?.own
  : null;

const before = (await run(a, 'W4', true)).data?.article;
if (!before) {
  console.log(`no article ${slug}: skipping W5`);
} else {
  const wasFavorited = before.viewerHasFavorited;
  if (wasFavorited) await run(a, 'W5b', true);
  const base = (await run(a, 'W1', false)).data.article.favoritesCount;
  const results = {};
  for (const [server, url] of [['conduit', a], ['peer', b]]) {
    const n0 = await notifications();
    const steps = [];
    for (const name of ['W5a', 'W5a', 'W5b', 'W5b']) {
      const r = await run(url, name, true);
      const n = await notifications();
      steps.push({ name, r, n });
    }
    results[server] = steps.map((s) => s.r);
    const want = [base + 1, base + 1, base, base];
    const counts = steps.map((s) => s.r.data?.[s.name === 'W5a' ? 'favoriteArticle' : 'unfavoriteArticle']);
    const ok = counts.every((c, i) => c && c.favoritesCount === want[i] && c.viewerHasFavorited === (i < 2));
    check(`W5 ${server}: favoritesCount ${counts.map((c) => c?.favoritesCount).join(' -> ')} (from ${base}), repeats idempotent`, ok,
      JSON.stringify(steps.map((s) => s.r)));
    if (pg) {
      const deltas = steps.map((s, i) => s.n - (i ? steps[i - 1].n : n0));
      const wantDeltas = [ownArticle ? 0 : 1, 0, 0, 0];
      check(`W5 ${server}: notifications written per step ${deltas.join(',')}`,
        isDeepStrictEqual(deltas, wantDeltas), `expected ${wantDeltas.join(',')}`);
    }
  }
  check('W5 conduit and peer answers', isDeepStrictEqual(results.conduit, results.peer),
    firstDiff(results.conduit, results.peer));
  if (wasFavorited) await run(a, 'W5a', true);
  const after = (await run(a, 'W4', true)).data.article;
  check('W5 article restored', after.favoritesCount === before.favoritesCount
    && after.viewerHasFavorited === before.viewerHasFavorited);
}
await pg?.end();

console.log(failures ? `${failures} difference(s)` : 'all identical');
process.exit(failures ? 1 : 0);
