//! A timeline event, hash-chained to the previous one of the same incident.

use sea_orm::entity::prelude::*;

/// A row of `events`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub seq: i64,
    pub occurred_at: DateTimeUtc,
    pub recorded_at: DateTimeUtc,
    pub kind: String,
    pub source: String,
    pub actor: Option<String>,
    pub transport: String,
    pub description: String,
    pub details: String,
    pub pinned: bool,
    pub prev_hash: String,
    pub hash: String,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
