//! Test harness: per-test databases cloned from a migrated template, an in-process router
//! client, and a helper that runs the real `conduit` binary.

use std::{
    collections::hash_map::DefaultHasher,
    hash::{Hash, Hasher},
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Request, StatusCode},
};
use conduit::{AppState, config::Config};
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::OnceCell;
use tower::ServiceExt;

/// The PostgreSQL server tests use, without a database name: `TEST_DATABASE_SERVER`, or
/// the default address when a server there accepts `postgres` without a password, or
/// else the checkout's private development cluster (`conduit::dev_db`), started by the
/// first test process that needs it and shared by the others: it keeps running after
/// the tests, until `conduit dev-db stop`. `CONDUIT_DEV_DB_PROBE_URL` (test-only) stands
/// in for the default address.
pub fn server_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        std::env::var("TEST_DATABASE_SERVER").unwrap_or_else(|_| default_or_private_server())
    })
    .clone()
}

/// The default address, or the private cluster when it cannot be used; the lease on the
/// cluster lasts as long as this process.
fn default_or_private_server() -> String {
    static LEASE: OnceLock<conduit::dev_db::Lease> = OnceLock::new();
    let default = std::env::var("CONDUIT_DEV_DB_PROBE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let probe = default.clone();
    // Called inside and outside runtimes: a thread with its own.
    let lease = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(conduit::dev_db::fallback(
                &probe,
                Duration::from_secs(3),
                Path::new(env!("CARGO_MANIFEST_DIR")),
                conduit::dev_db::Owner::Tests,
            ))
    })
    .join()
    .expect("probe thread")
    .expect("the private development cluster");
    match lease {
        None => default,
        Some(lease) => LEASE.get_or_init(|| lease).cluster().layout.server_url(),
    }
}

/// The URL of database `name` on the test server.
pub fn database_url(name: &str) -> String {
    format!("{}/{name}", server_url())
}

/// Runs one statement on the server's maintenance database.
pub async fn admin_execute(sql: &str) -> Result<(), tokio_postgres::Error> {
    let client = connect(&database_url("postgres")).await;
    client.batch_execute(sql).await
}

/// A plain client for assertions on a database's contents.
pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to PostgreSQL");
    tokio::spawn(connection);
    client
}

/// A database that is dropped (with its connections) when this guard is dropped.
pub struct DatabaseGuard {
    /// The database's name.
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl DatabaseGuard {
    /// A fresh unique name; the database itself is not created.
    pub fn unique(prefix: &str) -> Self {
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        Self {
            url: database_url(&name),
            name,
        }
    }

    /// A new database cloned from the migrated template.
    pub async fn cloned_from_template() -> Self {
        let template = template().await;
        let guard = Self::unique("conduit_test");
        admin_execute(&format!(
            "CREATE DATABASE {} TEMPLATE {template}",
            guard.name
        ))
        .await
        .expect("clone the template database");
        guard
    }
}

impl Drop for DatabaseGuard {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Drop may run inside or outside a runtime: use a thread with its own.
        let result = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(admin_execute(&sql))
        })
        .join();
        if let Ok(Err(err)) = result {
            eprintln!("could not drop test database: {err}");
        }
    }
}

/// The name of the migrated template, created once per migration set. Creation is guarded
/// by an advisory lock; the template is built under a temporary name and renamed when
/// complete, so a template that exists is always fully migrated.
async fn template() -> &'static str {
    static TEMPLATE: OnceCell<String> = OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("conduit_tpl_{:016x}", migrations_hash());
            let admin = connect(&database_url("postgres")).await;
            if database_exists(&admin, &name).await {
                return name;
            }
            admin
                .batch_execute("SELECT pg_advisory_lock(4242)")
                .await
                .expect("lock");
            if !database_exists(&admin, &name).await {
                let building = format!("{name}_building");
                // A half-built template of an interrupted run goes first. Templates of
                // other migration sets stay: another checkout may be using them.
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                    .await
                    .expect("drop half-built template");
                admin
                    .batch_execute(&format!("CREATE DATABASE {building}"))
                    .await
                    .expect("create template");
                conduit::db::bootstrap::run_migrations(&database_url(&building))
                    .await
                    .expect("migrate template");
                rename_when_idle(&admin, &building, &name).await;
            }
            admin
                .batch_execute("SELECT pg_advisory_unlock(4242)")
                .await
                .expect("unlock");
            name
        })
        .await
}

/// `ALTER DATABASE ... RENAME` fails while the migration connection is still closing.
async fn rename_when_idle(admin: &tokio_postgres::Client, from: &str, to: &str) {
    let sql = format!("ALTER DATABASE {from} RENAME TO {to}");
    for _ in 0..100 {
        match admin.batch_execute(&sql).await {
            Ok(()) => return,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    admin.batch_execute(&sql).await.expect("rename template");
}

/// True when database `name` exists.
pub async fn database_exists(admin: &tokio_postgres::Client, name: &str) -> bool {
    admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .expect("query pg_database")
        .is_some()
}

/// A hash of every file under `migrations/`, so a changed migration gets a new template.
fn migrations_hash() -> u64 {
    fn visit(dir: &Path, hasher: &mut DefaultHasher) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("read migrations")
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                visit(&path, hasher);
            } else {
                path.file_name().hash(hasher);
                std::fs::read(&path).expect("read migration").hash(hasher);
            }
        }
    }
    let mut hasher = DefaultHasher::new();
    visit(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
        &mut hasher,
    );
    hasher.finish()
}

