//! Tactical and executive reports.

use crate::entity::report;
use crate::error::Result;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

/// Inserts a report.
pub async fn insert(
    conn: &impl ConnectionTrait,
    row: report::ActiveModel,
) -> Result<report::Model> {
    Ok(row.insert(conn).await?)
}

/// The reports of an incident, newest first, optionally of one kind.
pub async fn list(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    kind: Option<&str>,
) -> Result<Vec<report::Model>> {
    let mut q = report::Entity::find().filter(report::Column::IncidentId.eq(incident_id));
    if let Some(k) = kind {
        q = q.filter(report::Column::Kind.eq(k));
    }
    Ok(q.order_by_desc(report::Column::CreatedAt)
        .order_by_desc(report::Column::Id)
        .all(conn)
        .await?)
}
