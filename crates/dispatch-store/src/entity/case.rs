//! `cases`: signals being triaged, each possibly escalated to an incident.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub definition_id: Option<i64>,
    pub title: String,
    pub description: String,
    /// `new`, `triage`, `escalated`, `stable` or `closed`.
    pub status: String,
    pub case_type: Option<String>,
    pub case_priority: Option<String>,
    pub case_severity: Option<String>,
    pub assignee: Option<String>,
    pub reporter: String,
    pub resolution: Option<String>,
    pub resolution_reason: Option<String>,
    pub incident_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub triage_at: Option<DateTimeUtc>,
    pub escalated_at: Option<DateTimeUtc>,
    pub stable_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
