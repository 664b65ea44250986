//! Harness for live updates: the application served on a real TCP port (with its event
//! listener and hub running), and a raw WebSocket client.

use std::{net::SocketAddr, ops::Deref, time::Duration};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{net::TcpStream, sync::oneshot, task::JoinHandle};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{
        Message,
        client::IntoClientRequest,
        http::HeaderValue,
        protocol::{CloseFrame, frame::coding::CloseCode},
    },
};

use crate::helpers::{Account, TestApp};

/// How long a test waits for something that should happen.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// The application listening on 127.0.0.1, with its listener and hub running. Derefs to
/// the [`TestApp`] (the same state), so `gql`, `register`... work as usual.
pub struct TestServer {
    app: TestApp,
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
    _events: conduit::graphql::subscription::Running,
}

impl Deref for TestServer {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl TestServer {
    /// A server on its own database, with `vars` overriding the configuration.
    pub async fn start(vars: &[(&str, &str)]) -> Self {
        Self::serve(TestApp::with_config(vars).await).await
    }

    /// A second server on `other`'s database.
    pub async fn beside(other: &TestServer, vars: &[(&str, &str)]) -> Self {
        Self::serve(TestApp::sharing(&other.app, vars)).await
    }

    async fn serve(app: TestApp) -> Self {
        let events = conduit::server::live_updates(&app.state).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let state = app.state.clone();
        let deadline = state.config.shutdown_timeout;
        let task = tokio::spawn(async move {
            let router = conduit::app(state.clone());
            conduit::server::serve(
                listener,
                router,
                &state,
                async move {
                    let _ = stopped.await;
                },
                deadline,
            )
            .await
        });
        Self {
            app,
            addr,
            stop: Some(stop),
            task: Some(task),
            _events: events,
        }
    }

    /// The WebSocket URL.
    pub fn ws_url(&self) -> String {
        format!("ws://{}/graphql", self.addr)
    }

    /// Starts a graceful shutdown and waits until the server has stopped; returns how long
    /// that took.
    pub async fn shut_down(&mut self) -> Duration {
        let started = std::time::Instant::now();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server");
        }
        started.elapsed()
    }

