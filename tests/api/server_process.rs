//! The real binary: start-up, JSON logs with request ids, graceful shutdown with a deadline,
//! and clear failures when PostgreSQL is missing or production settings are.

use std::{
    io::Write,
    net::TcpStream,
    time::{Duration, Instant},
};

use crate::helpers::{
    DatabaseGuard, ServerProcess, conduit_command, http_get, http_request, read_response,
};

fn start_on_new_database() -> (ServerProcess, DatabaseGuard) {
    let db = DatabaseGuard::unique("conduit_test_process");
    let server = ServerProcess::start(&[("DATABASE_URL", &db.url)]);
    (server, db)
}

#[test]
fn the_server_creates_its_database_serves_and_stops_on_sigterm() {
    let (mut server, _db) = start_on_new_database();
    assert_eq!(http_get(server.addr, "/healthz").0, 200);
    assert_eq!(http_get(server.addr, "/readyz").0, 200);
    let query = r#"{"query":"{ __typename }"}"#;
    let (status, body) = http_request(
        server.addr,
        &format!(
            "POST /graphql HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
             Content-Type: application/json\r\nx-request-id: trace-me-123\r\n\
             Content-Length: {}\r\n\r\n{query}",
            query.len()
        ),
    );
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"data":{"__typename":"Query"}}"#)
    );

    // Every log line of the request, as JSON, carries its id (the response line may be
    // written just after the response).
    let lines = server.wait_for_log("trace-me-123");
    assert!(!lines.is_empty(), "request id in the logs");
    for line in &lines {
        serde_json::from_str::<serde_json::Value>(line).expect("JSON log line");
    }

    server.signal("TERM");
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(!server.log_lines_with("\"stopped\"").is_empty());
}

/// `WORKER_THREADS` sets how many threads run requests; unset, one per core. The
/// "listening" line reports the runtime's own count.
#[test]
fn worker_threads_are_one_per_core_unless_set() {
    let db = DatabaseGuard::unique("conduit_test_process");
    let cores = std::thread::available_parallelism().unwrap().get();
    // One more than the cores: unlike 1, never the default, whatever the machine.
    let set = (cores + 1).to_string();
    for (vars, expected) in [
        (vec![("DATABASE_URL", db.url.as_str())], cores),
        (
            vec![("DATABASE_URL", db.url.as_str()), ("WORKER_THREADS", &set)],
            cores + 1,
        ),
    ] {
        let server = ServerProcess::start(&vars);
        assert_eq!(http_get(server.addr, "/readyz").0, 200);
        let listening = server.wait_for_log("\"listening\"");
        let line: serde_json::Value = serde_json::from_str(&listening[0]).expect("JSON log line");
        assert_eq!(line["workers"], expected, "{vars:?}: {line}");
    }
}

#[test]
fn sigint_stops_the_server_too() {
    let (mut server, _db) = start_on_new_database();
    server.signal("INT");
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn a_request_in_flight_at_sigterm_is_completed() {
    let (mut server, _db) = start_on_new_database();
    let body = r#"{"query":"{ __typename }"}"#;
    let mut stream = TcpStream::connect(server.addr).unwrap();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    // Let the server start on the request before the signal.
    std::thread::sleep(Duration::from_millis(300));
    server.signal("TERM");
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let (status, reply) = read_response(&mut stream);
    assert_eq!(
        (status, reply.as_str()),
        (200, r#"{"data":{"__typename":"Query"}}"#)
    );
    assert_eq!(server.wait_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn shutdown_does_not_wait_past_its_deadline() {
    let db = DatabaseGuard::unique("conduit_test_deadline");
    let mut server =
        ServerProcess::start(&[("DATABASE_URL", &db.url), ("SHUTDOWN_TIMEOUT_MS", "500")]);
    // A request whose body never finishes keeps its connection busy forever.
    let mut stalled = TcpStream::connect(server.addr).unwrap();
    stalled
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    server.signal("TERM");
    assert_eq!(
        server.wait_exit(Duration::from_secs(20)),
        Some(0),
        "exits after the deadline"
    );
    assert!(
        signalled.elapsed() >= Duration::from_millis(500),
        "waited for the request first"
    );
    assert!(!server.log_lines_with("shutdown deadline passed").is_empty());
}

#[test]
fn unreachable_postgres_prints_one_clear_line_and_fails() {
    let output = conduit_command(
        &[],
        &[
            ("DATABASE_URL", "postgres://postgres@127.0.0.1:1/conduit"),
            ("LOG_FORMAT", "json"),
        ],
    )
    .output()
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("cannot reach PostgreSQL at 127.0.0.1:1"),
        "{stderr}"
    );
    assert!(lines[0].contains("DATABASE_URL"), "{stderr}");
}

#[test]
fn production_refuses_to_start_without_database_url() {
    let output = conduit_command(&[], &[("APP_ENV", "production")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(
        stderr.trim(),
        "error: DATABASE_URL must be set when APP_ENV=production"
    );
}

#[test]
fn invalid_settings_are_named() {
    let output = conduit_command(&["migrate"], &[("PORT", "http")])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8(output.stderr)
            .unwrap()
            .contains("PORT=\"http\" is not valid")
    );
}

#[test]
fn migrate_runs_migrations_and_exits() {
    let db = DatabaseGuard::unique("conduit_test_migrate");
    let runs: Vec<_> = (0..3)
        .map(|_| {
            conduit_command(&["migrate"], &[("DATABASE_URL", &db.url)])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut run in runs {
        assert!(run.wait().unwrap().success());
    }
}
