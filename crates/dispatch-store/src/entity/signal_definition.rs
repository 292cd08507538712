//! `signal_definitions`: which alerts of a project make signals, and what they open.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signal_definitions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub runbook_url: Option<String>,
    /// `alertmanager`, `grafana`, `pagerduty` or `generic`.
    pub source: String,
    /// The label matcher's text form.
    pub matcher: String,
    pub enabled: bool,
    pub create_case: bool,
    pub case_type: Option<String>,
    pub case_priority: Option<String>,
    pub case_severity: Option<String>,
    pub service_id: Option<i64>,
    pub conversation_target: Option<String>,
    /// JSON array of tag names.
    pub tags: String,
    /// JSON array of entity extractors.
    pub entity_types: String,
    /// JSON object of a generic source's field paths.
    pub fields: String,
    pub dedup_window_seconds: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
