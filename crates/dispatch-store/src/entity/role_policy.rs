//! Who takes a role (IC, scribe, liaison) for matching incidents: a service's on-call or a person.

use sea_orm::entity::prelude::*;

/// A row of `role_policies`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "role_policies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub role: String,
    pub type_id: Option<i64>,
    pub priority_id: Option<i64>,
    pub tag_id: Option<i64>,
    pub service_id: Option<i64>,
    pub email: Option<String>,
    pub view_order: i32,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
