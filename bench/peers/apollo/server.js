// Apollo Server 4 + DataLoader + pg peer for Conduit's benchmark workloads
// (bench/workloads/conduit/W0–W6), on Conduit's own PostgreSQL schema.
//
//   DATABASE_URL=postgres://... PORT=18083 WORKERS=2 node server.js
//
// The primary process forks WORKERS workers (node:cluster) that share the port; each
// has one pg.Pool of at most 8 connections.
import cluster from 'node:cluster';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { ApolloServer, HeaderMap } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled } from '@apollo/server/plugin/disabled';
import DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import pg from 'pg';

const PORT = Number(process.env.PORT ?? 18083);
const WORKERS = Number(process.env.WORKERS ?? 2);

// Like Conduit: ids as numbers, timestamps as RFC 3339 UTC with microseconds.
pg.types.setTypeParser(20, Number); // int8
pg.types.setTypeParser(1184, (text) => {
  // With TimeZone=UTC and DateStyle=ISO: "2026-11-24 11:15:00.1234+00".
  const [date, time] = text.split(' ');
  const [hms, frac = ''] = time.slice(0, -3).split('.');
  return `${date}T${hms}.${frac.padEnd(6, '0')}Z`;
});

const typeDefs = `#graphql
  "An instant in time, RFC 3339 in UTC, e.g. 2026-11-24T11:15:00Z."
  scalar DateTime

  type Query {
    article(slug: String!): Article
    articles(first: Int): ArticleConnection!
    feed(first: Int): ArticleConnection!
  }

  type Mutation {
    favoriteArticle(slug: String!): Article!
    unfavoriteArticle(slug: String!): Article!
  }

  type Article {
    slug: String!
    title: String!
    description: String!
    body: String!
    tags: [String!]!
    createdAt: DateTime!
    author: User!
    favoritesCount: Int!
    viewerHasFavorited: Boolean!
    commentsCount: Int!
    comments(first: Int): CommentConnection!
  }

  type ArticleConnection {
    nodes: [Article!]!
    totalCount: Int!
  }

  type Comment {
    body: String!
    createdAt: DateTime!
    author: User!
  }

  type CommentConnection {
    nodes: [Comment!]!
  }

  type User {
    username: String!
    bio: String
    image: String
    viewerIsFollowing: Boolean!
  }
`;

const ARTICLE = `id, author_id, slug, title, description, body, tags,
  favorites_count AS "favoritesCount", comments_count AS "commentsCount",
  created_at AS "createdAt"`;
// Lists leave out `body` (it can be large), as Conduit's lists do; Article.body loads it
// when a document asks for it in a list.
const ARTICLE_LIST = ARTICLE.replace(' body,', '');
const NEWEST_FIRST = 'ORDER BY created_at DESC, id DESC';

function fail(message, code) {
  return new GraphQLError(message, { extensions: { code } });
}

function pageSize(first) {
  if (first == null) return 20;
  if (first < 1 || first > 100) throw fail('first: must be between 1 and 100', 'BAD_USER_INPUT');
  return first;
}

function requireViewer(ctx) {
  if (!ctx.viewer) throw fail('Sign in first.', 'UNAUTHENTICATED');
  return ctx.viewer;
}

// Rows in the order of `keys`, for DataLoader.
const byKey = (keys, rows, key, missing = null) => {
  const map = new Map(rows.map((row) => [row[key], row]));
  return keys.map((k) => map.get(k) ?? missing);
};

