//! `DATABASE_URL`'s `sslmode` and `sslrootcert`, as in libpq, for every connection Conduit
//! opens (database creation, migrations, the seed, the pool, the LISTEN connection),
//! against throwaway clusters ([`crate::pg_cluster`]) with TLS on or off and `pg_hba.conf`
//! accepting only encrypted, only plain, or any connections.

use std::process::Output;

use conduit::AppState;
use serde_json::json;

use crate::{
    helpers::{ServerProcess, conduit_command, http_get, http_request, test_config},
    pg_cluster::{Accepts, Cluster},
};

const DB: &str = "conduit_tls";

/// `conduit args...` with `DATABASE_URL=url` (on a free port, if it serves), run to its end.
fn conduit(args: &[&str], url: &str) -> Output {
    conduit_command(args, &[("DATABASE_URL", url), ("PORT", "0")])
        .output()
        .expect("run conduit")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[track_caller]
fn assert_succeeds(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(output)
    );
}

/// Asserts that `conduit migrate` on `url` fails, and returns what it said.
#[track_caller]
fn migrate_fails(url: &str) -> String {
    let output = conduit(&["migrate"], url);
    assert!(!output.status.success(), "migrate on {url} succeeded");
    stderr(&output)
}

/// `(application_name, query, ssl)` of every backend connected to `db`.
async fn backends(cluster: &Cluster, db: &str) -> Vec<(String, String, bool)> {
    cluster
        .admin()
        .await
        .query(
            "SELECT a.application_name, a.query, s.ssl FROM pg_stat_activity a \
             JOIN pg_stat_ssl s USING (pid) WHERE a.datname = $1 ORDER BY a.pid",
            &[&db],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect()
}

/// Serves from `url` (already migrated) and reads through the pool; returns the backends
/// of the running server (its pooled connections and its LISTEN connection).
async fn serve_and_read(cluster: &Cluster, url: &str) -> Vec<(String, String, bool)> {
    let server = ServerProcess::start(&[("DATABASE_URL", url)]);
    assert_eq!(http_get(server.addr, "/readyz").0, 200);
    let body = json!({"query": "{ articles(first: 5) { nodes { slug } } }"}).to_string();
    let (status, response) = http_request(
        server.addr,
        &format!(
            "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert_eq!(status, 200, "{response}");
    assert!(response.contains(r#""nodes":["#), "{response}");
    let found = backends(cluster, DB).await;
    assert!(
        found
            .iter()
            .any(|(_, query, _)| query.starts_with("LISTEN conduit_")),
        "the LISTEN connection: {found:?}"
    );
    assert!(found.len() >= 2, "pooled and LISTEN connections: {found:?}");
    found
}

#[tokio::test]
async fn sslmode_require_encrypts_every_connection_without_verifying() {
    // Plain TCP connections are rejected: creating the database, migrating, seeding,
    // the pool and the LISTEN connection can only work encrypted. The certificate is
    // for `localhost` and from a CA Conduit is not told of: `require` does not check it.
    let cluster = Cluster::start(true, Accepts::TlsOnly);
    let url = cluster.url("127.0.0.1", DB, "sslmode=require");
    assert_succeeds(
        &conduit(&["migrate"], &url),
        "migrate (creates the database)",
    );
    let seed = [
        "seed",
        "--users",
        "2",
        "--articles",
        "2",
        "--comments",
        "1",
        "--favorites",
        "1",
        "--follows",
        "1",
    ];
    assert_succeeds(&conduit(&seed, &url), "seed");
    let found = serve_and_read(&cluster, &url).await;
    assert!(found.iter().all(|(_, _, ssl)| *ssl), "{found:?}");
    assert!(
        found.iter().all(|(name, _, _)| name == "conduit"),
        "every connection is named: {found:?}"
    );
}

#[tokio::test]
async fn sslmode_prefer_is_the_default_encrypts_when_it_can_and_falls_back_to_plain() {
    // A server that accepts only TLS: the default (no sslmode) and `allow` encrypt.
    let tls_only = Cluster::start(true, Accepts::TlsOnly);
    assert_succeeds(
        &conduit(&["migrate"], &tls_only.url("127.0.0.1", DB, "")),
        "default sslmode, TLS-only server",
    );
    assert_succeeds(
        &conduit(
            &["migrate"],
            &tls_only.url("127.0.0.1", DB, "sslmode=allow"),
        ),
        "sslmode=allow, TLS-only server",
    );
    let found = serve_and_read(&tls_only, &tls_only.url("127.0.0.1", DB, "")).await;
    assert!(found.iter().all(|(_, _, ssl)| *ssl), "{found:?}");

    // A server without TLS: plain; and `require` refuses it, saying why.
    let plain = Cluster::start(false, Accepts::Both);
    assert_succeeds(
        &conduit(&["migrate"], &plain.url("127.0.0.1", DB, "sslmode=prefer")),
        "sslmode=prefer, server without TLS",
    );
    let found = serve_and_read(&plain, &plain.url("127.0.0.1", DB, "")).await;
    assert!(found.iter().all(|(_, _, ssl)| !*ssl), "{found:?}");
    let refused = migrate_fails(&plain.url("127.0.0.1", DB, "sslmode=require"));
    assert!(
        refused.contains(&format!(
            "TLS to PostgreSQL at 127.0.0.1:{} failed",
            plain.port
        )) && refused.contains("server does not support TLS"),
        "{refused}"
    );
}

#[tokio::test]
async fn sslmode_prefer_retries_plain_when_the_server_rejects_encrypted_connections() {
    // TLS is on, but pg_hba.conf accepts only plain connections (`hostnossl`): libpq's
    // `prefer` tries again without TLS, and so does Conduit; `disable` never encrypts.
    let cluster = Cluster::start(true, Accepts::PlainOnly);
    assert_succeeds(
        &conduit(&["migrate"], &cluster.url("127.0.0.1", DB, "")),
        "default sslmode",
    );
    let found = serve_and_read(&cluster, &cluster.url("127.0.0.1", DB, "")).await;
    assert!(found.iter().all(|(_, _, ssl)| !*ssl), "{found:?}");

    let disabled = cluster.url("127.0.0.1", DB, "sslmode=disable");
    let found = serve_and_read(&cluster, &disabled).await;
    assert!(found.iter().all(|(_, _, ssl)| !*ssl), "{found:?}");
    let rejected = migrate_fails(&cluster.url("127.0.0.1", DB, "sslmode=require"));
    assert!(
        rejected.contains("pg_hba.conf rejects connection"),
        "{rejected}"
    );
}

#[tokio::test]
async fn verify_full_checks_the_chain_and_the_host_name_and_verify_ca_the_chain_only() {
    let cluster = Cluster::start(true, Accepts::TlsOnly);
    let ca = cluster.ca.display().to_string();
    let other = cluster.other_ca.display().to_string();
    let url = |host: &str, mode: &str, root: &str| {
        cluster.url(host, DB, &format!("sslmode={mode}&sslrootcert={root}"))
    };
    let port = cluster.port;

    // The right CA and the certificate's name: every path works, encrypted.
    let good = url("localhost", "verify-full", &ca);
    assert_succeeds(&conduit(&["migrate"], &good), "verify-full");
    let found = serve_and_read(&cluster, &good).await;
    assert!(found.iter().all(|(_, _, ssl)| *ssl), "{found:?}");
    // verify-ca does not check the name: 127.0.0.1 is not in the certificate.
    let any_name = url("127.0.0.1", "verify-ca", &ca);
    assert_succeeds(&conduit(&["migrate"], &any_name), "verify-ca, other name");
    // libpq: `require` with an sslrootcert is verify-ca.
    let require_ca = url("127.0.0.1", "require", &ca);
    assert_succeeds(&conduit(&["migrate"], &require_ca), "require with the CA");

    // A name the certificate is not for.
    let wrong_name = migrate_fails(&url("127.0.0.1", "verify-full", &ca));
    assert!(
        wrong_name.contains(&format!("TLS to PostgreSQL at 127.0.0.1:{port} failed"))
            && wrong_name.contains("not valid for name"),
        "{wrong_name}"
    );
    // A CA that did not issue it, whatever the mode that verifies.
    for mode in ["verify-full", "verify-ca", "require"] {
        let unknown = migrate_fails(&url("localhost", mode, &other));
        assert!(
            unknown.contains(&format!("TLS to PostgreSQL at localhost:{port} failed"))
                && unknown.contains("UnknownIssuer"),
            "{mode}: {unknown}"
        );
    }
    // The pool verifies too (the database exists: bootstrap is not what refuses).
    for bad in [
        url("localhost", "verify-full", &other),
        url("127.0.0.1", "verify-full", &ca),
    ] {
        let state = AppState::new(test_config(&bad, &[])).expect("state");
        let err = conduit::db::pool::ping(&state.pool).await.unwrap_err();
        assert!(err.is_unavailable(), "{err}");
        let message = format!("{err:#}");
        assert!(message.contains("certificate"), "{message}");
    }
    let state = AppState::new(test_config(&good, &[])).expect("state");
    conduit::db::pool::ping(&state.pool)
        .await
        .expect("verified pool");
}

#[tokio::test]
async fn unusable_tls_options_stop_the_server_before_it_connects() {
    let cluster = Cluster::start(true, Accepts::TlsOnly);
    let missing = migrate_fails(&cluster.url(
        "localhost",
        DB,
        "sslmode=verify-full&sslrootcert=/nonexistent/root.pem",
    ));
    assert!(
        missing.contains("sslrootcert /nonexistent/root.pem"),
        "{missing}"
    );
    let not_pem = cluster.ca.with_extension("txt");
    std::fs::write(&not_pem, "not a certificate").unwrap();
    let garbage = migrate_fails(&cluster.url(
        "localhost",
        DB,
        &format!("sslmode=verify-ca&sslrootcert={}", not_pem.display()),
    ));
    assert!(garbage.contains("no usable CA certificate"), "{garbage}");
    let no_root = migrate_fails(&cluster.url("localhost", DB, "sslmode=verify-full"));
    assert!(no_root.contains("needs sslrootcert"), "{no_root}");
    let unknown = migrate_fails(&cluster.url("localhost", DB, "sslmode=verify"));
    assert!(
        unknown.contains("sslmode=\"verify\" is not one of"),
        "{unknown}"
    );
    // The server itself refuses to start on them.
    let output = conduit(&[], &cluster.url("localhost", DB, "sslmode=verify"));
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("is not one of"),
        "{}",
        stderr(&output)
    );
}

#[tokio::test]
async fn the_shared_server_keeps_working_with_the_default_prefer() {
    // The machine's server has ssl=on with a self-signed certificate: `prefer` (the
    // default) encrypts without checking it. The private development cluster (the
    // shared server when the machine's is not running) has a Unix socket only: no TLS.
    let db = crate::helpers::DatabaseGuard::cloned_from_template().await;
    assert!(!db.url.contains("sslmode"), "{}", db.url);
    let state = AppState::new(test_config(&db.url, &[])).expect("state");
    let mut conn = conduit::db::connect(&state.pool).await.unwrap();
    #[derive(diesel::QueryableByName)]
    struct Ssl {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        ssl: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        offered_over_tcp: bool,
    }
    let row: Ssl = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT ssl, current_setting('ssl') = 'on' AND inet_server_addr() IS NOT NULL \
             AS offered_over_tcp FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ),
        &mut *conn,
    )
    .await
    .unwrap();
    assert_eq!(
        row.ssl, row.offered_over_tcp,
        "prefer uses TLS where the shared server offers it"
    );
}
