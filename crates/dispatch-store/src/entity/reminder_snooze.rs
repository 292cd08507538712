//! "Remind me in N hours": a report reminder put off until a time.

use sea_orm::entity::prelude::*;

/// A row of `reminder_snoozes`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reminder_snoozes")]
pub struct Model {
    /// The incident.
    #[sea_orm(primary_key, auto_increment = false)]
    pub incident_id: i64,
    /// `tactical` or `executive`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// No reminder before this.
    pub snoozed_until: DateTimeUtc,
    /// Who put it off.
    pub set_by: String,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
