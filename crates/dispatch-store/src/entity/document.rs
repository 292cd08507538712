//! A markdown document stored by the built-in document provider.

use sea_orm::entity::prelude::*;

/// A row of `documents`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "documents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub kind: String,
    pub idempotency_key: String,
    pub title: String,
    pub template: String,
    pub body: String,
    pub read_only: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Who last edited it by hand; from then on the engine no longer re-renders it.
    pub edited_by: Option<String>,
    /// When.
    pub edited_at: Option<DateTimeUtc>,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
