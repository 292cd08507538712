//! A task (action item) of an incident.

use sea_orm::entity::prelude::*;

/// A row of `tasks`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub description: String,
    pub status: String,
    pub priority: String,
    pub creator_id: Option<i64>,
    pub owner_id: Option<i64>,
    pub resolve_by: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// `incident` or `review` (a follow-up of the post-incident review).
    pub source: String,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
