//! The incident page's timeline: pinned events first, a filter by event type (a plain GET form,
//! swapped in place by htmx), pin and unpin buttons, a form for a custom event and the export as
//! markdown. Pins go through the same engine call as the API's pin route (which records the pin
//! on the timeline; the hash chain does not cover the pinned flag).

use super::incident::{settle, Done, Failed};
use super::sections::{part, section, TypeQuery};
use super::{is_htmx, see_other, Caller, Form};
use crate::error::ApiResult;
use crate::extract::{Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use dispatch_core::commands::AddTimelineEvent;
use dispatch_core::values::IncidentRef;
use dispatch_core::ValidationError;
use dispatch_engine::data::EventFilter;
use serde::Deserialize;

/// `GET /incidents/{key}/timeline?type=…`: the filtered section for htmx; a browser without
/// JavaScript is sent to the page with the same filter.
pub async fn filtered(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<TypeQuery>,
) -> ApiResult<Response> {
    let r = IncidentRef::parse(&id);
    let key = s.engine.incidents().get(&r).await?.row.name;
    if !is_htmx(&headers) {
        let query =
            serde_urlencoded::to_string([("type", q.kinds().join(","))]).unwrap_or_default();
        return Ok(see_other(&format!("/incidents/{key}?{query}#timeline")));
    }
    let html = section(&s, &caller, &r, &key, q.kinds()).await?;
    Ok((StatusCode::OK, axum::response::Html(html)).into_response())
}

/// `POST /incidents/{key}/timeline/{event_id}/pin`.
pub async fn pin(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, event_id)): Path<(String, i64)>,
    axum::Form(q): axum::Form<TypeQuery>,
) -> ApiResult<Response> {
    set_pin(&s, &caller, &headers, &id, event_id, true, q).await
}

/// `POST /incidents/{key}/timeline/{event_id}/unpin` (a form cannot send DELETE).
pub async fn unpin(
    State(s): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    Path((id, event_id)): Path<(String, i64)>,
    axum::Form(q): axum::Form<TypeQuery>,
) -> ApiResult<Response> {
    set_pin(&s, &caller, &headers, &id, event_id, false, q).await
}

/// Pins or unpins; htmx gets the events back in place, a plain form the page.
async fn set_pin(
    s: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    id: &str,
    event_id: i64,
    pinned: bool,
    q: TypeQuery,
) -> ApiResult<Response> {
    let r = IncidentRef::parse(id);
    s.engine
        .timeline()
        .pin(
            caller.auth.actor(),
            &r,
            dispatch_core::EventId(event_id),
            pinned,
        )
        .await?;
    let key = s.engine.incidents().get(&r).await?.row.name;
    if is_htmx(headers) {
        let t = part(s, caller, &r, &key, q.kinds()).await?;
        return Ok(super::render(StatusCode::OK, &t));
    }
    let query = match q.kinds() {
        k if k.is_empty() => String::new(),
        k => format!(
            "?{}",
            serde_urlencoded::to_string([("type", k.join(","))]).unwrap_or_default()
        ),
    };
    Ok(see_other(&format!(
        "/incidents/{key}{query}#event-{event_id}"
    )))
}

/// A custom event from the page.
#[derive(Deserialize)]
pub struct EventForm {
    description: Option<String>,
    /// When it happened, in UTC: RFC 3339 or the `datetime-local` form `2026-11-25T10:00`.
    occurred_at: Option<String>,
    pinned: Option<String>,
}

/// `POST /incidents/{key}/timeline`: adds a custom event.
pub async fn add_event(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<EventForm>,
) -> ApiResult<Response> {
    let mut e = ValidationError::default();
    let description = super::forms::long_text(
        &mut e,
        "description",
        b.description.as_deref(),
        "is required: what happened",
    );
    let occurred_at = super::forms::optional(&mut e, b.occurred_at.as_deref(), |e, t| {
        super::forms::time(e, "occurred_at", t)
    });
    if occurred_at.is_some_and(|t| t > dispatch_core::now() + chrono::Duration::minutes(5)) {
        e.push("occurred_at", "is in the future");
    }
    let (pinned, pinned_value) = super::forms::checkbox(&b.pinned);
    let incident = IncidentRef::parse(&id);
    let result = super::forms::submit(e, || {
        s.engine.timeline().add(
            caller.auth.actor(),
            &incident,
            AddTimelineEvent {
                occurred_at: occurred_at.unwrap_or_else(dispatch_core::now),
                description: description.expect("checked"),
                details: None,
                pinned,
            },
        )
    })
    .await
    .map(|_| ());
    let form = Form::with_values([
        ("description", b.description.unwrap_or_default()),
        ("occurred_at", b.occurred_at.unwrap_or_default()),
        ("pinned", pinned_value),
    ]);
    settle(&s, &caller, &id, result, form, Done::EventAdded, |f| {
        Failed::named("event", f)
    })
    .await
}

/// `GET /incidents/{key}/timeline.md`: the timeline as a markdown document, with the page's
/// filter.
pub async fn markdown(
    State(s): State<AppState>,
    _caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<TypeQuery>,
) -> ApiResult<Response> {
    let f = EventFilter {
        kinds: q.types_only(),
        ..EventFilter::default()
    };
    let md = s
        .engine
        .timeline()
        .markdown(&IncidentRef::parse(&id), &f)
        .await?;
    Ok(crate::api::timeline::markdown_response(&id, md))
}
