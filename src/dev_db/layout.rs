//! Where a checkout's private development cluster lives:
//!
//! - its data in `<checkout>/.conduit/pg`, or, when it runs as another user (Conduit runs
//!   as root), in `/var/tmp/conduit-pg-<hash>/pg` (`/tmp` without `/var/tmp`): that user
//!   cannot enter `/root`; beside the data, `pg.log` and the lock files;
//! - its Unix socket in `/tmp/conduit-pg-<hash>`: short, since a socket's path may not
//!   exceed about 107 bytes.
//!
//! `<hash>` is the start of the SHA-256 of the checkout's absolute path, so each checkout
//! has its own cluster.

use std::path::{Path, PathBuf};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha2::{Digest, Sha256};

use super::account::Account;

/// The port in the socket's name (`.s.PGSQL.5432`); no TCP port is opened.
pub const PORT: u16 = 5432;

/// The cluster's superuser (trust authentication on the socket).
pub const SUPERUSER: &str = "postgres";

/// What is percent-encoded in a URL's host and database: all but letters, digits, `-_.`.
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// The paths of one checkout's cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The checkout (absolute).
    pub checkout: PathBuf,
    /// The folder holding the data folder, its log and the lock files.
    pub state: PathBuf,
    /// The data folder (`PGDATA`).
    pub data: PathBuf,
    /// The folder of the Unix socket.
    pub socket_dir: PathBuf,
}

impl Layout {
    /// The layout of `checkout`'s cluster when run as `account`, with `/tmp` and `/var/tmp`
    /// under `root` (`/` but in tests).
    pub fn new(checkout: &Path, account: &Account, root: &Path) -> Self {
        let checkout = std::path::absolute(checkout).unwrap_or_else(|_| checkout.to_owned());
        let checkout = checkout.canonicalize().unwrap_or(checkout);
        let digest = Sha256::digest(checkout.as_os_str().as_encoded_bytes());
        let hash: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("conduit-pg-{hash}");
        let state = if account.is_other_user() {
            let var_tmp = root.join("var/tmp");
            let shared = if var_tmp.is_dir() {
                var_tmp
            } else {
                root.join("tmp")
            };
            shared.join(&name)
        } else {
            checkout.join(".conduit")
        };
        Self {
            data: state.join("pg"),
            socket_dir: root.join("tmp").join(&name),
            state,
            checkout,
        }
    }

    /// The server's log.
    pub fn log(&self) -> PathBuf {
        self.state.join("pg.log")
    }

    /// A file beside the data folder (`pg.lock`, `pg.users`, `pg.owner`).
    pub fn beside(&self, name: &str) -> PathBuf {
        self.state.join(name)
    }

    /// The server's URL, without a database: `postgres://postgres@%2Ftmp%2F...` (a
    /// percent-encoded socket folder as the host).
    pub fn server_url(&self) -> String {
        let folder = self.socket_dir.to_string_lossy();
        let host = utf8_percent_encode(&folder, ENCODED);
        format!("postgres://{SUPERUSER}@{host}:{PORT}")
    }

    /// The URL of database `name` on the cluster.
    pub fn url(&self, name: &str) -> String {
        format!(
            "{}/{}",
            self.server_url(),
            utf8_percent_encode(name, ENCODED)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_in_the_checkout_socket_in_a_short_folder_under_tmp() {
        let me = Account::fixed(None);
        let here = Layout::new(Path::new("/home/ann/src/conduit"), &me, Path::new("/"));
        assert_eq!(here.data, Path::new("/home/ann/src/conduit/.conduit/pg"));
        assert_eq!(
            here.log(),
            Path::new("/home/ann/src/conduit/.conduit/pg.log")
        );
        let name = here
            .socket_dir
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            name.starts_with("conduit-pg-") && name.len() == 23,
            "{name}"
        );
        assert_eq!(here.socket_dir.parent(), Some(Path::new("/tmp")));
        let socket = here.socket_dir.join(format!(".s.PGSQL.{PORT}"));
        assert!(socket.as_os_str().len() < 64, "{}", socket.display());
        let other = Layout::new(Path::new("/home/ann/src/conduit-2"), &me, Path::new("/"));
        assert_ne!(
            here.socket_dir, other.socket_dir,
            "one cluster per checkout"
        );
        let again = Layout::new(Path::new("/home/ann/src/conduit"), &me, Path::new("/"));
        assert_eq!(again, here, "the same checkout, the same cluster");
        assert_eq!(
            here.url("conduit"),
            format!("postgres://postgres@%2Ftmp%2F{name}:5432/conduit")
        );
        let parsed: tokio_postgres::Config = here.url("conduit").parse().unwrap();
        assert_eq!(
            parsed.get_hosts(),
            [tokio_postgres::config::Host::Unix(here.socket_dir.clone())]
        );
    }

    #[test]
    fn another_user_keeps_its_data_under_var_tmp_or_else_tmp() {
        let root = std::env::temp_dir().join(format!("conduit-layout-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        let checkout = Path::new("/root/conduit");
        let postgres = Account::fixed(Some((101, 104)));
        let mine = Layout::new(checkout, &Account::fixed(None), &root);
        let without_var_tmp = Layout::new(checkout, &postgres, &root);
        let name = mine.socket_dir.file_name().unwrap().to_owned();
        assert_eq!(without_var_tmp.state, root.join("tmp").join(&name));
        std::fs::create_dir_all(root.join("var/tmp")).unwrap();
        let theirs = Layout::new(checkout, &postgres, &root);
        assert_eq!(theirs.state, root.join("var/tmp").join(&name));
        assert_eq!(theirs.data, theirs.state.join("pg"));
        assert_eq!(theirs.socket_dir, mine.socket_dir, "keyed by the same hash");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
