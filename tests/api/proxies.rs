//! The client IP behind reverse proxies: `X-Forwarded-For` and `Forwarded` count only
//! from `TRUSTED_PROXIES`, right-most untrusted address first; from anyone else a spoofed
//! header changes nothing. Through a real TCP listener, so the server sees the peer.

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::{
    helpers::{error_code, http_request},
    live::TestServer,
};

const LOGIN: &str = "mutation($email: String!) { login(input: {email: $email, password: \"wrong-password\"}) { accessToken } }";

/// A wrong `login` as `email` over TCP with extra header lines: the error code.
async fn login_with(addr: SocketAddr, headers: &[String], email: &str) -> String {
    let body = json!({ "query": LOGIN, "variables": { "email": email } }).to_string();
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    let raw = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let (status, text) = tokio::task::spawn_blocking(move || http_request(addr, &raw))
        .await
        .unwrap();
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    error_code(&body).to_owned()
}

#[tokio::test]
async fn a_spoofed_header_from_an_untrusted_peer_does_not_change_the_key() {
    // 127.0.0.1 is the peer, and trusts no one (the default), or only another network.
    for trusted in [None, Some("10.0.0.0/8, ::1")] {
        let mut vars = vec![("AUTH_ATTEMPTS_PER_IP", "3")];
        if let Some(t) = trusted {
            vars.push(("TRUSTED_PROXIES", t));
        }
        let server = TestServer::start(&vars).await;
        let mut codes = Vec::new();
        for i in 0..4 {
            let headers = [
                format!("X-Forwarded-For: 198.51.100.{i}"),
                format!("Forwarded: for=\"[2001:db8::{i}]:1\""),
            ];
            codes.push(login_with(server.addr, &headers, &format!("u{i}@example.com")).await);
        }
        assert_eq!(
            codes,
            [
                "UNAUTHENTICATED",
                "UNAUTHENTICATED",
                "UNAUTHENTICATED",
                "RATE_LIMITED"
            ],
            "{trusted:?}"
        );
    }
}

#[tokio::test]
async fn from_a_trusted_proxy_the_forwarded_client_is_the_key() {
    let server = TestServer::start(&[
        ("AUTH_ATTEMPTS_PER_IP", "2"),
        ("TRUSTED_PROXIES", "127.0.0.0/8, 10.0.0.0/8"),
    ])
    .await;
    let addr = server.addr;
    // Each client has its own limit, whatever it wrote left of what the proxies added.
    for i in 0..4 {
        let xff = [format!("X-Forwarded-For: 6.6.6.6, 203.0.113.{i}, 10.1.1.1")];
        assert_eq!(
            login_with(addr, &xff, &format!("a{i}@example.com")).await,
            "UNAUTHENTICATED"
        );
    }
    let client = [String::from("X-Forwarded-For: 6.6.6.7, 203.0.113.0")];
    assert_eq!(
        login_with(addr, &client, "b@example.com").await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        login_with(addr, &client, "b2@example.com").await,
        "RATE_LIMITED"
    );
    // RFC 7239, IPv6 in brackets with a port; the /64 is one client.
    let fwd = |host: &str| {
        vec![format!(
            "Forwarded: for=1.2.3.4, for=\"[2001:db8:5:6::{host}]:4711\";proto=https"
        )]
    };
    assert_eq!(
        login_with(addr, &fwd("1"), "c@example.com").await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        login_with(addr, &fwd("2"), "c2@example.com").await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        login_with(addr, &fwd("3"), "c3@example.com").await,
        "RATE_LIMITED"
    );
    // Garbage, or no header: the proxy itself is the client.
    for headers in [
        vec![String::from("X-Forwarded-For: unknown")],
        vec![],
        vec![String::from("Forwarded: for=_hidden")],
    ] {
        let _ = login_with(addr, &headers, "d@example.com").await;
    }
    assert_eq!(login_with(addr, &[], "e@example.com").await, "RATE_LIMITED");
}
