//! Webhook subscriptions and their deliveries.

use crate::entity::{webhook_delivery as delivery, webhook_subscription as subscription};
use crate::error::{Result, StoreError};
use chrono::{DateTime, Utc};
use dispatch_core::webhook::WebhookSecret;
use rand::RngCore;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

/// Bytes of a new signing key (the spec asks for 24 to 64).
const SECRET_BYTES: usize = 32;

/// A fresh random signing secret, `whsec_…`.
pub fn new_secret() -> String {
    let mut key = vec![0u8; SECRET_BYTES.max(WebhookSecret::MIN_BYTES)];
    rand::thread_rng().fill_bytes(&mut key);
    WebhookSecret::from_bytes(key).encode()
}

/// The event types a subscription selected (empty: all).
pub fn event_types(s: &subscription::Model) -> Vec<String> {
    serde_json::from_str(&s.event_types).unwrap_or_default()
}

/// Every subscription, oldest first.
pub async fn list(conn: &impl ConnectionTrait) -> Result<Vec<subscription::Model>> {
    Ok(subscription::Entity::find()
        .order_by_asc(subscription::Column::Id)
        .all(conn)
        .await?)
}

/// The enabled subscriptions: the one query the hot path makes when events are appended.
pub async fn enabled(conn: &impl ConnectionTrait) -> Result<Vec<subscription::Model>> {
    Ok(subscription::Entity::find()
        .filter(subscription::Column::Enabled.eq(true))
        .order_by_asc(subscription::Column::Id)
        .all(conn)
        .await?)
}

/// A subscription by id.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<subscription::Model> {
    find(conn, id)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("webhook {id}")))
}

/// A subscription by id, if it still exists.
pub async fn find(conn: &impl ConnectionTrait, id: i64) -> Result<Option<subscription::Model>> {
    Ok(subscription::Entity::find_by_id(id).one(conn).await?)
}

/// Inserts a subscription (`row.id` is ignored).
pub async fn insert(
    conn: &impl ConnectionTrait,
    row: subscription::Model,
) -> Result<subscription::Model> {
    crate::repo::rows::insert(conn, row).await
}

/// Saves the fields of a subscription that changed between `before` (as read) and `after`.
pub async fn update(
    conn: &impl ConnectionTrait,
    before: &subscription::Model,
    after: subscription::Model,
) -> Result<subscription::Model> {
    crate::repo::rows::update(conn, before, after).await
}

/// Deletes a subscription and (by cascade) its deliveries.
pub async fn delete(conn: &impl ConnectionTrait, id: i64) -> Result<()> {
    subscription::Entity::delete_by_id(id).exec(conn).await?;
    Ok(())
}

/// A delivery about to be recorded.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// The subscription.
    pub subscription_id: i64,
    /// The `webhook-id`.
    pub message_id: String,
    /// E.g. `incident.status_changed`.
    pub event_type: String,
    /// The JSON body, exactly as it will be signed.
    pub payload: String,
}

/// Records pending deliveries; one whose (subscription, message id) exists is skipped.
pub async fn add_deliveries(
    conn: &impl ConnectionTrait,
    rows: Vec<NewDelivery>,
    at: DateTime<Utc>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    super::rows::in_statements(conn, rows, |part| async move {
        delivery::Entity::insert_many(part.into_iter().map(|d| delivery::ActiveModel {
            subscription_id: Set(d.subscription_id),
            message_id: Set(d.message_id),
            event_type: Set(d.event_type),
            payload: Set(d.payload),
            status: Set("pending".into()),
            attempts: Set(0),
            created_at: Set(at),
            ..Default::default()
        }))
        .on_conflict(
            OnConflict::columns([
                delivery::Column::SubscriptionId,
                delivery::Column::MessageId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .do_nothing()
        .exec_without_returning(conn)
        .await?;
        Ok(())
    })
    .await
}

/// The delivery of a message to a subscription, if it exists.
pub async fn delivery(
    conn: &impl ConnectionTrait,
    subscription_id: i64,
    message_id: &str,
) -> Result<Option<delivery::Model>> {
    Ok(delivery::Entity::find()
        .filter(delivery::Column::SubscriptionId.eq(subscription_id))
        .filter(delivery::Column::MessageId.eq(message_id))
        .one(conn)
        .await?)
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// `pending` (to be retried), `delivered` or `failed` (no attempts left).
    pub status: &'static str,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<i32>,
    /// Why it failed.
    pub error: Option<String>,
    /// When it was made.
    pub at: DateTime<Utc>,
}

/// Counts an attempt on a delivery and records its outcome.
pub async fn record_attempt(
    conn: &impl ConnectionTrait,
    d: delivery::Model,
    attempt: Attempt,
) -> Result<delivery::Model> {
    let delivered = attempt.status == "delivered";
    let attempts = d.attempts + 1;
    let mut row: delivery::ActiveModel = d.into();
    row.status = Set(attempt.status.into());
    row.attempts = Set(attempts);
    row.last_status_code = Set(attempt.status_code);
    row.last_error = Set(attempt.error);
    if delivered {
        row.delivered_at = Set(Some(attempt.at));
    }
    Ok(row.update(conn).await?)
}

/// Marks a delivery failed without an attempt (e.g. its subscription was disabled).
pub async fn give_up(
    conn: &impl ConnectionTrait,
    d: delivery::Model,
    reason: &str,
) -> Result<delivery::Model> {
    let mut row: delivery::ActiveModel = d.into();
    row.status = Set("failed".into());
    row.last_error = Set(Some(reason.to_string()));
    Ok(row.update(conn).await?)
}

/// A page of a subscription's deliveries, newest first, and how many it has in all.
pub async fn deliveries(
    conn: &impl ConnectionTrait,
    subscription_id: i64,
    page: u64,
    per_page: u64,
) -> Result<(Vec<delivery::Model>, u64)> {
    let q = delivery::Entity::find()
        .filter(delivery::Column::SubscriptionId.eq(subscription_id))
        .order_by_desc(delivery::Column::Id);
    let pages = q.paginate(conn, per_page.max(1));
    let total = pages.num_items().await?;
    let rows = pages.fetch_page(page.saturating_sub(1)).await?;
    Ok((rows, total))
}
