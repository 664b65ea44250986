//! Sharing one checkout's cluster between processes (servers, one-off commands, the test
//! processes nextest runs side by side), with two lock files beside the data folder:
//!
//! - `pg.lock`, held exclusively while a process finds, initializes, starts or stops the
//!   cluster, so the first starts it and the others wait, then reuse it;
//! - `pg.users`, held shared by every process that uses the cluster, for as long as it
//!   does ([`Lease`]); the kernel lets go of it when a process dies, even by SIGKILL.
//!
//! `pg.owner` says who started the cluster. A [`Lease`] of Conduit's commands stops the
//! cluster when it ends if Conduit's commands started it and no other process holds
//! `pg.users`: the last server out stops it. A cluster the tests started keeps running
//! until `conduit dev-db stop`. After a SIGKILL the cluster keeps running with
//! `postmaster.pid` in place: the next start finds it running (`pg_ctl status` reads that
//! file) and reuses it, which is quicker than stopping it and starting afresh and does
//! not end the sessions of other processes that may be using it; being Conduit's, it is
//! stopped when that next run ends.

use std::{
    fs::{File, OpenOptions},
    path::Path,
    time::Duration,
};

use anyhow::Context;

use super::cluster::{Cluster, Status};

/// Who starts a cluster, which decides when it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Conduit's commands (the server, migrate, seed, ...): stopped by the last to end.
    Server,
    /// The test harness: running until `conduit dev-db stop`.
    Tests,
}

impl Owner {
    fn as_str(self) -> &'static str {
        match self {
            Self::Server => "server",
            Self::Tests => "tests",
        }
    }
}

/// What [`Lease::acquire`] did to get the cluster running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// It was running already (perhaps an orphan of a killed server).
    Reused,
    /// It existed and was started, in this long.
    Started(Duration),
    /// It was created (`initdb`, the first duration) and started (the second).
    Created(Duration, Duration),
}

/// One process's use of its checkout's running cluster; ending it (dropping it) stops
/// the cluster when this process's kind started it and nobody else uses it.
#[derive(Debug)]
pub struct Lease {
    cluster: Cluster,
    users: Option<File>,
    started: Started,
}

impl Lease {
    /// Gets `cluster` running (created and started if need be, `owner` starting it) and
    /// joins its users. Blocks while another process starts or stops it.
    pub fn acquire(cluster: Cluster, owner: Owner) -> anyhow::Result<Self> {
        cluster.prepare_state()?;
        let mutex = lock_file(&cluster.layout.beside("pg.lock"))?;
        mutex.lock().context("locking pg.lock")?;
        let started = match cluster.status()? {
            Status::Uninitialized => {
                let created = cluster.init()?;
                Started::Created(created, cluster.start()?)
            }
            Status::Stopped => Started::Started(cluster.start()?),
            // The server runs, but its socket went (a cleaner of /tmp): start afresh.
            Status::Running(_) if !cluster.socket_exists() => {
                cluster.stop()?;
                Started::Started(cluster.start()?)
            }
            Status::Running(_) => Started::Reused,
        };
        if started != Started::Reused {
            std::fs::write(cluster.layout.beside("pg.owner"), owner.as_str())
                .context("writing pg.owner")?;
        }
        let users = lock_file(&cluster.layout.beside("pg.users"))?;
        users.lock_shared().context("locking pg.users")?;
        drop(mutex);
        Ok(Self {
            cluster,
            users: Some(users),
            started,
        })
    }

    /// The cluster in use.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    /// What it took to get it running.
    pub fn started(&self) -> Started {
        self.started
    }

    /// Leaves the users; stops the cluster when Conduit's commands started it and nobody
    /// else uses it. Returns whether it stopped it.
    fn release(&mut self) -> anyhow::Result<bool> {
        let mutex = lock_file(&self.cluster.layout.beside("pg.lock"))?;
        mutex.lock().context("locking pg.lock")?;
        drop(self.users.take());
        if owner(&self.cluster)? != Some(Owner::Server) {
            return Ok(false);
        }
        let users = lock_file(&self.cluster.layout.beside("pg.users"))?;
        if users.try_lock().is_err() {
            return Ok(false);
        }
        match self.cluster.status()? {
            Status::Running(_) => self.cluster.stop().map(|()| true),
            _ => Ok(false),
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        match self.release() {
            Ok(true) => tracing::info!(
                data = %self.cluster.layout.data.display(),
                "stopped the private development cluster"
            ),
            Ok(false) => {}
            Err(err) => tracing::warn!(
                error = format!("{err:#}"),
                "could not stop the private development cluster"
            ),
        }
    }
}

/// Stops `cluster` whoever started it, once nobody is starting or stopping it; returns
/// whether it was running (`conduit dev-db stop`).
pub fn stop(cluster: &Cluster) -> anyhow::Result<bool> {
    if cluster.status()? == Status::Uninitialized {
        return Ok(false);
    }
    let mutex = lock_file(&cluster.layout.beside("pg.lock"))?;
    mutex.lock().context("locking pg.lock")?;
    match cluster.status()? {
        Status::Running(_) => cluster.stop().map(|()| true),
        _ => Ok(false),
    }
}

/// Who started `cluster`, as `pg.owner` says.
pub fn owner(cluster: &Cluster) -> anyhow::Result<Option<Owner>> {
    let path = cluster.layout.beside("pg.owner");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err).with_context(|| format!("reading {}", path.display())),
    };
    Ok([Owner::Server, Owner::Tests]
        .into_iter()
        .find(|owner| text.trim() == owner.as_str()))
}

/// Opens (creating) a lock file.
fn lock_file(path: &Path) -> anyhow::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))
}