function createLoaders(pool, viewer) {
  const commentPages = new Map(); // page size -> loader
  return {
    bodies: new DataLoader(async (ids) => {
      const { rows } = await pool.query('SELECT id, body FROM articles WHERE id = ANY($1)', [ids]);
      return byKey(ids, rows, 'id', new Error('article not found')).map((row) => row.body ?? row);
    }),
    users: new DataLoader(async (ids) => {
      const { rows } = await pool.query(
        'SELECT id, username, bio, image FROM users WHERE id = ANY($1)', [ids]);
      return byKey(ids, rows, 'id', new Error('user not found'));
    }),
    favorited: new DataLoader(async (ids) => {
      const { rows } = await pool.query(
        'SELECT article_id FROM favorites WHERE user_id = $1 AND article_id = ANY($2)',
        [viewer.id, ids]);
      const set = new Set(rows.map((r) => r.article_id));
      return ids.map((id) => set.has(id));
    }),
    following: new DataLoader(async (ids) => {
      const { rows } = await pool.query(
        'SELECT followee_id FROM follows WHERE follower_id = $1 AND followee_id = ANY($2)',
        [viewer.id, ids]);
      const set = new Set(rows.map((r) => r.followee_id));
      return ids.map((id) => set.has(id));
    }),
    // The first `size` comments of each article, oldest first: one LATERAL query per batch.
    comments(size) {
      let loader = commentPages.get(size);
      if (!loader) {
        loader = new DataLoader(async (ids) => {
          const { rows } = await pool.query(
            `SELECT c.article_id, c.author_id, c.body, c.created_at AS "createdAt"
             FROM unnest($1::bigint[]) AS a(id) CROSS JOIN LATERAL (
               SELECT * FROM comments c WHERE c.article_id = a.id
               ORDER BY c.created_at, c.id LIMIT $2) c`,
            [ids, size]);
          const pages = new Map(ids.map((id) => [id, []]));
          for (const row of rows) pages.get(row.article_id).push(row);
          return ids.map((id) => pages.get(id));
        });
        commentPages.set(size, loader);
      }
      return loader;
    },
  };
}

