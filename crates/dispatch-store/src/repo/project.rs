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

/// A project's next incident number and, on PostgreSQL, the keys its declaration inserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextIncident {
    /// The incident's number in its project.
    pub number: i64,
    /// PostgreSQL: keys taken from the tables' sequences with the number, so that the
    /// declaration's inserts need nothing back from one another and go as one statement
    /// ([`crate::Batched`]). `None` on SQLite, whose inserts return their keys for free.
    pub keys: Option<IncidentKeys>,
}

/// Keys taken for a declaration's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentKeys {
    /// The incident's id.
    pub incident: i64,
    /// Ids for up to this many participants.
    pub participants: Vec<i64>,
}

/// Takes the project's next incident number (as [`next_incident_number`]) and, on PostgreSQL,
/// in the same statement, an incident id and `participants` participant ids from their
/// sequences. A key taken and not used is a gap in its sequence, as after any failed insert.
pub async fn next_incident(
    conn: &impl ConnectionTrait,
    project_id: i64,
    participants: usize,
) -> Result<NextIncident> {
    let backend = conn.get_database_backend();
    if backend != sea_orm::DbBackend::Postgres {
        let number = next_incident_number(conn, project_id).await?;
        return Ok(NextIncident { number, keys: None });
    }
    let row = conn
        .query_one(Statement::from_sql_and_values(
            backend,
            "UPDATE projects SET incident_seq = incident_seq + 1 WHERE id = $1 RETURNING incident_seq, \
             nextval(pg_get_serial_sequence('incidents', 'id')), \
             array_to_string(ARRAY(SELECT nextval(pg_get_serial_sequence('participants', 'id')) \
             FROM generate_series(1, $2)), ',')",
            [project_id.into(), (participants as i64).into()],
        ))
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("project {project_id}")))?;
    let participants: String = row.try_get_by_index(2)?;
    let participants = participants
        .split(',')
        .filter(|id| !id.is_empty())
        .map(|id| {
            id.parse()
                .map_err(|_| StoreError::other(format!("participant id {id:?}")))
        })
        .collect::<Result<_>>()?;
    Ok(NextIncident {
        number: row.try_get_by_index(0)?,
        keys: Some(IncidentKeys {
            incident: row.try_get_by_index(1)?,
            participants,
        }),
    })
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
