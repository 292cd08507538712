//! Dispatch's own groups, distribution lists kept in the database: per incident a tactical
//! group (its people, made through this provider by the declare saga) and a notifications group
//! (its stakeholders, edited by the incident's commander or scribe through the engine, in the
//! command's own transaction; see `repo::participant_group`). Nothing delivers mail to a built-in group's address, so mail "to the group" goes
//! to its members' addresses (see [`ParticipantGroupProvider::mail_recipients`]).

use crate::entity::participant_group as group;
use crate::repo::participant_group as repo;
use crate::Db;
use async_trait::async_trait;
use dispatch_core::provider::{
    Created, IncidentContext, ParticipantGroupProvider, ProviderError, ProviderResult,
};
use dispatch_core::GroupPurpose;

/// The slug of the built-in groups.
pub const SLUG: &str = "dispatch-group";

/// The built-in participant group provider.
pub struct Groups {
    /// Where groups are kept.
    pub db: Db,
    /// Public base URL.
    pub base_url: String,
}

fn err(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(SLUG, e.to_string())
}

fn group_id(external_id: &str) -> ProviderResult<i64> {
    external_id
        .parse()
        .map_err(|_| err(format!("bad group id {external_id:?}")))
}

impl Groups {
    fn created(&self, g: &group::Model, incident: &str) -> Created {
        Created {
            external_id: g.id.to_string(),
            link: Some(dispatch_core::links::group(&self.base_url, incident)),
            ..Default::default()
        }
    }
}

#[async_trait]
impl ParticipantGroupProvider for Groups {
    fn slug(&self) -> &'static str {
        SLUG
    }

    async fn create(
        &self,
        key: &str,
        name: &str,
        ctx: &IncidentContext,
    ) -> ProviderResult<Created> {
        let txn = self.db.write().await.map_err(err)?;
        let g = repo::ensure(
            &*txn,
            ctx.id,
            key,
            name,
            GroupPurpose::Tactical,
            dispatch_core::now(),
        )
        .await
        .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(self.created(&g, &ctx.name))
    }

    async fn members(&self, external_id: &str) -> ProviderResult<Vec<String>> {
        repo::member_emails(self.db.conn(), group_id(external_id)?)
            .await
            .map_err(err)
    }

    async fn add_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        let id = group_id(external_id)?;
        let txn = self.db.write().await.map_err(err)?;
        repo::add_members(&*txn, id, emails, dispatch_core::now())
            .await
            .map_err(err)?;
        txn.commit().await.map_err(err)
    }

    async fn remove_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        let id = group_id(external_id)?;
        let txn = self.db.write().await.map_err(err)?;
        repo::remove_members(&*txn, id, emails).await.map_err(err)?;
        txn.commit().await.map_err(err)
    }

    async fn mail_recipients(&self, external_id: &str) -> ProviderResult<Vec<String>> {
        self.members(external_id).await
    }
}
