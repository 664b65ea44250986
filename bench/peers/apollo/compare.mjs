// Checks the Apollo peer's answers against Conduit's on the same database: the peer
// serves Conduit's documents (bench/workloads/conduit/) unchanged, so `data` must be
// identical after normalizing ids, cursors and timestamps. Run by bench/run.py before
// any load (interface: bench/README.md, "Peers"):
//
//   CONDUIT_URL=… PEER_URL=… DATABASE_URL=… BENCH_FIXTURES='{…}' node compare.mjs
//
// Checks every workload of the run's plan, then: the reads in the other sign-in state
// (error codes compared, e.g. W3 anonymous is UNAUTHENTICATED on both), W2 at other page
// sizes, and that W5 writes one `article_favorited` notification per first favorite on
// both servers (none on repeats, unfavorites or one's own article). Leaves favorites as
// it found them. Exits 1 on any difference, printing the first differing path.
import pg from 'pg';
import {
  check, checkPlan, compareOne, documents, finish, firstDifference, fixtures, gql, normalize, variablesFor,
} from '../compare-common.mjs';

const fx = fixtures();
const conduitDoc = documents('conduit');
const docs = { conduit: conduitDoc, peer: conduitDoc, toConduit: (_, data) => data };

await checkPlan(fx, docs);

// The reads in both sign-in states; errors compared by code.
for (const workload of ['W0', 'W1', 'W2', 'W3', 'W4', 'W6']) {
  for (const token of [undefined, fx.token]) {
    const label = `extra: ${workload} ${token ? 'signed in' : 'anonymous'}`;
    const vars = variablesFor(workload, fx);
    const [c, p] = await Promise.all([
      gql(fx.conduitUrl, conduitDoc(workload), vars, token), gql(fx.peerUrl, conduitDoc(workload), vars, token)]);
    const shape = (r) => ({ data: normalize(r.data), codes: (r.errors ?? []).map((e) => e.extensions?.code ?? '?') });
    const d = firstDifference(shape(c), shape(p));
    check(label, d === null, d ? `first difference ${d}` : '');
  }
}
for (const first of [1, 50, 100]) {
  await compareOne(fx, docs, 'W2', { first }, fx.token, `extra: W2 signed in first ${first}`);
}

// W5 notifications: favorite, favorite, unfavorite, unfavorite on each server in turn.
const db = new pg.Client({ connectionString: fx.databaseUrl });
await db.connect();
const count = async () => Number((await db.query('SELECT count(*) FROM notifications')).rows[0].count);
const slug = fx.toggle_slugs[1] ?? fx.toggle_slugs[0];
const { rows: [subject] } = await db.query(
  `SELECT a.author_id = u.id AS own,
          EXISTS (SELECT 1 FROM favorites f WHERE f.article_id = a.id AND f.user_id = u.id) AS favorited
   FROM articles a, users u WHERE a.slug = $1 AND lower(u.email) = lower($2)`, [slug, fx.email]);
const unfavorite = conduitDoc('W5b');
if (subject.favorited) await gql(fx.conduitUrl, unfavorite, { slug }, fx.token);
const answers = {};
for (const [server, url] of [['conduit', fx.conduitUrl], ['peer', fx.peerUrl]]) {
  const deltas = [];
  answers[server] = [];
  for (const w of ['W5a', 'W5a', 'W5b', 'W5b']) {
    const before = await count();
    const r = await gql(url, conduitDoc(w), { slug }, fx.token);
    answers[server].push(r.errors ?? normalize(r.data));
    deltas.push((await count()) - before);
  }
  const want = [subject.own ? 0 : 1, 0, 0, 0];
  check(`extra: W5 ${server} on ${slug}: notifications per step ${deltas.join(',')}`,
    deltas.every((n, i) => n === want[i]), `expected ${want.join(',')}`);
}
const d = firstDifference(answers.conduit, answers.peer);
check('extra: W5 favorite twice, unfavorite twice: same answers', d === null, d ? `first difference ${d}` : '');
if (subject.favorited) await gql(fx.conduitUrl, conduitDoc('W5a'), { slug }, fx.token);
await db.end();

finish();
