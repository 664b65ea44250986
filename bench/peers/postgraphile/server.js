'use strict';
// PostGraphile v4 on Conduit's tables: a benchmark peer. See README.md.
//
//   DATABASE_URL   required; viewer.sql applied to it beforehand
//   PORT           18082
//   WORKERS        2 (processes serving requests; the primary only forks them)
//   PG_POOL_SIZE   6 (PostGraphile's connections per worker)
//   AUTH_POOL_SIZE 2 (session-lookup connections per worker)
//
// Defaults: 2 × (6 + 2) = 16 connections, Conduit's default DATABASE_POOL_SIZE.

const cluster = require('node:cluster');
const crypto = require('node:crypto');
const http = require('node:http');

const DATABASE_URL = process.env.DATABASE_URL;
const PORT = Number(process.env.PORT || 18082);
const WORKERS = Number(process.env.WORKERS || 2);
const PG_POOL_SIZE = Number(process.env.PG_POOL_SIZE || 6);
const AUTH_POOL_SIZE = Number(process.env.AUTH_POOL_SIZE || 2);

if (!DATABASE_URL) {
  console.error('DATABASE_URL is required');
  process.exit(2);
}
for (const [name, value] of Object.entries({ PORT, WORKERS, PG_POOL_SIZE, AUTH_POOL_SIZE })) {
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${name} must be a positive integer`);
    process.exit(2);
  }
}

if (cluster.isPrimary) {
  let stopping = false;
  const fork = () => cluster.fork();
  for (let i = 0; i < WORKERS; i++) fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    // Keep the number of processes fixed.
    console.error(`worker ${worker.process.pid} died (${signal || code}); forking another`);
    fork();
  });
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 2000).unref();
    cluster.disconnect(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(`postgraphile peer: primary ${process.pid}, ${WORKERS} workers on :${PORT}`);
} else {
  startWorker();
}

function startWorker() {
  const { Pool } = require('pg');
  const { postgraphile } = require('postgraphile');
  const PgSimplifyInflectorPlugin = require('@graphile-contrib/pg-simplify-inflector');
  const { makeJSONPgSmartTagsPlugin } = require('graphile-utils');

  const pgPool = new Pool({ connectionString: DATABASE_URL, max: PG_POOL_SIZE });
  const authPool = new Pool({ connectionString: DATABASE_URL, max: AUTH_POOL_SIZE });
  pgPool.on('error', (err) => console.error('pg pool:', err.message));
  authPool.on('error', (err) => console.error('auth pool:', err.message));

  // No DDL on Conduit's tables: smart tags are given here instead of COMMENT ON.
  const SmartTags = makeJSONPgSmartTagsPlugin({
    version: 1,
    config: {
      class: {
        // `articles_slug_key` is a unique index, not a constraint: declare it so
        // that PostGraphile generates `articleBySlug(slug:)`.
        articles: { tags: { unique: 'slug' } },
        // Credentials and Conduit's internals stay out of the schema (PostGraphile skips
        // `__diesel_schema_migrations` by itself).
        sessions: { tags: { omit: true } },
        used_refresh_tokens: { tags: { omit: true } },
        persisted_queries: { tags: { omit: true } },
        // The counter table is read through viewer.sql's article_total() (root field
        // `articleTotal`), whose name its row-by-key field would take.
        article_total: { tags: { omit: true } },
      },
      attribute: {
        'users.password_hash': { tags: { omit: true } },
      },
      procedure: {
        diesel_manage_updated_at: { tags: { omit: true } },
      },
    },
  });

  const unauthenticated = (message) =>
    Object.assign(new Error(message), { statusCode: 401, extensions: { code: 'UNAUTHENTICATED' } });

  // Conduit's rule: no Authorization header → anonymous; a header naming no valid
  // session → 401 for the whole request (never silent anonymity).
  async function pgSettings(req) {
    const header = req.headers.authorization;
    if (header === undefined) return {};
    const match = /^\s*(bearer|token)\s+(\S+)\s*$/i.exec(header);
    if (!match) throw unauthenticated('Send the access token as `Authorization: Bearer <token>`.');
    const hash = crypto.createHash('sha256').update(match[2]).digest();
    const { rows } = await authPool.query({
      name: 'session_by_access_hash',
      text:
        'SELECT user_id FROM sessions WHERE access_token_hash = $1 ' +
        'AND access_expires_at > now() AND revoked_at IS NULL',
      values: [hash],
    });
    if (rows.length === 0) throw unauthenticated('Invalid access token.');
    return { 'conduit.viewer_id': String(rows[0].user_id) };
  }

  const middleware = postgraphile(pgPool, 'public', {
    appendPlugins: [PgSimplifyInflectorPlugin, SmartTags],
    pgSettings,
    // Production-ish.
    graphiql: false,
    enhanceGraphiql: false,
    watchPg: false,
    disableQueryLog: true,
    showErrorStack: false,
    extendedErrors: ['errcode'],
    retryOnInitFail: true,
    enableQueryBatching: false,
    enableCors: false,
    bodySizeLimit: '100kB',
    // Schema shape.
    dynamicJson: true,
    setofFunctionsContainNulls: false,
    legacyRelations: 'omit',
    ignoreRBAC: false,
    // The generic CRUD mutations would not keep favorites_count and friends the way
    // Conduit does; the only mutations are viewer.sql's functions.
    disableDefaultMutations: true,
    graphileBuildOptions: {
      pgStrictFunctions: true, // `favoriteArticle(input: {slug: String!})`
    },
  });

  const server = http.createServer(middleware);
  server.keepAliveTimeout = 65_000;
  server.listen(PORT, () => console.log(`worker ${process.pid} listening on :${PORT}`));

  const shutdown = () => {
    server.close();
    Promise.allSettled([pgPool.end(), authPool.end()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 1500).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('disconnect', shutdown);
}
