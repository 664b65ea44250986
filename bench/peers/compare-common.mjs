// The shared part of the peers' answer checks (bench/peers/*/compare.mjs), run by
// bench/run.py before any load. Plain ESM with no dependencies (each peer's compare.mjs
// brings its own `pg` if it needs the database).
//
// Interface (bench/README.md, "Peers"): env CONDUIT_URL, PEER_URL, DATABASE_URL and
// BENCH_FIXTURES (JSON: email, password, token, slug, commented_slug, toggle_slugs,
// first, plan = [{workload, signed_in}]). A compare script checks every plan entry with
// `checkPlan`, may add checks of its own, and exits 1 on any mismatch (`finish`).
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';

const WORKLOADS = new URL('../workloads/', import.meta.url);

/** The run's URLs and fixtures, from the environment; exits 2 when they are missing. */
export function fixtures() {
  const { CONDUIT_URL, PEER_URL, DATABASE_URL, BENCH_FIXTURES } = process.env;
  if (!CONDUIT_URL || !PEER_URL || !DATABASE_URL || !BENCH_FIXTURES) {
    console.error('needs CONDUIT_URL, PEER_URL, DATABASE_URL and BENCH_FIXTURES (see bench/README.md)');
    process.exit(2);
  }
  return { conduitUrl: CONDUIT_URL, peerUrl: PEER_URL, databaseUrl: DATABASE_URL, ...JSON.parse(BENCH_FIXTURES) };
}

/** The documents of `bench/workloads/<dir>/`, by name (`W0`, `W5a`, ...). */
export function documents(dir) {
  return (name) => readFileSync(new URL(`${dir}/${name}.graphql`, WORKLOADS), 'utf8');
}

/** One POST; `{ status, data, errors }`. `token` is sent as a bearer token when given. */
export async function gql(url, query, variables = {}, token = undefined) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = { errors: [{ message: `HTTP ${res.status}: ${text.slice(0, 200)}` }] };
  }
  return { status: res.status, data: body.data ?? null, errors: body.errors };
}

// '2025-11-24T23:27:59.301893Z' and '...+00:00' (any offset) → one UTC string with µs.
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:?\d\d)$/;
function normalizeTime(s) {
  const m = TIMESTAMP.exec(s);
  if (!m) return s;
  const offset = m[3] === 'Z' ? '+00:00' : m[3].length === 5 ? `${m[3].slice(0, 3)}:${m[3].slice(3)}` : m[3];
  const seconds = Date.parse(`${m[1]}${offset}`);
  return `${new Date(seconds).toISOString().slice(0, 19)}.${(m[2] || '').padEnd(6, '0')}Z`;
}

// Values that legitimately differ between servers: their ids and cursors.
const MASKED = new Set(['id', 'nodeId', 'cursor', 'startCursor', 'endCursor']);

/** `data` with ids and cursors masked and timestamps in one form, for comparison. */
export function normalize(x) {
  if (typeof x === 'string') return normalizeTime(x);
  if (Array.isArray(x)) return x.map(normalize);
  if (x && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x).map(([k, v]) =>
      [k, MASKED.has(k) && v != null ? '<masked>' : normalize(v)]));
  }
  return x;
}

