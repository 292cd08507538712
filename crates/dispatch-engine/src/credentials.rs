//! Recently seen API tokens, so that a request with a token seen a moment ago does not read it
//! again (one statement less on every API call).
//!
//! Trusted only while this process hears the database's announcements (PostgreSQL's
//! `dispatch_credentials` channel, sent by triggers on tokens, users and individuals whatever
//! wrote them): every announcement forgets every entry, and while the listening connection is
//! down nothing is cached. Without announcements (SQLite) the cache stays off. Changes made by
//! this process also forget at once, without waiting for their own announcement.
//!
//! An entry is stamped with the generation it was read in; a read that raced a change (began
//! before the change was announced) is not kept.

use dispatch_store::repo::token::TokenOwner;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an entry is trusted at most, announcements or not.
pub const TTL: Duration = Duration::from_secs(60);

/// At most this many tokens are remembered (all are forgotten past it).
const CAPACITY: usize = 10_000;

struct Entry {
    generation: u64,
    at: Instant,
    owner: TokenOwner,
}

/// The cache, keyed by the token's hash.
#[derive(Default)]
pub(crate) struct CredentialCache {
    /// Whether announcements are heard now.
    trusted: AtomicBool,
    /// Bumped by every change; entries of an older generation are stale.
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

impl CredentialCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The generation a read begins in (pass it to [`CredentialCache::keep`]).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The owner of the token with this hash, if it was seen live in this generation, within
    /// [`TTL`], and has not expired since.
    pub fn get(&self, hash: &str, now: chrono::DateTime<chrono::Utc>) -> Option<TokenOwner> {
        if !self.trusted.load(Ordering::SeqCst) {
            return None;
        }
        let generation = self.generation();
        let mut entries = self.entries();
        let e = entries.get(hash)?;
        let live = e.generation == generation
            && e.at.elapsed() < TTL
            && e.owner.expires_at.is_none_or(|t| t > now);
        if live {
            Some(e.owner.clone())
        } else {
            entries.remove(hash);
            None
        }
    }

    /// Keeps what a read that began in `generation` found, unless something changed since.
    pub fn keep(&self, hash: String, owner: TokenOwner, generation: u64) {
        if !self.trusted.load(Ordering::SeqCst) {
            return;
        }
        let mut entries = self.entries();
        // Compared under the lock: `forget` bumps the generation before it clears.
        if generation != self.generation() {
            return;
        }
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        let at = Instant::now();
        entries.insert(
            hash,
            Entry {
                generation,
                at,
                owner,
            },
        );
    }

    /// Notes that the token with this hash was used at `at` (its bookkeeping was written).
    pub fn used(&self, hash: &str, at: chrono::DateTime<chrono::Utc>) {
        if let Some(e) = self.entries().get_mut(hash) {
            e.owner.last_used_at = Some(at);
        }
    }

    /// Forgets everything: a credential changed (or may have).
    pub fn forget(&self) {
        let mut entries = self.entries();
        self.generation.fetch_add(1, Ordering::SeqCst);
        entries.clear();
    }

    /// Announcements are heard from now on (`true`), or no longer (`false`): either way what
    /// was cached before is forgotten.
    pub fn set_trusted(&self, trusted: bool) {
        self.forget();
        self.trusted.store(trusted, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(expires_at: Option<chrono::DateTime<chrono::Utc>>) -> TokenOwner {
        TokenOwner {
            token_id: 1,
            role: "admin".into(),
            scope: "admin".into(),
            expires_at,
            last_used_at: None,
            user_id: 1,
            individual_id: 1,
            email: "a@example.com".into(),
            name: "A".into(),
        }
    }

    #[test]
    fn nothing_is_cached_until_announcements_are_heard() {
        let c = CredentialCache::default();
        let now = dispatch_core::now();
        c.keep("h".into(), owner(None), c.generation());
        assert!(c.get("h", now).is_none());
        c.set_trusted(true);
        c.keep("h".into(), owner(None), c.generation());
        assert_eq!(c.get("h", now).map(|o| o.token_id), Some(1));
        c.set_trusted(false);
        assert!(c.get("h", now).is_none(), "losing the listener forgets");
    }

    #[test]
    fn a_change_forgets_and_a_read_that_raced_it_is_not_kept() {
        let c = CredentialCache::default();
        c.set_trusted(true);
        let now = dispatch_core::now();
        let before = c.generation();
        c.keep("h".into(), owner(None), before);
        c.forget();
        assert!(c.get("h", now).is_none());
        c.keep("h".into(), owner(None), before);
        assert!(
            c.get("h", now).is_none(),
            "read before the change, kept after it"
        );
        c.keep("h".into(), owner(None), c.generation());
        assert!(c.get("h", now).is_some());
    }

    #[test]
    fn an_expired_token_is_not_served() {
        let c = CredentialCache::default();
        c.set_trusted(true);
        let now = dispatch_core::now();
        c.keep(
            "h".into(),
            owner(Some(now + chrono::TimeDelta::seconds(1))),
            c.generation(),
        );
        assert!(c.get("h", now).is_some());
        assert!(c.get("h", now + chrono::TimeDelta::seconds(2)).is_none());
    }
}
