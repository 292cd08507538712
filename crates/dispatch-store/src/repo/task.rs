//! Tasks (action items) and their assignees.

use crate::entity::{task, task_assignee};
use crate::error::{Result, StoreError};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use std::collections::HashMap;

/// Inserts a task with its assignees.
pub async fn insert(
    conn: &impl ConnectionTrait,
    row: task::Model,
    assignees: &[i64],
) -> Result<task::Model> {
    let t = crate::repo::rows::insert(conn, row).await?;
    set_assignees(conn, t.id, assignees).await?;
    Ok(t)
}

/// Replaces a task's assignees.
pub async fn set_assignees(
    conn: &impl ConnectionTrait,
    task_id: i64,
    assignees: &[i64],
) -> Result<()> {
    task_assignee::Entity::delete_many()
        .filter(task_assignee::Column::TaskId.eq(task_id))
        .exec(conn)
        .await?;
    if !assignees.is_empty() {
        task_assignee::Entity::insert_many(assignees.iter().map(|i| task_assignee::ActiveModel {
            task_id: Set(task_id),
            individual_id: Set(*i),
        }))
        .exec_without_returning(conn)
        .await?;
    }
    Ok(())
}

/// Saves the fields of a task that changed since it was read as `before`.
pub async fn update(
    conn: &impl ConnectionTrait,
    before: &task::Model,
    after: task::Model,
) -> Result<task::Model> {
    crate::repo::rows::update(conn, before, after).await
}

/// A task of an incident.
pub async fn get(conn: &impl ConnectionTrait, incident_id: i64, id: i64) -> Result<task::Model> {
    task::Entity::find_by_id(id)
        .filter(task::Column::IncidentId.eq(incident_id))
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("task {id}")))
}

/// The tasks of an incident, oldest first.
pub async fn list(conn: &impl ConnectionTrait, incident_id: i64) -> Result<Vec<task::Model>> {
    Ok(task::Entity::find()
        .filter(task::Column::IncidentId.eq(incident_id))
        .order_by_asc(task::Column::Id)
        .all(conn)
        .await?)
}

/// Assignee ids of each task.
pub async fn assignees(
    conn: &impl ConnectionTrait,
    task_ids: &[i64],
) -> Result<HashMap<i64, Vec<i64>>> {
    let rows = task_assignee::Entity::find()
        .filter(task_assignee::Column::TaskId.is_in(task_ids.iter().copied()))
        .all(conn)
        .await?;
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for r in rows {
        out.entry(r.task_id).or_default().push(r.individual_id);
    }
    Ok(out)
}

/// Deletes a task.
pub async fn delete(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    task::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}

/// Which tasks to list across incidents.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Only tasks this person is assigned, owns or created.
    pub person: Option<i64>,
    /// Only tasks in this status.
    pub status: Option<String>,
    /// Only open tasks due before this time.
    pub due_before: Option<chrono::DateTime<chrono::Utc>>,
    /// At most this many, newest first.
    pub limit: u64,
}

/// Tasks across incidents, newest first.
pub async fn find(conn: &impl ConnectionTrait, f: &TaskFilter) -> Result<Vec<task::Model>> {
    use sea_orm::{Condition, QuerySelect};
    let mut q = task::Entity::find();
    if let Some(p) = f.person {
        let assigned = task_assignee::Entity::find()
            .filter(task_assignee::Column::IndividualId.eq(p))
            .all(conn)
            .await?
            .into_iter()
            .map(|a| a.task_id);
        q = q.filter(
            Condition::any()
                .add(task::Column::Id.is_in(assigned))
                .add(task::Column::OwnerId.eq(p))
                .add(task::Column::CreatorId.eq(p)),
        );
    }
    if let Some(s) = &f.status {
        q = q.filter(task::Column::Status.eq(s.as_str()));
    }
    if let Some(t) = f.due_before {
        q = q
            .filter(task::Column::Status.eq("open"))
            .filter(task::Column::ResolveBy.lt(t));
    }
    Ok(q.order_by_desc(task::Column::Id)
        .limit(f.limit.max(1))
        .all(conn)
        .await?)
}
