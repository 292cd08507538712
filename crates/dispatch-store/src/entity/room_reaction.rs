//! An emoji reaction to a room message.

use sea_orm::entity::prelude::*;

/// A row of `room_reactions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "room_reactions")]
pub struct Model {
    /// Id.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The message.
    pub message_id: i64,
    /// Who reacted.
    pub email: String,
    /// The emoji.
    pub emoji: String,
    /// When.
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
