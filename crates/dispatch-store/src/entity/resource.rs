//! A resource a provider created for an incident.

use sea_orm::entity::prelude::*;

/// A row of `resources`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "resources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub kind: String,
    pub provider: String,
    pub external_id: Option<String>,
    pub link: Option<String>,
    pub status: String,
    pub last_error: Option<String>,
    /// What else people need besides the link: a JSON object of name → text.
    pub details: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
