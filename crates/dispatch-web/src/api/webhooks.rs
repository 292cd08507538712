//! Outgoing webhook subscriptions: subscribe a URL to incident events (the signing secret is
//! shown once, in the answer to the subscribe call), change or remove a subscription, and see
//! its deliveries with their attempts.

use crate::api::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::wire::Page;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::values::WebLink;
use dispatch_core::webhook::parse_event_types;
use dispatch_core::{Patch, ValidationError};
use dispatch_engine::data::model::{webhook_delivery, webhook_subscription};
use dispatch_engine::webhook::{NewWebhook, WebhookChanges};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Webhook routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list).post(create))
        .route("/webhooks/{id}", get(show).patch(update).delete(delete))
        .route("/webhooks/{id}/deliveries", get(deliveries))
}

/// A subscription. Its secret is never shown again after the subscribe call.
#[derive(Serialize, ToSchema)]
pub struct WebhookOut {
    /// Id.
    pub id: i64,
    /// Where events are POSTed.
    pub url: String,
    /// Selected event types; empty means every type.
    pub event_types: Vec<String>,
    /// What it is for.
    pub description: String,
    /// Whether it receives events.
    pub enabled: bool,
    /// Whether a signing secret is set (always: it is shown once, when subscribing, and is
    /// kept sealed; the API never returns it again).
    pub secret_set: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<webhook_subscription::Model> for WebhookOut {
    fn from(s: webhook_subscription::Model) -> Self {
        let event_types = dispatch_engine::webhook::event_types(&s);
        Self {
            id: s.id,
            url: s.url,
            event_types,
            description: s.description,
            enabled: s.enabled,
            secret_set: !s.secret.is_empty(),
            created_at: s.created_at,
        }
    }
}

/// A new subscription, with its signing secret (shown this once).
#[derive(Serialize, ToSchema)]
pub struct WebhookCreatedOut {
    /// The subscription.
    #[serde(flatten)]
    pub webhook: WebhookOut,
    /// The signing secret, `whsec_` and base64: keep it, it is not shown again.
    pub secret: String,
}

/// A new subscription.
#[derive(Deserialize, ToSchema)]
pub struct WebhookIn {
    /// Where to POST events: an `http://` or `https://` URL (required).
    #[schema(required = true)]
    pub url: Option<String>,
    /// Event types to receive, e.g. `incident.status_changed`; absent or empty: all of them.
    pub event_types: Option<Vec<String>>,
    /// What it is for.
    pub description: Option<String>,
    /// Whether it receives events (default true).
    pub enabled: Option<bool>,
}

/// Changes to a subscription: absent fields are kept.
#[derive(Deserialize, ToSchema)]
pub struct WebhookPatch {
    /// New URL.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub url: Patch<String>,
    /// New selection of event types; `null` or empty: all of them.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub event_types: Patch<Vec<String>>,
    /// New description; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// Turn deliveries on or off.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub enabled: Patch<bool>,
}

impl WebhookPatch {
    /// The parsed changes, recording every bad field.
    fn parse(self, e: &mut ValidationError) -> WebhookChanges {
        let url = parse::parsed(e, "url", self.url, WebLink::parse);
        let event_types = match self.event_types {
            Patch::Absent => None,
            Patch::Null => Some(Vec::new()),
            Patch::Value(v) => e.check(parse_event_types("event_types", &v)),
        };
        WebhookChanges {
            url,
            event_types,
            description: parse::description(e, "description", self.description),
            enabled: parse::not_null(e, "enabled", self.enabled),
        }
    }
}

/// One message for a subscription and the outcome of its attempts.
#[derive(Serialize, ToSchema)]
pub struct DeliveryOut {
    /// Id.
    pub id: i64,
    /// The `webhook-id` header: the same on every attempt.
    pub message_id: String,
    /// E.g. `incident.status_changed`.
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// The receiver's HTTP status at the last attempt, if it answered.
    pub last_status_code: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The body sent.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// When the event was queued for this subscription.
    pub created_at: DateTime<Utc>,
    /// When a 2xx answer came.
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<webhook_delivery::Model> for DeliveryOut {
    fn from(d: webhook_delivery::Model) -> Self {
        Self {
            id: d.id,
            message_id: d.message_id,
            event_type: d.event_type,
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            payload: serde_json::from_str(&d.payload).unwrap_or(serde_json::Value::Null),
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

/// Which page of deliveries.
#[derive(Deserialize, IntoParams)]
pub struct DeliveryQuery {
    /// Page, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1-100 (default 50).
    pub per_page: Option<i64>,
}

/// Every subscription (secrets never shown).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    responses((status = 200, body = Vec<WebhookOut>)))]
pub async fn list(
    State(s): State<AppState>,
    _auth: Auth,
) -> ApiResult<axum::Json<Vec<WebhookOut>>> {
    let rows = s.engine.webhooks().list().await?;
    Ok(axum::Json(rows.into_iter().map(Into::into).collect()))
}

/// Subscribes a URL to incident events; the answer carries the signing secret, once.
#[utoipa::path(post, path = "/api/v1/webhooks", request_body(content = WebhookIn, example = json!({"url": "https://hooks.example.com/dispatch", "event_types": ["incident.status_changed"]})), tag = "webhooks",
    responses((status = 201, body = WebhookCreatedOut), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    _auth: Auth,
    Json(b): Json<WebhookIn>,
) -> ApiResult<(StatusCode, axum::Json<WebhookCreatedOut>)> {
    let mut e = ValidationError::default();
    let url =
        parse::required(&mut e, "url", &b.url).and_then(|u| e.check(WebLink::parse("url", u)));
    let event_types = e
        .check(parse_event_types(
            "event_types",
            &b.event_types.unwrap_or_default(),
        ))
        .unwrap_or_default();
    let description = parse::description(&mut e, "description", b.description.into());
    e.into_result()?;
    let saved = s
        .engine
        .webhooks()
        .create(NewWebhook {
            url: url.expect("checked"),
            event_types,
            description: description.unwrap_or_default(),
            enabled: b.enabled.unwrap_or(true),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(WebhookCreatedOut {
            webhook: saved.subscription.into(),
            secret: saved.secret,
        }),
    ))
}

/// One subscription (its secret never shown).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 200, body = WebhookOut), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<WebhookOut>> {
    Ok(axum::Json(
        s.engine
            .webhooks()
            .get(dispatch_core::WebhookId(id))
            .await?
            .into(),
    ))
}

/// Changes a subscription's URL, event types, description or whether it is enabled.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", request_body = WebhookPatch, tag = "webhooks",
    params(("id" = i64, Path)),
    responses((status = 200, body = WebhookOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<WebhookPatch>,
) -> ApiResult<axum::Json<WebhookOut>> {
    let mut e = ValidationError::default();
    let changes = b.parse(&mut e);
    e.into_result()?;
    Ok(axum::Json(
        s.engine
            .webhooks()
            .update(dispatch_core::WebhookId(id), changes)
            .await?
            .into(),
    ))
}

/// Removes a subscription and its deliveries; queued attempts are dropped.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    s.engine
        .webhooks()
        .delete(dispatch_core::WebhookId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A subscription's deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = i64, Path), DeliveryQuery),
    responses((status = 200, body = Page<DeliveryOut>), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn deliveries(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<DeliveryQuery>,
) -> ApiResult<axum::Json<Page<DeliveryOut>>> {
    let mut e = ValidationError::default();
    let (page, per_page) = parse::paging(&mut e, q.page, q.per_page, 50);
    e.into_result()?;
    let (rows, total) = s
        .engine
        .webhooks()
        .deliveries(dispatch_core::WebhookId(id), page, per_page)
        .await?;
    Ok(axum::Json(Page {
        items: rows.into_iter().map(Into::into).collect(),
        total,
        total_exact: true,
        page,
        per_page,
    }))
}