/// The server key ring every test app uses (`WEBHOOK_SECRET_KEY`).
pub const TEST_SERVER_KEY: &str = "test1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// Development configuration pointing at `database_url`, with `vars` overriding.
/// `extensions.sqlStatements` is off unless asked for, so whole responses compare as
/// clients see them in production, the sign-in throttle is set out of reach and the
/// cost budget is off.
pub fn test_config(database_url: &str, vars: &[(&str, &str)]) -> Config {
    Config::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
            .or_else(|| match name {
                "DATABASE_URL" => Some(database_url.to_owned()),
                "DATABASE_POOL_SIZE" => Some("4".to_owned()),
                "REPORT_SQL_STATEMENTS" => Some("false".to_owned()),
                // Tests sign in far more often than people; the throttle's own tests set
                // these low.
                "AUTH_ATTEMPTS_PER_ACCOUNT" => Some("100000".to_owned()),
                "AUTH_ATTEMPTS_PER_IP" => Some("100000".to_owned()),
                "AUTH_ATTEMPTS_PER_ACCOUNT_TOTAL" => Some("100000".to_owned()),
                // Off, so whole responses compare without `extensions.cost`; the budget's
                // own tests turn it on.
                "COST_BUDGET_PER_MINUTE" => Some("0".to_owned()),
                // A fixed server key, so that no test writes a development key file.
                "WEBHOOK_SECRET_KEY" => Some(TEST_SERVER_KEY.to_owned()),
                "PUBLIC_URL" => Some("http://app.test".to_owned()),
                // Stand-in IDE pages, so no test depends on whether ide/ was built.
                "IDE_DIST" => Some(format!(
                    "{}/tests/fixtures/ide-dist",
                    env!("CARGO_MANIFEST_DIR")
                )),
                _ => None,
            })
    })
    .expect("valid test configuration")
}

/// The application on its own database, called in process through its router.
pub struct TestApp {
    /// The state the router was built with.
    pub state: AppState,
    router: Router,
    /// Dropped last: the database goes with the app (unless another app owns it).
    _db: Option<DatabaseGuard>,
}

impl TestApp {
    /// The real application with development defaults.
    pub async fn spawn() -> Self {
        Self::with_config(&[]).await
    }

    /// The real application with `vars` overriding the configuration.
    pub async fn with_config(vars: &[(&str, &str)]) -> Self {
        let db = DatabaseGuard::cloned_from_template().await;
        let state = AppState::new(test_config(&db.url, vars)).expect("state");
        let router = conduit::app(state.clone());
        Self {
            state,
            router,
            _db: Some(db),
        }
    }

    /// A second instance on `other`'s database (which `other` still owns), as another
    /// server process would be.
    pub fn sharing(other: &TestApp, vars: &[(&str, &str)]) -> Self {
        let state = AppState::new(test_config(&other.database_url(), vars)).expect("state");
        let router = conduit::app(state.clone());
        Self {
            state,
            router,
            _db: None,
        }
    }

    /// The real transport and middleware serving another executor (to inject faults).
    pub async fn with_executor<E: async_graphql::Executor>(
        vars: &[(&str, &str)],
        executor: impl FnOnce(&AppState) -> E,
    ) -> Self {
        let db = DatabaseGuard::cloned_from_template().await;
        let state = AppState::new(test_config(&db.url, vars)).expect("state");
        let router = conduit::router(&state, executor(&state));
        Self {
            state,
            router,
            _db: Some(db),
        }
    }

    /// The URL of this app's database.
    pub fn database_url(&self) -> String {
        self.state.config.database.url.clone()
    }

    /// Sends a request through the router.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// POSTs `body` as JSON, accepting `accept`.
    pub async fn post_json(&self, accept: &str, body: &str) -> TestResponse {
        self.send(
            Request::post("/graphql")
                .header("content-type", "application/json")
                .header("accept", accept)
                .body(Body::from(body.to_owned()))
                .unwrap(),
        )
        .await
    }

    /// Runs `query` by POST and returns the JSON response, asserting HTTP 200.
    pub async fn query(&self, query: &str) -> Value {
        let body = serde_json::json!({ "query": query }).to_string();
        let response = self.post_json("application/json", &body).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()
    }
}

