//! The GraphQL-over-HTTP audit: graphql-http's `auditServer` (pinned in .ci/package.json)
//! against the served router: no MUST or SHOULD failure, and no MAY notice either (the
//! README says so).

use serde_json::Value;

use crate::{js_clients::installed, live::TestServer};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/graphql-http-audit.mjs");

#[tokio::test]
async fn the_graphql_over_http_audit_finds_no_must_or_should_failure() {
    if !installed("graphql-http") {
        return;
    }
    let server = TestServer::start(&[]).await;
    let output = tokio::process::Command::new("node")
        .arg(SCRIPT)
        .arg(format!("http://{}/graphql", server.addr))
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let summary: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("no summary ({e}): {stdout}\n{stderr}"));
    assert_eq!(summary["failures"], serde_json::json!([]), "{summary:#}");
    assert!(output.status.success(), "{summary:#}\n{stderr}");
    assert!(summary["ok"].as_u64().unwrap_or(0) > 50, "{summary:#}");
    // The README says no MAY audit is missed either: a new notice must be looked at (and
    // then fixed, or explained there).
    assert_eq!(
        summary["notices"],
        serde_json::json!([]),
        "new MAY notices: fix them or list them in the README: {summary:#}"
    );
}
