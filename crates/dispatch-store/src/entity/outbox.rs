//! A mail in the outbox: what Dispatch sent, to whom, through which provider.

use sea_orm::entity::prelude::*;

/// A row of `outbox`; `recipients` is a JSON array of lower-cased addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub idempotency_key: String,
    pub recipients: String,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub provider: String,
    pub incident_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
