//! An incident type of a project.

use sea_orm::entity::prelude::*;

/// A row of `incident_types`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_types")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub default_visibility: String,
    pub is_default: bool,
    pub enabled: bool,
    pub exclude_from_metrics: bool,
    pub exclude_from_reminders: bool,
    pub exclude_from_review: bool,
    pub view_order: i32,
    pub created_at: DateTimeUtc,
    pub incident_template: Option<String>,
    pub review_template: Option<String>,
    pub executive_template: Option<String>,
    /// The cost model its incidents' response cost is computed with (`None`: the classic one).
    pub cost_model_id: Option<i64>,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
