//! A service's rotation: members in order, shift length, handoff time and time zone.

use sea_orm::entity::prelude::*;

/// A row of `oncall_schedules`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oncall_schedules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub service_id: i64,
    pub time_zone: String,
    pub handoff_time: String,
    pub shift_hours: i32,
    pub start_date: String,
    pub members: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
