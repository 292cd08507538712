//! A reminder that was sent, by its idempotency key (one per period).

use sea_orm::entity::prelude::*;

/// A row of `reminders`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reminders")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The period's key, e.g. `tasks:bob@example.com:2026-11-26`.
    pub key: String,
    /// `tasks`, `tactical_report`, `executive_report` or `close`.
    pub kind: String,
    /// The incident, unless the reminder spans several.
    pub incident_id: Option<i64>,
    /// Who was reminded.
    pub recipient: String,
    /// When.
    pub sent_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
