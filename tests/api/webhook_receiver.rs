//! A real HTTP receiver for webhook deliveries (an axum server on a free local port)
//! answering a script of statuses, a Standard Webhooks verifier written here from the
//! spec (independent of `conduit::outbox::webhook::sign`), a webhook worker on a test
//! app's database with fast retries, and a resolver that maps names to addresses.

use std::{
    collections::{HashMap, VecDeque},
    io,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use conduit::outbox::{
    webhook::{WebhookSender, resolve::Lookup},
    worker::OutboxConfig,
};
use futures_util::future::BoxFuture;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::{sync::watch, task::JoinHandle};

use crate::helpers::TestApp;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its headers, names lower case.
    pub headers: HashMap<String, String>,
    /// Its body.
    pub body: String,
}

impl Received {
    /// A header's value ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<u16>,
    received: Vec<Received>,
}

/// The receiver: answers the statuses of its script in turn, then 200.
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
    server: JoinHandle<()>,
}

async fn receive(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let mut inner = inner.lock().unwrap();
    inner.received.push(Received {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let status = inner.script.pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    /// Starts a receiver answering `script`, then 200 to everything.
    pub async fn start(script: &[u16]) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            script: script.iter().copied().collect(),
            received: Vec::new(),
        }));
        let app = Router::new()
            .fallback(receive)
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self {
            addr,
            inner,
            server,
        }
    }

    /// `http://127.0.0.1:<port>/hook`.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// `http://<host>:<port>/hook`: the receiver under another name.
    pub fn url_as(&self, host: &str) -> String {
        format!("http://{host}:{}/hook", self.addr.port())
    }

    /// What it got so far.
    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits up to 20 s for `n` requests; returns what it got.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || start.elapsed() > Duration::from_secs(20) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Which `v1` entries of `r`'s `webhook-signature` the secret `whsec` signed, by the
/// Standard Webhooks spec: HMAC-SHA256 keyed with the base64 after `whsec_`, over
/// `{webhook-id}.{webhook-timestamp}.{body}`, base64. Also checks the timestamp is within
/// five minutes of now, as the spec's verifiers do.
pub fn verified_entries(whsec: &str, r: &Received) -> Vec<usize> {
    let key = STANDARD
        .decode(whsec.strip_prefix("whsec_").expect("whsec_ prefix"))
        .expect("base64 secret");
    let timestamp: i64 = r.header("webhook-timestamp").parse().expect("unix seconds");
    let now = chrono::Utc::now().timestamp();
    assert!(
        (now - timestamp).abs() < 300,
        "timestamp {timestamp} vs {now}"
    );
    let signed = format!("{}.{}.{}", r.header("webhook-id"), timestamp, r.body);
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(signed.as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    r.header("webhook-signature")
        .split(' ')
        .enumerate()
        .filter(|(_, entry)| *entry == expected)
        .map(|(i, _)| i)
        .collect()
}

/// True when `whsec` signed `r` (one of its entries).
pub fn verifies(whsec: &str, r: &Received) -> bool {
    !verified_entries(whsec, r).is_empty()
}

/// A resolver of fixed names (these machines have no DNS).
pub struct MapLookup(pub HashMap<String, Vec<IpAddr>>);

impl MapLookup {
    /// Resolves each `(name, address)`.
    pub fn of(entries: &[(&str, &str)]) -> Arc<dyn Lookup> {
        Arc::new(Self(
            entries
                .iter()
                .map(|(name, ip)| (name.to_string(), vec![ip.parse().unwrap()]))
                .collect(),
        ))
    }
}

impl Lookup for MapLookup {
    fn lookup(&self, host: &str) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        let found = self.0.get(host).cloned();
        let host = host.to_owned();
        Box::pin(async move {
            found.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{host}: unknown")))
        })
    }
}

/// A webhook worker running on a test app's database, stopped when dropped.
pub struct RunningWorker {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl Drop for RunningWorker {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        self.handle.abort();
    }
}

/// Starts `app`'s webhook worker, resolving through `lookup` (no names known when
/// `None`), retrying after 50 ms (doubling, at most 200 ms), polling every 50 ms.
pub fn start_worker(app: &TestApp, lookup: Option<Arc<dyn Lookup>>) -> RunningWorker {
    let state = &app.state;
    let lookup = lookup.unwrap_or_else(|| MapLookup::of(&[]));
    let sender = WebhookSender::with_lookup(
        state.pool.clone(),
        state.events,
        state.server_keys.clone(),
        state.config.webhooks.clone(),
        lookup,
    )
    .expect("webhook sender");
    let config = OutboxConfig {
        retry_base: Duration::from_millis(50),
        retry_max: Duration::from_millis(200),
        poll_interval: Duration::from_millis(50),
        ..OutboxConfig::default()
    };
    let (stop, stopping) = watch::channel(false);
    let worker = conduit::server::webhook_worker(state, sender, config);
    let handle = tokio::spawn(worker.run(stopping, Duration::from_secs(5)));
    RunningWorker { stop, handle }
}
