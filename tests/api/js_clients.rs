//! Real JavaScript clients (graphql-ws, as Apollo Client, urql and GraphiQL use it) against the server.
//!
//! Each test runs `.ci/ws-clients.mjs` (Node, with the clients pinned in .ci/package.json)
//! against a served instance: the script subscribes with the client library, the test
//! performs mutations over HTTP and checks what the library handed to the application.
//! Without `.ci/node_modules` (`npm ci --prefix .ci`) the tests are skipped with a notice,
//! except under CI (`CI` set), where that is a failure.

use std::{path::Path, process::Stdio};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines},
    process::{Child, ChildStdout, Command},
    task::JoinHandle,
};

use crate::live::{COMMENT, CREATE, PATIENCE, TestServer, bearer};

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
