//! `case_messages`: a case's own room in the built-in conversation provider (its message, the
//! replies in its thread, and what responders typed); `blocks` is the rich message JSON.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_messages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub channel: String,
    pub parent_id: Option<i64>,
    pub author: Option<String>,
    pub text: String,
    pub blocks: String,
    pub idempotency_key: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
