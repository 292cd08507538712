//! `signal_filters`: snooze and deduplicate filters over a project's alerts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signal_filters")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub description: String,
    /// `snooze` or `deduplicate`.
    pub kind: String,
    /// The matcher's text form.
    pub expression: String,
    /// `active`, `monitor` or `inactive`.
    pub mode: String,
    pub expires_at: Option<DateTimeUtc>,
    pub window_seconds: i64,
    pub created_by: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
