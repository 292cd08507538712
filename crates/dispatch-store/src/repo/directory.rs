//! The rest of the directory: teams and on-call services of a project.

use crate::entity::{service, team};
use crate::error::{Result, StoreError};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// Teams of a project.
pub async fn teams(conn: &impl ConnectionTrait, project_id: i64) -> Result<Vec<team::Model>> {
    Ok(team::Entity::find()
        .filter(team::Column::ProjectId.eq(project_id))
        .order_by_asc(team::Column::Name)
        .all(conn)
        .await?)
}

/// A team by id.
pub async fn team(conn: &impl ConnectionTrait, id: i64) -> Result<team::Model> {
    team::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("team {id}")))
}

/// Deletes a team.
pub async fn delete_team(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    team::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}

/// Services of a project.
pub async fn services(conn: &impl ConnectionTrait, project_id: i64) -> Result<Vec<service::Model>> {
    Ok(service::Entity::find()
        .filter(service::Column::ProjectId.eq(project_id))
        .order_by_asc(service::Column::Name)
        .all(conn)
        .await?)
}

/// The services with these ids (any project).
pub async fn services_by_ids(
    conn: &impl ConnectionTrait,
    ids: &[i64],
) -> Result<Vec<service::Model>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    Ok(service::Entity::find()
        .filter(service::Column::Id.is_in(ids.iter().copied()))
        .all(conn)
        .await?)
}

/// A service by id.
pub async fn service(conn: &impl ConnectionTrait, id: i64) -> Result<service::Model> {
    service::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("service {id}")))
}

/// Deletes a service.
pub async fn delete_service(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    service::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}
