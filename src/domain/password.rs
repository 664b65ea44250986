//! Password hashing with argon2id, off the async threads and bounded in concurrency.

use std::sync::{
    Arc, LazyLock,
    atomic::{AtomicU64, Ordering},
};

use anyhow::Context;
use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher as _, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

/// OWASP's minimum for argon2id: 19 MiB of memory, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a random password, verified against when the account does not exist, so an
/// unknown email costs the same work as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    let password: [u8; 16] = rand::random();
    argon2()
        .hash_password(&password, &salt)
        .expect("hash dummy password")
        .to_string()
});

/// Hashes and verifies passwords. At most `max_concurrent` hashes run at once, each on
/// the blocking pool, so a login storm queues instead of starving other requests.
#[derive(Debug, Clone)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    hashes: Arc<AtomicU64>,
    verifications: Arc<AtomicU64>,
}

impl Passwords {
    /// A hasher running at most `max_concurrent` hashes at a time.
    pub fn new(max_concurrent: usize) -> Self {
        // Built now, not on the first unknown-email login (which would then take longer).
        LazyLock::force(&DUMMY_HASH);
        Self {
            permits: Arc::new(Semaphore::new(max_concurrent.max(1))),
            hashes: Arc::default(),
            verifications: Arc::default(),
        }
    }

    /// Hashes `password` into a PHC string.
    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        self.hashes.fetch_add(1, Ordering::Relaxed);
        self.blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon2()
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
        })
        .await
    }

    /// Verifies `password` against `hash`; with no hash (unknown account), verifies against
    /// a dummy hash and returns false, taking the same path and the same time.
    pub async fn verify(&self, password: String, hash: Option<String>) -> anyhow::Result<bool> {
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let matches = self
            .blocking(move || {
                let parsed = PasswordHash::new(&hash)
                    .map_err(|e| anyhow::anyhow!("stored password hash is invalid: {e}"))?;
                Ok(argon2()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok())
            })
            .await?;
        Ok(known && matches)
    }

    /// How many hashes ran (for tests proving that bad input is refused before hashing).
    pub fn hashes(&self) -> u64 {
        self.hashes.load(Ordering::Relaxed)
    }

    /// How many verifications ran (for tests proving that unknown emails are verified too).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
    ) -> anyhow::Result<T> {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("password hasher closed")?;
        tokio::task::spawn_blocking(work)
            .await
            .context("password hashing task failed")?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_accounts_never_match() {
        let passwords = Passwords::new(2);
        let hash = passwords.hash("correct horse".into()).await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            passwords
                .verify("correct horse".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify("wrong horse".into(), Some(hash))
                .await
                .unwrap()
        );
        assert!(!passwords.verify("anything".into(), None).await.unwrap());
        assert_eq!(passwords.verifications(), 3);
    }
}
