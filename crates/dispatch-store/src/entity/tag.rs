//! A tag, optionally of a tag type.

use sea_orm::entity::prelude::*;

/// A row of `tags`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub tag_type_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