    /// Waits until exactly `n` subscriptions are live on this instance.
    pub async fn wait_for_subscriptions(&self, n: usize) {
        let started = std::time::Instant::now();
        while self.state.hub.subscriptions() != n {
            assert!(
                started.elapsed() < PATIENCE,
                "expected {n} live subscriptions, have {}",
                self.state.hub.subscriptions()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A connected `graphql-transport-ws` client (not initialised yet).
    pub async fn ws(&self) -> WsClient {
        WsClient::connect(&self.ws_url(), Some("graphql-transport-ws")).await
    }

    /// A `graphql-transport-ws` client, initialised with `payload` and acknowledged.
    pub async fn ws_ready(&self, payload: Value) -> WsClient {
        let mut client = self.ws().await;
        client.init(payload).await;
        client
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// `{"authorization": "Bearer <token>"}`.
pub fn bearer(token: &str) -> Value {
    json!({ "authorization": format!("Bearer {token}") })
}

/// A raw WebSocket client speaking JSON text frames.
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Answer the server's protocol `ping` with `pong` (as graphql-ws clients do).
    pub answer_pings: bool,
}

/// What the client read.
#[derive(Debug)]
pub enum Frame {
    /// A JSON text message.
    Json(Value),
    /// A close frame: code and reason.
    Closed(u16, String),
    /// The connection ended without a close frame.
    Ended,
}

impl WsClient {
    /// Connects to `url` offering `protocol` (none if `None`).
    pub async fn connect(url: &str, protocol: Option<&str>) -> Self {
        let mut request = url.into_client_request().unwrap();
        if let Some(protocol) = protocol {
            request.headers_mut().insert(
                "sec-websocket-protocol",
                HeaderValue::from_str(protocol).unwrap(),
            );
        }
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket upgrade");
        if let Some(protocol) = protocol {
            let chosen = response.headers().get("sec-websocket-protocol");
            assert_eq!(chosen.and_then(|v| v.to_str().ok()), Some(protocol));
        }
        Self {
            socket,
            answer_pings: true,
        }
    }

    /// Sends a JSON message.
    pub async fn send(&mut self, message: Value) {
        self.send_text(&message.to_string()).await;
    }

    /// Sends a raw text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.socket
            .send(Message::text(text.to_owned()))
            .await
            .expect("send");
    }

    /// Sends a raw frame.
    pub async fn send_frame(&mut self, message: Message) {
        self.socket.send(message).await.expect("send");
    }

    /// `connection_init` with `payload`, then expects `connection_ack`.
    pub async fn init(&mut self, payload: Value) {
        self.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let ack = self.next_json().await;
        assert_eq!(ack["type"], "connection_ack", "{ack}");
    }

    /// `subscribe` (id `id`) to `query` with `variables`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({
            "id": id,
            "type": "subscribe",
            "payload": { "query": query, "variables": variables },
        }))
        .await;
    }

    /// The next frame within [`PATIENCE`], skipping WebSocket pings/pongs and (when
    /// `answer_pings`) answering protocol pings.
    pub async fn next_frame(&mut self) -> Frame {
        self.next_frame_within(PATIENCE)
            .await
            .expect("a frame in time")
    }

    /// The next frame within `limit`, if one comes.
    pub async fn next_frame_within(&mut self, limit: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()?;
            match frame {
                None | Some(Err(_)) => return Some(Frame::Ended),
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON message");
                    if value["type"] == "ping" && self.answer_pings {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return Some(Frame::Json(value));
                }
                Some(Ok(Message::Close(frame))) => {
                    let (code, reason) = frame
                        .map(|CloseFrame { code, reason }| (u16::from(code), reason.to_string()))
                        .unwrap_or((u16::from(CloseCode::Status), String::new()));
                    return Some(Frame::Closed(code, reason));
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next JSON message; panics on anything else.
    pub async fn next_json(&mut self) -> Value {
        match self.next_frame().await {
            Frame::Json(value) => value,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    /// Expects the server to close with `code`; returns the reason.
    pub async fn expect_close(&mut self, code: u16) -> String {
        match self.next_frame().await {
            Frame::Closed(got, reason) => {
                assert_eq!(got, code, "closed with {got} ({reason}), expected {code}");
                reason
            }
            other => panic!("expected close {code}, got {other:?}"),
        }
    }

    /// Expects no message for `quiet`.
    pub async fn expect_silence(&mut self, quiet: Duration) {
        if let Some(frame) = self.next_frame_within(quiet).await {
            panic!("expected silence, got {frame:?}");
        }
    }
}

impl WsClient {
    /// Opens a WebSocket on `addr`'s GraphQL URL by a hand-written handshake, sending
    /// `headers` besides the handshake's own: unlike tungstenite's client, it accepts an
    /// answer without the subprotocol it offered. Returns the client and the subprotocol
    /// the server chose, if any.
    pub async fn handshake(addr: SocketAddr, headers: &[(&str, &str)]) -> (Self, Option<String>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio_tungstenite::tungstenite::protocol::Role;

        let mut stream = TcpStream::connect(addr).await.expect("connect");
        let mut request = format!(
            "GET /graphql HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n"
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream
            .write_all(request.as_bytes())
            .await
            .expect("write the handshake");
        // Byte by byte: what follows the head already belongs to the WebSocket.
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            let byte = tokio::time::timeout(PATIENCE, stream.read_u8())
                .await
                .expect("a handshake answer in time")
                .expect("a handshake answer");
            head.push(byte);
        }
        let head = String::from_utf8(head).expect("an ASCII head");
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        let protocol = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.trim()
                .eq_ignore_ascii_case("sec-websocket-protocol")
                .then(|| value.trim().to_owned())
        });
        let socket =
            WebSocketStream::from_raw_socket(MaybeTlsStream::Plain(stream), Role::Client, None)
                .await;
        let client = Self {
            socket,
            answer_pings: true,
        };
        (client, protocol)
    }

    /// The next WebSocket message of any kind (pings included, answered by tungstenite
    /// as it reads), within `limit`: `None` if none came, `Some(None)` if the connection
    /// ended.
    pub async fn next_message_within(&mut self, limit: Duration) -> Option<Option<Message>> {
        let next = tokio::time::timeout(limit, self.socket.next()).await.ok()?;
        Some(next.and_then(Result::ok))
    }
}

impl WsClient {
    /// The next JSON message as the server wrote it (to check the order of its fields),
    /// within [`PATIENCE`]; pings are skipped as in [`WsClient::next_frame`].
    pub async fn next_text(&mut self) -> String {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .expect("a message in time");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON message");
                    if value["type"] == "ping" && self.answer_pings {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    return text.to_string();
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }
}

/// `createArticle`, returning the slug.
pub const CREATE: &str =
    "mutation($input: CreateArticleInput!) { createArticle(input: $input) { slug } }";
/// `addComment`, returning the comment's id and body.
pub const COMMENT: &str = "mutation($slug: String!, $body: String!) { addComment(articleSlug: $slug, body: $body) { id body } }";

/// Runs `query` as `token`'s user, asserting it has no errors; returns `data`.
pub async fn ok(app: &TestApp, query: &str, variables: Value, token: Option<&str>) -> Value {
    let body = app.gql(query, variables, token).await;
    assert!(body.get("errors").is_none(), "{query}: {body}");
    body["data"].clone()
}

/// Publishes an article titled `title` as `who`; returns its slug.
pub async fn publish(app: &TestApp, who: &Account, title: &str) -> String {
    let input = json!({"input": {"title": title, "description": "d", "body": "b", "tags": []}});
    let data = ok(app, CREATE, input, Some(&who.access)).await;
    data["createArticle"]["slug"].as_str().unwrap().to_owned()
}

/// Comments `body` on `slug` as `who`; returns the comment's ID.
pub async fn comment(app: &TestApp, who: &Account, slug: &str, body: &str) -> String {
    let vars = json!({"slug": slug, "body": body});
    let data = ok(app, COMMENT, vars, Some(&who.access)).await;
    data["addComment"]["id"].as_str().unwrap().to_owned()
}
