//! A person's participation in one incident.

use sea_orm::entity::prelude::*;

/// A row of `participants`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "participants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub individual_id: i64,
    pub team_id: Option<i64>,
    pub added_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub conversation_messages: i32,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
