//! Connection limits through the served router and the real binary: a 413 every client
//! can read (the body drained up to a bound), the body-and-authentication deadline, the
//! in-flight limit's fast 503, the WebSocket caps per client IP, per user and per
//! instance, and the idle timeout of anonymous sockets; each counted in `/metrics`.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

use axum::{body::Body, http::Request};
use serde_json::{Value, json};

use crate::{
    helpers::{DatabaseGuard, ServerProcess, TestApp, http_get, post_over_tcp, read_response},
    live::{Frame, PATIENCE, TestServer, bearer},
};

/// A 3 MB body: three times the default `BODY_LIMIT_BYTES`.
const BIG: usize = 3 * 1024 * 1024;

/// Writes `headers` and then `body_len` bytes, all of them (in one `write_all` or in
/// 64 KiB chunks), before reading anything, as Python's `http.client` does; returns the
/// status and body of the answer. A write that fails (the server closed or reset the
/// connection before reading the body) panics.
fn write_all_then_read(
    addr: SocketAddr,
    headers: &str,
    body_len: usize,
    chunked: bool,
) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream
        .write_all(headers.as_bytes())
        .expect("write the head");
    if chunked {
        let chunk = vec![b' '; 64 * 1024];
        let mut left = body_len;
        while left > 0 {
            let n = left.min(chunk.len());
            stream
                .write_all(format!("{n:x}\r\n").as_bytes())
                .expect("write a chunk size");
            stream
                .write_all(&chunk[..n])
                .expect("write the whole body before reading");
            stream.write_all(b"\r\n").expect("write a chunk end");
            left -= n;
        }
        stream
            .write_all(b"0\r\n\r\n")
            .expect("write the last chunk");
    } else {
        stream
            .write_all(&vec![b' '; body_len])
            .expect("write the whole body before reading");
    }
    read_sized_response(&mut stream)
}

/// Reads one response by its `Content-Length` (the connection may stay open).
fn read_sized_response(stream: &mut TcpStream) -> (u16, String) {
    let mut head = Vec::new();
    let mut byte = [0u8];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).expect("read the answer"),
            1,
            "the answer ended"
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("read the body");
    (status, String::from_utf8(body).unwrap())
}

fn big_post(addr: SocketAddr, chunked: bool) -> (u16, String) {
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {BIG}")
    };
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n{framing}\r\n\r\n"
    );
    write_all_then_read(addr, &head, BIG, chunked)
}