// Favorite or unfavorite, with Conduit's side effects in one transaction: the favorites
// row, the counter, an ARTICLE_FAVORITED notification for the author (not for yourself,
// not on unfavorite) and the pg_notify events. Idempotent: no change, no writes.
async function setFavorite(pool, ctx, slug, on) {
  const viewer = requireViewer(ctx);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    let { rows: [article] } = await client.query(
      `SELECT ${ARTICLE} FROM articles WHERE slug = $1 FOR NO KEY UPDATE`, [slug]);
    if (!article) throw fail(`No article has the slug ${JSON.stringify(slug)}.`, 'NOT_FOUND');
    const { rowCount: changed } = on
      ? await client.query(
        'INSERT INTO favorites (user_id, article_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
        [viewer.id, article.id])
      : await client.query(
        'DELETE FROM favorites WHERE user_id = $1 AND article_id = $2', [viewer.id, article.id]);
    if (changed) {
      ({ rows: [article] } = await client.query(
        `UPDATE articles SET favorites_count = favorites_count + $2 WHERE id = $1
         RETURNING ${ARTICLE}`, [article.id, on ? 1 : -1]));
      const notify = (event) =>
        client.query("SELECT pg_notify('conduit_events', $1)", [JSON.stringify(event)]);
      if (on && article.author_id !== viewer.id) {
        const { rows: [n] } = await client.query(
          `INSERT INTO notifications (recipient_id, kind, actor_id, article_id)
           VALUES ($1, 'article_favorited', $2, $3) RETURNING id`,
          [article.author_id, viewer.id, article.id]);
        await notify({ e: 'notification_added', recipient: article.author_id, notification: n.id });
      }
      await notify({ e: 'article_updated', article: article.id });
    }
    await client.query('COMMIT');
    ctx.loaders.favorited.clear(article.id).prime(article.id, on);
    return article;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

function resolversFor(pool) {
  const articleList = async (where, params, first) => {
    const { rows } = await pool.query(
      `SELECT ${ARTICLE_LIST} FROM articles ${where} ${NEWEST_FIRST} LIMIT $${params.length + 1}`,
      [...params, pageSize(first)]);
    return rows;
  };
  return {
    Query: {
      article: async (_, { slug }) =>
        (await pool.query(`SELECT ${ARTICLE} FROM articles WHERE slug = $1`, [slug])).rows[0],
      articles: async (_, { first }) => ({
        nodes: await articleList('', [], first),
        // Conduit's counter (migration article_total, kept by statement triggers): one row
        // instead of count(*) over the table, as Conduit reads it.
        totalCount: async () =>
          (await pool.query('SELECT articles::int AS n FROM article_total')).rows[0].n,
      }),
      feed: async (_, { first }, ctx) => ({
        nodes: await articleList(
          'WHERE author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)',
          [requireViewer(ctx).id], first),
        totalCount: async () => (await pool.query(
          `SELECT count(*)::int AS n FROM articles
           WHERE author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1)`,
          [ctx.viewer.id])).rows[0].n,
      }),
    },
    Mutation: {
      favoriteArticle: (_, { slug }, ctx) => setFavorite(pool, ctx, slug, true),
      unfavoriteArticle: (_, { slug }, ctx) => setFavorite(pool, ctx, slug, false),
    },
    Article: {
      body: (a, _, ctx) => a.body ?? ctx.loaders.bodies.load(a.id),
      author: (a, _, ctx) => ctx.loaders.users.load(a.author_id),
      viewerHasFavorited: (a, _, ctx) => (ctx.viewer ? ctx.loaders.favorited.load(a.id) : false),
      comments: async (a, { first }, ctx) => ({
        nodes: await ctx.loaders.comments(pageSize(first)).load(a.id),
      }),
    },
    Comment: {
      author: (c, _, ctx) => ctx.loaders.users.load(c.author_id),
    },
    User: {
      // Always false for yourself, as in Conduit.
      viewerIsFollowing: (u, _, ctx) =>
        (ctx.viewer && ctx.viewer.id !== u.id ? ctx.loaders.following.load(u.id) : false),
    },
  };
}

// `Authorization: Bearer <access token>`: sessions store SHA-256(token) only. A header
// naming no live session fails the request (UNAUTHENTICATED), as in Conduit.
async function viewerFor(pool, authorization) {
  if (authorization === undefined) return null;
  const [scheme, token] = authorization.trim().split(/\s+/, 2);
  if (!/^(bearer|token)$/i.test(scheme) || !token) {
    throw new GraphQLError('Send the access token as `Authorization: Bearer <token>`.', {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    });
  }
  const { rows: [viewer] } = await pool.query(
    `SELECT u.id, u.role FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.access_token_hash = $1 AND s.revoked_at IS NULL AND s.access_expires_at > now()`,
    [createHash('sha256').update(token).digest()]);
  if (!viewer) {
    throw new GraphQLError('Invalid access token.', {
      extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
    });
  }
  return viewer;
}

async function startWorker() {
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    max: 8,
    options: '-c TimeZone=UTC -c DateStyle=ISO',
  });
  const apollo = new ApolloServer({
    typeDefs,
    resolvers: resolversFor(pool),
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginCacheControlDisabled()],
  });
  await apollo.start();

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://localhost');
      if (url.pathname !== '/graphql') {
        res.writeHead(404).end();
        return;
      }
      const headers = new HeaderMap();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      let body = Buffer.concat(chunks).toString();
      if (headers.get('content-type')?.startsWith('application/json')) {
        try {
          body = body ? JSON.parse(body) : {};
        } catch {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('Malformed JSON body.');
          return;
        }
      }
      const response = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method, headers, search: url.search, body },
        context: async () => {
          const viewer = await viewerFor(pool, req.headers.authorization);
          return { viewer, loaders: createLoaders(pool, viewer) };
        },
      });
      res.statusCode = response.status ?? 200;
      for (const [name, value] of response.headers) res.setHeader(name, value);
      if (response.body.kind === 'complete') {
        res.end(response.body.string);
      } else {
        for await (const chunk of response.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } catch (err) {
      console.error(err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  server.keepAliveTimeout = 65_000;
  server.listen(PORT);
}

if (cluster.isPrimary) {
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
    process.exit(1);
  });
  console.log(`apollo peer: ${WORKERS} workers on http://127.0.0.1:${PORT}/graphql`);
} else {
  await startWorker();
}
