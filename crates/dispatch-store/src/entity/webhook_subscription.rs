//! A webhook subscription: where to POST which incident events, and the secret to sign with.

use sea_orm::entity::prelude::*;

/// A row of `webhook_subscriptions`.
#[derive(Clone, Default, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub url: String,
    /// `whsec_…`; never logged (see the `Debug` impl), shown to the subscriber once.
    pub secret: String,
    /// JSON array of event types; empty means all.
    pub event_types: String,
    pub description: String,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("webhook_subscription::Model")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("secret", &"***")
            .field("event_types", &self.event_types)
            .field("description", &self.description)
            .field("enabled", &self.enabled)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// No relations are declared; repositories join explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
