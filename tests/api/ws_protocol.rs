//! The WebSocket protocol by raw frames: every close code, keep-alive, limits, both subprotocols.
//!
//! The reference is graphql-ws's PROTOCOL.md (`graphql-transport-ws`) and, for the legacy
//! `graphql-ws` subprotocol, subscriptions-transport-ws. Time-based behaviour runs on
//! short intervals set through the configuration; events are awaited with the harness's
//! patience, never with sleeps.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    helpers::Account,
    live::{self, Frame, PATIENCE, TestServer, WsClient, bearer, publish},
};

const COMMENT_ADDED: &str =
    "subscription($slug: String!) { commentAdded(articleSlug: $slug) { body } }";

/// Long enough for a message already on its way to arrive.
const QUIET: Duration = Duration::from_millis(300);

/// Registers `alice` and publishes an article; returns her and its slug.
async fn article(server: &TestServer) -> (Account, String) {
    let author = server.register("alice").await;
    let slug = publish(server, &author, "Live").await;
    (author, slug)
}

/// `who` comments `body` on `slug`.
async fn comment(server: &TestServer, who: &Account, slug: &str, body: &str) {
    live::comment(server, who, slug, body).await;
}

/// Expects the `next` of a `commentAdded` subscription `id` with `body`.
async fn expect_comment(client: &mut WsClient, id: &str, body: &str) {
    let next = client.next_json().await;
    assert_eq!(
        next,
        json!({"id": id, "type": "next", "payload": {"data": {"commentAdded": {"body": body}}}})
    );
}

/// Runs `{ __typename }` over the socket as operation `id` and expects its result: the
/// socket is still open and usable.
async fn expect_usable(client: &mut WsClient, id: &str) {
    client.subscribe(id, "{ __typename }", json!({})).await;
    assert_eq!(
        client.next_json().await,
        json!({"id": id, "type": "next", "payload": {"data": {"__typename": "Query"}}})
    );
    assert_eq!(
        client.next_json().await,
        json!({"id": id, "type": "complete"})
    );
}

