//! Participant groups kept by the built-in group provider, and their members.

use crate::entity::{participant_group, participant_group_member};
use crate::error::Result;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// The incident's group, if the built-in provider has one.
pub async fn of_incident(
    conn: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Option<participant_group::Model>> {
    Ok(participant_group::Entity::find()
        .filter(participant_group::Column::IncidentId.eq(incident_id))
        .one(conn)
        .await?)
}

/// The e-mail addresses of a group's members, in order.
pub async fn member_emails(conn: &impl ConnectionTrait, group_id: i64) -> Result<Vec<String>> {
    Ok(participant_group_member::Entity::find()
        .filter(participant_group_member::Column::GroupId.eq(group_id))
        .order_by_asc(participant_group_member::Column::Email)
        .all(conn)
        .await?
        .into_iter()
        .map(|m| m.email)
        .collect())
}
