//! A page sent to a person for an incident, until acknowledged.

use sea_orm::entity::prelude::*;

/// A row of `pages`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "pages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub service_id: Option<i64>,
    pub email: String,
    pub reason: String,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub acknowledged_at: Option<DateTimeUtc>,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