fn assert_payload_too_large((status, body): (u16, String)) {
    assert_eq!(status, 413, "{body}");
    let body: Value = serde_json::from_str(&body).expect("a JSON 413");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE",
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_writes_its_whole_body_first_reads_the_413_every_time() {
    let server = TestServer::start(&[]).await;
    let addr = server.addr;
    tokio::task::spawn_blocking(move || {
        for round in 0..12 {
            assert_payload_too_large(big_post(addr, round % 4 == 3));
        }
    })
    .await
    .unwrap();
    let text = scrape(&server).await;
    assert_eq!(refusals(&text, "body_too_large"), 12, "{text}");
}

#[test]
fn the_real_binary_lets_a_client_read_its_413_every_time() {
    let db = DatabaseGuard::unique("conduit_test_413");
    let server = ServerProcess::start(&[("DATABASE_URL", &db.url)]);
    for round in 0..12 {
        assert_payload_too_large(big_post(server.addr, round % 4 == 3));
    }
    // The connection was drained, not broken: the server still answers.
    assert_eq!(http_get(server.addr, "/healthz").0, 200);
}

#[test]
fn a_body_far_over_the_drain_bound_is_refused_at_once() {
    // Content-Length says 64 MiB, past what the server reads to drain: it answers 413
    // without waiting for the body (the client sent none yet) and closes.
    let db = DatabaseGuard::unique("conduit_test_413_far");
    let server = ServerProcess::start(&[("DATABASE_URL", &db.url)]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
        .write_all(
            b"POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
              Content-Length: 67108864\r\n\r\n",
        )
        .unwrap();
    assert_payload_too_large(read_response(&mut stream));
}

/// Sends the head of a POST whose body never finishes (`sent` of `declared` bytes).
fn stalled_post(addr: SocketAddr, declared: usize, sent: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream
        .write_all(&b"{\"query\": \"{ __typename }\"}      "[..sent])
        .unwrap();
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_finishes_gets_408_and_the_connection_closes() {
    let server = TestServer::start(&[("REQUEST_BODY_TIMEOUT_MS", "200")]).await;
    let addr = server.addr;
    let (status, body) = tokio::task::spawn_blocking(move || {
        let mut stream = stalled_post(addr, 1000, 10);
        // Read to the end: the server answers and closes; the client sends nothing more.
        read_response(&mut stream)
    })
    .await
    .unwrap();
    assert_eq!(status, 408, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "REQUEST_TIMEOUT");
    assert_eq!(refusals(&scrape(&server).await, "body_timeout"), 1);
    // A body that arrives whole is unaffected.
    let (status, _) = post_over_tcp(addr, json!({"query": "{ __typename }"}).to_string()).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_in_flight_limit_a_request_gets_a_fast_503_not_a_queue() {
    let server = TestServer::start(&[("MAX_REQUESTS_IN_FLIGHT", "1")]).await;
    let addr = server.addr;
    // One request holds the only permit: its body stops half-way.
    let query = b"{\"query\": \"{ __typename }\"}";
    let mut held = tokio::task::spawn_blocking(move || stalled_post(addr, query.len(), 10))
        .await
        .unwrap();
    wait_for_gauge(&server, "conduit_http_requests_in_flight", 1.0).await;

    let refused = server
        .post_json("application/json", r#"{"query":"{ __typename }"}"#)
        .await;
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.first_error_code(), "SERVICE_UNAVAILABLE");
    assert_eq!(refused.header("retry-after"), Some("1"));
    // The probes and /metrics stay answerable while the server is full.
    let health = server
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(health.status, 200);
    assert_eq!(refusals(&scrape(&server).await, "in_flight"), 1);

    // The held request finishes normally, and its permit is free again.
    let (status, _) = tokio::task::spawn_blocking(move || {
        held.write_all(&query[10..]).unwrap();
        read_response(&mut held)
    })
    .await
    .unwrap();
    assert_eq!(status, 200);
    wait_for_gauge(&server, "conduit_http_requests_in_flight", 0.0).await;
    let served = server
        .post_json("application/json", r#"{"query":"{ __typename }"}"#)
        .await;
    assert_eq!(served.status, 200, "{}", served.text());
}

/// The status line and headers of a WebSocket handshake on `addr` (the connection then
/// dropped).
async fn upgrade_head(addr: SocketAddr) -> String {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let request = format!(
            "GET /graphql HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
            head.push(byte[0]);
        }
        String::from_utf8(head).unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_over_the_per_ip_cap_are_refused_with_429_before_upgrading() {
    let server = TestServer::start(&[("WS_MAX_PER_IP", "2")]).await;
    let first = server.ws_ready(json!({})).await;
    let _second = server.ws_ready(json!({})).await;
    for _ in 0..3 {
        let head = upgrade_head(server.addr).await;
        assert!(head.starts_with("HTTP/1.1 429"), "{head}");
        assert!(
            head.to_ascii_lowercase().contains("retry-after: 1"),
            "{head}"
        );
    }
    assert_eq!(refusals(&scrape(&server).await, "ws_per_ip"), 3);
    // A closed socket gives its place back.
    drop(first);
    wait_until_open(&server, 1).await;
    let _third = server.ws_ready(json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_over_the_instance_cap_are_refused_with_503() {
    let server = TestServer::start(&[("WS_MAX_CONNECTIONS", "2")]).await;
    let _first = server.ws_ready(json!({})).await;
    let _second = server.ws_ready(json!({})).await;
    let head = upgrade_head(server.addr).await;
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("retry-after: 1"),
        "{head}"
    );
    assert_eq!(refusals(&scrape(&server).await, "ws_instance"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_over_the_per_user_cap_is_closed_with_4429_at_connection_init() {
    let server = TestServer::start(&[("WS_MAX_PER_USER", "2")]).await;
    let alice = server.register("alice").await;
    let bob = server.register("bob").await;
    let _one = server.ws_ready(bearer(&alice.access)).await;
    let two = server.ws_ready(bearer(&alice.access)).await;
    for _ in 0..2 {
        let mut three = server.ws().await;
        three
            .send(json!({"type": "connection_init", "payload": bearer(&alice.access)}))
            .await;
        let reason = three.expect_close(4429).await;
        assert_eq!(reason, "Too many WebSockets for this user");
    }
    // Others, and anonymous sockets from the same address, are not held back by her.
    let _bob = server.ws_ready(bearer(&bob.access)).await;
    let _anonymous = server.ws_ready(json!({})).await;
    assert_eq!(refusals(&scrape(&server).await, "ws_per_user"), 2);
    // A socket of hers that closes gives its place back.
    drop(two);
    let started = tokio::time::Instant::now();
    loop {
        let mut again = server.ws().await;
        again
            .send(json!({"type": "connection_init", "payload": bearer(&alice.access)}))
            .await;
        match again.next_frame().await {
            Frame::Json(ack) if ack["type"] == "connection_ack" => break,
            Frame::Closed(4429, _) if started.elapsed() < PATIENCE => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => panic!("expected an ack, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_anonymous_socket_is_closed_but_a_busy_or_signed_in_one_is_not() {
    let server = TestServer::start(&[("WS_IDLE_TIMEOUT_MS", "300")]).await;
    let alice = server.register("alice").await;
    let slug = crate::live::publish(&server, &alice, "Idle").await;

    // The idle one opens last: once it is closed, the others have been open longer.
    let mut signed_in = server.ws_ready(bearer(&alice.access)).await;
    let mut busy = server.ws_ready(json!({})).await;
    busy.subscribe(
        "1",
        "subscription($slug: String!) { commentAdded(articleSlug: $slug) { body } }",
        json!({ "slug": slug }),
    )
    .await;
    server.wait_for_subscriptions(1).await;
    let mut idle = server.ws_ready(json!({})).await;

    let reason = idle.expect_close(1000).await;
    assert!(reason.starts_with("Idle"), "{reason}");
    assert_eq!(refusals(&scrape(&server).await, "ws_idle"), 1);

    // Well past the idle timeout, the busy socket still hears its subscription, and the
    // signed-in one still answers.
    crate::live::comment(&server, &alice, &slug, "still here").await;
    let next = busy.next_json().await;
    assert_eq!(
        next["payload"]["data"]["commentAdded"]["body"], "still here",
        "{next}"
    );
    signed_in.send(json!({"type": "ping"})).await;
    assert_eq!(signed_in.next_json().await["type"], "pong");

    // Once its subscription completes, the anonymous socket is idle and goes too.
    busy.send(json!({"id": "1", "type": "complete"})).await;
    busy.expect_close(1000).await;
}

/// Waits until the instance counts `n` open WebSockets.
async fn wait_until_open(server: &TestServer, n: usize) {
    let started = tokio::time::Instant::now();
    while server.state.lifecycle.open_sockets() != n {
        assert!(
            started.elapsed() < PATIENCE,
            "{} open",
            server.state.lifecycle.open_sockets()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// `/metrics`, scraped through the router.
async fn scrape(app: &TestApp) -> String {
    let response = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(response.status, 200);
    response.text()
}

/// A sample's value in `text`.
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{series} in\n{text}"))
}

/// How many refusals `limit` counted.
fn refusals(text: &str, limit: &str) -> u64 {
    let series = format!("conduit_connection_limit_refusals_total{{limit=\"{limit}\"}}");
    sample(text, &series) as u64
}

/// Waits until the gauge `name` reads `value`.
async fn wait_for_gauge(app: &TestApp, name: &str, value: f64) {
    let started = tokio::time::Instant::now();
    loop {
        let text = scrape(app).await;
        if sample(&text, name) == value {
            return;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{name} never reached {value}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
