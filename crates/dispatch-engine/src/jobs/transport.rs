//! What transports' jobs read and remember besides commands: the Slack user cache, the people
//! linked to their Teams ids, and the resources providers know by their own ids (e.g. the
//! incident whose Slack channel is `C123`).

use crate::Result;
use dispatch_core::ResourceKind;
use dispatch_store::model::{individual, resource, slack_user};
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

    /// The individual Microsoft Teams knows by this Azure AD object id, if one is linked.
    pub async fn teams_person(self, teams_id: &str) -> Result<Option<individual::Model>> {
        Ok(repo::individual::by_teams_id(self.db().conn(), teams_id).await?)
    }

    /// Links the person with this e-mail address (created if missing) to their Teams id, in a
    /// transaction of its own.
    pub async fn link_teams_person(
        self,
        email: &str,
        name: &str,
        teams_id: &str,
    ) -> Result<individual::Model> {
        let txn = self.db().write().await?;
        let name = Some(name).filter(|n| !n.is_empty());
        let person =
            repo::individual::link_teams_id(&*txn, &email.to_lowercase(), name, teams_id).await?;
        txn.commit().await?;
        Ok(person)
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
}
