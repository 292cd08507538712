//! An incident priority of a project.

use sea_orm::entity::prelude::*;

/// A row of `incident_priorities`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_priorities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub color: Option<String>,
    pub is_default: bool,
    pub enabled: bool,
    pub page_commander: bool,
    pub tactical_report_reminder_hours: Option<i32>,
    pub executive_report_reminder_hours: Option<i32>,
    pub view_order: i32,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
