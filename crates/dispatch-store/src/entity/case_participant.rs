//! A person's part in one case.

use sea_orm::entity::prelude::*;

/// A row of `case_participants`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_participants")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    /// The person's address.
    pub email: String,
    /// What first brought them in: `reporter`, `assignee`, or the action they took.
    pub added_reason: String,
    /// When they joined.
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
