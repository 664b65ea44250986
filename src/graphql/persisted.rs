//! Persisted queries: Apollo's automatic persisted queries (APQ) protocol, and a safelist
//! mode in which only documents of the build's manifest run.
//!
//! A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`:
//! - without `query`: the stored document runs, or the request fails with
//!   `PERSISTED_QUERY_NOT_FOUND` (message `PersistedQueryNotFound`, as Apollo Client and
//!   urql expect), and the client sends it again with the text;
//! - with `query`: the hash must be the text's SHA-256 (else `BAD_REQUEST`); once the
//!   operation has run without failing validation, the document is stored.
//!
//! Registered documents live in PostgreSQL (`persisted_queries`), so every instance serves
//! what any instance registered, behind an in-memory LRU cache. The table is bounded, as
//! anyone may register: at most [`MAX_STORED`] documents, each kept [`STORED_FOR`] after
//! registration (clients register again on `PERSISTED_QUERY_NOT_FOUND`); when it is full,
//! documents still run but are not stored. An expired document stops answering at its
//! expiry, judged by the instance's [`Clock`]; the cache holds each document with its
//! expiry and only what the table holds (a document the table refused is not cached).
//! Registrations are limited per client ([`RegistrationLimit`], by user, else by IP or
//! IPv6 /64): past the limit the document still runs, and is not stored. In safelist
//! mode an unlisted hash is `PERSISTED_QUERY_NOT_IN_LIST` like an unlisted text.
//! Lookups and registration use the request's own read connection. The document limits ([`super::limits`]) and the cost budget apply
//! to a persisted document as to any other, since it runs through the same executor.
//!
//! Modes (`PERSISTED_QUERIES`): `automatic` (default) as above; `safelist`, where only the
//! documents of the instance's manifest run (by hash, or by text whose hash is listed;
//! anything else is `PERSISTED_QUERY_NOT_IN_LIST`), held in memory so that each instance
//! runs exactly its own build's list, and nothing is registered; `off`, where a hash
//! without text is `PERSISTED_QUERY_NOT_SUPPORTED`. The manifest
//! (`PERSISTED_QUERIES_MANIFEST`) is GraphQL Code Generator's `persisted-documents.json`
//! (client preset, `persistedDocuments: true`): a JSON object from SHA-256 hash to
//! document, read at start.

use std::{
    collections::HashMap,
    num::{NonZeroU32, NonZeroUsize},
    path::Path,
    sync::{Mutex, RwLock},
    time::Duration,
};

use async_graphql::{Extensions, ServerError, Value};
use chrono::{DateTime, Utc};
use lru::LruCache;
use sha2::{Digest, Sha256};

use super::{admission::Caller, error::coded_error};
use crate::{
    db::{RequestDb, persisted_queries},
    domain::clock::Clock,
    error::{AppError, ErrorCode},
    ratelimit::{KeyedLimiter, budget::Spender},
};

/// Registrations of new documents per client: a bucket per user (or, anonymous, per IP
/// or IPv6 /64; callers of unknown address share one), refilled evenly over a minute.
pub type RegistrationLimit = KeyedLimiter<Option<Spender>>;

/// The bucket `caller`'s registrations spend from.
fn registrant(caller: &Caller) -> Option<Spender> {
    match (caller.viewer, caller.ip) {
        (Some(viewer), _) => Some(Spender::User(viewer.user_id)),
        (None, Some(ip)) => Some(Spender::anonymous(ip.0)),
        (None, None) => None,
    }
}

/// How persisted queries are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersistedMode {
    /// Apollo's automatic persisted queries: clients register documents by running them.
    Automatic,
    /// Only documents of the manifest run.
    Safelist,
    /// Hashes are not looked up.
    Off,
}

impl std::str::FromStr for PersistedMode {
    type Err = &'static str;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "automatic" | "apq" => Ok(Self::Automatic),
            "safelist" => Ok(Self::Safelist),
            "off" => Ok(Self::Off),
            _ => Err("use automatic, safelist or off"),
        }
    }
}

/// Registered documents kept in memory per instance.
const CACHE_ENTRIES: usize = 1024;
/// Most registered documents stored (shared by all instances).
pub const MAX_STORED: i64 = 5_000;
/// How long a registered document is kept.
pub const STORED_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// The document a request runs, once its persisted-query extension is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The document text.
    pub query: String,
    /// Store the document under this hash once it has run (automatic mode, text sent
    /// with a hash that is not stored yet).
    pub register: Option<String>,
}

/// The instance's persisted queries: the mode, the cache of registered documents and
/// the safelist.
pub struct PersistedQueries {
    mode: PersistedMode,
    /// Registered documents by hash, with when they expire.
    cache: Mutex<LruCache<String, (String, DateTime<Utc>)>>,
    /// The manifest's documents by hash (safelist mode).
    safelist: RwLock<HashMap<String, String>>,
    /// The clock expiry is judged by.
    clock: Clock,
    /// Registrations per client (`None`: unlimited).
    registrations: Option<RegistrationLimit>,
}