/// Waits until exactly `n` WebSockets are open on `server`, reading `reading` meanwhile
/// (so that it answers pings) if given.
async fn wait_for_open_sockets(server: &TestServer, n: usize, mut reading: Option<&mut WsClient>) {
    let started = Instant::now();
    while server.state.lifecycle.open_sockets() != n {
        assert!(
            started.elapsed() < PATIENCE,
            "expected {n} open sockets, have {}",
            server.state.lifecycle.open_sockets()
        );
        match reading.as_deref_mut() {
            Some(client) => {
                if let Some(frame) = client.next_frame_within(Duration::from_millis(5)).await {
                    panic!("the reading client got {frame:?}");
                }
            }
            None => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

// ---------------------------------------------------------------------------------------
// 4400: invalid messages
// ---------------------------------------------------------------------------------------

/// Sends `text` on a fresh socket (initialised first if `init`) and expects 4400 with a
/// reason that starts like graphql-ws's own and mentions `needle`.
async fn expect_invalid(server: &TestServer, init: bool, text: &str, needle: &str) {
    let mut client = server.ws().await;
    if init {
        client.init(json!({})).await;
    }
    client.send_text(text).await;
    let reason = client.expect_close(4400).await;
    assert!(
        reason.starts_with("Invalid message received") && reason.contains(needle),
        "{text}: {reason}"
    );
}

#[tokio::test]
async fn invalid_json_closes_with_4400() {
    let server = TestServer::start(&[]).await;
    expect_invalid(&server, false, "not json", "expected").await;
    expect_invalid(&server, true, "{\"type\":", "EOF").await;
    // JSON, but not a message.
    expect_invalid(&server, true, "[]", "").await;
    expect_invalid(&server, true, "\"ping\"", "").await;
    expect_invalid(&server, true, "{}", "type").await;
}

#[tokio::test]
async fn an_unknown_message_type_closes_with_4400() {
    let server = TestServer::start(&[]).await;
    expect_invalid(&server, true, r#"{"type":"whatever"}"#, "`whatever`").await;
    // Server-to-client types are not client messages either.
    expect_invalid(
        &server,
        true,
        r#"{"type":"connection_ack"}"#,
        "connection_ack",
    )
    .await;
    expect_invalid(
        &server,
        true,
        r#"{"id":"1","type":"next","payload":{}}"#,
        "`next`",
    )
    .await;
}

#[tokio::test]
async fn a_close_reason_is_cut_to_what_a_close_frame_holds() {
    let server = TestServer::start(&[]).await;
    let mut client = server.ws_ready(json!({})).await;
    let kind = "é".repeat(200);
    client.send(json!({ "type": kind })).await;
    let reason = client.expect_close(4400).await;
    assert!(reason.len() <= 123, "{} bytes: {reason}", reason.len());
    assert!(reason.starts_with("Invalid message received"), "{reason}");
    assert!(reason.ends_with("..."), "{reason}");
}

#[tokio::test]
async fn subscribe_without_an_id_closes_with_4400() {
    let server = TestServer::start(&[]).await;
    let payload = json!({ "query": "{ __typename }" });
    for message in [
        json!({ "type": "subscribe", "payload": payload }),
        json!({ "id": "", "type": "subscribe", "payload": payload }),
        json!({ "id": null, "type": "subscribe", "payload": payload }),
    ] {
        expect_invalid(&server, true, &message.to_string(), "needs an id").await;
    }
    // An id must be a string.
    let numeric = json!({ "id": 1, "type": "subscribe", "payload": payload });
    expect_invalid(&server, true, &numeric.to_string(), "invalid type").await;
    // So must a subscribe's payload be there, with a query.
    expect_invalid(&server, true, r#"{"id":"1","type":"subscribe"}"#, "payload").await;
    expect_invalid(
        &server,
        true,
        r#"{"id":"1","type":"subscribe","payload":{"variables":{}}}"#,
        "query",
    )
    .await;
}

#[tokio::test]
async fn connection_init_with_a_payload_that_is_not_an_object_closes_with_4400() {
    let server = TestServer::start(&[]).await;
    for payload in [
        json!("Bearer token"),
        json!(["token"]),
        json!(42),
        json!(true),
    ] {
        let text = json!({ "type": "connection_init", "payload": payload }).to_string();
        expect_invalid(&server, false, &text, "must be an object").await;
    }
    // No payload, or null, is an empty one.
    for text in [
        r#"{"type":"connection_init"}"#,
        r#"{"type":"connection_init","payload":null}"#,
    ] {
        let mut client = server.ws().await;
        client.send_text(text).await;
        assert_eq!(
            client.next_json().await,
            json!({"type": "connection_ack"}),
            "{text}"
        );
    }
}

#[tokio::test]
async fn legacy_only_types_close_graphql_transport_ws_with_4400() {
    let server = TestServer::start(&[]).await;
    let payload = json!({ "query": "{ __typename }" });
    for message in [
        json!({ "id": "1", "type": "start", "payload": payload }),
        json!({ "id": "1", "type": "stop" }),
        json!({ "type": "connection_terminate" }),
    ] {
        let kind = message["type"].as_str().unwrap().to_owned();
        expect_invalid(&server, true, &message.to_string(), &format!("`{kind}`")).await;
    }
}

#[tokio::test]
async fn graphql_transport_ws_only_types_close_the_legacy_protocol_with_4400() {
    let server = TestServer::start(&[]).await;
    for message in [
        json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ __typename }" } }),
        json!({ "id": "1", "type": "complete" }),
        json!({ "type": "ping" }),
    ] {
        let mut client = legacy_ready(&server).await;
        client.send(message.clone()).await;
        let kind = message["type"].as_str().unwrap();
        let reason = loop {
            match client.next_frame().await {
                Frame::Json(ka) if ka["type"] == "ka" => continue,
                Frame::Closed(code, reason) => {
                    assert_eq!(code, 4400, "{message}: {reason}");
                    break reason;
                }
                other => panic!("{message}: expected close 4400, got {other:?}"),
            }
        };
        assert!(reason.contains(&format!("`{kind}`")), "{reason}");
    }
}

// ---------------------------------------------------------------------------------------
// 4401, 4403, 4406, 4408, 4409, 4429, 1009
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn subscribe_before_connection_init_closes_with_4401() {
    let server = TestServer::start(&[]).await;
    let mut client = server.ws().await;
    client.subscribe("1", "{ __typename }", json!({})).await;
    assert_eq!(client.expect_close(4401).await, "Unauthorized");
}

#[tokio::test]
async fn connection_init_with_an_invalid_token_closes_with_4403() {
    let server = TestServer::start(&[]).await;
    let account = server.register("alice").await;
    for payload in [
        bearer("not-a-token"),
        json!({ "Authorization": "Bearer not-a-token" }),
        json!({ "token": "not-a-token" }),
        json!({ "authorization": format!("Basic {}", account.access) }),
        json!({ "authorization": 42 }),
    ] {
        let mut client = server.ws().await;
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let reason = client.expect_close(4403).await;
        assert!(reason.starts_with("Forbidden"), "{payload}: {reason}");
    }
    // The same forms with a valid token are acknowledged.
    for payload in [
        bearer(&account.access),
        json!({ "Authorization": format!("Bearer {}", account.access) }),
        json!({ "token": account.access }),
    ] {
        let mut client = server.ws().await;
        client.init(payload).await;
        client
            .subscribe("me", "{ viewer { username } }", json!({}))
            .await;
        let next = client.next_json().await;
        assert_eq!(
            next["payload"]["data"]["viewer"]["username"], "alice",
            "{next}"
        );
    }
}

#[tokio::test]
async fn no_subprotocol_closes_with_4406() {
    let server = TestServer::start(&[]).await;
    let mut client = WsClient::connect(&server.ws_url(), None).await;
    let reason = client.expect_close(4406).await;
    assert!(
        reason.starts_with("Subprotocol not acceptable") && reason.contains("graphql-transport-ws"),
        "{reason}"
    );
}

#[tokio::test]
async fn an_unknown_subprotocol_closes_with_4406() {
    let server = TestServer::start(&[]).await;
    for offered in ["graphql-sse", "graphql-transport-ws-v2, mqtt"] {
        let (mut client, chosen) =
            WsClient::handshake(server.addr, &[("Sec-WebSocket-Protocol", offered)]).await;
        assert_eq!(chosen, None, "{offered}");
        let reason = client.expect_close(4406).await;
        assert!(reason.starts_with("Subprotocol not acceptable"), "{reason}");
    }
}

#[tokio::test]
async fn the_server_prefers_graphql_transport_ws_when_both_are_offered() {
    let server = TestServer::start(&[]).await;
    for offered in [
        "graphql-ws, graphql-transport-ws",
        "graphql-transport-ws, graphql-ws",
    ] {
        let (mut client, chosen) =
            WsClient::handshake(server.addr, &[("Sec-WebSocket-Protocol", offered)]).await;
        assert_eq!(chosen.as_deref(), Some("graphql-transport-ws"), "{offered}");
        client.init(json!({})).await;
        client.send(json!({ "type": "ping" })).await;
        assert_eq!(client.next_json().await, json!({ "type": "pong" }));
    }
}

#[tokio::test]
async fn no_connection_init_in_time_closes_with_4408() {
    let server = TestServer::start(&[("WS_INIT_TIMEOUT_MS", "200")]).await;
    let started = Instant::now();
    let mut idle = server.ws().await;
    // Pings are allowed before connection_init but do not count as one.
    let mut pinging = server.ws().await;
    pinging.send(json!({ "type": "ping" })).await;
    assert_eq!(pinging.next_json().await, json!({ "type": "pong" }));
    for client in [&mut idle, &mut pinging] {
        let reason = client.expect_close(4408).await;
        assert_eq!(reason, "Connection initialisation timeout");
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(180), "closed after {took:?}");
}

#[tokio::test]
async fn a_socket_that_did_init_outlives_the_init_timeout() {
    let server = TestServer::start(&[("WS_INIT_TIMEOUT_MS", "200")]).await;
    let mut client = server.ws_ready(json!({})).await;
    client.expect_silence(Duration::from_millis(600)).await;
    expect_usable(&mut client, "q").await;
}

#[tokio::test]
async fn a_duplicate_id_while_the_first_subscription_runs_closes_with_4409() {
    let server = TestServer::start(&[]).await;
    let (_, slug) = article(&server).await;
    let mut client = server.ws_ready(json!({})).await;
    client
        .subscribe("sub-1", COMMENT_ADDED, json!({"slug": slug}))
        .await;
    server.wait_for_subscriptions(1).await;
    // Whatever the second operation is.
    client.subscribe("sub-1", "{ __typename }", json!({})).await;
    assert_eq!(
        client.expect_close(4409).await,
        "Subscriber for sub-1 already exists"
    );
    // The connection's subscriptions went with it.
    server.wait_for_subscriptions(0).await;
}

#[tokio::test]
async fn a_4409_reason_with_a_long_id_is_cut_to_what_a_close_frame_holds() {
    let server = TestServer::start(&[]).await;
    let (_, slug) = article(&server).await;
    let mut client = server.ws_ready(json!({})).await;
    let id = "x".repeat(300);
    client
        .subscribe(&id, COMMENT_ADDED, json!({"slug": slug}))
        .await;
    server.wait_for_subscriptions(1).await;
    client
        .subscribe(&id, COMMENT_ADDED, json!({"slug": slug}))
        .await;
    let reason = client.expect_close(4409).await;
    assert!(reason.len() <= 123, "{} bytes", reason.len());
    assert!(reason.starts_with("Subscriber for xxx"), "{reason}");
}

#[tokio::test]
async fn an_id_can_be_reused_once_its_operation_is_complete() {
    let server = TestServer::start(&[]).await;
    let (author, slug) = article(&server).await;
    let mut client = server.ws_ready(json!({})).await;

    // Completed by the client.
    client
        .subscribe("1", COMMENT_ADDED, json!({"slug": slug}))
        .await;
    server.wait_for_subscriptions(1).await;
    client.send(json!({"id": "1", "type": "complete"})).await;
    server.wait_for_subscriptions(0).await;
    client
        .subscribe("1", COMMENT_ADDED, json!({"slug": slug}))
        .await;
    server.wait_for_subscriptions(1).await;
    comment(&server, &author, &slug, "once").await;
    expect_comment(&mut client, "1", "once").await;
    client.expect_silence(QUIET).await;

    // Completed by the server (a query).
    expect_usable(&mut client, "q").await;
    expect_usable(&mut client, "q").await;

    // Completing an unknown or finished id is ignored.
    client.send(json!({"id": "q", "type": "complete"})).await;
    client
        .send(json!({"id": "never", "type": "complete"}))
        .await;
    client.send(json!({"type": "ping"})).await;
    assert_eq!(client.next_json().await, json!({"type": "pong"}));
    server.wait_for_subscriptions(1).await;
}

#[tokio::test]
async fn a_second_connection_init_closes_with_4429() {
    let server = TestServer::start(&[]).await;
    let mut client = server.ws_ready(json!({})).await;
    client
        .send(json!({"type": "connection_init", "payload": {}}))
        .await;
    assert_eq!(
        client.expect_close(4429).await,
        "Too many initialisation requests"
    );
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_with_1009() {
    let server = TestServer::start(&[("WS_MAX_MESSAGE_BYTES", "1024")]).await;
    // Exactly the limit is accepted.
    let mut client = server.ws_ready(json!({})).await;
    let ping = r#"{"type":"ping"}"#;
    let exact = format!("{ping}{}", " ".repeat(1024 - ping.len()));
    assert_eq!(exact.len(), 1024);
    client.send_text(&exact).await;
    assert_eq!(client.next_json().await, json!({"type": "pong"}));
    // One byte more is not, valid message or not, before connection_init or after.
    let over = format!("{exact} ");
    client.send_text(&over).await;
    let reason = client.expect_close(1009).await;
    assert!(
        reason.starts_with("Message too big") && reason.contains("1024"),
        "{reason}"
    );
    let mut fresh = server.ws().await;
    fresh.send_text(&"x".repeat(1500)).await;
    fresh.expect_close(1009).await;
}

#[tokio::test]
async fn a_message_far_over_the_size_limit_closes_with_1009_too() {
    let server = TestServer::start(&[("WS_MAX_MESSAGE_BYTES", "1024")]).await;
    let mut client = server.ws_ready(json!({})).await;
    client.send_text(&"x".repeat(3 * 1024)).await;
    client.expect_close(1009).await;
}

// ---------------------------------------------------------------------------------------
// ping / pong and keep-alive
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_client_ping_is_answered_with_pong_before_and_after_connection_init() {
    let server = TestServer::start(&[]).await;
    let mut client = server.ws().await;
    client.send(json!({"type": "ping"})).await;
    assert_eq!(client.next_json().await, json!({"type": "pong"}));
    client.init(json!({})).await;
    client
        .send(json!({"type": "ping", "payload": {"sent": 1}}))
        .await;
    assert_eq!(client.next_json().await, json!({"type": "pong"}));
    // An unsolicited pong is a heartbeat, not an error.
    client.send(json!({"type": "pong"})).await;
    client
        .send(json!({"type": "pong", "payload": {"x": 1}}))
        .await;
    client.expect_silence(QUIET).await;
    expect_usable(&mut client, "q").await;
}

#[tokio::test]
async fn the_server_pings_with_messages_and_frames() {
    let server = TestServer::start(&[("WS_KEEPALIVE_MS", "100")]).await;
    let mut client = server.ws_ready(json!({})).await;
    client.answer_pings = false;
    let (mut messages, mut frames) = (0, 0);
    let deadline = Instant::now() + PATIENCE;
    while messages < 2 || frames < 2 {
        assert!(
            Instant::now() < deadline,
            "{messages} ping messages, {frames} ping frames"
        );
        match client.next_message_within(PATIENCE).await.flatten() {
            Some(Message::Ping(_)) => frames += 1,
            Some(Message::Text(text)) => {
                let message: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(message, json!({"type": "ping"}));
                messages += 1;
            }
            other => panic!("expected pings, got {other:?}"),
        }
    }
    // Answered by pong frames alone (tungstenite's, as it reads), the socket stays open.
    client.answer_pings = true;
    expect_usable(&mut client, "q").await;
}

#[tokio::test]
async fn a_healthy_idle_client_stays_connected_through_many_keepalive_intervals() {
    let server = TestServer::start(&[("WS_KEEPALIVE_MS", "100")]).await;
    let mut client = server.ws_ready(json!({})).await;
    client.answer_pings = false;
    let mut pings = 0;
    let until = Instant::now() + Duration::from_millis(1200);
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match client.next_message_within(left).await {
            None => break,
            Some(Some(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Some(Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(message, json!({"type": "ping"}));
                pings += 1;
                client.send(json!({"type": "pong"})).await;
            }
            other => panic!("expected only pings, got {other:?}"),
        }
    }
    assert!(pings >= 5, "only {pings} pings in 12 intervals");
    assert_eq!(server.state.lifecycle.open_sockets(), 1);
    client.answer_pings = true;
    expect_usable(&mut client, "q").await;
}

#[tokio::test]
async fn a_client_that_never_reads_is_dropped_after_about_two_keepalive_intervals() {
    let server = TestServer::start(&[("WS_KEEPALIVE_MS", "100")]).await;
    let (_, slug) = article(&server).await;
    let connected = Instant::now();
    let mut stuck = server.ws_ready(json!({})).await;
    stuck
        .subscribe("1", COMMENT_ADDED, json!({"slug": slug}))
        .await;
    server.wait_for_subscriptions(1).await;
    // From here on `stuck` is not polled: it answers nothing, not even ping frames.
    let mut healthy = server.ws_ready(json!({})).await;
    assert_eq!(server.state.lifecycle.open_sockets(), 2);
    wait_for_open_sockets(&server, 1, Some(&mut healthy)).await;
    let took = connected.elapsed();
    assert!(
        took >= Duration::from_millis(150) && took < Duration::from_millis(2000),
        "dropped {took:?} after it connected"
    );
    // The healthy client was not affected.
    expect_usable(&mut healthy, "q").await;
    server.wait_for_subscriptions(0).await;
    // The stuck one finds what was written before the server gave up, then the end,
    // without a close frame (the peer was presumed gone).
    stuck.answer_pings = false;
    loop {
        match stuck.next_frame().await {
            Frame::Json(message) => assert_eq!(message["type"], "ping", "{message}"),
            Frame::Ended => break,
            Frame::Closed(code, reason) => panic!("closed with {code} ({reason})"),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Errors of operations, closing by the client
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_operation_that_fails_before_it_runs_gets_error_and_frees_its_id() {
    let server = TestServer::start(&[]).await;
    let mut client = server.ws_ready(json!({})).await;
    for query in [
        "subscription {",
        "subscription { noSuchField }",
        "{ noSuchField }",
        "subscription { commentAdded(articleSlug: 1) { body } }",
    ] {
        client.subscribe("1", query, json!({})).await;
        let error = client.next_json().await;
        assert_eq!(error["id"], "1", "{query}: {error}");
        assert_eq!(error["type"], "error", "{query}: {error}");
        let errors = error["payload"].as_array().expect("an array of errors");
        assert!(
            !errors.is_empty() && errors[0]["message"].is_string(),
            "{error}"
        );
        // No `complete` follows an `error`, and the id is free again.
        expect_usable(&mut client, "1").await;
    }
    server.wait_for_subscriptions(0).await;
}

#[tokio::test]
async fn a_subscription_to_a_missing_article_ends_and_frees_its_id() {
    let server = TestServer::start(&[]).await;
    let mut client = server.ws_ready(json!({})).await;
    client
        .subscribe("1", COMMENT_ADDED, json!({"slug": "no-such-article"}))
        .await;
    let first = client.next_json().await;
    assert_eq!(first["id"], "1", "{first}");
    match first["type"].as_str() {
        // An execution error: `next` with the error, then `complete`...
        Some("next") => {
            assert_eq!(
                first["payload"]["errors"][0]["extensions"]["code"], "NOT_FOUND",
                "{first}"
            );
            assert_eq!(
                client.next_json().await,
                json!({"id": "1", "type": "complete"})
            );
        }
        // ... or an `error` alone.
        Some("error") => {}
        _ => panic!("{first}"),
    }
    server.wait_for_subscriptions(0).await;
    expect_usable(&mut client, "1").await;
}

/// Sends a normal close frame, as graphql-ws's client does when it is disposed.
async fn close_normally(client: &mut WsClient) {
    use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};

    client
        .send_frame(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        })))
        .await;
}

#[tokio::test]
async fn a_client_close_ends_its_subscriptions() {
    let server = TestServer::start(&[]).await;
    let (_, slug) = article(&server).await;
    let mut client = server.ws_ready(json!({})).await;
    client
        .subscribe("1", COMMENT_ADDED, json!({"slug": slug}))
        .await;
    client
        .subscribe("2", COMMENT_ADDED, json!({"slug": slug}))
        .await;
    server.wait_for_subscriptions(2).await;
    close_normally(&mut client).await;
    server.wait_for_subscriptions(0).await;
    wait_for_open_sockets(&server, 0, None).await;
}

#[tokio::test]
async fn a_client_close_is_answered_with_a_close_frame() {
    let server = TestServer::start(&[]).await;
    let mut client = server.ws_ready(json!({})).await;
    close_normally(&mut client).await;
    // RFC 6455 5.5.1: an endpoint that receives a close frame (and has not sent one)
    // MUST send one in response.
    match client.next_frame().await {
        Frame::Closed(code, _) => assert_eq!(code, 1000),
        other => panic!("expected the close frame answered, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// complete, slow consumers, shutdown
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn complete_from_the_client_stops_a_subscription() {
    let server = TestServer::start(&[]).await;
    let (author, slug) = article(&server).await;
    let mut client = server.ws_ready(json!({})).await;
    let mut control = server.ws_ready(json!({})).await;
    client
        .subscribe("1", COMMENT_ADDED, json!({"slug": slug}))
        .await;
    control
        .subscribe("c", COMMENT_ADDED, json!({"slug": slug}))
        .await;
    server.wait_for_subscriptions(2).await;
    comment(&server, &author, &slug, "before").await;
    expect_comment(&mut client, "1", "before").await;
    expect_comment(&mut control, "c", "before").await;

    client.send(json!({"id": "1", "type": "complete"})).await;
    server.wait_for_subscriptions(1).await;
    comment(&server, &author, &slug, "after").await;
    // Once the control subscriber has the event, the hub has handled it.
    expect_comment(&mut control, "c", "after").await;
    // Nothing for the completed subscription, not even a `complete`.
    client.expect_silence(QUIET).await;
    expect_usable(&mut client, "q").await;
}

#[tokio::test]
async fn a_connection_whose_queue_overflows_closes_with_1013_without_stalling_others() {
    let server = TestServer::start(&[("WS_QUEUE_CAPACITY", "2")]).await;
    let (author, slug) = article(&server).await;
    let mut slow = server.ws_ready(json!({})).await;
    for id in ["1", "2", "3", "4", "5"] {
        slow.subscribe(id, COMMENT_ADDED, json!({"slug": slug}))
            .await;
    }
    let mut healthy = server.ws_ready(json!({})).await;
    healthy
        .subscribe("h", COMMENT_ADDED, json!({"slug": slug}))
        .await;
    server.wait_for_subscriptions(6).await;

    // `slow` stops reading; `healthy` reads every event.
    let bodies: Vec<String> = (1..=5).map(|n| format!("comment {n}")).collect();
    for body in &bodies {
        comment(&server, &author, &slug, body).await;
        expect_comment(&mut healthy, "h", body).await;
    }
    // The hub dropped the slow connection's subscriptions.
    server.wait_for_subscriptions(1).await;

    let mut delivered = 0;
    let reason = loop {
        match slow.next_frame().await {
            Frame::Json(next) => {
                assert_eq!(next["type"], "next", "{next}");
                delivered += 1;
            }
            Frame::Closed(code, reason) => {
                assert_eq!(code, 1013, "{reason}");
                break reason;
            }
            Frame::Ended => panic!("ended without a close frame"),
        }
    };
    assert!(
        reason.contains("slow"),
        "{reason} (after {delivered} messages)"
    );
    healthy.expect_silence(QUIET).await;
}

#[tokio::test]
async fn graceful_shutdown_closes_a_subscribed_socket_with_1001_promptly() {
    let mut server = TestServer::start(&[("SHUTDOWN_TIMEOUT_MS", "5000")]).await;
    let (_, slug) = article(&server).await;
    let mut client = server.ws_ready(json!({})).await;
    client
        .subscribe("1", COMMENT_ADDED, json!({"slug": slug}))
        .await;
    server.wait_for_subscriptions(1).await;
    let took = server.shut_down().await;
    assert!(took < Duration::from_millis(2500), "{took:?}");
    assert_eq!(server.state.lifecycle.open_sockets(), 0);
    let reason = client.expect_close(1001).await;
    assert!(reason.contains("shutting down"), "{reason}");
}

// ---------------------------------------------------------------------------------------
// The legacy `graphql-ws` subprotocol (subscriptions-transport-ws)
// ---------------------------------------------------------------------------------------

/// A legacy client, initialised and acknowledged.
async fn legacy_ready(server: &TestServer) -> WsClient {
    let mut client = WsClient::connect(&server.ws_url(), Some("graphql-ws")).await;
    client
        .send(json!({"type": "connection_init", "payload": {}}))
        .await;
    assert_eq!(client.next_json().await, json!({"type": "connection_ack"}));
    client
}

/// The next legacy message other than `ka`.
async fn next_legacy(client: &mut WsClient) -> Value {
    loop {
        let message = client.next_json().await;
        if message["type"] != "ka" {
            return message;
        }
    }
}

/// Expects nothing but `ka` for `quiet`.
async fn expect_legacy_silence(client: &mut WsClient, quiet: Duration) {
    let until = Instant::now() + quiet;
    while let Some(left) = until.checked_duration_since(Instant::now()) {
        match client.next_frame_within(left).await {
            None => return,
            Some(Frame::Json(ka)) if ka["type"] == "ka" => {}
            Some(other) => panic!("expected silence, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_legacy_protocol_acknowledges_then_keeps_alive_with_ka() {
    let server = TestServer::start(&[("WS_KEEPALIVE_MS", "100")]).await;
    let mut client = legacy_ready(&server).await;
    // `ka` after `ka`, and nothing else.
    for _ in 0..3 {
        assert_eq!(client.next_json().await, json!({"type": "ka"}));
    }
    expect_legacy_silence(&mut client, QUIET).await;
}

#[tokio::test]
async fn the_legacy_protocol_sends_ka_right_after_the_ack() {
    // subscriptions-transport-ws's PROTOCOL.md: GQL_CONNECTION_KEEP_ALIVE "should be sent
    // right after each GQL_CONNECTION_ACK processed and then periodically" (its server
    // does), whatever the interval.
    let server = TestServer::start(&[]).await;
    let mut client = WsClient::connect(&server.ws_url(), Some("graphql-ws")).await;
    client
        .send(json!({"type": "connection_init", "payload": {}}))
        .await;
    assert_eq!(client.next_json().await, json!({"type": "connection_ack"}));
    match client.next_frame_within(Duration::from_secs(2)).await {
        Some(Frame::Json(ka)) => assert_eq!(ka, json!({"type": "ka"})),
        other => panic!("expected ka, got {other:?}"),
    }
}

#[tokio::test]
async fn the_legacy_protocol_starts_and_stops_subscriptions() {
    let server = TestServer::start(&[]).await;
    let (author, slug) = article(&server).await;
    let mut client = legacy_ready(&server).await;
    let mut control = server.ws_ready(json!({})).await;
    control
        .subscribe("c", COMMENT_ADDED, json!({"slug": slug}))
        .await;
    client
        .send(json!({
            "id": "1",
            "type": "start",
            "payload": {"query": COMMENT_ADDED, "variables": {"slug": slug}},
        }))
        .await;
    server.wait_for_subscriptions(2).await;
    comment(&server, &author, &slug, "legacy").await;
    assert_eq!(
        next_legacy(&mut client).await,
        json!({"id": "1", "type": "data", "payload": {"data": {"commentAdded": {"body": "legacy"}}}})
    );
    expect_comment(&mut control, "c", "legacy").await;

    client.send(json!({"id": "1", "type": "stop"})).await;
    assert_eq!(
        next_legacy(&mut client).await,
        json!({"id": "1", "type": "complete"})
    );
    server.wait_for_subscriptions(1).await;
    comment(&server, &author, &slug, "stopped").await;
    expect_comment(&mut control, "c", "stopped").await;
    expect_legacy_silence(&mut client, QUIET).await;
}

#[tokio::test]
async fn the_legacy_protocol_completes_a_stopped_subscription() {
    // subscriptions-transport-ws's PROTOCOL.md: "When client unsubscribe, the server
    // triggers onOperationDone and sends GQL_COMPLETE message to the client."
    let server = TestServer::start(&[]).await;
    let (_, slug) = article(&server).await;
    let mut client = legacy_ready(&server).await;
    client
        .send(json!({
            "id": "1",
            "type": "start",
            "payload": {"query": COMMENT_ADDED, "variables": {"slug": slug}},
        }))
        .await;
    server.wait_for_subscriptions(1).await;
    client.send(json!({"id": "1", "type": "stop"})).await;
    assert_eq!(
        next_legacy(&mut client).await,
        json!({"id": "1", "type": "complete"})
    );
    server.wait_for_subscriptions(0).await;
}

#[tokio::test]
async fn the_legacy_protocol_answers_a_query_with_data_then_complete() {
    let server = TestServer::start(&[]).await;
    let mut client = WsClient::connect(&server.ws_url(), Some("graphql-ws")).await;
    client
        .send(json!({"type": "connection_init", "payload": {}}))
        .await;
    assert_eq!(next_legacy(&mut client).await["type"], "connection_ack");
    client
        .send(json!({"id": "q", "type": "start", "payload": {"query": "{ __typename }"}}))
        .await;
    assert_eq!(
        next_legacy(&mut client).await,
        json!({"id": "q", "type": "data", "payload": {"data": {"__typename": "Query"}}})
    );
    assert_eq!(
        next_legacy(&mut client).await,
        json!({"id": "q", "type": "complete"})
    );
}

#[tokio::test]
async fn the_legacy_protocol_closes_on_connection_terminate() {
    let server = TestServer::start(&[]).await;
    let mut client = WsClient::connect(&server.ws_url(), Some("graphql-ws")).await;
    client
        .send(json!({"type": "connection_init", "payload": {}}))
        .await;
    assert_eq!(next_legacy(&mut client).await["type"], "connection_ack");
    client.send(json!({"type": "connection_terminate"})).await;
    loop {
        match client.next_frame().await {
            Frame::Json(ka) if ka["type"] == "ka" => {}
            Frame::Closed(code, _) => {
                assert_eq!(code, 1000);
                break;
            }
            other => panic!("expected close 1000, got {other:?}"),
        }
    }
    wait_for_open_sockets(&server, 0, None).await;
}

#[tokio::test]
async fn the_legacy_protocol_refuses_a_bad_token_with_connection_error_then_4403() {
    let server = TestServer::start(&[]).await;
    let mut client = WsClient::connect(&server.ws_url(), Some("graphql-ws")).await;
    client
        .send(json!({"type": "connection_init", "payload": bearer("not-a-token")}))
        .await;
    let error = client.next_json().await;
    assert_eq!(error["type"], "connection_error", "{error}");
    assert!(
        error["payload"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Forbidden")),
        "{error}"
    );
    client.expect_close(4403).await;
}

// ---------------------------------------------------------------------------------------
// GraphiQL
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn graphiqls_subscription_url_speaks_what_graphiql_sends() {
    let server = TestServer::start(&[]).await;
    let (author, slug) = article(&server).await;
    let addr = server.addr;
    // The page's script (ide/graphiql/src/main.js) subscribes on ws(s)://<its host>/graphql;
    // the e2e test (e2e/ide.test.mjs) runs it in Chromium.
    // GraphiQL's fetcher (graphql-ws's client) offers graphql-transport-ws on that URL;
    // a browser-like Accept header does not turn the upgrade into the page.
    let (mut client, chosen) = WsClient::handshake(
        addr,
        &[
            ("Sec-WebSocket-Protocol", "graphql-transport-ws"),
            ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
        ],
    )
    .await;
    assert_eq!(chosen.as_deref(), Some("graphql-transport-ws"));
    // With no headers in its editor, GraphiQL's connectionParams are `{}`.
    client
        .send_text(r#"{"type":"connection_init","payload":{}}"#)
        .await;
    assert_eq!(client.next_json().await, json!({"type": "connection_ack"}));
    client
        .send(json!({
            "id": "11111111-1111-4111-8111-111111111111",
            "type": "subscribe",
            "payload": {
                "query": COMMENT_ADDED,
                "operationName": null,
                "variables": {"slug": slug},
                "extensions": {},
            },
        }))
        .await;
    server.wait_for_subscriptions(1).await;
    comment(&server, &author, &slug, "from GraphiQL").await;
    expect_comment(
        &mut client,
        "11111111-1111-4111-8111-111111111111",
        "from GraphiQL",
    )
    .await;
}
