//! A group kept by the built-in group provider: an incident's tactical group (its people) and
//! its notifications group (its stakeholders).

use sea_orm::entity::prelude::*;

/// A row of `participant_groups`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "participant_groups")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub idempotency_key: String,
    pub name: String,
    pub email: String,
    /// `tactical` (the incident's people) or `notifications` (its stakeholders).
    pub purpose: String,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
