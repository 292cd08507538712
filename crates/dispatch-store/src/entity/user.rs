//! A person (or service account) who can sign in, with an organization role.

use sea_orm::entity::prelude::*;

/// A row of `users`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub individual_id: i64,
    pub role: String,
    pub kind: String,
    pub password_hash: Option<String>,
    pub setup_token_hash: Option<String>,
    pub setup_expires_at: Option<DateTimeUtc>,
    pub disabled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
