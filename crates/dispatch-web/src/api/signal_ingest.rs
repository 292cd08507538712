//! The signal endpoints: the bodies alerting tools already send, unchanged, taken in under a
//! bearer token (a service account's). Each request is one transaction; a 2xx answer means
//! every alert in it is stored, and says what happened to each.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{from_foreign_json, Json, Query};
use crate::AppState;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use dispatch_core::signal::payload::AlertmanagerBody;
use dispatch_core::signal::{Alert, AlertResult, SignalSource};
use dispatch_core::ValidationError;
use dispatch_engine::signal::ingest::Incoming;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// Signal routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/signals/alertmanager", post(alertmanager))
}

/// Which project the alerts are for.
#[derive(Deserialize, IntoParams)]
pub struct IngestQuery {
    /// The project's slug (the default project when absent).
    pub project: Option<String>,
}

/// What happened to each alert of a request.
#[derive(Serialize, ToSchema)]
pub struct IngestOut {
    /// How many alerts the request carried.
    pub received: usize,
    /// One entry per alert, in the request's order.
    pub alerts: Vec<AlertResult>,
}

/// Stores the alerts and answers what happened to each.
pub(crate) async fn take(
    s: &AppState,
    auth: &Auth,
    project: Option<&str>,
    source: SignalSource,
    incoming: Incoming,
) -> ApiResult<IngestOut> {
    let alerts = s
        .engine
        .signals()
        .ingest(auth.actor(), project, source, incoming)
        .await?;
    Ok(IngestOut {
        received: alerts.len(),
        alerts,
    })
}

/// Reads Alertmanager's (or Grafana's) body into alerts, naming the field that does not fit.
pub(crate) fn alertmanager_alerts(body: Value) -> Result<Vec<Alert>, ApiError> {
    let parsed: AlertmanagerBody = from_foreign_json(body.clone())?;
    let raws = body["alerts"].as_array().cloned().unwrap_or_default();
    let mut e = ValidationError::default();
    let mut out = Vec::with_capacity(parsed.alerts.len());
    for (i, (a, raw)) in parsed.alerts.iter().zip(raws).enumerate() {
        match a.to_alert(raw) {
            Ok(alert) => out.push(alert),
            Err(msg) => e.push(format!("alerts[{i}].status"), msg),
        }
    }
    e.into_result()?;
    Ok(out)
}

/// Takes in a Prometheus Alertmanager webhook notification (version 4): every alert of the
/// group, firing or resolved. Point a `webhook_configs` receiver here with
/// `http_config.authorization` carrying an API token.
#[utoipa::path(post, path = "/api/v1/signals/alertmanager", tag = "signals", params(IngestQuery),
    request_body(content = Object, description = "Alertmanager's webhook body, version 4",
        example = json!({"version": "4", "groupKey": "{}:{alertname=\"HighErrorRate\"}", "status": "firing",
        "receiver": "dispatch", "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {"alertname": "HighErrorRate"}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093", "truncatedAlerts": 0,
        "alerts": [{"status": "firing", "labels": {"alertname": "HighErrorRate", "service": "payments"},
            "annotations": {"summary": "5xx above 5%"}, "startsAt": "2026-12-03T06:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": "c0ffee1234567890"}]})),
    responses((status = 200, body = IngestOut), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn alertmanager(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<IngestQuery>,
    Json(body): Json<Value>,
) -> ApiResult<axum::Json<IngestOut>> {
    let alerts = alertmanager_alerts(body)?;
    let out = take(
        &s,
        &auth,
        q.project.as_deref(),
        SignalSource::Alertmanager,
        Incoming::Alerts(alerts),
    )
    .await?;
    Ok(axum::Json(out))
}
