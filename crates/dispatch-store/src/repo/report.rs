//! Tactical and executive reports.

use crate::entity::report;
use crate::error::Result;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// Inserts a report.
pub async fn insert(conn: &impl ConnectionTrait, row: report::Model) -> Result<report::Model> {
    crate::repo::rows::insert(conn, row).await
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

/// The newest report of one kind.
pub async fn latest(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    kind: &str,
) -> Result<Option<report::Model>> {
    Ok(report::Entity::find()
        .filter(report::Column::IncidentId.eq(incident_id))
        .filter(report::Column::Kind.eq(kind))
        .order_by_desc(report::Column::CreatedAt)
        .order_by_desc(report::Column::Id)
        .one(conn)
        .await?)
}

/// When each incident last had a report of `kind`.
pub async fn last_times(
    conn: &impl ConnectionTrait,
    incident_ids: &[i64],
    kind: &str,
) -> Result<std::collections::HashMap<i64, chrono::DateTime<chrono::Utc>>> {
    let rows = report::Entity::find()
        .filter(report::Column::IncidentId.is_in(incident_ids.iter().copied()))
        .filter(report::Column::Kind.eq(kind))
        .all(conn)
        .await?;
    let mut out = std::collections::HashMap::new();
    for r in rows {
        let e = out.entry(r.incident_id).or_insert(r.created_at);
        if r.created_at > *e {
            *e = r.created_at;
        }
    }
    Ok(out)
}
