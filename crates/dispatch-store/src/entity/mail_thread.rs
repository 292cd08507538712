//! The root of an e-mail thread for one recipient: the key of the thread's first mail.

use sea_orm::entity::prelude::*;

/// A row of `mail_threads`.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_threads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub thread: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub recipient: String,
    pub root_key: String,
    pub created_at: DateTimeUtc,
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
