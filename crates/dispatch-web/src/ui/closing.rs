//! Closing with guard rails: the Close action opens a page that says what is still open (tasks
//! nobody resolved, no resolution yet) and asks for the resolution; closing then sets the
//! resolution and the status in one change, so the frozen documents carry both.

use super::{render, see_other, Caller, Chrome, Form};
use crate::error::ApiResult;
use crate::extract::Path;
use crate::wire::{IncidentOut, TaskOut};
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dispatch_core::commands::UpdateIncident;
use dispatch_core::values::{IncidentRef, LongText};
use dispatch_core::{IncidentStatus, Patch, ValidationError};
use serde::Deserialize;

/// The close page.
#[derive(Template)]
#[template(path = "incident/close.html")]
struct ClosePage {
    chrome: Chrome,
    inc: IncidentOut,
    /// Tasks still open: closing leaves them open, so the page names them.
    open_tasks: Vec<TaskOut>,
    form: Form,
}

/// `GET /incidents/{key}/close`: what is still open, and the resolution to close with.
pub async fn page(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    close_page(&s, &caller, &id, None).await
}

async fn close_page(
    s: &AppState,
    caller: &Caller,
    id: &str,
    failed: Option<Form>,
) -> ApiResult<Response> {
    let r = IncidentRef::parse(id);
    let inc: IncidentOut = s.engine.incidents().get(&r).await?.into();
    let open_tasks = s
        .engine
        .tasks()
        .list(&r)
        .await?
        .into_iter()
        .map(TaskOut::from)
        .filter(|t| t.status == "open")
        .collect();
    let status = match failed {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    let form = failed.unwrap_or_else(|| {
        Form::with_values([("resolution", inc.resolution.clone().unwrap_or_default())])
    });
    let page = ClosePage {
        chrome: caller.chrome(format!("Close {}", inc.name), "incidents"),
        inc,
        open_tasks,
        form,
    };
    Ok(render(status, &page))
}

/// The close form: the resolution (absent from a bare Close button).
#[derive(Deserialize)]
pub struct CloseForm {
    resolution: Option<String>,
}

/// `POST /incidents/{key}/close`: with a `resolution` (the close page), sets it and closes in
/// one change, refusing an empty one; without (a bare button), closes as the API does.
pub async fn close(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    axum::Form(b): axum::Form<CloseForm>,
) -> ApiResult<Response> {
    let Some(raw) = b.resolution else {
        return super::incident::transition(&s, &caller, &id, IncidentStatus::Closed).await;
    };
    let r = IncidentRef::parse(&id);
    let text = raw.replace("\r\n", "\n").trim().to_string();
    let mut e = ValidationError::default();
    if text.is_empty() {
        e.push(
            "resolution",
            "say how it was resolved: the review and the similar incidents of later responders start from it",
        );
    }
    let resolution = e.check(LongText::parse("resolution", &text));
    let result = super::forms::submit(e, || {
        let cmd = UpdateIncident {
            title: None,
            description: None,
            resolution: resolution.map_or(Patch::Absent, Patch::Value),
            incident_type: None,
            priority: None,
            severity: None,
            visibility: None,
            tags: None,
            status: Some(IncidentStatus::Closed),
        };
        s.engine.incidents().update(caller.auth.actor(), &r, cmd)
    })
    .await;
    match result {
        Ok(d) => Ok(see_other(&format!("/incidents/{}", d.row.name))),
        Err(err) => {
            let mut form = Form::with_values([("resolution", raw)]);
            form.fail(err)?;
            close_page(&s, &caller, &id, Some(form)).await
        }
    }
}
