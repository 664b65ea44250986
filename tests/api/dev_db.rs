//! The private development PostgreSQL (`conduit::dev_db`): the real `conduit` binary (the
//! debug build the tests use) in development mode without `DATABASE_URL`, the default
//! address pointed at a closed port (`CONDUIT_DEV_DB_PROBE_URL`), in a scratch checkout
//! with its own cluster. Run as root (as CI does), the cluster runs as `postgres` or
//! `nobody` with its data under /var/tmp. Also the cluster's sharing and lifetimes
//! through the library: concurrent starts, the last user out, the tests' cluster.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use conduit::dev_db::{self, Cluster, Lease, Owner, Started, Status};
use serde_json::{Value, json};

use crate::helpers::{ServerProcess, TEST_SERVER_KEY, conduit_command, http_request};

/// A scratch checkout and its cluster, stopped and removed on drop.
struct Scratch {
    checkout: PathBuf,
    cluster: Cluster,
}

static SCRATCHES: AtomicUsize = AtomicUsize::new(0);

impl Scratch {
    fn new() -> Self {
        let n = SCRATCHES.fetch_add(1, Ordering::Relaxed);
        let checkout =
            std::env::temp_dir().join(format!("conduit-dev-db-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&checkout);
        std::fs::create_dir_all(&checkout).unwrap();
        let cluster = Cluster::for_checkout(&checkout).unwrap();
        assert!(
            !cluster.layout.data.exists(),
            "{}",
            cluster.layout.data.display()
        );
        Self { checkout, cluster }
    }

    /// `conduit dev-db <command>` in the checkout: its output.
    fn dev_db(&self, command: &str) -> String {
        let output = conduit_command(&["dev-db", command], &[])
            .current_dir(&self.checkout)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    }

    /// The server, in development without DATABASE_URL, the default address closed.
    fn server(&self) -> ServerProcess {
        let probe = format!("postgres://postgres@127.0.0.1:{}/conduit", closed_port());
        ServerProcess::start_in(
            &self.checkout,
            &[
                ("CONDUIT_DEV_DB_PROBE_URL", &probe),
                ("WEBHOOK_SECRET_KEY", TEST_SERVER_KEY),
            ],
        )
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = dev_db::stop(&self.checkout);
        let _ = std::fs::remove_dir_all(&self.cluster.layout.socket_dir);
        let _ = std::fs::remove_dir_all(&self.cluster.layout.state);
        let _ = std::fs::remove_dir_all(&self.checkout);
    }
}

/// A port of 127.0.0.1 nothing listens on.
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// True while process `pid` exists.
fn alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

/// Waits up to 10 s for process `pid` to be gone.
fn gone(pid: u32) -> bool {
    let start = Instant::now();
    while alive(pid) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    !alive(pid)
}

/// Runs `query` with `variables` on the server; the JSON response.
fn graphql(server: &ServerProcess, query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables }).to_string();
    let raw = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, text) = http_request(server.addr, &raw);
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

const REGISTER: &str =
    "mutation($input: RegisterInput!) { register(input: $input) { user { username } } }";
const USER: &str = "query($name: String!) { user(username: $name) { username } }";

/// The figure `field` of the log line with `message`, as printed.
fn figure(server: &ServerProcess, message: &str, field: &str) -> String {
    let lines = server.wait_for_log(message);
    let line: Value = serde_json::from_str(lines.first().expect(message)).unwrap();
    line[field].as_str().unwrap_or_default().to_owned()
}

