//! On-call rotations, overrides, pages and role policies.

use crate::entity::{oncall_override, oncall_schedule, page, role_policy};
use crate::error::{Result, StoreError};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// The rotation of a service, if it has one.
pub async fn schedule(
    conn: &impl ConnectionTrait,
    service_id: i64,
) -> Result<Option<oncall_schedule::Model>> {
    Ok(oncall_schedule::Entity::find()
        .filter(oncall_schedule::Column::ServiceId.eq(service_id))
        .one(conn)
        .await?)
}

/// Creates or replaces the rotation of `row.service_id` (an existing rotation keeps its id and
/// creation time; `row.id` is ignored).
pub async fn save_schedule(
    conn: &impl ConnectionTrait,
    row: oncall_schedule::Model,
) -> Result<oncall_schedule::Model> {
    match schedule(conn, row.service_id).await? {
        Some(existing) => {
            let after = oncall_schedule::Model {
                id: existing.id,
                created_at: existing.created_at,
                ..row
            };
            crate::repo::rows::update(conn, &existing, after).await
        }
        None => crate::repo::rows::insert(conn, row).await,
    }
}

/// Overrides of a rotation that end after `after`, earliest first.
pub async fn overrides(
    conn: &impl ConnectionTrait,
    schedule_id: i64,
    after: DateTime<Utc>,
) -> Result<Vec<oncall_override::Model>> {
    Ok(oncall_override::Entity::find()
        .filter(oncall_override::Column::ScheduleId.eq(schedule_id))
        .filter(oncall_override::Column::EndsAt.gt(after))
        .order_by_asc(oncall_override::Column::StartsAt)
        .all(conn)
        .await?)
}

/// Adds an override (`row.id` is ignored).
pub async fn add_override(
    conn: &impl ConnectionTrait,
    row: oncall_override::Model,
) -> Result<oncall_override::Model> {
    crate::repo::rows::insert(conn, row).await
}

/// Records a page.
pub async fn add_page(conn: &impl ConnectionTrait, row: page::Model) -> Result<page::Model> {
    crate::repo::rows::insert(conn, row).await
}

/// Pages, newest first, optionally of one status or incident.
pub async fn pages(
    conn: &impl ConnectionTrait,
    status: Option<&str>,
    incident_id: Option<i64>,
    limit: u64,
) -> Result<Vec<page::Model>> {
    pages_for(
        conn,
        status,
        incident_id,
        super::incident::Viewer::Everyone,
        limit,
    )
    .await
}

/// Like [`pages`], only the pages of incidents `viewer` may see.
pub async fn pages_for(
    conn: &impl ConnectionTrait,
    status: Option<&str>,
    incident_id: Option<i64>,
    viewer: super::incident::Viewer,
    limit: u64,
) -> Result<Vec<page::Model>> {
    let mut q = page::Entity::find();
    if let Some(visible) = viewer.owns((page::Entity, page::Column::IncidentId)) {
        q = q.filter(visible);
    }
    if let Some(s) = status {
        q = q.filter(page::Column::Status.eq(s));
    }
    if let Some(i) = incident_id {
        q = q.filter(page::Column::IncidentId.eq(i));
    }
    Ok(q.order_by_desc(page::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Acknowledges a page (idempotent).
pub async fn acknowledge(
    conn: &impl ConnectionTrait,
    id: i64,
    at: DateTime<Utc>,
) -> Result<page::Model> {
    let p = page::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("page {id}")))?;
    if p.status == "acknowledged" {
        return Ok(p);
    }
    let mut row: page::ActiveModel = p.into();
    row.status = Set("acknowledged".into());
    row.acknowledged_at = Set(Some(at));
    Ok(row.update(conn).await?)
}

/// A project's enabled role policies, lowest order first.
pub async fn policies(
    conn: &impl ConnectionTrait,
    project_id: i64,
) -> Result<Vec<role_policy::Model>> {
    Ok(role_policy::Entity::find()
        .filter(role_policy::Column::ProjectId.eq(project_id))
        .order_by_asc(role_policy::Column::ViewOrder)
        .order_by_asc(role_policy::Column::Id)
        .all(conn)
        .await?)
}

/// Adds a role policy (`row.id` is ignored).
pub async fn add_policy(
    conn: &impl ConnectionTrait,
    row: role_policy::Model,
) -> Result<role_policy::Model> {
    crate::repo::rows::insert(conn, row).await
}

/// The project of a role policy (`None` when there is no such policy).
pub async fn policy_project(conn: &impl ConnectionTrait, id: i64) -> Result<Option<i64>> {
    Ok(role_policy::Entity::find_by_id(id)
        .select_only()
        .column(role_policy::Column::ProjectId)
        .into_tuple::<i64>()
        .one(conn)
        .await?)
}

/// Deletes a role policy.
pub async fn delete_policy(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    let res = role_policy::Entity::delete_by_id(id).exec(conn).await?;
    if res.rows_affected == 0 {
        return Err(StoreError::NotFound(format!("role policy {id}")));
    }
    Ok(())
}

/// A page by id.
pub async fn page(conn: &impl ConnectionTrait, id: i64) -> Result<page::Model> {
    page::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("page {id}")))
}

/// The incident a page belongs to (`None`: no such page).
pub async fn page_incident_of(conn: &impl ConnectionTrait, id: i64) -> Result<Option<i64>> {
    use sea_orm::QuerySelect;
    Ok(page::Entity::find_by_id(id)
        .select_only()
        .column(page::Column::IncidentId)
        .into_tuple::<i64>()
        .one(conn)
        .await?)
}
