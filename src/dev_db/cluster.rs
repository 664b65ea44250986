//! One checkout's private cluster on disk and as a process: `initdb` (trust, UTF-8) on
//! first use, `pg_ctl start|stop|status`, each run as the cluster's [`Account`] in the
//! [`Layout`]'s folders. The server listens on its Unix socket only
//! (`listen_addresses = ''`): it takes no TCP port.

use std::{
    fs::{DirBuilder, OpenOptions},
    io::Write,
    os::unix::fs::{DirBuilderExt, MetadataExt},
    path::Path,
    process::Output,
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

use super::{
    account::Account,
    binaries::{Binaries, NotFound},
    layout::{Layout, PORT, SUPERUSER},
};

/// Settings appended to `postgresql.conf` by the first start.
const SETTINGS: &str = "\n# Conduit's private development cluster (src/dev_db): the Unix socket only.\n\
listen_addresses = ''\n\
# A crash may lose the last moment's commits, and never corrupts: fine for development.\n\
synchronous_commit = off\n";

/// Longest `pg_ctl` waits for the server to start or stop (seconds).
const WAIT_SECONDS: &str = "60";

/// Whether the cluster exists and runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// No data folder yet.
    Uninitialized,
    /// Created, not running.
    Stopped,
    /// Running, with its postmaster's process id.
    Running(u32),
}

/// One checkout's cluster.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// Its folders.
    pub layout: Layout,
    /// Who runs it.
    pub account: Account,
    binaries: Option<Binaries>,
}

impl Cluster {
    /// The cluster of `checkout` on this machine, run as [`Account::for_this_process`].
    pub fn for_checkout(checkout: &Path) -> anyhow::Result<Self> {
        let account = Account::for_this_process()?;
        Ok(Self {
            layout: Layout::new(checkout, &account, Path::new("/")),
            account,
            binaries: Binaries::find().ok(),
        })
    }

    /// Where its programs come from, or why none can be used.
    pub fn binaries(&self) -> Result<&Binaries, NotFound> {
        self.binaries.as_ref().ok_or(NotFound)
    }

    /// Creates the folder of the data, log and locks (for the cluster's user, mode 700)
    /// when it is missing.
    pub fn prepare_state(&self) -> anyhow::Result<()> {
        self.own_folder(&self.layout.state)
    }

    /// Whether it exists and runs.
    pub fn status(&self) -> anyhow::Result<Status> {
        if !self.layout.data.join("PG_VERSION").exists() {
            return Ok(Status::Uninitialized);
        }
        let data = self.layout.data.to_string_lossy().into_owned();
        let output = self.run("pg_ctl", &["-D", &data, "status"])?;
        match output.status.code() {
            Some(0) => Ok(Status::Running(self.postmaster_pid().unwrap_or_default())),
            Some(3) => Ok(Status::Stopped),
            _ => bail!("pg_ctl status failed: {}", said(&output)),
        }
    }

    /// `initdb`: trust authentication, UTF-8, superuser `postgres`; returns how long it
    /// took.
    pub fn init(&self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let data = self.layout.data.to_string_lossy().into_owned();
        let mut failures = Vec::new();
        // C.UTF-8 (as Debian's own clusters) where the system has it, else C.
        for locale in ["--locale=C.UTF-8", "--locale=C"] {
            let args = ["-D", &data, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8"];
            let output = self.run(
                "initdb",
                &[&args[..], &[locale, "--no-instructions"]].concat(),
            )?;
            if output.status.success() {
                let mut conf = OpenOptions::new()
                    .append(true)
                    .open(self.layout.data.join("postgresql.conf"))
                    .context("opening postgresql.conf")?;
                conf.write_all(SETTINGS.as_bytes())?;
                return Ok(started.elapsed());
            }
            failures.push(said(&output));
        }
        bail!("initdb {data} failed: {}", failures.join("; then: "))
    }

    /// Starts the server on its socket folder and waits until it accepts connections;
    /// returns how long that took.
    pub fn start(&self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        self.own_folder(&self.layout.socket_dir)?;
        let data = self.layout.data.to_string_lossy().into_owned();
        let log = self.layout.log().to_string_lossy().into_owned();
        // pg_ctl hands -o to the shell: the socket folder has no spaces or quotes.
        let options = format!(
            "-k {} -p {PORT} -c listen_addresses=''",
            self.layout.socket_dir.display()
        );
        let args = [
            "-D",
            &data,
            "-l",
            &log,
            "-o",
            &options,
            "-w",
            "-t",
            WAIT_SECONDS,
        ];
        let output = self.run("pg_ctl", &[&args[..], &["-s", "start"]].concat())?;
        if !output.status.success() {
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(5).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "starting PostgreSQL ({data}) failed: {}; its log ({log}) ends: {}",
                said(&output),
                tail.join(" / ")
            );
        }
        Ok(started.elapsed())
    }

