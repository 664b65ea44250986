//! Real JavaScript clients (graphql-ws, as Apollo Client, urql and GraphiQL use it) against the server.
//!
//! The WebSocket tests run `.ci/ws-clients.mjs` (Node, with the clients pinned in
//! .ci/package.json) against a served instance: the script subscribes with the client
//! library, the test performs mutations over HTTP and checks what the library handed to the
//! application. The persisted-queries test runs `.ci/apq-clients.mjs`: Apollo Client's
//! persisted-query link and urql's persisted exchange over HTTP, every request they make
//! recorded. Without `.ci/node_modules` (`npm ci --prefix .ci`) the tests are skipped with
//! a notice, except under CI (`CI` set), where that is a failure.

use std::{path::Path, process::Stdio};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines},
    process::{Child, ChildStdout, Command},
    task::JoinHandle,
};

use conduit::graphql::persisted::sha256_hex;

use crate::{
    helpers::TestApp,
    live::{COMMENT, CREATE, PATIENCE, TestServer, bearer},
};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/ws-clients.mjs");
const NODE_MODULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/node_modules");

const FOLLOW: &str =
    "mutation($username: String!) { followUser(username: $username) { username } }";

const COMMENTS: &str = "subscription($slug: String!) { commentAdded(articleSlug: $slug) { id body author { username } } }";
const NOTIFICATIONS: &str =
    "subscription { notificationAdded { kind actor { username } article { slug } } }";
const TAGS: &str = "{ popularTags { name } }";

/// Whether the Node package `package` is installed in .ci; if not, panics under CI and
/// otherwise prints a notice (the caller then skips the test).
pub fn installed(package: &str) -> bool {
    if Path::new(NODE_MODULES).join(package).is_dir() {
        return true;
    }
    let missing = format!(
        "{NODE_MODULES}/{package} is missing: run `npm ci --prefix .ci` (Node 20+) to run the JavaScript client tests"
    );
    assert!(std::env::var_os("CI").is_none(), "{missing}");
    eprintln!("skipped: {missing}");
    false
}

/// `.ci/ws-clients.mjs` running.
struct Script {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: JoinHandle<String>,
    /// The events read so far (`{"op": ..., "result" | "complete": ...}`).
    events: Vec<Value>,
}

impl Script {
    /// Starts the script against `url` with `args`, and waits for its `READY`.
    async fn start(url: &str, args: Value) -> Self {
        let mut child = Command::new("node")
            .arg(SCRIPT)
            .arg(url)
            .arg(args.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("`node` (Node 20+) on the PATH");
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stderr = child.stderr.take().unwrap();
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        let mut script = Self {
            child,
            stdout,
            stderr,
            events: Vec::new(),
        };
        loop {
            match script.next_line().await {
                Some(line) if line == "READY" => break,
                Some(line) => script.record(&line),
                None => panic!("{}", script.died("before READY").await),
            }
        }
        script
    }

    /// The next stdout line, within [`PATIENCE`]; `None` at the end.
    async fn next_line(&mut self) -> Option<String> {
        tokio::time::timeout(PATIENCE, self.stdout.next_line())
            .await
            .expect("a line from ws-clients.mjs in time")
            .expect("reading ws-clients.mjs's stdout")
    }

    fn record(&mut self, line: &str) {
        let event: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("ws-clients.mjs printed {line:?}: {e}"));
        self.events.push(event);
    }

    /// Reads events until operation `op` has `n` of them.
    async fn wait_for(&mut self, op: &str, n: usize) {
        while self.of(op).len() < n {
            match self.next_line().await {
                Some(line) => self.record(&line),
                None => panic!(
                    "{}",
                    self.died(&format!("with {n} events of {op} expected"))
                        .await
                ),
            }
        }
    }

    /// The events of operation `op`, without their `op`.
    fn of(&self, op: &str) -> Vec<Value> {
        self.events
            .iter()
            .filter(|e| e["op"] == op)
            .map(|e| {
                let mut e = e.clone();
                e.as_object_mut().unwrap().remove("op");
                e
            })
            .collect()
    }

    /// Reads the rest of stdout and expects the script to succeed.
    async fn finish(&mut self) {
        while let Some(line) = self.next_line().await {
            self.record(&line);
        }
        let status = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("ws-clients.mjs to exit in time")
            .unwrap();
        let stderr = (&mut self.stderr).await.unwrap();
        if status.success() && !stderr.is_empty() {
            eprintln!("ws-clients.mjs:\n{stderr}"); // WS_CLIENTS_TRACE=1
        }
        assert!(
            status.success(),
            "ws-clients.mjs failed ({status}):\n{stderr}\nevents: {:#?}",
            self.events
        );
    }

