//! Dispatch's own participant groups: a group per incident with its members, kept in the
//! database. Nothing delivers mail to a built-in group's address, so mail "to the group" goes
//! to its members' addresses (see [`ParticipantGroupProvider::mail_recipients`]).

use crate::entity::{participant_group as group, participant_group_member as member};
use crate::Db;
use async_trait::async_trait;
use dispatch_core::provider::{
    Created, IncidentContext, ParticipantGroupProvider, ProviderError, ProviderResult,
};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

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
            link: Some(format!(
                "{}/api/v1/incidents/{incident}/group",
                self.base_url
            )),
        }
    }
}

/// The address a built-in group is known by (nothing receives mail there).
fn address(name: &str) -> String {
    format!("{name}@groups.dispatch.invalid")
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
        // The look-up and the insert share one write transaction, so two calls with one key
        // cannot both insert.
        let txn = self.db.write().await.map_err(err)?;
        let conn = &*txn;
        if let Some(g) = group::Entity::find()
            .filter(group::Column::IdempotencyKey.eq(key))
            .one(conn)
            .await
            .map_err(err)?
        {
            return Ok(self.created(&g, &ctx.name));
        }
        let g = group::ActiveModel {
            incident_id: Set(ctx.id),
            idempotency_key: Set(key.into()),
            name: Set(name.into()),
            email: Set(address(name)),
            created_at: Set(dispatch_core::now()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .map_err(err)?;
        txn.commit().await.map_err(err)?;
        Ok(self.created(&g, &ctx.name))
    }

    async fn members(&self, external_id: &str) -> ProviderResult<Vec<String>> {
        let id = group_id(external_id)?;
        Ok(member::Entity::find()
            .filter(member::Column::GroupId.eq(id))
            .order_by_asc(member::Column::Email)
            .all(self.db.conn())
            .await
            .map_err(err)?
            .into_iter()
            .map(|m| m.email)
            .collect())
    }

    async fn add_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        let id = group_id(external_id)?;
        if emails.is_empty() {
            return Ok(());
        }
        let now = dispatch_core::now();
        let txn = self.db.write().await.map_err(err)?;
        member::Entity::insert_many(emails.iter().map(|e| member::ActiveModel {
            group_id: Set(id),
            email: Set(e.clone()),
            added_at: Set(now),
        }))
        .on_conflict(
            OnConflict::columns([member::Column::GroupId, member::Column::Email])
                .do_nothing()
                .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(&*txn)
        .await
        .map_err(err)?;
        txn.commit().await.map_err(err)
    }

    async fn remove_members(&self, external_id: &str, emails: &[String]) -> ProviderResult<()> {
        let id = group_id(external_id)?;
        if emails.is_empty() {
            return Ok(());
        }
        let txn = self.db.write().await.map_err(err)?;
        member::Entity::delete_many()
            .filter(member::Column::GroupId.eq(id))
            .filter(member::Column::Email.is_in(emails.iter().cloned()))
            .exec(&*txn)
            .await
            .map_err(err)?;
        txn.commit().await.map_err(err)
    }

    async fn mail_recipients(&self, external_id: &str) -> ProviderResult<Vec<String>> {
        self.members(external_id).await
    }
}
