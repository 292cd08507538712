//! Someone covering a rotation for a time span.

use sea_orm::entity::prelude::*;

/// A row of `oncall_overrides`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oncall_overrides")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub schedule_id: i64,
    pub email: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
