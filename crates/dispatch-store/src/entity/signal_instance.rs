//! `signal_instances`: every alert received that matched a definition.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signal_instances")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub definition_id: i64,
    pub source: String,
    pub fingerprint: String,
    /// `firing`, `acknowledged` or `resolved`.
    pub status: String,
    pub title: String,
    pub severity: Option<String>,
    pub link: Option<String>,
    /// JSON object.
    pub labels: String,
    /// JSON array of `{"type", "value"}`.
    pub entities: String,
    /// The alert as received (JSON).
    pub raw: String,
    /// `none`, `deduplicate` or `snooze`.
    pub filter_action: String,
    pub filter_id: Option<i64>,
    pub duplicate_of: Option<i64>,
    pub case_id: Option<i64>,
    pub received_at: DateTimeUtc,
    /// A chain's first instance: when its latest repeat arrived (none yet: `None`).
    pub last_received_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