/** The first path where `a` and `b` differ (`$.a.b[3]: x vs y`), or null. */
export function firstDifference(a, b, path = '$') {
  if (isDeepStrictEqual(a, b)) return null;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return `${path}: length ${a.length} vs ${b.length}`;
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[k], b[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  return `${path}: ${JSON.stringify(a)?.slice(0, 120)} vs ${JSON.stringify(b)?.slice(0, 120)}`;
}

let failures = 0;
/** Prints one check's line; counts it when it failed. */
export function check(label, ok, detail = '') {
  if (!ok) failures++;
  console.log(`${ok ? 'same' : 'DIFF'}  ${label}${detail ? `  ${detail}` : ''}`);
  return ok;
}

/** Prints the summary and exits: 1 when any check failed. */
export function finish() {
  console.log(failures ? `${failures} difference(s)` : 'all answers identical');
  process.exit(failures ? 1 : 0);
}

/** The variables run.py sends with `workload`. */
export function variablesFor(workload, fx, slug = fx.toggle_slugs[0]) {
  switch (workload) {
    case 'W1': return { slug: fx.slug };
    case 'W2': return { first: fx.first };
    case 'W4': return { slug: fx.commented_slug };
    case 'W5a':
    case 'W5b': return { slug };
    default: return {};
  }
}

function summary(data) {
  const list = data?.articles?.nodes ?? data?.feed?.nodes;
  if (list) {
    const total = data.articles?.totalCount;
    return `${list.length} articles${total != null ? ` of ${total}` : ''}, ` +
      `${list.filter((a) => a.viewerHasFavorited).length} favorited, ` +
      `${list.reduce((n, a) => n + (a.comments?.nodes?.length ?? 0), 0)} comments`;
  }
  const a = data?.article ?? data?.favoriteArticle ?? data?.unfavoriteArticle;
  if (a) return `favoritesCount ${a.favoritesCount}${a.comments ? `, ${a.comments.nodes.length} comments` : ''}`;
  return JSON.stringify(data)?.slice(0, 80);
}

/**
 * Runs `workload` with `variables` on both servers and compares Conduit's `data` with
 * the peer's mapped through `toConduit(workload, data)`, both normalized. Errors on
 * either side are a difference. Returns the normalized pair.
 */
export async function compareOne(fx, docs, workload, variables, token, label) {
  const [c, p] = await Promise.all([
    gql(fx.conduitUrl, docs.conduit(workload), variables, token),
    gql(fx.peerUrl, docs.peer(workload), variables, token),
  ]);
  if (c.errors || p.errors) {
    check(label, false, `errors: conduit ${JSON.stringify(c.errors)?.slice(0, 200)} peer ${JSON.stringify(p.errors)?.slice(0, 200)}`);
    return null;
  }
  const a = normalize(c.data);
  const b = normalize(docs.toConduit(workload, p.data));
  const d = firstDifference(a, b);
  check(label, d === null, d ? `first difference ${d}` : `(${summary(a)})`);
  return [a, b];
}

/**
 * Checks every entry of the run's plan on both servers: reads once each; `W5` as
 * favorite then unfavorite of `toggle_slugs[0]` (the other way round when the viewer has
 * favorited it already), first on Conduit, then on the peer, so that the data ends as
 * it started and both servers see the same state. `docs` = { conduit(name), peer(name),
 * toConduit(workload, data) }.
 */
export async function checkPlan(fx, docs) {
  for (const { workload, signed_in: signedIn } of fx.plan) {
    const token = signedIn ? fx.token : undefined;
    const who = signedIn ? 'signed in' : 'anonymous';
    if (workload !== 'W5') {
      await compareOne(fx, docs, workload, variablesFor(workload, fx), token, `${workload} ${who}`);
      continue;
    }
    const slug = fx.toggle_slugs[0];
    const state = await gql(fx.conduitUrl,
      'query($slug: String!) { article(slug: $slug) { viewerHasFavorited } }', { slug }, token);
    const order = state.data?.article?.viewerHasFavorited ? ['W5b', 'W5a'] : ['W5a', 'W5b'];
    const answers = { conduit: [], peer: [] };
    for (const server of ['conduit', 'peer']) {
      for (const w of order) {
        const r = await gql(server === 'conduit' ? fx.conduitUrl : fx.peerUrl, docs[server](w),
          variablesFor(w, fx, slug), token);
        answers[server].push(r.errors ? { errors: r.errors.map((e) => e.message) }
          : normalize(server === 'conduit' ? r.data : docs.toConduit(w, r.data)));
      }
    }
    const d = firstDifference(answers.conduit, answers.peer);
    check(`W5 ${who} ${order.join(', ')} on ${slug}`, d === null,
      d ? `first difference ${d}` : `(favoritesCount ${answers.conduit.map(summary).join(' / ')})`);
  }
}
