//! Participants' feedback on incidents.

use crate::entity::feedback;
use crate::error::Result;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// The feedback one person gave on an incident.
pub async fn find(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    email: &str,
) -> Result<Option<feedback::Model>> {
    Ok(feedback::Entity::find()
        .filter(feedback::Column::IncidentId.eq(incident_id))
        .filter(feedback::Column::Email.eq(email))
        .one(conn)
        .await?)
}

/// The feedback on an incident, oldest first.
pub async fn list(conn: &impl ConnectionTrait, incident_id: i64) -> Result<Vec<feedback::Model>> {
    Ok(feedback::Entity::find()
        .filter(feedback::Column::IncidentId.eq(incident_id))
        .order_by_asc(feedback::Column::Id)
        .all(conn)
        .await?)
}

/// Inserts feedback.
pub async fn insert(conn: &impl ConnectionTrait, row: feedback::Model) -> Result<feedback::Model> {
    crate::repo::rows::insert(conn, row).await
}

/// Saves the fields of feedback that changed since it was read as `before`.
pub async fn update(
    conn: &impl ConnectionTrait,
    before: &feedback::Model,
    after: feedback::Model,
) -> Result<feedback::Model> {
    crate::repo::rows::update(conn, before, after).await
}
