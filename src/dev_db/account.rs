//! Who the private development cluster runs as: the current user, or, when Conduit runs
//! as root (containers, CI), an unprivileged system user, since PostgreSQL refuses to run
//! as root: `postgres` if it exists, else `nobody`. That user's programs are started with
//! its uid and gid (and no supplementary groups), and the folders it writes are handed to
//! it.

use std::{
    io,
    path::Path,
    process::{Command, Output},
};

/// The account the cluster's programs run as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its name (for messages).
    pub name: String,
    /// Its uid and gid when it is not the current user (Conduit runs as root).
    ids: Option<(u32, u32)>,
}

impl Account {
    /// The current user, or, as root, `postgres` (else `nobody`).
    pub fn for_this_process() -> io::Result<Self> {
        if !running_as_root()? {
            let name = std::env::var("USER").unwrap_or_else(|_| "the current user".to_owned());
            return Ok(Self { name, ids: None });
        }
        for name in ["postgres", "nobody"] {
            if let Some(ids) = ids_of(name)? {
                let name = name.to_owned();
                return Ok(Self {
                    name,
                    ids: Some(ids),
                });
            }
        }
        Err(io::Error::other(
            "running as root, and neither a `postgres` nor a `nobody` user exists to run \
             PostgreSQL as; create one, or set DATABASE_URL",
        ))
    }

    /// True when the cluster runs as another user than this process (this one is root).
    pub fn is_other_user(&self) -> bool {
        self.ids.is_some()
    }

    /// The uid the cluster's files must belong to, when it is not the current user's.
    pub fn uid(&self) -> Option<u32> {
        self.ids.map(|(uid, _)| uid)
    }

    /// `program` to run as this account, from `/` (the other user may not enter the
    /// current folder).
    pub fn command(&self, program: &Path) -> Command {
        use std::os::unix::process::CommandExt;
        let mut command = Command::new(program);
        command.current_dir("/");
        if let Some((uid, gid)) = self.ids {
            // std drops the supplementary groups when root sets a uid.
            command.uid(uid).gid(gid);
        }
        command
    }

    /// Gives `path` (not what is under it) to this account, when it is another user.
    pub fn give(&self, path: &Path) -> io::Result<()> {
        match self.ids {
            Some((uid, gid)) => std::os::unix::fs::chown(path, Some(uid), Some(gid)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
impl Account {
    /// An account for tests: another user with `ids`, or (`None`) the current user.
    pub(crate) fn fixed(ids: Option<(u32, u32)>) -> Self {
        Self {
            name: "test".to_owned(),
            ids,
        }
    }
}

/// True when this process runs as root (`id -u` says: std has no `geteuid`).
fn running_as_root() -> io::Result<bool> {
    Ok(id(&["-u"])?.as_deref() == Some("0"))
}

/// The uid and gid of user `name`, if it exists.
fn ids_of(name: &str) -> io::Result<Option<(u32, u32)>> {
    let number = |flag: &str| -> io::Result<Option<u32>> {
        Ok(id(&[flag, name])?.and_then(|text| text.parse().ok()))
    };
    Ok(number("-u")?.zip(number("-g")?))
}

/// What `id <args>` prints, trimmed; `None` when it fails (no such user).
fn id(args: &[&str]) -> io::Result<Option<String>> {
    let Output { status, stdout, .. } = Command::new("id").args(args).output()?;
    Ok(status
        .success()
        .then(|| String::from_utf8_lossy(&stdout).trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_root_the_cluster_runs_as_an_unprivileged_user() {
        let account = Account::for_this_process().unwrap();
        let root = running_as_root().unwrap();
        assert_eq!(account.is_other_user(), root);
        if root {
            assert!(["postgres", "nobody"].contains(&account.name.as_str()));
            assert_ne!(account.uid(), Some(0));
            let output = account.command(Path::new("/usr/bin/id")).arg("-u").output();
            let uid = String::from_utf8_lossy(&output.unwrap().stdout)
                .trim()
                .to_owned();
            assert_eq!(Some(uid), account.uid().map(|u| u.to_string()));
        } else {
            assert_eq!(account.uid(), None);
        }
        assert_eq!(ids_of("no-such-user-conduit").unwrap(), None);
    }
}