impl PersistedQueries {
    /// Persisted queries in `mode`, with an empty safelist.
    pub fn new(mode: PersistedMode) -> Self {
        let size = NonZeroUsize::new(CACHE_ENTRIES).expect("non-zero");
        Self {
            mode,
            cache: Mutex::new(LruCache::new(size)),
            safelist: RwLock::default(),
            clock: Clock::default(),
            registrations: None,
        }
    }

    /// The same, judging expiry by `clock` and limiting each client's registrations by
    /// `registrations`.
    pub fn with_rules(mut self, clock: Clock, registrations: Option<RegistrationLimit>) -> Self {
        self.clock = clock;
        self.registrations = registrations;
        self
    }

    /// The document a request with `query` and `extensions` runs, or why it cannot run;
    /// looks registered documents up through `db`, the request's read connection.
    pub async fn resolve(
        &self,
        db: &RequestDb,
        query: Option<String>,
        extensions: Option<&Extensions>,
    ) -> Result<Resolved, ServerError> {
        let hash = match extensions.and_then(|e| e.get("persistedQuery")) {
            Some(value) => Some(requested_hash(value)?),
            None => None,
        };
        match (self.mode, hash, query) {
            (_, None, None) => Err(coded_error(
                ErrorCode::BadRequest,
                "The request has no `query` parameter.",
            )),
            (PersistedMode::Off, None, Some(query))
            | (PersistedMode::Off, Some(_), Some(query)) => Ok(Resolved {
                query,
                register: None,
            }),
            (PersistedMode::Off, Some(_), None) => Err(coded_error(
                ErrorCode::PersistedQueryNotSupported,
                "PersistedQueryNotSupported",
            )),
            (PersistedMode::Automatic, None, Some(query)) => Ok(Resolved {
                query,
                register: None,
            }),
            (PersistedMode::Safelist, None, Some(query)) => {
                self.listed(&sha256_hex(&query))?;
                Ok(Resolved {
                    query,
                    register: None,
                })
            }
            (mode, Some(hash), Some(query)) => {
                if sha256_hex(&query) != hash {
                    return Err(coded_error(
                        ErrorCode::BadRequest,
                        "The persistedQuery sha256Hash is not the SHA-256 of the query.",
                    ));
                }
                if mode == PersistedMode::Safelist {
                    self.listed(&hash)?;
                    return Ok(Resolved {
                        query,
                        register: None,
                    });
                }
                let stored = self.lookup(db, &hash).await?.is_some();
                Ok(Resolved {
                    query,
                    register: (!stored).then_some(hash),
                })
            }
            (mode, Some(hash), None) => {
                let found = match mode {
                    PersistedMode::Safelist => {
                        self.listed(&hash)?;
                        self.listed_document(&hash)
                    }
                    _ => self.lookup(db, &hash).await?,
                };
                match found {
                    Some(document) => Ok(Resolved {
                        query: document,
                        register: None,
                    }),
                    None => Err(coded_error(
                        ErrorCode::PersistedQueryNotFound,
                        "PersistedQueryNotFound",
                    )),
                }
            }
        }
    }

    /// Stores `query` under `hash` (see [`Resolved::register`]) through `db`, the
    /// request's read connection, unless `caller` is over its registration limit or the
    /// table is full. Only a document the table took is cached.
    pub async fn register(
        &self,
        db: &RequestDb,
        hash: String,
        query: String,
        caller: &Caller,
    ) -> Result<(), AppError> {
        if let Some(limit) = &self.registrations
            && limit.spend(&registrant(caller), NonZeroU32::MIN).is_err()
        {
            tracing::debug!(%hash, "persisted query not stored: the client's registration limit is spent");
            return Ok(());
        }
        let conn = db.conn().await?;
        let ttl = STORED_FOR.as_secs_f64();
        let now = self.clock.now();
        if persisted_queries::register(&conn, &hash, &query, MAX_STORED, ttl, now).await? {
            self.remember(hash, query, now + stored_for());
        } else {
            tracing::debug!(%hash, "persisted query not stored (already there, or the table is full)");
        }
        Ok(())
    }

