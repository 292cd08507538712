//! What transports' jobs share: a line typed in a chat channel run the one way every
//! transport runs it, and what they read and remember besides commands: the Slack user cache,
//! the people linked to their Teams ids, people's Matrix IDs, stream positions, and the
//! resources providers know by their own ids (e.g. the incident whose Slack channel is `C123`).

use crate::admin::Authenticated;
use crate::command::CommandError;
use crate::{Error, Result};
use dispatch_core::message::RichMessage;
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, ResourceKind};
use dispatch_store::model::{individual, resource, slack_user};
use dispatch_store::repo;

/// Refusals the person should read (no retry): not allowed, not found, conflicts, bad input.
fn user_facing(e: &Error) -> bool {
    matches!(
        e,
        Error::Forbidden(_) | Error::NotFound(_) | Error::Conflict(_) | Error::Validation(_)
    )
}

impl crate::Chat<'_> {
    /// Runs a line typed in the channel `channel` of the chat provider `provider` (a Slack
    /// channel, a Matrix room) as `caller`: a case command in the channel's latest case, any
    /// other in the incident whose conversation the channel is (none outside one). The answer to
    /// show — the command's, its usage, or a refusal the person should read; `Err` when nothing
    /// was written and the job should be retried.
    pub async fn run_typed(
        self,
        caller: &Authenticated,
        provider: &str,
        channel: &str,
        line: &str,
    ) -> std::result::Result<RichMessage, String> {
        let ran = if dispatch_core::chat::is_case_command(line) {
            let case = self
                .cases()
                .in_channel(provider, channel)
                .await
                .map_err(|e| e.to_string())?;
            self.run_in_case(caller, case, line).await
        } else {
            let incident = self
                .incident_of_channel(provider, channel)
                .await
                .map_err(|e| e.to_string())?;
            self.run(caller, incident.as_ref(), line).await
        };
        match ran {
            Ok(m) => Ok(m),
            Err(CommandError::Usage(u)) => Ok(RichMessage::plain(u.text())),
            Err(CommandError::Failed(e)) if user_facing(&e) => {
                Ok(RichMessage::plain(e.to_string()))
            }
            Err(CommandError::Failed(e)) => Err(e.to_string()),
        }
    }

    /// The incident whose conversation is `provider`'s channel `channel`, if any.
    pub async fn incident_of_channel(
        self,
        provider: &str,
        channel: &str,
    ) -> Result<Option<IncidentRef>> {
        if channel.is_empty() {
            return Ok(None);
        }
        let found = self
            .resource_by_external_id(ResourceKind::Conversation, provider, channel)
            .await?;
        Ok(found.map(|r| IncidentRef::Id(IncidentId(r.incident_id))))
    }

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
