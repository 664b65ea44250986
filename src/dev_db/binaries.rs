//! Finding PostgreSQL's server programs (`initdb`, `pg_ctl`, `postgres`) for the private
//! development cluster: on `PATH` first, then the usual install locations, newest version
//! first: Debian/Ubuntu's `/usr/lib/postgresql/<version>/bin`, Homebrew's
//! `/opt/homebrew/opt/postgresql@<version>/bin` and `/usr/local/opt/postgresql@<version>/bin`,
//! and Postgres.app's `latest`. Nothing is downloaded.

use std::{
    ffi::OsStr,
    path::{Path, PathBuf},
};

/// The programs a folder must hold to be used.
const PROGRAMS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

/// Postgres.app's current version, under the search root.
const POSTGRES_APP: &str = "Applications/Postgres.app/Contents/Versions/latest/bin";

/// The folder the cluster's programs are taken from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    /// The folder holding `initdb`, `pg_ctl` and `postgres`.
    pub dir: PathBuf,
}

/// No PostgreSQL programs anywhere Conduit looks.
#[derive(Debug, thiserror::Error)]
#[error(
    "no PostgreSQL server programs (initdb, pg_ctl) on PATH or in the usual install \
     locations: install PostgreSQL (`apt-get install postgresql`, `brew install \
     postgresql@17`) for a private development cluster, or set DATABASE_URL to a server \
     that is running"
)]
pub struct NotFound;

impl Binaries {
    /// Finds them on this machine's `PATH` and install locations.
    pub fn find() -> Result<Self, NotFound> {
        Self::search(std::env::var_os("PATH").as_deref(), Path::new("/"))
    }

    /// Finds them on `path` (a `PATH` value), then in the install locations under `root`
    /// (`/` for the machine itself; tests pass a scratch folder).
    pub fn search(path: Option<&OsStr>, root: &Path) -> Result<Self, NotFound> {
        let on_path = path.into_iter().flat_map(std::env::split_paths);
        on_path
            .chain(install_locations(root))
            .find(|dir| PROGRAMS.iter().all(|name| is_program(&dir.join(name))))
            .map(|dir| Self { dir })
            .ok_or(NotFound)
    }

    /// The full path of program `name` (`pg_ctl`, `initdb`).
    pub fn program(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// The install locations under `root`, in search order.
fn install_locations(root: &Path) -> Vec<PathBuf> {
    let mut dirs = versioned(&root.join("usr/lib/postgresql"), "", "bin");
    for homebrew in ["opt/homebrew/opt", "usr/local/opt"] {
        dirs.extend(versioned(&root.join(homebrew), "postgresql@", "bin"));
    }
    dirs.push(root.join(POSTGRES_APP));
    dirs
}

/// `<parent>/<prefix><version>/<below>` for each entry of `parent` named so, the highest
/// version first (compared as numbers: 17 > 9.6).
fn versioned(parent: &Path, prefix: &str, below: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Vec::new();
    };
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name();
            let version = name.to_str()?.strip_prefix(prefix)?;
            let number: Option<Vec<u32>> = version.split('.').map(|p| p.parse().ok()).collect();
            Some((number?, entry.path().join(below)))
        })
        .collect();
    found.sort();
    found.into_iter().rev().map(|(_, dir)| dir).collect()
}

/// True when `path` is a file someone may execute.
fn is_program(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    /// A scratch folder, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("conduit-binaries-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        /// Puts the three programs (or only `programs`) into `relative`.
        fn install(&self, relative: &str, programs: &[&str]) -> PathBuf {
            let dir = self.0.join(relative);
            std::fs::create_dir_all(&dir).unwrap();
            for name in programs {
                let file = dir.join(name);
                std::fs::write(&file, "#!/bin/sh\n").unwrap();
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            dir
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn found(path: &[&Path], root: &Path) -> Option<PathBuf> {
        let path = std::env::join_paths(path).unwrap();
        Binaries::search(Some(&path), root).ok().map(|b| b.dir)
    }

    #[test]
    fn path_first_then_the_highest_debian_version_then_homebrew_then_postgres_app() {
        let scratch = Scratch::new("order");
        let root = scratch.0.join("root");
        let app = scratch.install(&format!("root/{POSTGRES_APP}"), &PROGRAMS);
        assert_eq!(found(&[], &root), Some(app.clone()));
        let intel = scratch.install("root/usr/local/opt/postgresql@16/bin", &PROGRAMS);
        assert_eq!(found(&[], &root), Some(intel));
        let arm = scratch.install("root/opt/homebrew/opt/postgresql@14/bin", &PROGRAMS);
        assert_eq!(found(&[], &root), Some(arm));
        scratch.install("root/usr/lib/postgresql/9.6/bin", &PROGRAMS);
        let newest = scratch.install("root/usr/lib/postgresql/15/bin", &PROGRAMS);
        scratch.install("root/usr/lib/postgresql/12/bin", &PROGRAMS);
        assert_eq!(found(&[], &root), Some(newest.clone()));
        let on_path = scratch.install("bin", &PROGRAMS);
        let empty = scratch.install("empty", &[]);
        assert_eq!(found(&[&empty, &on_path], &root), Some(on_path));
        assert_eq!(found(&[&empty], &root), Some(newest));
    }

    #[test]
    fn a_folder_needs_every_program_and_may_be_missing_altogether() {
        let scratch = Scratch::new("partial");
        let root = scratch.0.join("root");
        // Debian's /usr/bin has psql and pg_ctlcluster, not initdb or pg_ctl.
        let clients = scratch.install("bin", &["psql", "pg_ctl"]);
        scratch.install("root/usr/lib/postgresql/17/bin", &["initdb", "pg_ctl"]);
        let whole = scratch.install("root/usr/lib/postgresql/16/bin", &PROGRAMS);
        assert_eq!(found(&[&clients], &root), Some(whole.clone()));
        std::fs::set_permissions(whole.join("initdb"), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        assert_eq!(found(&[&clients], &root), None);
        let message = NotFound.to_string();
        assert!(!message.contains('\n'), "one line: {message}");
        for needed in [
            "apt-get install postgresql",
            "brew install postgresql@17",
            "DATABASE_URL",
        ] {
            assert!(message.contains(needed), "{message}");
        }
    }
}
