//! What transports' jobs read and remember besides commands: the Slack user cache and the
//! resources providers know by their own ids (e.g. the incident whose Slack channel is `C123`).

use crate::Result;
use dispatch_core::ResourceKind;
use dispatch_store::model::{resource, slack_user};
use dispatch_store::repo;

impl crate::Chat<'_> {
    /// A cached Slack user by Slack id, if one is cached.
    pub async fn slack_user(self, slack_id: &str) -> Result<Option<slack_user::Model>> {
        Ok(repo::slack::user(self.db().conn(), slack_id).await?)
    }

    /// Caches (or refreshes) a Slack user's e-mail address (stored lower-case) and name, in a
    /// transaction of its own.
    pub async fn remember_slack_user(self, slack_id: &str, email: &str, name: &str) -> Result<()> {
        let txn = self.db().write().await?;
        repo::slack::remember_user(&*txn, slack_id, email, name).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The resource of `kind` that `provider` knows by `external_id`, if any.
    pub async fn resource_by_external_id(
        self,
        kind: ResourceKind,
        provider: &str,
        external_id: &str,
    ) -> Result<Option<resource::Model>> {
        Ok(repo::resource::by_external_id(self.db().conn(), kind, provider, external_id).await?)
    }

    /// The e-mail address of the individual whose profile names this Matrix user ID, if one does.
    pub async fn matrix_user(self, matrix_id: &str) -> Result<Option<String>> {
        Ok(repo::individual::by_matrix_id(self.db().conn(), matrix_id)
            .await?
            .map(|i| i.email))
    }

    /// The position a transport's event stream was saved at under `name` (Matrix's /sync
    /// `next_batch`), if it was.
    pub async fn cursor(self, name: &str) -> Result<Option<String>> {
        Ok(repo::transport_cursor::get(self.db().conn(), name).await?)
    }

    /// Saves a transport's stream position under `name`, in a transaction of its own.
    pub async fn save_cursor(self, name: &str, position: &str) -> Result<()> {
        let txn = self.db().write().await?;
        repo::transport_cursor::set(&*txn, name, position).await?;
        txn.commit().await?;
        Ok(())
    }
}
