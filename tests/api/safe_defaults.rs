//! Safe when deployed carelessly: development mode refuses a non-loopback `HOST` unless
//! `APP_ENV` is set explicitly, production refuses `DEMO_DATA`, `/metrics` is closed in
//! production without `METRICS_TOKEN`, and every response carries
//! `X-Content-Type-Options: nosniff`. Also the connection settings' parsing.

use std::{collections::HashMap, time::Duration};

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use conduit::config::{Config, ConfigError};

use crate::helpers::{TestApp, conduit_command};

fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|name| vars.get(name).cloned())
}

const PROD: [(&str, &str); 4] = [
    ("APP_ENV", "production"),
    ("DATABASE_URL", "postgres://db/x"),
    ("PUBLIC_URL", "https://conduit.example"),
    ("WEBHOOK_SECRET_KEY", crate::helpers::TEST_SERVER_KEY),
];

#[test]
fn development_on_a_public_address_needs_app_env_set_explicitly() {
    for host in [
        "0.0.0.0",
        "::",
        "10.1.2.3",
        "2001:db8::1",
        "::ffff:127.0.0.1",
    ] {
        let err = config(&[("HOST", host)]).unwrap_err().to_string();
        assert!(err.starts_with("HOST="), "{host}: {err}");
        assert!(err.contains("set APP_ENV explicitly"), "{err}");
        assert!(
            config(&[("HOST", host), ("APP_ENV", "development")]).is_ok(),
            "{host}"
        );
        let mut production = PROD.to_vec();
        production.push(("HOST", host));
        assert!(config(&production).is_ok(), "{host}");
    }
    for loopback in ["127.0.0.1", "127.0.0.2", "::1"] {
        assert!(config(&[("HOST", loopback)]).is_ok(), "{loopback}");
    }
}

#[test]
fn demo_data_is_refused_in_production() {
    let mut vars = PROD.to_vec();
    vars.push(("DEMO_DATA", "true"));
    let err = config(&vars).unwrap_err().to_string();
    assert!(err.starts_with("DEMO_DATA="), "{err}");
    vars.pop();
    vars.push(("DEMO_DATA", "false"));
    assert!(!config(&vars).unwrap().demo_data);
    assert!(config(&[("DEMO_DATA", "true")]).unwrap().demo_data);
}

#[test]
fn connection_settings_have_defaults_and_refuse_zero() {
    let c = config(&[]).unwrap();
    assert_eq!(c.body_timeout, Duration::from_secs(10));
    assert_eq!(c.max_in_flight, 1024);
    let ws = c.websocket;
    assert_eq!(
        (ws.max_per_ip, ws.max_per_user, ws.max_connections),
        (256, 32, 10_000)
    );
    assert_eq!(ws.idle_timeout, Duration::from_secs(300));
    let c = config(&[
        ("REQUEST_BODY_TIMEOUT_MS", "250"),
        ("MAX_REQUESTS_IN_FLIGHT", "7"),
        ("WS_MAX_PER_IP", "20000"),
        ("WS_MAX_PER_USER", "3"),
        ("WS_MAX_CONNECTIONS", "20000"),
        ("WS_IDLE_TIMEOUT_MS", "1000"),
    ])
    .unwrap();
    assert_eq!(c.body_timeout, Duration::from_millis(250));
    assert_eq!(c.max_in_flight, 7);
    let ws = c.websocket;
    assert_eq!(
        (ws.max_per_ip, ws.max_per_user, ws.max_connections),
        (20_000, 3, 20_000)
    );
    assert_eq!(ws.idle_timeout, Duration::from_secs(1));
    for name in [
        "MAX_REQUESTS_IN_FLIGHT",
        "WS_MAX_PER_IP",
        "WS_MAX_PER_USER",
        "WS_MAX_CONNECTIONS",
    ] {
        let err = config(&[(name, "0")]).unwrap_err().to_string();
        assert!(err.starts_with(name), "{err}");
    }
    let err = config(&[("REQUEST_BODY_TIMEOUT_MS", "soon")])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("REQUEST_BODY_TIMEOUT_MS"), "{err}");
}

#[test]
fn the_binary_refuses_to_start_carelessly_with_one_line() {
    let cases: [(&[(&str, &str)], &str); 2] = [
        (&[("HOST", "0.0.0.0")], "HOST=\"0.0.0.0\" is not valid"),
        (
            &[
                ("APP_ENV", "production"),
                ("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/unused"),
                ("DEMO_DATA", "true"),
            ],
            "DEMO_DATA=\"true\" is not valid",
        ),
    ];
    for (vars, message) in cases {
        let output = conduit_command(&[], vars).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{vars:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with(&format!("error: {message}")), "{stderr}");
    }
}

async fn get_metrics(app: &TestApp, authorization: Option<&str>) -> StatusCode {
    let mut request = Request::get("/metrics");
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    app.send(request.body(Body::empty()).unwrap()).await.status
}

#[tokio::test]
async fn metrics_are_closed_in_production_without_a_token() {
    let production = TestApp::with_config(&[("APP_ENV", "production")]).await;
    assert_eq!(get_metrics(&production, None).await, StatusCode::FORBIDDEN);
    assert_eq!(
        get_metrics(&production, Some("Bearer anything")).await,
        StatusCode::FORBIDDEN
    );
    let with_token =
        TestApp::with_config(&[("APP_ENV", "production"), ("METRICS_TOKEN", "s3cret")]).await;
    assert_eq!(
        get_metrics(&with_token, None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get_metrics(&with_token, Some("Bearer s3cret")).await,
        StatusCode::OK
    );
    // Development keeps it open, for local scraping.
    let development = TestApp::spawn().await;
    assert_eq!(get_metrics(&development, None).await, StatusCode::OK);
}

#[tokio::test]
async fn every_response_says_nosniff() {
    let app = TestApp::spawn().await;
    let requests = [
        Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"query":"{ __typename }"}"#))
            .unwrap(),
        Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"query":"{ notAField }"}"#))
            .unwrap(),
        Request::post("/graphql")
            .header("content-type", "application/xml")
            .body(Body::from("<q/>"))
            .unwrap(),
        Request::post("/graphql")
            .header("content-type", "application/json")
            .body(Body::from(vec![b' '; 2 * 1024 * 1024]))
            .unwrap(),
        Request::get("/graphql")
            .header("accept", "text/html")
            .body(Body::empty())
            .unwrap(),
        Request::get("/playground").body(Body::empty()).unwrap(),
        Request::get("/healthz").body(Body::empty()).unwrap(),
        Request::get("/readyz").body(Body::empty()).unwrap(),
        Request::get("/metrics").body(Body::empty()).unwrap(),
        Request::get("/nowhere").body(Body::empty()).unwrap(),
        Request::options("/graphql")
            .header("origin", "http://localhost:3000")
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .unwrap(),
    ];
    let mut statuses = Vec::new();
    for request in requests {
        let response = app.send(request).await;
        assert_eq!(
            response.header("x-content-type-options"),
            Some("nosniff"),
            "{} {}",
            response.status,
            response.text()
        );
        statuses.push(response.status.as_u16());
    }
    assert_eq!(
        statuses,
        [200, 200, 415, 413, 200, 200, 200, 200, 200, 404, 200]
    );
}
