//! A throwaway PostgreSQL cluster for tests that need a server configured otherwise than
//! the shared one (TLS on or off, which connections `pg_hba.conf` accepts): `initdb` into
//! a directory under /tmp, started on a free port of 127.0.0.1 with its socket in that
//! directory, run as the `postgres` user (else `nobody`) when the tests run as root (as
//! the fault drills do, scripts/faults/postgres_restart.py). The programs and that user
//! are the private development cluster's (`conduit::dev_db`). Stopped and removed on drop.
//!
//! With TLS, its certificate is for `localhost` only (not `127.0.0.1`), issued by a CA the
//! cluster creates ([`Cluster::ca`]); [`Cluster::other_ca`] is a CA that issued nothing.

use std::{
    net::TcpListener,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    sync::atomic::{AtomicUsize, Ordering},
};

use conduit::dev_db::{account::Account, binaries::Binaries};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

/// Which TCP connections the cluster accepts (the socket always accepts any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// Encrypted ones only (`hostssl`; plain ones are rejected).
    TlsOnly,
    /// Plain ones only (`hostnossl`; the server still offers TLS, if on).
    PlainOnly,
    /// Both.
    Both,
}

/// A running throwaway cluster.
pub struct Cluster {
    dir: PathBuf,
    data: PathBuf,
    account: Account,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    /// The CA that issued the server's certificate (PEM), when TLS is on.
    pub ca: PathBuf,
    /// A CA that issued nothing this cluster presents (PEM).
    pub other_ca: PathBuf,
}

static CLUSTERS: AtomicUsize = AtomicUsize::new(0);

/// The installed PostgreSQL's programs, found as the private development cluster finds
/// them.
fn pg_bin() -> PathBuf {
    Binaries::find()
        .expect("PostgreSQL's server programs installed")
        .dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn write_private(path: &Path, contents: &str) {
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

impl Cluster {
    /// Creates and starts a cluster: with `ssl=on` and a certificate for `localhost` when
    /// `tls`, accepting what `accepts` says over TCP.
    pub fn start(tls: bool, accepts: Accepts) -> Self {
        let n = CLUSTERS.fetch_add(1, Ordering::Relaxed);
        let dir = PathBuf::from(format!("/tmp/conduit-pg-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let data = dir.join("data");
        let cluster = Self {
            account: Account::for_this_process().expect("an account to run PostgreSQL as"),
            port: free_port(),
            ca: dir.join("ca.pem"),
            other_ca: dir.join("other-ca.pem"),
            data,
            dir,
        };
        cluster.chown();
        cluster.run(
            "initdb",
            &[
                "-D",
                cluster.data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
        );
        let (plain, encrypted) = match accepts {
            Accepts::TlsOnly => ("reject", "trust"),
            Accepts::PlainOnly => ("trust", "reject"),
            Accepts::Both => ("trust", "trust"),
        };
        std::fs::write(
            cluster.data.join("pg_hba.conf"),
            format!(
                "local all all trust\n\
                 hostnossl all all 127.0.0.1/32 {plain}\n\
                 hostssl all all 127.0.0.1/32 {encrypted}\n"
            ),
        )
        .unwrap();
        let mut conf = String::from(
            "listen_addresses = '127.0.0.1'\nfsync = off\nfull_page_writes = off\n\
             synchronous_commit = off\nmax_connections = 30\n",
        );
        let ca_issuer = ca("Conduit test CA");
        std::fs::write(&cluster.ca, ca_issuer.pem()).unwrap();
        std::fs::write(&cluster.other_ca, ca("Some other CA").pem()).unwrap();
        if tls {
            let key = KeyPair::generate().unwrap();
            let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
            params
                .distinguished_name
                .push(DnType::CommonName, "localhost");
            let certificate = params.signed_by(&key, &ca_issuer).unwrap();
            std::fs::write(cluster.data.join("server.crt"), certificate.pem()).unwrap();
            write_private(&cluster.data.join("server.key"), &key.serialize_pem());
            conf.push_str("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
        } else {
            conf.push_str("ssl = off\n");
        }
        std::fs::write(cluster.data.join("postgresql.auto.conf"), conf).unwrap();
        cluster.chown();
        let options = format!("-p {} -k {}", cluster.port, cluster.dir.display());
        let log = cluster.dir.join("postgres.log");
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                cluster.data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
        cluster
    }

    /// Gives the cluster's folder, and all in it, to the cluster's account.
    fn chown(&self) {
        fn give(account: &Account, path: &Path) {
            account.give(path).unwrap();
            if path.is_dir() {
                for entry in std::fs::read_dir(path).unwrap() {
                    give(account, &entry.unwrap().path());
                }
            }
        }
        give(&self.account, &self.dir);
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let output = self
            .account
            .command(&pg_bin().join(tool))
            .args(args)
            .output()
            .expect(tool);
        assert!(
            output.status.success(),
            "{tool} failed: {}{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
        );
    }

    /// A URL for database `db` on this cluster over TCP to `host`, with `params` (`a=b&c=d`).
    pub fn url(&self, host: &str, db: &str, params: &str) -> String {
        let query = if params.is_empty() {
            String::new()
        } else {
            format!("?{params}")
        };
        format!("postgres://postgres@{host}:{}/{db}{query}", self.port)
    }

    /// An administrative client over the cluster's Unix socket (no TLS, whatever `pg_hba`).
    pub async fn admin(&self) -> tokio_postgres::Client {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(&self.dir)
            .port(self.port)
            .user("postgres")
            .dbname("postgres");
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .expect("connect over the cluster's socket");
        tokio::spawn(connection);
        client
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.data.join("postmaster.pid").exists() {
            let _ = self
                .account
                .command(&pg_bin().join("pg_ctl"))
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "immediate", "-w", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
