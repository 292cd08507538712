//! A person; the e-mail address is the identity.

use sea_orm::entity::prelude::*;

/// A row of `individuals`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel, serde::Deserialize)]
#[sea_orm(table_name = "individuals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub email: String,
    pub name: String,
    pub title: Option<String>,
    pub weblink: Option<String>,
    /// The Azure AD object id Microsoft Teams knows them by.
    pub teams_id: Option<String>,
    /// Their Matrix ID (`@alice:example.org`), set on their profile.
    pub matrix_id: Option<String>,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
