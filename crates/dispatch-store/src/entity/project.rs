//! A project: slug, display name and incident key prefix.

use sea_orm::entity::prelude::*;

/// A row of `projects`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "projects")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub key_prefix: String,
    pub description: String,
    pub incident_seq: i64,
    pub allow_self_join: bool,
    pub is_default: bool,
    pub created_at: DateTimeUtc,
    pub stable_priority_id: Option<i64>,
    /// Providers the project chose: a JSON object of capability → provider slug.
    pub providers: String,
    /// The project's settings for the providers that take some: a JSON object of provider
    /// slug → settings (`dispatch_core::provider_settings`).
    pub provider_settings: String,
    /// Reacting to a room message with this emoji puts it on the timeline.
    pub timeline_emoji: String,
    pub observer_promotion_messages: i32,
    pub members_only: bool,
    /// Whether the project's weekly report is sent.
    pub weekly_report: bool,
    /// The classic cost model's yearly cost of one employee.
    pub annual_employee_cost: i64,
    /// The classic cost model's working hours in a year.
    pub business_year_hours: i64,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
