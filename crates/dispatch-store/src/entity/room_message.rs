//! A message posted in an incident room; `blocks` is the rich message JSON.

use sea_orm::entity::prelude::*;

/// A row of `room_messages`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "room_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub room_id: i64,
    pub author: Option<String>,
    pub text: String,
    pub blocks: String,
    pub idempotency_key: Option<String>,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
