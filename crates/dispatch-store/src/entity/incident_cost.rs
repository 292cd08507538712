//! One cost of an incident, of one cost type, as last computed.

use sea_orm::entity::prelude::*;

/// A row of `incident_costs`: the amount in cents, the model that computed it (`classic` or
/// `activity`) and its breakdown (JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incident_costs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub incident_id: i64,
    pub cost_type_id: i64,
    pub amount_cents: i64,
    pub model: String,
    pub details: String,
    pub computed_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
