//! Persisted queries: Apollo's automatic persisted queries (APQ) protocol, and a safelist
//! mode in which only documents loaded from a build's manifest run.
//!
//! A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`:
//! - without `query`: the stored document runs, or the request fails with
//!   `PERSISTED_QUERY_NOT_FOUND` (message `PersistedQueryNotFound`, as Apollo Client and
//!   urql expect), and the client sends it again with the text;
//! - with `query`: the hash must be the text's SHA-256 (else `BAD_REQUEST`); once the
//!   operation has run without failing validation, the document is stored.
//!
//! Documents live in PostgreSQL (`persisted_queries`), so every instance serves what any
//! instance registered, behind an in-memory LRU cache. The document limits
//! ([`super::limits`]) apply to a persisted document as to any other, since it runs
//! through the same executor.
//!
//! Modes (`PERSISTED_QUERIES`): `automatic` (default) as above; `safelist`, where only
//! documents of the manifest run (by hash, or by text whose hash is on the list; anything
//! else is `PERSISTED_QUERY_NOT_IN_LIST`) and clients cannot register more; `off`, where
//! a hash without text is `PERSISTED_QUERY_NOT_SUPPORTED`. The manifest
//! (`PERSISTED_QUERIES_MANIFEST`) is GraphQL Code Generator's `persisted-documents.json`
//! (client preset, `persistedDocuments: true`): a JSON object from SHA-256 hash to
//! document, loaded into the table at start.

use std::{collections::HashMap, num::NonZeroUsize, path::Path, sync::Mutex};

use async_graphql::{Extensions, ServerError, Value};
use lru::LruCache;
use sha2::{Digest, Sha256};

use super::error::coded_error;
use crate::{
    db::{self, PgPool, persisted_queries},
    error::{AppError, ErrorCode},
};

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

/// Documents kept in memory per instance.
const CACHE_ENTRIES: usize = 4096;

/// The document a request runs, once its persisted-query extension is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The document text.
    pub query: String,
    /// Store the document under this hash once it has run (automatic mode, text sent
    /// with a hash that is not stored yet).
    pub register: Option<String>,
}

/// The instance's persisted queries: the mode, the pool and the cache.
pub struct PersistedQueries {
    mode: PersistedMode,
    pool: PgPool,
    /// Hash to (document, safelisted).
    cache: Mutex<LruCache<String, (String, bool)>>,
}

impl PersistedQueries {
    /// Persisted queries in `mode`, stored through `pool`.
    pub fn new(mode: PersistedMode, pool: PgPool) -> Self {
        let size = NonZeroUsize::new(CACHE_ENTRIES).expect("non-zero");
        Self {
            mode,
            pool,
            cache: Mutex::new(LruCache::new(size)),
        }
    }

    /// The document a request with `query` and `extensions` runs, or why it cannot run.
    pub async fn resolve(
        &self,
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
                let hash = sha256_hex(&query);
                self.safelisted(&hash).await?;
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
                    self.safelisted(&hash).await?;
                    return Ok(Resolved {
                        query,
                        register: None,
                    });
                }
                let stored = self.lookup(&hash).await?.is_some();
                Ok(Resolved {
                    query,
                    register: (!stored).then_some(hash),
                })
            }
            (mode, Some(hash), None) => match self.lookup(&hash).await? {
                Some((document, safelisted)) if mode == PersistedMode::Automatic || safelisted => {
                    Ok(Resolved {
                        query: document,
                        register: None,
                    })
                }
                _ => Err(coded_error(
                    ErrorCode::PersistedQueryNotFound,
                    "PersistedQueryNotFound",
                )),
            },
        }
    }

    /// Stores `query` under `hash` (see [`Resolved::register`]).
    pub async fn register(&self, hash: String, query: String) -> Result<(), AppError> {
        let mut conn = db::connect(&self.pool).await?;
        persisted_queries::register(&mut conn, &hash, &query).await?;
        self.remember(hash, query, false);
        Ok(())
    }

    /// Loads a GraphQL Code Generator persisted-documents manifest as the safelist;
    /// returns how many documents it holds. Refuses a manifest whose hashes are not the
    /// SHA-256 of their documents.
    pub async fn load_manifest(&self, path: &Path) -> anyhow::Result<usize> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let manifest: HashMap<String, String> = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a persisted-documents manifest (a JSON object from hash to document): {e}",
                path.display()
            )
        })?;
        let mut entries = Vec::with_capacity(manifest.len());
        for (hash, document) in manifest {
            let hash = hash.to_ascii_lowercase();
            anyhow::ensure!(
                sha256_hex(&document) == hash,
                "{}: {hash} is not the SHA-256 of its document (configure GraphQL Code \
                 Generator's persistedDocuments with hashAlgorithm sha256)",
                path.display()
            );
            entries.push((hash, document));
        }
        let mut conn = db::connect(&self.pool).await?;
        persisted_queries::safelist(&mut conn, &entries).await?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        for (hash, _) in &entries {
            cache.pop(hash);
        }
        Ok(entries.len())
    }

    /// Passes when `hash` is safelisted.
    async fn safelisted(&self, hash: &str) -> Result<(), ServerError> {
        match self.lookup(hash).await? {
            Some((_, true)) => Ok(()),
            _ => Err(coded_error(
                ErrorCode::PersistedQueryNotInList,
                "This server runs only the operations of its safelist; this one is not on it.",
            )),
        }
    }

    /// The document stored under `hash` and whether it is safelisted: from the cache,
    /// else from the database (and then cached).
    async fn lookup(&self, hash: &str) -> Result<Option<(String, bool)>, ServerError> {
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(hash)
            .cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        let found = async {
            let mut conn = db::connect(&self.pool).await?;
            Ok::<_, AppError>(persisted_queries::find(&mut conn, hash).await?)
        }
        .await
        .map_err(|err| {
            let error: async_graphql::Error = err.into();
            let mut server_error = ServerError::new(error.message, None);
            server_error.extensions = error.extensions;
            server_error
        })?;
        Ok(found.map(|row| {
            self.remember(hash.to_owned(), row.document.clone(), row.safelisted);
            (row.document, row.safelisted)
        }))
    }

    fn remember(&self, hash: String, document: String, safelisted: bool) {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(hash, (document, safelisted));
    }
}

impl std::fmt::Debug for PersistedQueries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersistedQueries")
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

/// The lowercase hex SHA-256 of `text`.
pub fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
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
    match fields.get("sha256Hash") {
        Some(Value::String(hash))
            if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            Ok(hash.to_ascii_lowercase())
        }
        _ => Err(bad(
            "extensions.persistedQuery.sha256Hash must be a hex SHA-256.",
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
