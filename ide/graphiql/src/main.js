// Conduit's GraphiQL: queries and mutations over HTTP on /graphql, subscriptions over
// WebSocket on the same URL (graphql-ws, which the toolkit imports on first use). The
// headers typed in the editor go with both, so `{"Authorization": "Bearer <token>"}`
// authenticates subscriptions too (Conduit reads it from `connection_init`).
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { GraphiQL } from 'graphiql';
// Monaco's editor, JSON and GraphQL workers, bundled by Vite and served by Conduit.
import 'graphiql/setup-workers/vite';
import 'graphiql/style.css';
import { createElement, StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './page.css';

const GRAPHQL_PATH = '/graphql';

/** The WebSocket URL of `path` on this page's own host. */
function sameHostWebSocket(path) {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

const fetcher = createGraphiQLFetcher({
  url: GRAPHQL_PATH,
  subscriptionUrl: sameHostWebSocket(GRAPHQL_PATH),
});

// What a new tab shows: a query that runs on the demo data as it is.
const defaultQuery = `# Conduit's GraphQL API. Run with Ctrl-Enter; the Docs pane lists the schema.
# Signed in? Put {"Authorization": "Bearer <accessToken>"} under Headers:
# it goes with queries and with subscriptions (commentAdded, notificationAdded...).
query LatestArticles {
  articles(first: 5) {
    edges {
      node {
        title
        slug
        author { username }
        favoritesCount
      }
    }
  }
}
`;

createRoot(document.getElementById('graphiql')).render(
  createElement(StrictMode, null, createElement(GraphiQL, { fetcher, defaultQuery })),
);