    /// Stops the server (`fast`: open sessions are ended) and waits until it is down.
    pub fn stop(&self) -> anyhow::Result<()> {
        let data = self.layout.data.to_string_lossy().into_owned();
        let args = [
            "-D",
            &data,
            "-m",
            "fast",
            "-w",
            "-t",
            WAIT_SECONDS,
            "-s",
            "stop",
        ];
        let output = self.run("pg_ctl", &args)?;
        if !output.status.success() {
            bail!("stopping PostgreSQL ({data}) failed: {}", said(&output));
        }
        Ok(())
    }

    /// True when the server's socket is in its folder (a cleaner of /tmp may remove it).
    pub fn socket_exists(&self) -> bool {
        let socket = self.layout.socket_dir.join(format!(".s.PGSQL.{PORT}"));
        socket.symlink_metadata().is_ok()
    }

    /// The postmaster's process id, from the first line of `postmaster.pid`.
    pub fn postmaster_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.layout.data.join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    /// Runs one of PostgreSQL's programs as the cluster's account.
    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<Output> {
        let path = self.binaries()?.program(program);
        self.account
            .command(&path)
            .args(args)
            .env_remove("PGDATA")
            .env_remove("PGPORT")
            .output()
            .with_context(|| format!("running {}", path.display()))
    }

    /// Creates `dir` (mode 700) for the cluster's account, or checks that the one there
    /// is a folder of that account's (a shared /tmp may hold someone else's).
    fn own_folder(&self, dir: &Path) -> anyhow::Result<()> {
        match dir.symlink_metadata() {
            Ok(meta) if !meta.is_dir() => bail!("{} is not a folder: remove it", dir.display()),
            Ok(meta) => match self.account.uid() {
                Some(uid) if meta.uid() != uid => bail!(
                    "{} belongs to uid {}, not to {} who runs the development cluster: \
                     remove it",
                    dir.display(),
                    meta.uid(),
                    self.account.name
                ),
                _ => Ok(()),
            },
            Err(_) => {
                if let Some(parent) = dir.parent() {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                // Made under a name of this attempt's own and renamed into place once it
                // is the account's: a process (or thread) racing this one never finds it
                // half made, still root's before `give`.
                static ATTEMPTS: AtomicU64 = AtomicU64::new(0);
                let name = dir.file_name().unwrap_or_default().to_string_lossy();
                let attempt = ATTEMPTS.fetch_add(1, Ordering::Relaxed);
                let temp = dir.with_file_name(format!(".{name}.{}.{attempt}", std::process::id()));
                DirBuilder::new()
                    .mode(0o700)
                    .create(&temp)
                    .with_context(|| format!("creating {}", temp.display()))?;
                let given = self
                    .account
                    .give(&temp)
                    .with_context(|| format!("giving {} to {}", temp.display(), self.account.name));
                let placed = given.and_then(|()| {
                    std::fs::rename(&temp, dir)
                        .with_context(|| format!("creating {}", dir.display()))
                });
                match placed {
                    Ok(()) => Ok(()),
                    Err(err) => {
                        let _ = std::fs::remove_dir(&temp);
                        // Another process made it first: check theirs.
                        if dir.is_dir() {
                            self.own_folder(dir)
                        } else {
                            Err(err)
                        }
                    }
                }
            }
        }
    }
}

/// What a program printed, in one line.
fn said(output: &Output) -> String {
    let text = format!(
        "{} {}",
        String::from_utf8_lossy(&output.stdout).trim(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    let text = text.trim().replace('\n', " ");
    if text.is_empty() {
        format!("exit status {}", output.status)
    } else {
        text
    }
}