    /// Why the script ended early: its status, stderr and events.
    async fn died(&mut self, when: &str) -> String {
        let status = self.child.wait().await.unwrap();
        let stderr = (&mut self.stderr).await.unwrap();
        format!(
            "ws-clients.mjs ended {when} ({status}):\n{stderr}\nevents: {:#?}",
            self.events
        )
    }
}

/// The scenario, for either client library: alice subscribes to the comments on her
/// article and to her notifications, and queries the popular tags over the socket; bob
/// comments on the article, then follows her.
async fn comments_notifications_and_a_query(client: &str) {
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let created = server
        .gql(
            CREATE,
            json!({"input": {"title": "Live", "description": "d", "body": "b", "tags": ["rust", "graphql"]}}),
            Some(&alice.access),
        )
        .await;
    let slug = created["data"]["createArticle"]["slug"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();

    let args = json!({
        "client": client,
        "connectionParams": bearer(&alice.access),
        "timeoutMs": PATIENCE.as_millis() as u64 + 5_000,
        "operations": [
            {"name": "comments", "query": COMMENTS, "variables": {"slug": slug}, "results": 1, "completes": false},
            {"name": "notifications", "query": NOTIFICATIONS, "results": 2, "completes": false},
            {"name": "tags", "query": TAGS, "results": 1, "completes": true},
        ],
    });
    let mut script = Script::start(&server.ws_url(), args).await;
    server.wait_for_subscriptions(2).await;

    let added = server
        .gql(
            COMMENT,
            json!({"slug": slug, "body": "hello"}),
            Some(&bob.access),
        )
        .await;
    let comment = &added["data"]["addComment"];
    assert!(comment["id"].is_string(), "{added}");
    script.wait_for("comments", 1).await;
    script.wait_for("notifications", 1).await;

    let followed = server
        .gql(FOLLOW, json!({"username": "alice"}), Some(&bob.access))
        .await;
    assert_eq!(
        followed["data"]["followUser"]["username"], "alice",
        "{followed}"
    );
    script.finish().await;

    assert_eq!(
        script.of("comments"),
        [json!({"result": {"data": {"commentAdded": {
            "id": comment["id"], "body": "hello", "author": {"username": "bob"},
        }}}})]
    );
    assert_eq!(
        script.of("notifications"),
        [
            json!({"result": {"data": {"notificationAdded": {
                "kind": "COMMENT_ADDED", "actor": {"username": "bob"}, "article": {"slug": slug},
            }}}}),
            json!({"result": {"data": {"notificationAdded": {
                "kind": "NEW_FOLLOWER", "actor": {"username": "bob"}, "article": null,
            }}}}),
        ]
    );
    assert_eq!(
        script.of("tags"),
        [
            json!({"result": {"data": {"popularTags": [{"name": "graphql"}, {"name": "rust"}]}}}),
            json!({"complete": true}),
        ]
    );
    // The client closed its socket (or is closing it): nothing is left subscribed.
    server.wait_for_subscriptions(0).await;
}

/// graphql-ws's client (subprotocol graphql-transport-ws): `subscribe` with a sink, as
/// Apollo Client's GraphQLWsLink and urql use it, and `iterate` for the query.
#[tokio::test]
async fn the_graphql_ws_client_receives_subscription_events_and_query_results() {
    if !installed("graphql-ws") {
        return;
    }
    comments_notifications_and_a_query("graphql-ws").await;
}

/// The legacy subscriptions-transport-ws client (subprotocol graphql-ws), still found in
/// older Apollo Client setups.
#[tokio::test]
async fn the_legacy_subscriptions_transport_ws_client_receives_events_and_query_results() {
    if !installed("subscriptions-transport-ws") {
        return;
    }
    comments_notifications_and_a_query("subscriptions-transport-ws").await;
}

/// When the application disposes of a graphql-ws client (a page left, a component
/// unmounted), the client closes its socket with 1000; the server must answer that close
/// frame so that the close is clean (RFC 6455 §5.5.1), not 1006.
#[tokio::test]
async fn a_disposed_graphql_ws_client_closes_cleanly() {
    if !installed("graphql-ws") {
        return;
    }
    let server = TestServer::start(&[]).await;
    let args = json!({
        "client": "graphql-ws",
        "cleanClose": true,
        "operations": [{"name": "tags", "query": TAGS, "results": 1, "completes": true}],
    });
    let mut script = Script::start(&server.ws_url(), args).await;
    script.finish().await;
    assert_eq!(
        script.of("tags"),
        [
            json!({"result": {"data": {"popularTags": []}}}),
            json!({"complete": true}),
        ]
    );
}

const APQ_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/apq-clients.mjs");

/// Runs `.ci/apq-clients.mjs` against `url` with `args` and expects it to succeed; returns
/// the JSON it printed (each scenario's runs, with the HTTP requests each made).
async fn apq_clients(url: &str, args: Value) -> Value {
    let run = Command::new("node")
        .arg(APQ_SCRIPT)
        .arg(url)
        .arg(args.to_string())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(PATIENCE + std::time::Duration::from_secs(10), run)
        .await
        .expect("apq-clients.mjs to exit in time")
        .expect("`node` (Node 20+) on the PATH");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "apq-clients.mjs failed ({}):\n{stderr}\nstdout: {stdout}",
        output.status
    );
    if !stderr.is_empty() {
        eprintln!("apq-clients.mjs:\n{stderr}");
    }
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("apq-clients.mjs printed {stdout:?}: {e}"))
}

