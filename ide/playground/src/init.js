// Starts GraphQL Playground (its standalone bundle defines `GraphQLPlayground`) on
// Conduit's /graphql, with subscriptions over WebSocket on the same URL. Playground
// speaks the legacy subscriptions-transport-ws protocol (`graphql-ws` subprotocol),
// which Conduit accepts beside graphql-transport-ws.
(function () {
  var GRAPHQL_PATH = '/graphql';
  var ws = new URL(GRAPHQL_PATH, window.location.href);
  ws.protocol = ws.protocol === 'https:' ? 'wss:' : 'ws:';
  GraphQLPlayground.init(document.getElementById('root'), {
    endpoint: GRAPHQL_PATH,
    subscriptionEndpoint: ws.href,
    settings: {
      // One introspection when the page opens (and on the reload button), not one every
      // two seconds against the API's rate limits.
      'schema.polling.enable': false,
    },
  });
})();
