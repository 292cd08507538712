//! Engagement and notification rules, the engagements they made, and incident subscribers.

use crate::entity::{engagement, engagement_rule, notification_rule, subscriber};
use crate::error::{Result, StoreError};
use crate::repo::rows::Record;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

/// The columns every rule table has.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum RuleCol {
    /// `id`.
    Id,
    /// `project_id`.
    ProjectId,
    /// `name`.
    Name,
}

/// The fields every rule has, to fill in.
pub struct RuleHead<'a> {
    /// Its project.
    pub project_id: &'a mut i64,
    /// Its name, unique in the project.
    pub name: &'a mut String,
    /// What it is for.
    pub description: &'a mut String,
    /// Its filter, in the JSON form.
    pub filter: &'a mut String,
    /// Whether it is on.
    pub enabled: &'a mut bool,
    /// When it was created.
    pub created_at: &'a mut DateTime<Utc>,
    /// Its last change.
    pub updated_at: &'a mut DateTime<Utc>,
}

/// A rule (an engagement or a notification rule): a record of a project with a name, a filter
/// and an enabled flag. Its lookups are written once below.
pub trait RuleRow: Record + Default + std::fmt::Debug {
    /// What one is called in messages (`engagement rule`).
    const WHAT: &'static str;
    /// The table's column for a shared column.
    #[doc(hidden)]
    fn column(c: RuleCol) -> <Self::Table as EntityTrait>::Column;
    /// Its id.
    fn id(&self) -> i64;
    /// Its project.
    fn project_id(&self) -> i64;
    /// Its filter, in the JSON form.
    fn filter(&self) -> &str;
    /// Whether it is on.
    fn enabled(&self) -> bool;
    /// The fields every rule has.
    fn head(&mut self) -> RuleHead<'_>;
}

fn col<T: RuleRow>(c: RuleCol) -> <T::Table as EntityTrait>::Column {
    T::column(c)
}

/// Rules of one kind, of one project or all, by name.
pub async fn list<T: RuleRow>(
    conn: &impl ConnectionTrait,
    project_id: Option<i64>,
) -> Result<Vec<T>> {
    let mut q = T::Table::find();
    if let Some(p) = project_id {
        q = q.filter(col::<T>(RuleCol::ProjectId).eq(p));
    }
    Ok(q.order_by_asc(col::<T>(RuleCol::Name))
        .order_by_asc(col::<T>(RuleCol::Id))
        .all(conn)
        .await?)
}

/// One rule.
pub async fn get<T: RuleRow>(conn: &impl ConnectionTrait, id: i64) -> Result<T> {
    T::Table::find()
        .filter(col::<T>(RuleCol::Id).eq(id))
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("{} {id}", T::WHAT)))
}

/// The project of a rule (`None` when there is no such rule).
pub async fn project_of<T: RuleRow>(conn: &impl ConnectionTrait, id: i64) -> Result<Option<i64>> {
    use sea_orm::QuerySelect;
    Ok(T::Table::find()
        .filter(col::<T>(RuleCol::Id).eq(id))
        .select_only()
        .column(col::<T>(RuleCol::ProjectId))
        .into_tuple::<i64>()
        .one(conn)
        .await?)
}

/// Inserts a rule (`before` = `None`; its id is left to the database) or saves the columns of
/// `after` that differ from `before` (the rule as read). Returns the stored rule.
pub async fn save<T: RuleRow>(
    conn: &impl ConnectionTrait,
    before: Option<&T>,
    after: T,
) -> Result<T> {
    match before {
        None => crate::repo::rows::insert(conn, after).await,
        Some(before) => crate::repo::rows::update(conn, before, after).await,
    }
}

/// Deletes a rule (the engagements an engagement rule made keep its name).
pub async fn delete<T: RuleRow>(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    T::Table::delete_many()
        .filter(col::<T>(RuleCol::Id).eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Declares one kind of rule: its table's columns and its shared fields.
macro_rules! rule_row {
    ($entity:ident, $what:literal) => {
        impl RuleRow for $entity::Model {
            const WHAT: &'static str = $what;
            fn column(c: RuleCol) -> $entity::Column {
                match c {
                    RuleCol::Id => $entity::Column::Id,
                    RuleCol::ProjectId => $entity::Column::ProjectId,
                    RuleCol::Name => $entity::Column::Name,
                }
            }
            fn id(&self) -> i64 {
                self.id
            }
            fn project_id(&self) -> i64 {
                self.project_id
            }
            fn filter(&self) -> &str {
                &self.filter
            }
            fn enabled(&self) -> bool {
                self.enabled
            }
            fn head(&mut self) -> RuleHead<'_> {
                RuleHead {
                    project_id: &mut self.project_id,
                    name: &mut self.name,
                    description: &mut self.description,
                    filter: &mut self.filter,
                    enabled: &mut self.enabled,
                    created_at: &mut self.created_at,
                    updated_at: &mut self.updated_at,
                }
            }
        }
    };
}

rule_row!(engagement_rule, "engagement rule");
rule_row!(notification_rule, "notification rule");

/// The engagements of an incident, oldest first.
pub async fn engagements(
    conn: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Vec<engagement::Model>> {
    Ok(engagement::Entity::find()
        .filter(engagement::Column::IncidentId.eq(incident_id))
        .order_by_asc(engagement::Column::Id)
        .all(conn)
        .await?)
}

/// Records an engagement (its id is left to the database); `false` when the incident already
/// had one of this kind and target.
pub async fn add_engagement(conn: &impl ConnectionTrait, row: engagement::Model) -> Result<bool> {
    let mut row: engagement::ActiveModel = row.into();
    row = row.reset_all();
    row.id = sea_orm::ActiveValue::NotSet;
    let n = engagement::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                engagement::Column::IncidentId,
                engagement::Column::Kind,
                engagement::Column::Target,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(conn)
        .await?;
    Ok(n > 0)
}

/// Adds a subscriber; `false` when they already were one.
pub async fn subscribe(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    email: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let n = subscriber::Entity::insert(subscriber::ActiveModel {
        incident_id: Set(incident_id),
        email: Set(email.to_string()),
        created_at: Set(at),
    })
    .on_conflict(
        OnConflict::columns([subscriber::Column::IncidentId, subscriber::Column::Email])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(conn)
    .await?;
    Ok(n > 0)
}

/// Removes a subscriber; `false` when they were not one.
pub async fn unsubscribe(
    conn: &impl ConnectionTrait,
    incident_id: i64,
    email: &str,
) -> Result<bool> {
    let n = subscriber::Entity::delete_many()
        .filter(subscriber::Column::IncidentId.eq(incident_id))
        .filter(subscriber::Column::Email.eq(email))
        .exec(conn)
        .await?
        .rows_affected;
    Ok(n > 0)
}

/// The subscribers of an incident, oldest first.
pub async fn subscribers(
    conn: &impl ConnectionTrait,
    incident_id: i64,
) -> Result<Vec<subscriber::Model>> {
    Ok(subscriber::Entity::find()
        .filter(subscriber::Column::IncidentId.eq(incident_id))
        .order_by_asc(subscriber::Column::CreatedAt)
        .all(conn)
        .await?)
}