#[test]
fn private_cluster_serves_stops_with_the_server_and_keeps_its_data() {
    let scratch = Scratch::new();
    let layout = &scratch.cluster.layout;
    assert_eq!(
        layout.data.starts_with(&scratch.checkout),
        !scratch.cluster.account.is_other_user(),
        "as root the data is where the cluster's user can reach it: {}",
        layout.data.display()
    );

    let mut server = scratch.server();
    let initdb = figure(&server, "created and started the private", "initdb_ms");
    let start = figure(&server, "created and started the private", "start_ms");
    eprintln!("first start: initdb {initdb} ms, start {start} ms");
    let postmaster = scratch.cluster.postmaster_pid().expect("postmaster.pid");
    assert!(alive(postmaster));
    assert_eq!(
        graphql(&server, "{ __typename }", json!({})),
        json!({"data": {"__typename": "Query"}})
    );
    let input = json!({"input": {"username": "ada", "email": "ada@example.com",
        "password": "password-ada"}});
    let registered = graphql(&server, REGISTER, input);
    assert_eq!(
        registered["data"]["register"]["user"]["username"], "ada",
        "{registered}"
    );
    let status = scratch.dev_db("status");
    assert!(
        status.contains(&format!("running (pid {postmaster}")),
        "{status}"
    );
    assert!(status.contains("started by Conduit"), "{status}");
    // The socket only: PostgreSQL takes no TCP port.
    let listening = Command::new("psql")
        .args(["-Atc", "SHOW listen_addresses"])
        .arg(layout.url("conduit"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&listening.stdout).trim(), "");
    assert!(listening.status.success(), "{listening:?}");

    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(30)), Some(0));
    assert!(gone(postmaster), "SIGTERM stops PostgreSQL too");
    assert!(!layout.data.join("postmaster.pid").exists());
    assert!(scratch.dev_db("status").starts_with("state:    stopped"));

    // The next start reuses the data.
    let mut server = scratch.server();
    let start = figure(
        &server,
        "started the private development cluster",
        "start_ms",
    );
    eprintln!("second start: start {start} ms");
    assert!(server.log_lines_with("created and started").is_empty());
    let found = graphql(&server, USER, json!({"name": "ada"}));
    assert_eq!(found, json!({"data": {"user": {"username": "ada"}}}));

    // SIGKILL leaves PostgreSQL running; the next start reuses it, and stops it at exit.
    let postmaster = scratch.cluster.postmaster_pid().expect("postmaster.pid");
    server.signal("KILL");
    server.wait_exit(Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(200));
    assert!(alive(postmaster), "the orphan runs on");
    let mut server = scratch.server();
    server.wait_for_log("already running");
    assert!(!server.log_lines_with("already running").is_empty());
    assert_eq!(scratch.cluster.postmaster_pid(), Some(postmaster), "reused");
    let found = graphql(&server, USER, json!({"name": "ada"}));
    assert_eq!(found, json!({"data": {"user": {"username": "ada"}}}));
    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(30)), Some(0));
    assert!(gone(postmaster), "the adopted orphan is stopped at exit");
}

/// Acquires `checkout`'s cluster for `owner` on a thread.
fn acquire(checkout: &Path, owner: Owner) -> std::thread::JoinHandle<Lease> {
    let checkout = checkout.to_owned();
    std::thread::spawn(move || {
        Lease::acquire(Cluster::for_checkout(&checkout).unwrap(), owner).unwrap()
    })
}

#[test]
fn one_cluster_for_concurrent_users_stopped_by_the_last_or_kept_for_the_tests() {
    let scratch = Scratch::new();
    let first = acquire(&scratch.checkout, Owner::Server);
    let second = acquire(&scratch.checkout, Owner::Server);
    let (first, second) = (first.join().unwrap(), second.join().unwrap());
    let mut how = [first.started(), second.started()];
    how.sort_by_key(|started| matches!(started, Started::Reused));
    assert!(
        matches!(how, [Started::Created(..), Started::Reused]),
        "one creates, the other waits and reuses: {how:?}"
    );
    let pid = match scratch.cluster.status().unwrap() {
        Status::Running(pid) => pid,
        other => panic!("{other:?}"),
    };
    drop(first);
    assert_eq!(scratch.cluster.status().unwrap(), Status::Running(pid));
    drop(second);
    assert_eq!(scratch.cluster.status().unwrap(), Status::Stopped);
    assert!(gone(pid));

    // The tests' cluster outlives its users, until `dev-db stop`.
    let tests = acquire(&scratch.checkout, Owner::Tests).join().unwrap();
    assert!(
        matches!(tests.started(), Started::Started(_)),
        "{:?}",
        tests.started()
    );
    drop(tests);
    assert!(matches!(
        scratch.cluster.status().unwrap(),
        Status::Running(_)
    ));
    let stopped = scratch.dev_db("stop");
    assert!(
        stopped.starts_with("stopped the private development cluster"),
        "{stopped}"
    );
    assert_eq!(scratch.cluster.status().unwrap(), Status::Stopped);
    assert_eq!(
        scratch.dev_db("stop").trim(),
        "the private development cluster is not running"
    );
}
