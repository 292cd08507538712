//! Projects: the scope of taxonomies, directory and incident keys.

use crate::entity::project;
use crate::error::{Result, StoreError};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
    Statement,
};

/// The project used when a request names none.
pub async fn default_project(conn: &impl ConnectionTrait) -> Result<project::Model> {
    project::Entity::find()
        .filter(project::Column::IsDefault.eq(true))
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound("default project".into()))
}

/// A project by slug.
pub async fn by_slug(conn: &impl ConnectionTrait, slug: &str) -> Result<Option<project::Model>> {
    Ok(project::Entity::find()
        .filter(project::Column::Slug.eq(slug.to_ascii_lowercase()))
        .one(conn)
        .await?)
}

/// A project by id.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<project::Model> {
    project::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("project {id}")))
}

/// Every project, by name.
pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<project::Model>> {
    Ok(project::Entity::find()
        .order_by_asc(project::Column::Name)
        .all(conn)
        .await?)
}

/// A new project's row with the database's column defaults: no description, no incidents yet,
/// self-join allowed, not the default, no provider choices, the `⏱` timeline emoji, observers
/// promoted after 3 messages, open to everyone, the classic cost model's 50000 a year over 2080
/// hours. Slug, name, key prefix and creation time are the
/// caller's to fill in.
pub fn new_row() -> project::Model {
    project::Model {
        description: String::new(),
        incident_seq: 0,
        allow_self_join: true,
        is_default: false,
        stable_priority_id: None,
        providers: "{}".into(),
        provider_settings: "{}".into(),
        timeline_emoji: "⏱".into(),
        observer_promotion_messages: 3,
        members_only: false,
        weekly_report: false,
        annual_employee_cost: 50_000,
        business_year_hours: 2080,
        ..Default::default()
    }
}

/// Inserts a project (`row.id` is ignored; every other column is written as given).
pub async fn insert(conn: &impl ConnectionTrait, row: project::Model) -> Result<project::Model> {
    crate::repo::rows::insert(conn, row).await
}

/// Takes the next incident number of a project. The row update also serialises concurrent
/// declarations in the same project, so numbers are never reused.
pub async fn next_incident_number(conn: &impl ConnectionTrait, project_id: i64) -> Result<i64> {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => {
                    "UPDATE projects SET incident_seq = incident_seq + 1 WHERE id = $1 RETURNING incident_seq"
                }
                _ => "UPDATE projects SET incident_seq = incident_seq + 1 WHERE id = ? RETURNING incident_seq",
            },
            [project_id.into()],
        ))
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("project {project_id}")))?;
    Ok(row.try_get_by_index(0)?)
}

/// Saves the fields of a project that changed between `before` (as read) and `after`.
pub async fn update(
    conn: &impl ConnectionTrait,
    before: &project::Model,
    after: project::Model,
) -> Result<project::Model> {
    crate::repo::rows::update(conn, before, after).await
}

/// Makes `id` the only default project.
pub async fn set_default(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    project::Entity::update_many()
        .col_expr(project::Column::IsDefault, Expr::value(false))
        .exec(conn)
        .await?;
    let mut row: project::ActiveModel = get(conn, id).await?.into();
    row.is_default = Set(true);
    row.update(conn).await?;
    Ok(())
}
