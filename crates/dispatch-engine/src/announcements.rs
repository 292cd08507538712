//! What the database announces to every replica (PostgreSQL `LISTEN`/`NOTIFY`, see
//! `dispatch_store::repo::notify`), heard: enqueued jobs wake this process's runner, changed
//! credentials clear its cache of recently seen tokens.

use crate::Engine;
use dispatch_store::repo::notify;
use std::time::Duration;

impl Engine {
    /// On PostgreSQL, listens for what every replica announces until the task is aborted,
    /// listening again a second after the connection is lost (polling covers enqueues meanwhile,
    /// and tokens are read afresh on every request). `None` on SQLite: one process, nothing to
    /// hear.
    pub fn listen_for_announcements(&self) -> Option<tokio::task::JoinHandle<()>> {
        if self.db().backend() != dispatch_store::Backend::Postgres {
            return None;
        }
        let engine = self.clone();
        Some(tokio::spawn(async move {
            loop {
                let listening = notify::listen(
                    engine.db(),
                    &[notify::JOBS, notify::CREDENTIALS],
                    || engine.credentials_heard(true),
                    |channel| match channel {
                        notify::CREDENTIALS => engine.credentials_changed(),
                        _ => engine.wake_workers(),
                    },
                )
                .await;
                engine.credentials_heard(false);
                if let Err(e) = listening {
                    tracing::warn!(error = %e, "notifications lost; polling until they are back");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }))
    }

    /// Another replica (or anything else) changed a credential: forget the tokens seen so far.
    pub(crate) fn credentials_changed(&self) {
        self.credential_cache().forget();
    }

    /// Whether this process hears every credential change now; tokens are remembered between
    /// requests only while it does.
    pub(crate) fn credentials_heard(&self, heard: bool) {
        self.credential_cache().set_trusted(heard);
    }
}
