//! What the chat providers remember: who a chat user is (Slack's user cache, Slack id ↔ e-mail;
//! Teams' Azure AD object id and Matrix IDs on the individual) and the keys of the messages they
//! posted, so a retried job never posts twice. Every provider keeps its posts in
//! `slack_messages`, Teams' and Matrix's under a key prefix of their own so the three never meet.

use crate::repo;
use crate::Db;
use async_trait::async_trait;
use dispatch_core::provider::{ChatMemory, ProviderError, ProviderResult};

/// The posts one provider remembers: its name (for errors) and the prefix of its keys.
struct Posts {
    provider: &'static str,
    prefix: &'static str,
}

impl Posts {
    fn err(&self, e: crate::StoreError) -> ProviderError {
        ProviderError::new(self.provider, e.to_string())
    }

    async fn posted(&self, db: &Db, key: &str) -> ProviderResult<Option<String>> {
        let key = format!("{}{key}", self.prefix);
        repo::slack::posted_ts(db.conn(), &key)
            .await
            .map_err(|e| self.err(e))
    }

    async fn remember(&self, db: &Db, key: &str, channel: &str, id: &str) -> ProviderResult<()> {
        let key = format!("{}{key}", self.prefix);
        let txn = db.write().await.map_err(|e| self.err(e))?;
        repo::slack::remember_post(&*txn, &key, channel, id)
            .await
            .map_err(|e| self.err(e))?;
        txn.commit().await.map_err(|e| self.err(e))
    }
}

const SLACK: Posts = Posts {
    provider: "slack",
    prefix: "",
};
const TEAMS: Posts = Posts {
    provider: "teams",
    prefix: "teams:",
};
const MATRIX: Posts = Posts {
    provider: "matrix",
    prefix: "matrix:",
};

/// [`ChatMemory`] in the `slack_users` and `slack_messages` tables.
pub struct SlackMemory {
    /// Where it is kept.
    pub db: Db,
}

#[async_trait]
impl ChatMemory for SlackMemory {
    async fn user_id(&self, email: &str) -> ProviderResult<Option<String>> {
        let found = repo::slack::user_by_email(self.db.conn(), email)
            .await
            .map_err(|e| SLACK.err(e))?;
        Ok(found.map(|u| u.slack_id))
    }

    async fn remember_user(&self, id: &str, email: &str, name: &str) -> ProviderResult<()> {
        let txn = self.db.write().await.map_err(|e| SLACK.err(e))?;
        repo::slack::remember_user(&*txn, id, email, name)
            .await
            .map_err(|e| SLACK.err(e))?;
        txn.commit().await.map_err(|e| SLACK.err(e))
    }

    async fn posted(&self, key: &str) -> ProviderResult<Option<String>> {
        SLACK.posted(&self.db, key).await
    }

    async fn remember_post(&self, key: &str, channel: &str, id: &str) -> ProviderResult<()> {
        SLACK.remember(&self.db, key, channel, id).await
    }
}

/// [`ChatMemory`] for Microsoft Teams: people by the `teams_id` (Azure AD object id) on the
/// individual, posted messages in `slack_messages` under keys prefixed `teams:`.
pub struct TeamsMemory {
    /// Where it is kept.
    pub db: Db,
}

#[async_trait]
impl ChatMemory for TeamsMemory {
    async fn user_id(&self, email: &str) -> ProviderResult<Option<String>> {
        let found = repo::individual::by_email(self.db.conn(), &email.to_lowercase())
            .await
            .map_err(|e| TEAMS.err(e))?;
        Ok(found.and_then(|i| i.teams_id))
    }

    async fn remember_user(&self, id: &str, email: &str, name: &str) -> ProviderResult<()> {
        let txn = self.db.write().await.map_err(|e| TEAMS.err(e))?;
        let name = Some(name).filter(|n| !n.is_empty());
        repo::individual::link_teams_id(&*txn, &email.to_lowercase(), name, id)
            .await
            .map_err(|e| TEAMS.err(e))?;
        txn.commit().await.map_err(|e| TEAMS.err(e))
    }

    async fn posted(&self, key: &str) -> ProviderResult<Option<String>> {
        TEAMS.posted(&self.db, key).await
    }

    async fn remember_post(&self, key: &str, channel: &str, id: &str) -> ProviderResult<()> {
        TEAMS.remember(&self.db, key, channel, id).await
    }
}

/// What the Matrix provider remembers: a person's Matrix ID is their profile's (`matrix_id` on
/// the individual, set by people, never learnt), and posted messages are kept with Slack's, by
/// key under a `matrix:` prefix so the two never meet.
pub struct MatrixMemory {
    /// Where it is kept.
    pub db: Db,
}

#[async_trait]
impl ChatMemory for MatrixMemory {
    async fn user_id(&self, email: &str) -> ProviderResult<Option<String>> {
        let found = repo::individual::by_email(self.db.conn(), &email.to_lowercase())
            .await
            .map_err(|e| MATRIX.err(e))?;
        Ok(found.and_then(|i| i.matrix_id))
    }

    /// Nothing to learn: the mapping is the person's profile.
    async fn remember_user(&self, _id: &str, _email: &str, _name: &str) -> ProviderResult<()> {
        Ok(())
    }

    async fn posted(&self, key: &str) -> ProviderResult<Option<String>> {
        MATRIX.posted(&self.db, key).await
    }

    async fn remember_post(&self, key: &str, channel: &str, id: &str) -> ProviderResult<()> {
        MATRIX.remember(&self.db, key, channel, id).await
    }
}