/// The hash a recorded request sent in `extensions.persistedQuery` (version 1).
fn sent_hash(request: &Value) -> String {
    let persisted = &request["extensions"]["persistedQuery"];
    assert_eq!(persisted["version"], 1, "{request:#}");
    persisted["sha256Hash"]
        .as_str()
        .unwrap_or_else(|| panic!("no sha256Hash: {request:#}"))
        .to_owned()
}

/// A client's first run of a document: the hash alone (over `method`), answered
/// PersistedQueryNotFound with HTTP 200, then the text with the same hash, which ran and
/// gave the client its data. Returns the hash and the text.
fn assert_registered(run: &Value, method: &str) -> (String, String) {
    let requests = run["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 2, "{run:#}");
    let (attempt, retry) = (&requests[0], &requests[1]);
    assert_eq!(attempt["method"], method, "{run:#}");
    assert_eq!(attempt["query"], Value::Null, "{run:#}");
    assert_eq!(attempt["status"], 200, "{run:#}");
    let error = &attempt["body"]["errors"][0];
    assert_eq!(error["message"], "PersistedQueryNotFound", "{run:#}");
    assert_eq!(
        error["extensions"]["code"], "PERSISTED_QUERY_NOT_FOUND",
        "{run:#}"
    );
    assert_eq!(attempt["body"].get("data"), None, "{run:#}");
    let hash = sent_hash(attempt);
    let text = retry["query"]
        .as_str()
        .unwrap_or_else(|| panic!("the retry has no query: {run:#}"))
        .to_owned();
    assert_eq!(sent_hash(retry), hash, "{run:#}");
    assert_eq!(sha256_hex(&text), hash, "{run:#}");
    assert_eq!(retry["status"], 200, "{run:#}");
    assert_eq!(retry["body"], json!({"data": run["data"]}), "{run:#}");
    (hash, text)
}

/// A fresh client's run of a stored document: exactly one request, over `method`, with the
/// hash and no text, answered 200 with the data the client handed over.
fn assert_sent_by_hash_alone(run: &Value, method: &str, hash: &str) {
    let requests = run["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{run:#}");
    let request = &requests[0];
    assert_eq!(request["method"], method, "{run:#}");
    assert_eq!(request["query"], Value::Null, "{run:#}");
    assert_eq!(sent_hash(request), hash, "{run:#}");
    assert_eq!(request["status"], 200, "{run:#}");
    assert_eq!(request["body"], json!({"data": run["data"]}), "{run:#}");
}

/// Apollo Client's persisted-query link (with `useGETForHashedQueries`) and urql's
/// persisted exchange against the server: each client's first run of a document sends the
/// hash alone, reads PERSISTED_QUERY_NOT_FOUND and sends the text; from then on a fresh
/// client (a new page load) sends the hash alone, queries over GET (CDN-cacheable) and
/// mutations over POST, and the documents are stored for every instance.
#[tokio::test]
async fn apollo_and_urql_persisted_queries_register_then_send_only_the_hash() {
    if !installed("@apollo/client") || !installed("@urql/exchange-persisted") {
        return;
    }
    let server = TestServer::start(&[]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let created = server
        .gql(
            CREATE,
            json!({"input": {
                "title": "Persisted queries", "description": "Hashes instead of documents",
                "body": "b", "tags": ["graphql", "apq"],
            }}),
            Some(&alice.access),
        )
        .await;
    let slug = created["data"]["createArticle"]["slug"]
        .as_str()
        .unwrap_or_else(|| panic!("{created}"))
        .to_owned();

    let url = format!("http://{}/graphql", server.addr);
    let args = json!({
        "slug": slug,
        "token": bob.access,
        "timeoutMs": PATIENCE.as_millis() as u64 + 5_000,
    });
    let out = apq_clients(&url, args).await;

    // (c) Apollo Client, a mutation: POST both times (the link never GETs a mutation).
    let runs = out["apolloMutation"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{out:#}");
    let (mutation_hash, mutation_text) = assert_registered(&runs[0], "POST");
    assert!(mutation_text.contains("addComment"), "{mutation_text}");
    assert_eq!(runs[0]["requests"][1]["method"], "POST", "{out:#}");
    assert_sent_by_hash_alone(&runs[1], "POST", &mutation_hash);
    for (run, body) in runs
        .iter()
        .zip(["registered by its text", "sent by hash alone"])
    {
        assert_eq!(
            run["data"],
            json!({"addComment": {
                "__typename": "Comment", "body": body,
                "author": {"__typename": "User", "username": "bob"},
            }}),
            "{out:#}"
        );
    }

    // (a) Apollo Client, a query: the hash over GET; the retry with the text is a POST
    // (Apollo sends a full document by POST); then GET by hash alone, with other variables.
    let runs = out["apollo"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{out:#}");
    let (apollo_hash, _) = assert_registered(&runs[0], "GET");
    assert_eq!(runs[0]["requests"][1]["method"], "POST", "{out:#}");
    assert_sent_by_hash_alone(&runs[1], "GET", &apollo_hash);
    assert_eq!(
        runs[1]["requests"][0]["variables"],
        json!({"slug": slug, "first": 1})
    );
    let comment = |body: &str| json!({"__typename": "Comment", "body": body, "author": {"__typename": "User", "username": "bob"}});
    let article = |comments: Vec<Value>| {
        json!({"article": {
            "__typename": "Article", "slug": slug, "title": "Persisted queries",
            "tags": ["graphql", "apq"], "author": {"__typename": "User", "username": "alice"},
            "commentsCount": 2,
            "comments": {"__typename": "CommentConnection", "nodes": comments},
        }})
    };
    let both = vec![
        comment("registered by its text"),
        comment("sent by hash alone"),
    ];
    assert_eq!(runs[0]["data"], article(both), "{out:#}");
    assert_eq!(
        runs[1]["data"],
        article(vec![comment("registered by its text")]),
        "{out:#}"
    );

    // (b) urql: the hash over GET, then the text, also over GET (the URL stays within
    // urql's 2047-character limit) and with `"miss": true` added to the persistedQuery
    // extension; then GET by hash alone.
    let runs = out["urql"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{out:#}");
    let (urql_hash, _) = assert_registered(&runs[0], "GET");
    let retry = &runs[0]["requests"][1];
    assert_eq!(retry["method"], "GET", "{out:#}");
    assert_eq!(
        retry["extensions"]["persistedQuery"]["miss"], true,
        "{out:#}"
    );
    assert_sent_by_hash_alone(&runs[1], "GET", &urql_hash);
    assert_ne!(urql_hash, apollo_hash);
    let urql_data = json!({"article": {
        "title": "Persisted queries", "description": "Hashes instead of documents",
        "tags": ["graphql", "apq"], "author": {"username": "alice"},
        "comments": {"nodes": [{"body": "registered by its text"}, {"body": "sent by hash alone"}]},
    }});
    assert_eq!(runs[0]["data"], urql_data, "{out:#}");
    assert_eq!(runs[1]["data"], urql_data, "{out:#}");

    // The documents are stored in PostgreSQL: a raw hash-only POST runs them on another
    // instance (whose cache is empty).
    let other = TestApp::sharing(&server, &[]);
    for (hash, variables, data) in [
        (
            &apollo_hash,
            json!({"slug": slug, "first": 1}),
            &out["apollo"][1]["data"],
        ),
        (&urql_hash, json!({"slug": slug}), &out["urql"][1]["data"]),
    ] {
        let body = json!({
            "variables": variables,
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": hash}},
        });
        let response = other
            .post_json("application/graphql-response+json", &body.to_string())
            .await;
        assert_eq!(response.status, 200, "{}", response.text());
        assert_eq!(response.json(), json!({"data": data}));
    }
}
