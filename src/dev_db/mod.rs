//! The private development PostgreSQL cluster: part of the composition root (no layer
//! imports it). In development without `DATABASE_URL`, when nothing answers at the
//! default address or the server there refuses the default credentials ([`probe`]),
//! Conduit starts its own PostgreSQL from the programs installed on the machine
//! ([`binaries`]; nothing is downloaded) and uses it: created by `initdb` on first use,
//! listening on a Unix socket only, its data in the checkout's `.conduit/pg` (or, as
//! root, under `/var/tmp`: [`layout`], [`account`]), shared by every process of the
//! checkout under file locks and stopped by the last of Conduit's commands to end
//! ([`lease`]). The test harness uses the same cluster (see `tests/api/helpers.rs`).
//!
//! `conduit dev-db status|stop` report on and stop it ([`status`], [`stop`]).

pub mod account;
pub mod binaries;
pub mod cluster;
pub mod layout;
pub mod lease;
pub mod probe;

use std::{path::Path, time::Duration};

pub use cluster::{Cluster, Status};
pub use lease::{Lease, Owner, Started};

use self::probe::Probe;

/// When `url` (the default address) cannot be used, gets `checkout`'s private cluster
/// running and returns the lease on it (its URLs: [`Lease::url_like`]); `None` when `url`
/// answers and accepts its credentials. `timeout` bounds the probe.
pub async fn fallback(
    url: &str,
    timeout: Duration,
    checkout: &Path,
    owner: Owner,
) -> anyhow::Result<Option<Lease>> {
    let target = target(url);
    let reason = match probe::probe(url, timeout).await {
        Probe::Usable => return Ok(None),
        Probe::Silent(why) => format!("nothing answers at {target} ({why})"),
        Probe::Refused(why) => format!(
            "PostgreSQL at {target} refuses the default credentials ({why}); set \
             DATABASE_URL to use that server"
        ),
    };
    let checkout = checkout.to_owned();
    let lease = tokio::task::spawn_blocking(move || {
        Lease::acquire(Cluster::for_checkout(&checkout)?, owner)
    })
    .await??;
    let layout = &lease.cluster().layout;
    let (data, socket) = (layout.data.display(), layout.socket_dir.display());
    match lease.started() {
        Started::Reused => {
            tracing::info!(%reason, %data, %socket, "using the private development cluster, already running")
        }
        Started::Started(start) => tracing::info!(
            %reason, %data, %socket, start_ms = start.as_millis(),
            "started the private development cluster"
        ),
        Started::Created(init, start) => tracing::info!(
            %reason, %data, %socket, initdb_ms = init.as_millis(), start_ms = start.as_millis(),
            "created and started the private development cluster"
        ),
    }
    Ok(Some(lease))
}

impl Lease {
    /// The URL of the database that `url` names (its user's name when it names none),
    /// on the cluster.
    pub fn url_like(&self, url: &str) -> String {
        let parsed: Option<tokio_postgres::Config> = url.parse().ok();
        let name = parsed
            .as_ref()
            .and_then(|c| c.get_dbname().or(c.get_user()));
        self.cluster().layout.url(name.unwrap_or(layout::SUPERUSER))
    }
}

/// `host:port` of `url`, for messages.
fn target(url: &str) -> String {
    use tokio_postgres::config::Host;
    let Ok(config) = url.parse::<tokio_postgres::Config>() else {
        return url.to_owned();
    };
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        Some(Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    };
    format!("{host}:{}", config.get_ports().first().unwrap_or(&5432))
}

/// `conduit dev-db status`: where `checkout`'s cluster lives, and whether it runs.
pub fn status(checkout: &Path) -> anyhow::Result<String> {
    let cluster = Cluster::for_checkout(checkout)?;
    let layout = &cluster.layout;
    let state = match cluster.status()? {
        Status::Uninitialized => "not created yet (the first start creates it)".to_owned(),
        Status::Stopped => "stopped".to_owned(),
        Status::Running(pid) => {
            let by = match lease::owner(&cluster)? {
                Some(Owner::Server) => {
                    "; started by Conduit, which stops it when its last process using it ends"
                }
                Some(Owner::Tests) => "; started by the tests, running until `conduit dev-db stop`",
                None => "",
            };
            format!("running (pid {pid}){by}")
        }
    };
    let programs = match cluster.binaries() {
        Ok(binaries) => binaries.dir.display().to_string(),
        Err(err) => err.to_string(),
    };
    Ok(format!(
        "state:    {state}\ndata:     {}\nsocket:   {}\nlog:      {}\nurl:      {}\n\
         runs as:  {}\nprograms: {programs}",
        layout.data.display(),
        layout.socket_dir.display(),
        layout.log().display(),
        layout.url("conduit"),
        cluster.account.name,
    ))
}

/// `conduit dev-db stop`: stops `checkout`'s cluster, whoever started it.
pub fn stop(checkout: &Path) -> anyhow::Result<String> {
    let cluster = Cluster::for_checkout(checkout)?;
    Ok(if lease::stop(&cluster)? {
        format!(
            "stopped the private development cluster ({})",
            cluster.layout.data.display()
        )
    } else {
        "the private development cluster is not running".to_owned()
    })
}
