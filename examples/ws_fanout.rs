//! WebSocket fan-out benchmark against a running Conduit: memory per idle connection and
//! the latency of one comment reaching many `commentAdded` subscribers.
//!
//! Run it through `bench/ws_fanout.sh`, which starts a release server on a scratch
//! database; or by hand against a server you started:
//!
//! ```sh
//! cargo run --release --example ws_fanout -- \
//!     --url http://127.0.0.1:8080/graphql --pid <server pid> --subscribers 1000 --rounds 20
//! ```
//!
//! The latency of a delivery is measured from just before the `addComment` request is
//! written to the moment the subscriber's task reads the `next` message; the mutation's
//! own round trip is reported beside it. Client and server share the machine's cores.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::mpsc,
};
use tokio_tungstenite::tungstenite::{
    Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
};

struct Args {
    url: String,
    pid: Option<u32>,
    subscribers: usize,
    rounds: usize,
}

fn args() -> Args {
    let mut args = Args {
        url: "http://127.0.0.1:8080/graphql".into(),
        pid: None,
        subscribers: 1000,
        rounds: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => args.url = value,
            "--pid" => args.pid = Some(value.parse().expect("--pid")),
            "--subscribers" => args.subscribers = value.parse().expect("--subscribers"),
            "--rounds" => args.rounds = value.parse().expect("--rounds"),
            other => panic!("unknown flag {other}"),
        }
    }
    args
}

/// The client sockets' settings: a 4 KiB read buffer, as the server's. tungstenite's
/// default (128 KiB) is zeroed before every read, and with 10,000 sockets on the machine
/// the server measures on, that memset took about 40% as much CPU as the server's whole
/// fan-out (perf, 10,000 subscribers), so it inflated the latency measured.
fn client_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4 * 1024)
}

