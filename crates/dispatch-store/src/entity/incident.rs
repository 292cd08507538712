//! An incident. `event_seq`/`last_event_hash` are the head of its timeline chain.

use sea_orm::entity::prelude::*;

/// A row of `incidents`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incidents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub number: i64,
    pub name: String,
    pub title: String,
    pub description: String,
    pub resolution: Option<String>,
    pub status: String,
    pub visibility: String,
    pub type_id: i64,
    pub priority_id: i64,
    pub severity_id: i64,
    pub commander_id: i64,
    pub reporter_id: i64,
    pub reported_at: DateTimeUtc,
    pub stable_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub event_seq: i64,
    pub last_event_hash: String,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
