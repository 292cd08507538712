//! Login rate limiting, shared by every server on the database: failed sign-ins are counted per
//! key (an e-mail, an address) in fixed windows, in the `login_throttle` table.

use crate::Result;
use chrono::{DateTime, TimeDelta, Utc};
use dispatch_store::repo::login_throttle;

/// The start of the window `now` falls in.
fn window_start(now: DateTime<Utc>, window: TimeDelta) -> DateTime<Utc> {
    let secs = window.num_seconds().max(1);
    let start = now.timestamp().div_euclid(secs) * secs;
    DateTime::from_timestamp(start, 0).unwrap_or(now)
}

impl crate::Sessions<'_> {
    /// `Some(seconds to wait)` when any of `keys` (each with its limit) has used up its
    /// failures in the current window.
    pub async fn throttled(self, keys: &[(String, i64)], window: TimeDelta) -> Result<Option<u64>> {
        let now = dispatch_core::now();
        let start = window_start(now, window);
        for (key, limit) in keys {
            let failures =
                login_throttle::failures(self.db().conn(), &login_throttle::hash_key(key), start)
                    .await?;
            if failures >= *limit {
                let wait = (start + window - now).num_seconds().max(1);
                return Ok(Some(wait as u64));
            }
        }
        Ok(None)
    }

    /// Counts a failed sign-in against every key.
    pub async fn login_failed(self, keys: &[String], window: TimeDelta) -> Result<()> {
        let now = dispatch_core::now();
        let start = window_start(now, window);
        let txn = self.db().write().await?;
        for key in keys {
            login_throttle::record_failure(&*txn, &login_throttle::hash_key(key), start).await?;
        }
        // Windows that ended long ago are of no use.
        login_throttle::prune(&*txn, start - window).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Forgets a key's failures (an e-mail that just signed in).
    pub async fn login_succeeded(self, key: &str) -> Result<()> {
        let txn = self.db().write().await?;
        login_throttle::clear(&*txn, &login_throttle::hash_key(key)).await?;
        txn.commit().await?;
        Ok(())
    }
}
