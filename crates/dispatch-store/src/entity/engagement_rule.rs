//! An engagement rule: a filter and whom (and what) it brings into matching incidents.

use sea_orm::entity::prelude::*;

/// A row of `engagement_rules`. `filter` is the filter's JSON; the lists are JSON arrays.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "engagement_rules")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub description: String,
    pub filter: String,
    pub individuals: String,
    pub teams: String,
    pub services: String,
    pub documents: String,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
