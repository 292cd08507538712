//! One role held by a participant over a time span.

use sea_orm::entity::prelude::*;

/// A row of `participant_roles`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "participant_roles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub participant_id: i64,
    pub incident_id: i64,
    pub role: String,
    pub assumed_at: DateTimeUtc,
    pub renounced_at: Option<DateTimeUtc>,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
