//! A cost model of a project: how much response time each kind of activity stands for.

use sea_orm::entity::prelude::*;

/// A row of `cost_models`; `activities` is a JSON object of activity kind → response time in
/// seconds (`dispatch_core::cost::Activities`).
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cost_models")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub activities: String,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
