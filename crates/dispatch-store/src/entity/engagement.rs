//! One match of an engagement rule on an incident.

use sea_orm::entity::prelude::*;

/// A row of `engagements`: `kind` is `individual`, `service`, `team` or `document`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "engagements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub rule_id: Option<i64>,
    pub rule_name: String,
    pub kind: String,
    pub target: String,
    pub email: Option<String>,
    pub title: Option<String>,
    pub link: Option<String>,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
