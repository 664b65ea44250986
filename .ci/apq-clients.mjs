// Drives the server's automatic persisted queries (APQ) with the real HTTP clients, for
// tests/api/js_clients.rs:
//
//     node .ci/apq-clients.mjs <http-url> <json-args>
//
// <json-args> is an object:
//   slug       the article the operations read and comment on;
//   token      an access token: the mutation runs as its user (Authorization: Bearer);
//   timeoutMs  the whole run's limit (default 10000).
//
// Three scenarios, in this order, each run twice, the second time by a fresh client (new
// link chain or exchanges, no cache, no memory of hashes), as a new page load would:
//   apolloMutation  Apollo Client, PersistedQueryLink({ sha256 }) in front of HttpLink:
//                   addComment (POST: mutations never go over GET), with variables;
//   apollo          the same client, useGETForHashedQueries: true, an `article` query with
//                   variables, fetchPolicy network-only;
//   urql            urql's Client with persistedExchange({ preferGetForPersistedQueries:
//                   true }) and fetchExchange only, another `article` query (its own
//                   document, so that it registers it itself).
//
// Every HTTP request each client makes goes through a wrapped fetch and is recorded:
//   {method, query: the document text sent (URL parameter or body field) or null,
//    operationName, variables, extensions, status, contentType, body: the response JSON}.
// Stdout: one JSON line {"apolloMutation" | "apollo" | "urql": [run, run]}, each run being
// {"requests": [...], "data": what the client handed to the application}. Exit 1, with the
// reason and what was recorded on stderr, if a client reports any error (GraphQL or
// network) or on the timeout.

import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { Client, fetchExchange } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';

const [url, rawArgs] = process.argv.slice(2);
if (!url || !rawArgs) {
  console.error('usage: node .ci/apq-clients.mjs <http-url> <json-args>');
  process.exit(2);
}
const args = JSON.parse(rawArgs);

const results = { apolloMutation: [], apollo: [], urql: [] };

function fail(reason) {
  console.error(`apq-clients: ${reason}`);
  console.error(`recorded: ${JSON.stringify(results, null, 2)}`);
  process.exit(1);
}

const timeoutMs = args.timeoutMs ?? 10000;
const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

function parseJson(text) {
  if (text == null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A fetch that records each request (what it carried) and its response in `requests`. */
function recordingFetch(requests) {
  return async (input, init = {}) => {
    const request = new Request(input, init);
    const target = new URL(request.url);
    const method = request.method;
    let sent;
    if (method === 'GET') {
      const param = (name) => target.searchParams.get(name);
      sent = {
        query: param('query'),
        operationName: param('operationName'),
        variables: parseJson(param('variables')),
        extensions: parseJson(param('extensions')),
      };
    } else {
      const body = parseJson(await request.clone().text()) ?? {};
      sent = {
        query: body.query ?? null,
        operationName: body.operationName ?? null,
        variables: body.variables ?? null,
        extensions: body.extensions ?? null,
      };
    }
    const entry = { method, ...sent };
    requests.push(entry);
    const response = await fetch(request);
    entry.status = response.status;
    entry.contentType = response.headers.get('content-type');
    entry.body = parseJson(await response.clone().text());
    return response;
  };
}

// (c) Apollo Client, a mutation: APQ over POST.
const ADD_COMMENT = gql`
  mutation AddCommentByHash($slug: String!, $body: String!) {
    addComment(articleSlug: $slug, body: $body) {
      body
      author {
        username
      }
    }
  }
`;

// (a) Apollo Client, a query: hashed queries over GET.
const APOLLO_ARTICLE = gql`
  query ApolloArticleByHash($slug: String!, $first: Int) {
    article(slug: $slug) {
      slug
      title
      tags
      author {
        username
      }
      commentsCount
      comments(first: $first) {
        nodes {
          body
          author {
            username
          }
        }
      }
    }
  }
`;

// (b) urql, a query: persisted queries over GET.
const URQL_ARTICLE = `
  query UrqlArticleByHash($slug: String!) {
    article(slug: $slug) {
      title
      description
      tags
      author {
        username
      }
      comments(first: 5) {
        nodes {
          body
        }
      }
    }
  }
`;

/** A fresh Apollo Client: its own cache, its own persisted-query link (hash cache). */
function apolloClient(requests, headers = {}) {
  const persisted = new PersistedQueryLink({ sha256, useGETForHashedQueries: true });
  const http = new HttpLink({ uri: url, fetch: recordingFetch(requests), headers });
  return new ApolloClient({
    link: ApolloLink.from([persisted, http]),
    cache: new InMemoryCache(),
  });
}

/** A fresh urql Client: no cache exchange, a fresh persisted exchange. */
function urqlClient(requests) {
  return new Client({
    url,
    fetch: recordingFetch(requests),
    exchanges: [persistedExchange({ preferGetForPersistedQueries: true }), fetchExchange],
  });
}

async function run(label, operation) {
  const requests = [];
  let data;
  try {
    data = await operation(requests);
  } catch (error) {
    results[label].push({ requests, error: String(error?.stack ?? error) });
    fail(`${label} run ${results[label].length}: ${error?.stack ?? error}`);
  }
  results[label].push({ requests, data });
}

const authorization = `Bearer ${args.token}`;
for (const body of ['registered by its text', 'sent by hash alone']) {
  await run('apolloMutation', async (requests) => {
    const client = apolloClient(requests, { authorization });
    // errorPolicy "none" (the default): any GraphQL error rejects.
    const result = await client.mutate({
      mutation: ADD_COMMENT,
      variables: { slug: args.slug, body },
    });
    if (result.error) throw result.error;
    return result.data;
  });
}

for (const first of [10, 1]) {
  await run('apollo', async (requests) => {
    const client = apolloClient(requests);
    const result = await client.query({
      query: APOLLO_ARTICLE,
      variables: { slug: args.slug, first },
      fetchPolicy: 'network-only',
    });
    if (result.error) throw result.error;
    return result.data;
  });
}

for (let i = 0; i < 2; i++) {
  await run('urql', async (requests) => {
    const client = urqlClient(requests);
    const result = await client
      .query(URQL_ARTICLE, { slug: args.slug }, { requestPolicy: 'network-only' })
      .toPromise();
    if (result.error) throw result.error;
    return result.data;
  });
}

clearTimeout(timer);
process.stdout.write(`${JSON.stringify(results)}\n`);
