//! A Slack user seen by Dispatch: the id ↔ e-mail cache.

use sea_orm::entity::prelude::*;

/// A row of `slack_users`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "slack_users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub slack_id: String,
    pub email: String,
    pub name: String,
    pub updated_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
