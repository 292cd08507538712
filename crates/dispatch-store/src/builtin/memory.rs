//! What the chat providers remember: who a chat user is (Slack's user cache, Slack id ↔ e-mail;
//! Teams' Azure AD object id and Matrix IDs on the individual) and the keys of the messages they
//! posted, so a retried job never posts twice.

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

/// [`ChatMemory`] for Microsoft Teams: people by the `teams_id` (Azure AD object id) on the
/// individual, posted messages in `slack_messages` under keys prefixed `teams:`.
pub struct TeamsMemory {
    /// Where it is kept.
    pub db: Db,
}

fn teams_err(e: crate::StoreError) -> ProviderError {
    ProviderError::new("teams", e.to_string())
}

fn teams_key(key: &str) -> String {
    format!("teams:{key}")
}

#[async_trait]
impl ChatMemory for TeamsMemory {
    async fn user_id(&self, email: &str) -> ProviderResult<Option<String>> {
        let found = repo::individual::by_email(self.db.conn(), &email.to_lowercase())
            .await
            .map_err(teams_err)?;
        Ok(found.and_then(|i| i.teams_id))
    }

    async fn remember_user(&self, id: &str, email: &str, name: &str) -> ProviderResult<()> {
        let txn = self.db.write().await.map_err(teams_err)?;
        let name = Some(name).filter(|n| !n.is_empty());
        repo::individual::link_teams_id(&*txn, &email.to_lowercase(), name, id)
            .await
            .map_err(teams_err)?;
        txn.commit().await.map_err(teams_err)
    }

    async fn posted(&self, key: &str) -> ProviderResult<Option<String>> {
        repo::slack::posted_ts(self.db.conn(), &teams_key(key))
            .await
            .map_err(teams_err)
    }

    async fn remember_post(&self, key: &str, channel: &str, id: &str) -> ProviderResult<()> {
        let txn = self.db.write().await.map_err(teams_err)?;
        repo::slack::remember_post(&*txn, &teams_key(key), channel, id)
            .await
            .map_err(teams_err)?;
        txn.commit().await.map_err(teams_err)
    }
}

/// What the Matrix provider remembers: a person's Matrix ID is their profile's (`matrix_id` on
/// the individual, set by people, never learnt), and posted messages are kept with Slack's, by
/// key under a `matrix:` prefix so the two never meet.
pub struct MatrixMemory {
    /// Where it is kept.
    pub db: Db,
}

fn matrix_err(e: crate::StoreError) -> ProviderError {
    ProviderError::new("matrix", e.to_string())
}

fn matrix_key(key: &str) -> String {
    format!("matrix:{key}")
}

#[async_trait]
impl ChatMemory for MatrixMemory {
    async fn user_id(&self, email: &str) -> ProviderResult<Option<String>> {
        let found = repo::individual::by_email(self.db.conn(), &email.to_lowercase())
            .await
            .map_err(matrix_err)?;
        Ok(found.and_then(|i| i.matrix_id))
    }

    /// Nothing to learn: the mapping is the person's profile.
    async fn remember_user(&self, _id: &str, _email: &str, _name: &str) -> ProviderResult<()> {
        Ok(())
    }

    async fn posted(&self, key: &str) -> ProviderResult<Option<String>> {
        repo::slack::posted_ts(self.db.conn(), &matrix_key(key))
            .await
            .map_err(matrix_err)
    }

    async fn remember_post(&self, key: &str, channel: &str, id: &str) -> ProviderResult<()> {
        let txn = self.db.write().await.map_err(matrix_err)?;
        repo::slack::remember_post(&*txn, &matrix_key(key), channel, id)
            .await
            .map_err(matrix_err)?;
        txn.commit().await.map_err(matrix_err)
    }
}
