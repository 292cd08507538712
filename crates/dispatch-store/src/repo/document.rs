//! Built-in documents of incidents.

use crate::entity::document;
use crate::error::Result;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

/// The documents of an incident, in order of creation.
pub async fn list(conn: &impl ConnectionTrait, incident_id: i64) -> Result<Vec<document::Model>> {
    Ok(document::Entity::find()
        .filter(document::Column::IncidentId.eq(incident_id))
        .order_by_asc(document::Column::Id)
        .all(conn)
        .await?)
}

/// A document by id.
pub async fn find(conn: &impl ConnectionTrait, id: i64) -> Result<Option<document::Model>> {
    Ok(document::Entity::find_by_id(id).one(conn).await?)
}

/// A document by id, if it belongs to the incident.
pub async fn find_of(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    id: i64,
) -> Result<Option<document::Model>> {
    Ok(document::Entity::find_by_id(id)
        .filter(document::Column::IncidentId.eq(incident_id))
        .one(conn)
        .await?)
}

/// The incident a document belongs to (`None`: no such document).
pub async fn incident_of(conn: &impl ConnectionTrait, id: i64) -> Result<Option<i64>> {
    Ok(document::Entity::find_by_id(id)
        .select_only()
        .column(document::Column::IncidentId)
        .into_tuple::<i64>()
        .one(conn)
        .await?)
}

/// Saves the fields of a document that changed since it was read as `before`.
pub async fn update(
    conn: &impl ConnectionTrait,
    before: &document::Model,
    after: document::Model,
) -> Result<document::Model> {
    crate::repo::rows::update(conn, before, after).await
}
