//! The timeline of an incident: list (with filters), custom events, pinning, chain verification.

use super::parse;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Json, Path, Query};
use crate::wire::EventOut;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use dispatch_core::commands::AddTimelineEvent;
use dispatch_core::values::{IncidentRef, LongText};
use dispatch_core::{EventSource, ValidationError};
use dispatch_engine::data::EventFilter;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Timeline routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/timeline", get(list).post(add))
        .route("/incidents/{id}/timeline/verify", get(verify))
        .route("/incidents/{id}/timeline.md", get(export))
        .route(
            "/incidents/{id}/timeline/{event_id}/pin",
            post(pin).delete(unpin),
        )
}

/// Timeline filters.
#[derive(Deserialize, IntoParams)]
pub struct TimelineQuery {
    /// Event types, comma-separated (e.g. `status_changed,custom`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// Only pinned events.
    pub pinned: Option<bool>,
    /// `dispatch` or `custom`.
    pub source: Option<String>,
}

/// An incident's timeline, oldest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline", tag = "timeline", params(("id" = String, Path), TimelineQuery),
    responses((status = 200, body = Vec<EventOut>)))]
pub async fn list(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> ApiResult<axum::Json<Vec<EventOut>>> {
    let events = s
        .engine
        .timeline()
        .list(&IncidentRef::parse(&id), &q.filter()?)
        .await?;
    Ok(axum::Json(events.into_iter().map(Into::into).collect()))
}

impl TimelineQuery {
    /// The store's filter; a bad `source` is a field error.
    pub fn filter(&self) -> ApiResult<EventFilter> {
        let mut e = ValidationError::default();
        let source = parse::enum_field::<EventSource>(&mut e, "source", self.source.as_deref());
        let kinds = parse::list(&mut e, "type", self.kind.as_deref());
        e.into_result()?;
        Ok(EventFilter {
            kinds,
            pinned_only: self.pinned.unwrap_or(false),
            source,
        })
    }
}

/// The timeline as a markdown document (pinned events first, then every event), with the same
/// filters as the list.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline.md", tag = "timeline", params(("id" = String, Path), TimelineQuery),
    responses((status = 200, content_type = "text/markdown", body = String)))]
pub async fn export(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<TimelineQuery>,
) -> ApiResult<axum::response::Response> {
    let r = IncidentRef::parse(&id);
    let md = s.engine.timeline().markdown(&r, &q.filter()?).await?;
    Ok(markdown_response(&id, md))
}

/// A markdown download named after the incident.
pub fn markdown_response(id: &str, md: String) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let name: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}-timeline.md\""),
            ),
        ],
        md,
    )
        .into_response()
}

/// A custom timeline entry.
#[derive(Deserialize, ToSchema)]
pub struct EventIn {
    /// What happened.
    pub description: Option<String>,
    /// When it happened (RFC 3339); now when absent.
    pub occurred_at: Option<String>,
    /// Extra structured data.
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
    /// Pin it at once.
    #[serde(default)]
    pub pinned: bool,
}

/// Adds a custom event to the timeline.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/timeline", request_body(content = EventIn, example = json!({"description": "Paged the database team", "details": {"pager": "db-oncall"}})), tag = "timeline", params(("id" = String, Path)),
    responses((status = 201, body = EventOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(body): Json<EventIn>,
) -> ApiResult<(StatusCode, axum::Json<EventOut>)> {
    let mut e = ValidationError::default();
    let description = parse::required(&mut e, "description", &body.description)
        .and_then(|d| e.check(LongText::parse("description", d)));
    let occurred_at = parse::time(&mut e, "occurred_at", body.occurred_at.as_deref());
    if let Some(d) = &body.details {
        if !d.is_object() {
            e.push("details", "must be a JSON object");
        }
    }
    e.into_result()?;
    let cmd = AddTimelineEvent {
        occurred_at: occurred_at.unwrap_or_else(dispatch_core::now),
        description: description.expect("checked"),
        details: body.details,
        pinned: body.pinned,
    };
    let ev = s
        .engine
        .timeline()
        .add(auth.actor(), &IncidentRef::parse(&id), cmd)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(ev.into())))
}

/// Pins an event.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/timeline/{event_id}/pin", tag = "timeline",
    params(("id" = String, Path), ("event_id" = i64, Path)), responses((status = 200, body = EventOut)))]
pub async fn pin(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, event_id)): Path<(String, i64)>,
) -> ApiResult<axum::Json<EventOut>> {
    Ok(axum::Json(
        s.engine
            .timeline()
            .pin(
                auth.actor(),
                &IncidentRef::parse(&id),
                dispatch_core::EventId(event_id),
                true,
            )
            .await?
            .into(),
    ))
}

/// Unpins an event.
#[utoipa::path(delete, path = "/api/v1/incidents/{id}/timeline/{event_id}/pin", tag = "timeline",
    params(("id" = String, Path), ("event_id" = i64, Path)), responses((status = 200, body = EventOut)))]
pub async fn unpin(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, event_id)): Path<(String, i64)>,
) -> ApiResult<axum::Json<EventOut>> {
    Ok(axum::Json(
        s.engine
            .timeline()
            .pin(
                auth.actor(),
                &IncidentRef::parse(&id),
                dispatch_core::EventId(event_id),
                false,
            )
            .await?
            .into(),
    ))
}

/// The result of re-computing the hash chain.
#[derive(Serialize, ToSchema)]
pub struct VerifyOut {
    /// True when every event matches its hash and the chain is complete.
    pub valid: bool,
    /// Events checked.
    pub events: u64,
    /// The first position where the chain breaks.
    pub first_broken_seq: Option<i64>,
    /// Why it breaks.
    pub reason: Option<String>,
}

/// Verifies that the timeline is intact (no event edited, removed or reordered).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/timeline/verify", tag = "timeline", params(("id" = String, Path)),
    responses((status = 200, body = VerifyOut)))]
pub async fn verify(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<VerifyOut>> {
    let v = s.engine.timeline().verify(&IncidentRef::parse(&id)).await?;
    Ok(axum::Json(VerifyOut {
        valid: v.first_broken_seq.is_none(),
        events: v.events,
        first_broken_seq: v.first_broken_seq,
        reason: v.reason,
    }))
}