/// A response, fully read.
#[derive(Debug)]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl TestResponse {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `extensions.code` of the first error.
    pub fn first_error_code(&self) -> String {
        self.json()["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// The real `conduit` binary, run with a clean environment and JSON logs.
pub struct ServerProcess {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its log lines so far (stdout).
    pub logs: Arc<Mutex<Vec<String>>>,
}

/// Runs `conduit` with `args` and only `vars` (plus PATH, and `REPORT_SQL_STATEMENTS=false`,
/// `DEMO_DATA=false`, `COST_BUDGET_PER_MINUTE=0` and `FRONTEND_BUILD=false` unless overridden) in its environment,
/// from a directory without a `.env` file.
pub fn conduit_command(args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conduit"));
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(std::env::temp_dir())
        .env("REPORT_SQL_STATEMENTS", "false")
        .env("DEMO_DATA", "false")
        .env("COST_BUDGET_PER_MINUTE", "0")
        .env("FRONTEND_BUILD", "false")
        .stdin(Stdio::null());
    for (name, value) in vars {
        command.env(name, value);
    }
    command
}

impl ServerProcess {
    /// Starts the server on a free port and waits until it listens.
    pub fn start(vars: &[(&str, &str)]) -> Self {
        Self::start_in(&std::env::temp_dir(), vars)
    }

    /// [`Self::start`] with `dir` as the working folder (the checkout, to the server).
    pub fn start_in(dir: &Path, vars: &[(&str, &str)]) -> Self {
        let mut all = vec![("PORT", "0"), ("LOG_FORMAT", "json")];
        all.extend_from_slice(vars);
        let mut child = conduit_command(&[], &all)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn conduit");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(entry) = serde_json::from_str::<Value>(&line)
                    && entry["message"] == "listening"
                {
                    let _ = addr_tx.send(entry["addr"].as_str().unwrap_or_default().to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match addr_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr.parse().expect("listening address"),
            Err(_) => {
                let _ = child.kill();
                let mut stderr = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .ok();
                panic!("server did not start: {stderr}\n{:?}", logs.lock().unwrap());
            }
        };
        Self { child, addr, logs }
    }

    /// Sends a signal (e.g. `TERM`, `INT`) to the process.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit and returns its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// The log lines containing `needle`, waiting up to 10 s for the first one.
    pub fn wait_for_log(&self, needle: &str) -> Vec<String> {
        let start = Instant::now();
        loop {
            let lines = self.log_lines_with(needle);
            if !lines.is_empty() || start.elapsed() > Duration::from_secs(10) {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// All log lines containing `needle`.
    pub fn log_lines_with(&self, needle: &str) -> Vec<String> {
        self.logs
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .cloned()
            .collect()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs the JSON `body` to `/graphql` at `addr` over a real TCP connection (so that the
/// server sees the client's IP), from a blocking thread off the runtime the server runs
/// on; returns status and body.
pub async fn post_over_tcp(addr: SocketAddr, body: String) -> (u16, String) {
    let raw = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tokio::task::spawn_blocking(move || http_request(addr, &raw))
        .await
        .unwrap()
}

/// A minimal HTTP/1.1 exchange over a fresh connection: returns status and body.
pub fn http_request(addr: SocketAddr, raw: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(raw.as_bytes()).expect("write");
    read_response(&mut stream)
}

/// Reads a whole `Connection: close` response.
pub fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read response");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// `GET path` on a running server.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    http_request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"),
    )
}

/// A registered account as the tests use it.
#[derive(Debug, Clone)]
pub struct Account {
    /// Its email.
    pub email: String,
    /// Its password.
    pub password: String,
    /// Global ID.
    pub id: String,
    /// Current access token.
    pub access: String,
    /// Current refresh token.
    pub refresh: String,
}

/// The fields every auth mutation's payload is read with.
pub const AUTH_FIELDS: &str =
    "accessToken accessTokenExpiresAt refreshToken user { id username email isViewer }";

impl TestApp {
    /// Runs an operation with `variables`, signed in with `token` if given; asserts 200
    /// and returns the JSON body (`application/json`).
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let response = self
            .gql_response(query, variables, token, "application/json")
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.text());
        response.json()
    }

    /// Runs an operation and returns the whole response.
    pub async fn gql_response(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
        accept: &str,
    ) -> TestResponse {
        let mut request = Request::post("/graphql")
            .header("content-type", "application/json")
            .header("accept", accept);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Registers `username` (email `<username>@example.com`, password `password-<username>`).
    pub async fn register(&self, username: &str) -> Account {
        let email = format!("{username}@example.com");
        let password = format!("password-{username}");
        let body = self
            .gql(
                &format!("mutation($input: RegisterInput!) {{ register(input: $input) {{ {AUTH_FIELDS} }} }}"),
                serde_json::json!({"input": {"username": username, "email": email, "password": password}}),
                None,
            )
            .await;
        let payload = &body["data"]["register"];
        assert!(payload.is_object(), "{body}");
        Account {
            email,
            password,
            id: payload["user"]["id"].as_str().unwrap().to_owned(),
            access: payload["accessToken"].as_str().unwrap().to_owned(),
            refresh: payload["refreshToken"].as_str().unwrap().to_owned(),
        }
    }
}

/// The `fieldErrors` of the first error, as (field, message) pairs.
pub fn field_errors(body: &Value) -> Vec<(String, String)> {
    body["errors"][0]["extensions"]["fieldErrors"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap().to_owned(),
                        e["message"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_default()
}

/// The value of the metric line `name` (a name with its labels) in `app`'s `/metrics`.
pub async fn metric(app: &TestApp, name: &str) -> String {
    let text = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await
        .text();
    text.lines()
        .find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
}