/// POSTs one GraphQL operation (HTTP/1.1, one connection per request); fails on errors.
async fn post(url: &str, query: &str, variables: Value, token: Option<&str>) -> Value {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_once('/').expect("a path");
    let body = json!({ "query": query, "variables": variables }).to_string();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(host).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let text = String::from_utf8_lossy(&response);
    let (_, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    let value: Value = serde_json::from_str(body).expect("JSON body");
    assert!(value.get("errors").is_none(), "errors: {value}");
    value
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let args = args();
    let ws_url = args.url.replacen("http://", "ws://", 1);
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let username = format!("fanout{stamp}");
    let registered = post(
        &args.url,
        "mutation($input: RegisterInput!) { register(input: $input) { accessToken } }",
        json!({"input": {"username": username, "email": format!("{username}@example.com"), "password": "fan-out-bench"}}),
        None,
    )
    .await;
    let token = registered["data"]["register"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let created = post(
        &args.url,
        "mutation($input: CreateArticleInput!) { createArticle(input: $input) { slug } }",
        json!({"input": {"title": format!("Fan-out {stamp}"), "description": "d", "body": "b", "tags": []}}),
        Some(&token),
    )
    .await;
    let slug = created["data"]["createArticle"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();

    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = args.pid.and_then(rss_kib);

    // Open and initialise every connection (anonymous), without subscribing yet.
    let (arrivals, mut arrived) = mpsc::unbounded_channel::<(usize, Instant)>();
    let mut starters = Vec::with_capacity(args.subscribers);
    for _ in 0..args.subscribers {
        let mut request = ws_url.as_str().into_client_request().unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("graphql-transport-ws"),
        );
        let (mut socket, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(client_config()), false)
                .await
                .expect("WebSocket upgrade");
        socket
            .send(Message::text(
                json!({"type": "connection_init"}).to_string(),
            ))
            .await
            .unwrap();
        loop {
            let Some(Ok(Message::Text(text))) = socket.next().await else {
                panic!("no connection_ack")
            };
            if text.contains("connection_ack") {
                break;
            }
        }
        let (start, mut started) = tokio::sync::oneshot::channel::<()>();
        starters.push(start);
        let arrivals = arrivals.clone();
        let slug = slug.clone();
        tokio::spawn(async move {
            // Until every connection is open, read (tungstenite answers ping frames as it
            // reads), so that the first ones are not dropped as dead meanwhile.
            loop {
                tokio::select! {
                    _ = &mut started => break,
                    message = socket.next() => match message {
                        Some(Ok(Message::Text(text))) if text.contains(r#""type":"ping""#) => {
                            let _ = socket.send(Message::text(r#"{"type":"pong"}"#)).await;
                        }
                        Some(Ok(_)) => {}
                        _ => panic!("a connection ended before subscribing"),
                    },
                }
            }
            let subscribe = json!({"id": "1", "type": "subscribe", "payload": {
                "query": "subscription($slug: String!) { commentAdded(articleSlug: $slug) { id body author { username } } }",
                "variables": {"slug": slug},
            }});
            socket
                .send(Message::text(subscribe.to_string()))
                .await
                .unwrap();
            while let Some(Ok(message)) = socket.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let at = Instant::now();
                let value: Value = serde_json::from_str(&text).unwrap();
                match value["type"].as_str() {
                    Some("ping") => {
                        let _ = socket.send(Message::text(r#"{"type":"pong"}"#)).await;
                    }
                    Some("next") => {
                        let body = value["payload"]["data"]["commentAdded"]["body"]
                            .as_str()
                            .unwrap_or_else(|| panic!("unexpected {value}"));
                        let round: usize = body.trim_start_matches("round ").parse().unwrap();
                        let _ = arrivals.send((round, at));
                    }
                    _ => panic!("unexpected {value}"),
                }
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle = args.pid.and_then(rss_kib);

    for start in starters {
        let _ = start.send(());
    }
    let comment = "mutation($slug: String!, $body: String!) { addComment(articleSlug: $slug, body: $body) { id } }";
    // Round 0 warms up and proves every subscription is live before measuring.
    let mut latencies = Vec::new();
    let mut mutation_times = Vec::new();
    let mut round_p99 = Vec::new();
    let mut round = 0;
    while round <= args.rounds {
        let started = Instant::now();
        post(
            &args.url,
            comment,
            json!({"slug": slug, "body": format!("round {round}")}),
            Some(&token),
        )
        .await;
        let responded = started.elapsed();
        let mut got: HashMap<usize, usize> = HashMap::new();
        let mut this_round = Vec::with_capacity(args.subscribers);
        let deadline = Instant::now() + Duration::from_secs(if round == 0 { 30 } else { 10 });
        while this_round.len() < args.subscribers {
            let wait = deadline.saturating_duration_since(Instant::now());
            let Ok(Some((r, at))) = tokio::time::timeout(wait, arrived.recv()).await else {
                if round == 0 {
                    // Subscriptions still starting: send the warm-up again.
                    break;
                }
                panic!(
                    "round {round}: only {} of {} subscribers got the comment",
                    this_round.len(),
                    args.subscribers
                );
            };
            *got.entry(r).or_default() += 1;
            if r == round {
                this_round.push(at.duration_since(started));
            }
        }
        if round == 0 {
            if this_round.len() < args.subscribers {
                continue;
            }
            round = 1;
            continue;
        }
        mutation_times.push(responded);
        this_round.sort();
        round_p99.push(percentile(&this_round, 0.99));
        latencies.extend(this_round);
        round += 1;
    }
    let rss_subscribed = args.pid.and_then(rss_kib);

    latencies.sort();
    mutation_times.sort();
    println!(
        "subscribers: {}   rounds: {}   deliveries: {}",
        args.subscribers,
        args.rounds,
        latencies.len()
    );
    println!(
        "fan-out latency (mutation sent -> next received): p50 {}  p90 {}  p99 {}  max {}",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.9)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap())
    );
    println!(
        "addComment round trip: p50 {}   per-round p99 of deliveries: min {} max {}",
        ms(percentile(&mutation_times, 0.5)),
        ms(*round_p99.iter().min().unwrap()),
        ms(*round_p99.iter().max().unwrap())
    );
    if let (Some(before), Some(idle), Some(subscribed)) = (rss_before, rss_idle, rss_subscribed) {
        let n = args.subscribers as f64;
        println!(
            "server RSS: {before} KiB before, {idle} KiB with {} idle connections, {subscribed} KiB subscribed",
            args.subscribers
        );
        println!(
            "memory per idle connection: {:.1} KiB; per subscribed connection: {:.1} KiB",
            (idle as f64 - before as f64) / n,
            (subscribed as f64 - before as f64) / n
        );
    }
}
