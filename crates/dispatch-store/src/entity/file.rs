//! A file attached to an incident (built-in storage), kept in the database.

use sea_orm::entity::prelude::*;

/// A row of `files`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "files")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub data: Vec<u8>,
    pub uploaded_by: Option<String>,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
