//! Bounded schema fuzzing: `tests/fuzz/fuzz_schema.py` (hypothesis-graphql, pinned in
//! .ci/requirements-fuzz.txt) sends documents generated from schema.graphql to a served
//! instance, signed in and anonymously, and fails on any 5xx, unmasked or uncoded error,
//! leaked detail, or null in a non-null position without an error.
//!
//! Without the Python packages (`python3 -m pip install -r .ci/requirements-fuzz.txt`)
//! the test is skipped with a notice, except under CI (`CI` set), where that is a failure.
//! `FUZZ_EXAMPLES` (default 300) and `FUZZ_SEED` pass through to the script.

use std::time::Duration;

use serde_json::Value;

use crate::live::TestServer;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fuzz/fuzz_schema.py");
/// The script's exit status when its Python packages are missing.
const MISSING_PACKAGES: i32 = 3;
/// Generous: the default run takes about 10 s here.
const LIMIT: Duration = Duration::from_secs(240);

/// Prints (or, under CI, panics with) why the fuzzer cannot run.
fn unavailable(why: &str) {
    let missing = format!("the schema fuzzer cannot run: {why}");
    assert!(std::env::var_os("CI").is_none(), "{missing}");
    eprintln!("skipped: {missing}");
}

#[tokio::test]
async fn fuzzed_documents_get_no_5xx_and_only_masked_coded_errors() {
    let server = TestServer::start(&[]).await;
    let url = format!("http://{}/graphql", server.addr);
    let run = tokio::process::Command::new("python3")
        .arg(SCRIPT)
        .arg(&url)
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(LIMIT, run).await {
        Err(_) => panic!("fuzz_schema.py did not finish within {LIMIT:?}"),
        Ok(Err(err)) if err.kind() == std::io::ErrorKind::NotFound => {
            return unavailable(
                "`python3` (3.10+) is not on the PATH; then run \
                 `python3 -m pip install -r .ci/requirements-fuzz.txt`",
            );
        }
        Ok(output) => output.expect("run python3"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(MISSING_PACKAGES) {
        return unavailable(stderr.trim());
    }
    if !stderr.is_empty() {
        eprintln!("fuzz_schema.py:\n{stderr}");
    }
    assert!(
        output.status.success(),
        "fuzz_schema.py failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    let summary: Value = stdout
        .lines()
        .find_map(|line| line.strip_prefix("summary: "))
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_else(|| panic!("no summary line:\n{stdout}\n{stderr}"));
    eprintln!("{stdout}");

    let count = |key: &str| summary["by"][key].as_u64().unwrap_or(0);
    let budget = summary["budget"].as_u64().unwrap_or(0);
    let examples = summary["examples"].as_u64().unwrap_or(0);
    assert_eq!(summary["violations"], 0, "{summary:#}");
    // The examples ran, nearly all of the budget, in every kind and way of sending.
    assert!(budget > 0 && examples * 10 >= budget * 9, "{summary:#}");
    for key in [
        "query",
        "anchored query",
        "mutation",
        "invalid",
        "signed in",
        "anonymous",
        "GET",
        "POST",
        "without errors",
    ] {
        assert!(count(key) > 0, "no example counted as {key:?}: {summary:#}");
    }
    assert_eq!(
        count("signed in") + count("anonymous"),
        examples,
        "{summary:#}"
    );
}
