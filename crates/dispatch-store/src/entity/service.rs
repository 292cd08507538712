//! An on-call service (the rotation engine comes with the on-call provider).

use sea_orm::entity::prelude::*;

/// A row of `services`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "services")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub provider: String,
    pub external_id: Option<String>,
    pub description: String,
    pub is_active: bool,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