    /// Reads a GraphQL Code Generator persisted-documents manifest as this instance's
    /// safelist; returns how many documents it holds. Refuses a manifest whose hashes are
    /// not the SHA-256 of their documents.
    pub fn load_manifest(&self, path: &Path) -> anyhow::Result<usize> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let manifest: HashMap<String, String> = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a persisted-documents manifest (a JSON object from hash to document): {e}",
                path.display()
            )
        })?;
        let mut list = HashMap::with_capacity(manifest.len());
        for (key, document) in manifest {
            let hash = hex_hash(&key).ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: {key:?} is not a SHA-256 (hex, or sha256:<hex>)",
                    path.display()
                )
            })?;
            anyhow::ensure!(
                sha256_hex(&document) == hash,
                "{}: {hash} is not the SHA-256 of its document (configure GraphQL Code \
                 Generator's persistedDocuments with hashAlgorithm sha256)",
                path.display()
            );
            list.insert(hash, document);
        }
        let count = list.len();
        *self.safelist.write().unwrap_or_else(|e| e.into_inner()) = list;
        Ok(count)
    }

    /// Passes when `hash` is on the safelist.
    fn listed(&self, hash: &str) -> Result<(), ServerError> {
        match self.listed_document(hash) {
            Some(_) => Ok(()),
            None => Err(coded_error(
                ErrorCode::PersistedQueryNotInList,
                "This server runs only the operations of its safelist; this one is not on it.",
            )),
        }
    }

    /// The safelisted document under `hash`.
    fn listed_document(&self, hash: &str) -> Option<String> {
        self.safelist
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(hash)
            .cloned()
    }

    /// The registered document under `hash`: from the cache, else from the database (and
    /// then cached).
    /// Neither answers past the document's expiry.
    async fn lookup(&self, db: &RequestDb, hash: &str) -> Result<Option<String>, ServerError> {
        let now = self.clock.now();
        {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get(hash) {
                Some((document, expires)) if *expires > now => return Ok(Some(document.clone())),
                Some(_) => {
                    cache.pop(hash);
                }
                None => {}
            }
        }
        let found = async {
            let conn = db.conn().await?;
            Ok::<_, AppError>(persisted_queries::find(&conn, hash, now, stored_for()).await?)
        }
        .await
        .map_err(ServerError::from)?;
        Ok(found.map(|(document, created_at)| {
            self.remember(hash.to_owned(), document.clone(), created_at + stored_for());
            document
        }))
    }

    fn remember(&self, hash: String, document: String, expires: DateTime<Utc>) {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(hash, (document, expires));
    }
}

impl std::fmt::Debug for PersistedQueries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistedQueries")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// [`STORED_FOR`] as a `chrono` duration.
fn stored_for() -> chrono::Duration {
    chrono::Duration::from_std(STORED_FOR).expect("a day fits")
}

/// The lowercase hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// A SHA-256 as clients write it, bare hex or `sha256:<hex>` (GraphQL Code Generator's
/// client preset writes its manifest keys so, and the persisted-documents draft's
/// `documentId` is so), as the lowercase hex it is stored under; `None` for anything else.
pub fn hex_hash(text: &str) -> Option<String> {
    let hex = text.strip_prefix("sha256:").unwrap_or(text);
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// The hash a `persistedQuery` extension asks for (lowercased), or why it is malformed.
fn requested_hash(value: &Value) -> Result<String, ServerError> {
    let bad = |message: &str| coded_error(ErrorCode::BadRequest, message);
    let Value::Object(fields) = value else {
        return Err(bad("extensions.persistedQuery must be an object."));
    };
    match fields.get("version") {
        Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
        _ => return Err(bad("Only persistedQuery version 1 is supported.")),
    }
    match fields.get("sha256Hash").and_then(|hash| match hash {
        Value::String(hash) => hex_hash(hash),
        _ => None,
    }) {
        Some(hash) => Ok(hash),
        None => Err(bad(
            "extensions.persistedQuery.sha256Hash (or documentId) must be a hex SHA-256, \
             bare or as sha256:<hex>.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_lowercase_hex_sha256() {
        // printf %s "{ __typename }" | sha256sum
        assert_eq!(
            sha256_hex("{ __typename }"),
            "7f56e67dd21ab3f30d1ff8b7bed08893f0a0db86449836189b361dd1e56ddb4b"
        );
    }

    #[test]
    fn the_extension_must_be_version_1_with_a_hex_hash() {
        let hash = "A".repeat(64);
        let ok = Value::from_json(serde_json::json!({"version": 1, "sha256Hash": hash})).unwrap();
        assert_eq!(requested_hash(&ok).unwrap(), "a".repeat(64));
        for bad in [
            serde_json::json!({"version": 2, "sha256Hash": "a".repeat(64)}),
            serde_json::json!({"version": 1, "sha256Hash": "abc"}),
            serde_json::json!({"version": 1, "sha256Hash": "g".repeat(64)}),
            serde_json::json!({"version": 1}),
            serde_json::json!("a string"),
        ] {
            let value = Value::from_json(bad.clone()).unwrap();
            assert!(requested_hash(&value).is_err(), "{bad}");
        }
    }
}
