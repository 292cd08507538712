//! Outgoing webhooks: the subscription commands, and (in [`outgoing`]) the fan-out of every
//! appended timeline event to the subscriptions that selected its type.

pub(crate) mod cases;
pub(crate) mod outgoing;

use crate::Result;
use dispatch_core::values::WebLink;
use dispatch_core::WebhookId;
use dispatch_store::model::{webhook_delivery, webhook_subscription};
use dispatch_store::repo;

/// A subscription just made, with its signing secret in clear (shown once; stored sealed).
#[derive(Debug, Clone)]
pub struct NewSubscription {
    /// The stored subscription (its secret column sealed).
    pub subscription: webhook_subscription::Model,
    /// The signing secret, `whsec_…`.
    pub secret: String,
}

/// A new subscription, parsed.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// Where to POST.
    pub url: WebLink,
    /// Selected event types, each one of [`dispatch_core::webhook::EVENT_TYPES`]; empty: all.
    pub event_types: Vec<String>,
    /// What it is for.
    pub description: String,
    /// Whether it receives events.
    pub enabled: bool,
}

/// Changes to a subscription, parsed; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct WebhookChanges {
    /// New URL.
    pub url: Option<WebLink>,
    /// New selection of event types (empty: all).
    pub event_types: Option<Vec<String>>,
    /// New description.
    pub description: Option<String>,
    /// Turn deliveries on or off.
    pub enabled: Option<bool>,
}

/// The event types a subscription selected (empty: all).
pub fn event_types(s: &webhook_subscription::Model) -> Vec<String> {
    repo::webhook::event_types(s)
}

/// The stored form of a selection: a JSON array.
fn types_json(types: &[String]) -> String {
    serde_json::Value::from(types.to_vec()).to_string()
}

impl crate::Webhooks<'_> {
    /// Every subscription.
    pub async fn list(self) -> Result<Vec<webhook_subscription::Model>> {
        Ok(repo::webhook::list(self.db.conn()).await?)
    }

    /// A subscription by id.
    pub async fn get(self, id: WebhookId) -> Result<webhook_subscription::Model> {
        let id = id.0;
        Ok(repo::webhook::get(self.db.conn(), id).await?)
    }

    /// Subscribes a URL with a freshly generated signing secret, stored sealed. The answer
    /// carries the secret in clear: show it to the caller once.
    pub async fn create(self, w: NewWebhook) -> Result<NewSubscription> {
        let secret = repo::webhook::new_secret();
        let row = webhook_subscription::Model {
            url: w.url.as_str().to_string(),
            secret: self.seal_webhook_secret(&secret),
            event_types: types_json(&w.event_types),
            description: w.description,
            enabled: w.enabled,
            created_at: dispatch_core::now(),
            ..Default::default()
        };
        let txn = self.db.write().await?;
        let saved = repo::webhook::insert(&*txn, row).await?;
        txn.commit().await?;
        tracing::info!(webhook.id = saved.id, "webhook subscription created");
        Ok(NewSubscription {
            subscription: saved,
            secret,
        })
    }

    /// Changes a subscription.
    pub async fn update(
        self,
        id: WebhookId,
        c: WebhookChanges,
    ) -> Result<webhook_subscription::Model> {
        let id = id.0;
        let txn = self.db.write().await?;
        let current = repo::webhook::get(&*txn, id).await?;
        let mut row = current.clone();
        if let Some(url) = c.url {
            row.url = url.as_str().to_string();
        }
        if let Some(types) = c.event_types {
            row.event_types = types_json(&types);
        }
        if let Some(d) = c.description {
            row.description = d;
        }
        if let Some(e) = c.enabled {
            row.enabled = e;
        }
        let saved = repo::webhook::update(&*txn, &current, row).await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// Removes a subscription with its deliveries; its queued jobs find nothing left to send.
    pub async fn delete(self, id: WebhookId) -> Result<()> {
        let id = id.0;
        let txn = self.db.write().await?;
        repo::webhook::get(&*txn, id).await?;
        repo::webhook::delete(&*txn, id).await?;
        txn.commit().await?;
        Ok(())
    }

    /// A page of a subscription's deliveries, newest first, and how many there are.
    pub async fn deliveries(
        self,
        id: WebhookId,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<webhook_delivery::Model>, u64)> {
        let id = id.0;
        let conn = self.db.conn();
        repo::webhook::get(conn, id).await?;
        Ok(repo::webhook::deliveries(conn, id, page, per_page).await?)
    }
}
