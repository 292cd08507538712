//! The signal endpoints: the bodies alerting tools already send, unchanged, taken in under a
//! bearer token (a service account's). Each request is one transaction; a 2xx answer means
//! every alert in it is stored, and says what happened to each.

use crate::auth::Auth;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{from_foreign_json, JsonValue, Query};
use crate::AppState;
use axum::extract::State;
use axum::routing::post;
use axum::Router;
use dispatch_core::signal::payload::{AlertmanagerBody, PagerDutyEvent};
use dispatch_core::signal::{Alert, AlertResult, SignalSource};
use dispatch_core::ValidationError;
use dispatch_engine::signal::ingest::Incoming;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// Signal routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signals/alertmanager", post(alertmanager))
        .route("/signals/grafana", post(grafana))
        .route("/signals/pagerduty", post(pagerduty))
        .route("/signals/generic", post(generic))
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

/// Refuses a body that is not a JSON object (the tools send one), before it is read as their
/// body: read as one, an array's error would name a struct's element count.
fn an_object(body: &Value) -> Result<(), ApiError> {
    if body.is_object() {
        Ok(())
    } else {
        Err(ApiError::field("body", "must be a JSON object"))
    }
}

/// Reads Alertmanager's (or Grafana's) body into alerts, naming the field that does not fit.
pub(crate) fn alertmanager_alerts(mut body: Value) -> Result<Vec<Alert>, ApiError> {
    an_object(&body)?;
    let parsed: AlertmanagerBody = from_foreign_json(&body)?;
    let raws = match body.get_mut("alerts").map(Value::take) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    };
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
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn alertmanager(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<IngestQuery>,
    JsonValue(body): JsonValue,
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

/// Takes in a Grafana Alerting webhook contact point's notification: every alert of the group,
/// firing or resolved (Grafana's fields beyond Alertmanager's, such as `values` and
/// `dashboardURL`, are kept in each instance's raw alert). Set the contact point's
/// Authorization header scheme to `Bearer` and its credentials to an API token.
#[utoipa::path(post, path = "/api/v1/signals/grafana", tag = "signals", params(IngestQuery),
    request_body(content = Object, description = "Grafana's webhook contact point body",
        example = json!({"receiver": "dispatch", "status": "firing", "orgId": 1,
        "alerts": [{"status": "firing", "labels": {"alertname": "High memory usage", "team": "blue"},
            "annotations": {"summary": "This alert was triggered for zone us-1"},
            "startsAt": "2021-10-12T09:51:03.157076+02:00", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
            "fingerprint": "c6eadffa33fcdf37", "values": {"B": 44.2, "C": 1}}],
        "groupLabels": {}, "commonLabels": {"team": "blue"}, "commonAnnotations": {},
        "externalURL": "https://play.grafana.org/", "version": "1", "groupKey": "{}:{}",
        "truncatedAlerts": 0, "title": "[FIRING:1] (High memory usage blue)", "state": "alerting",
        "message": "**Firing**"})),
    responses((status = 200, body = IngestOut), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn grafana(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<IngestQuery>,
    JsonValue(body): JsonValue,
) -> ApiResult<axum::Json<IngestOut>> {
    let alerts = alertmanager_alerts(body)?;
    let out = take(
        &s,
        &auth,
        q.project.as_deref(),
        SignalSource::Grafana,
        Incoming::Alerts(alerts),
    )
    .await?;
    Ok(axum::Json(out))
}

/// The answer to a PagerDuty event: PagerDuty's own fields, and what happened to the alert.
#[derive(Serialize, ToSchema)]
pub struct PagerDutyOut {
    /// `success`.
    pub status: String,
    /// `Event processed`.
    pub message: String,
    /// The event's dedup key (the fingerprint Dispatch made when the event had none).
    pub dedup_key: String,
    /// What happened.
    #[serde(flatten)]
    pub result: IngestOut,
}

/// Takes in a PagerDuty Events API v2 event (`trigger`, `acknowledge` or `resolve`, by
/// `dedup_key`), so anything that can page PagerDuty can send to Dispatch: point its events
/// URL here and add `Authorization: Bearer` with an API token (the `routing_key` is not kept).
#[utoipa::path(post, path = "/api/v1/signals/pagerduty", tag = "signals", params(IngestQuery),
    request_body(content = Object, description = "A PagerDuty Events API v2 event",
        example = json!({"routing_key": "samplekeyhere", "event_action": "trigger", "dedup_key": "samplekeyhere",
        "payload": {"summary": "Example alert on host1.example.com", "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
            "severity": "info", "timestamp": "2015-07-17T08:42:58.315+0000", "component": "postgres",
            "group": "prod-datapipe", "class": "deploy", "custom_details": {"ping time": "1500ms", "load avg": 0.75}},
        "links": [{"href": "https://example.com/", "text": "Link text"}]})),
    responses((status = 202, body = PagerDutyOut), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn pagerduty(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<IngestQuery>,
    JsonValue(body): JsonValue,
) -> ApiResult<(axum::http::StatusCode, axum::Json<PagerDutyOut>)> {
    an_object(&body)?;
    let event: PagerDutyEvent = from_foreign_json(&body)?;
    let alert = event.to_alert(body)?;
    let dedup_key = alert.fingerprint.clone();
    let result = take(
        &s,
        &auth,
        q.project.as_deref(),
        SignalSource::Pagerduty,
        Incoming::Alerts(vec![alert]),
    )
    .await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        axum::Json(PagerDutyOut {
            status: "success".into(),
            message: "Event processed".into(),
            dedup_key,
            result,
        }),
    ))
}

/// Takes in any JSON object (or an array of them), read by each generic definition's field
/// paths (`title`, `severity`, `fingerprint`, `labels`, `link`, `status`): the first generic
/// definition whose matcher holds for the labels so read takes it.
#[utoipa::path(post, path = "/api/v1/signals/generic", tag = "signals", params(IngestQuery),
    request_body(content = Object, description = "Any JSON object, or an array of them",
        example = json!({"check": {"name": "Disk full", "id": "disk-db1"}, "tags": {"host": "db1"}, "state": "alerting"})),
    responses((status = 200, body = IngestOut), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn generic(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<IngestQuery>,
    JsonValue(body): JsonValue,
) -> ApiResult<axum::Json<IngestOut>> {
    let list = match body {
        Value::Array(items) => items,
        Value::Object(_) => vec![body],
        _ => {
            return Err(ApiError::field(
                "body",
                "must be a JSON object or an array of objects",
            ))
        }
    };
    let mut e = ValidationError::default();
    for (i, item) in list.iter().enumerate() {
        if !item.is_object() {
            e.push(format!("[{i}]"), "must be a JSON object");
        }
    }
    e.into_result()?;
    let out = take(
        &s,
        &auth,
        q.project.as_deref(),
        SignalSource::Generic,
        Incoming::Generic(list),
    )
    .await?;
    Ok(axum::Json(out))
}
