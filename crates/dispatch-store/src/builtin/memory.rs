//! What the Slack provider remembers: the user cache (Slack id ↔ e-mail) and the keys of the
//! messages it posted, so a retried job never posts twice.

use crate::repo;
use crate::Db;
use async_trait::async_trait;
use dispatch_core::provider::{ChatMemory, ProviderError, ProviderResult};

/// [`ChatMemory`] in the `slack_users` and `slack_messages` tables.
pub struct SlackMemory {
    /// Where it is kept.
    pub db: Db,
}

fn err(e: crate::StoreError) -> ProviderError {
    ProviderError::new("slack", e.to_string())
}

#[async_trait]
impl ChatMemory for SlackMemory {
    async fn user_id(&self, email: &str) -> ProviderResult<Option<String>> {
        let found = repo::slack::user_by_email(self.db.conn(), email)
            .await
            .map_err(err)?;
        Ok(found.map(|u| u.slack_id))
    }

    async fn remember_user(&self, id: &str, email: &str, name: &str) -> ProviderResult<()> {
        let txn = self.db.write().await.map_err(err)?;
        repo::slack::remember_user(&*txn, id, email, name)
            .await
            .map_err(err)?;
        txn.commit().await.map_err(err)
    }

    async fn posted(&self, key: &str) -> ProviderResult<Option<String>> {
        repo::slack::posted_ts(self.db.conn(), key)
            .await
            .map_err(err)
    }

    async fn remember_post(&self, key: &str, channel: &str, id: &str) -> ProviderResult<()> {
        let txn = self.db.write().await.map_err(err)?;
        repo::slack::remember_post(&*txn, key, channel, id)
            .await
            .map_err(err)?;
        txn.commit().await.map_err(err)
    }
}
