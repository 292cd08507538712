//! PagerDuty's v3 webhook (`POST /providers/pagerduty/webhook`): it carries no token; each
//! request must carry an `X-PagerDuty-Signature` made with the subscription's secret, or it is
//! refused with 401. An `incident.acknowledged` event for an incident Dispatch triggered (its
//! `incident_key` is the Dispatch incident's name) acknowledges that incident's pages, and the
//! incident's timeline records it. Every other event, and incidents Dispatch does not know, are
//! answered 200 and ignored, so that PagerDuty does not retry them.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// The PagerDuty webhook's settings.
#[derive(Clone)]
pub struct PagerDutyWebhook {
    /// The webhook subscription's signing secret.
    pub secret: String,
}

impl std::fmt::Debug for PagerDutyWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PagerDutyWebhook").finish_non_exhaustive()
    }
}

/// The PagerDuty webhook route.
pub fn router() -> Router<AppState> {
    Router::new().route("/providers/pagerduty/webhook", post(webhook))
}

async fn webhook(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let Some(settings) = s.pagerduty.as_deref() else {
        return Err(ApiError::BadSignature(
            "PagerDuty webhooks are not configured on this server: set DISPATCH_PAGERDUTY_WEBHOOK_SECRET".into(),
        ));
    };
    let signature = headers
        .get("x-pagerduty-signature")
        .and_then(|v| v.to_str().ok());
    dispatch_providers::pagerduty::verify_signature(&settings.secret, signature, &body)
        .map_err(ApiError::BadSignature)?;
    let event: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
    let Some(incident) = dispatch_providers::pagerduty::acknowledged_incident(&event) else {
        return Ok(Json(
            json!({"ignored": "not an incident.acknowledged event"}),
        ));
    };
    match s.engine.oncall().acknowledge_incident(&incident).await {
        Ok(pages) => Ok(Json(json!({
            "incident": incident,
            "acknowledged": pages.iter().map(|p| p.id).collect::<Vec<_>>(),
        }))),
        Err(dispatch_engine::Error::NotFound(_)) => Ok(Json(
            json!({"ignored": format!("no Dispatch incident is called {incident:?}")}),
        )),
        Err(e) => Err(e.into()),
    }
}
