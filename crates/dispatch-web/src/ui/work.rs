//! The tasks page (all tasks or mine, open or resolved, resolved inline) and the on-call page
//! (who is on call now and next for each service, its rotation and the coming week's shifts,
//! the overrides with a form for admins to add one, and the pages to acknowledge).

use super::{render, see_other, Caller, Chrome, Form};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};
use crate::wire::TaskOut;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use dispatch_core::oncall::Shift;
use dispatch_core::values::Email;
use dispatch_core::ValidationError;
use dispatch_engine::data::model::{oncall_override, page};
use serde::Deserialize;

/// The tasks page.
#[derive(Template)]
#[template(path = "tasks.html")]
struct TasksPage {
    chrome: Chrome,
    tasks: Vec<TaskOut>,
    mine: bool,
    status: String,
}

/// Which tasks.
#[derive(Deserialize)]
pub struct TasksQuery {
    /// `1`/`true`: only mine.
    mine: Option<String>,
    /// `open` (default), `resolved` or `all`.
    status: Option<String>,
}

/// `GET /tasks`: tasks across the incidents the caller may see.
pub async fn tasks(
    State(s): State<AppState>,
    caller: Caller,
    Query(q): Query<TasksQuery>,
) -> ApiResult<Response> {
    let mine = matches!(q.mine.as_deref(), Some("1" | "true" | "on"));
    let status = match q.status.as_deref() {
        Some("resolved") => "resolved",
        Some("all") => "all",
        _ => "open",
    };
    let f = dispatch_engine::data::TaskFilter {
        person: mine.then_some(caller.auth.actor().individual_id.0),
        status: (status != "all").then(|| status.to_string()),
        due_before: None,
        limit: 200,
    };
    let tasks = s.engine.tasks().find(&caller.auth.0, &f).await?;
    let page = TasksPage {
        chrome: caller.chrome("Tasks", "tasks"),
        tasks: tasks.into_iter().map(Into::into).collect(),
        mine,
        status: status.to_string(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// How far ahead the page shows each rotation's shifts, and at most how many.
const AHEAD_DAYS: i64 = 7;
const MAX_SHIFTS: usize = 28;

/// A service's rotation as the page shows it.
struct RotationRow {
    members: Vec<String>,
    shift_hours: i32,
    handoff_time: String,
    time_zone: String,
    start_date: String,
}

/// One service's on-call: now, next, its rotation, the coming shifts and the overrides.
struct OnCallRow {
    service_id: i64,
    project: String,
    service: String,
    current: Option<Shift>,
    next: Option<Shift>,
    rotation: Option<RotationRow>,
    shifts: Vec<Shift>,
    overrides: Vec<oncall_override::Model>,
}

/// The on-call page.
#[derive(Template)]
#[template(path = "oncall.html")]
struct OnCallPage {
    chrome: Chrome,
    rows: Vec<OnCallRow>,
    pages: Vec<page::Model>,
    /// Whether the caller may add overrides (admins, as the API's rule says).
    can_override: bool,
    form: Form,
}

/// `GET /oncall`: every service's on-call now and next, its rotation and coming shifts, the
/// overrides, and the latest pages.
pub async fn oncall(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    oncall_page(&s, &caller, Form::default(), StatusCode::OK).await
}

async fn oncall_page(
    s: &AppState,
    caller: &Caller,
    form: Form,
    status: StatusCode,
) -> ApiResult<Response> {
    let now = dispatch_core::now();
    let until = now + chrono::Duration::days(AHEAD_DAYS);
    let mut rows = Vec::new();
    for p in s.engine.projects().list().await? {
        for svc in s
            .engine
            .directory()
            .services(dispatch_core::ProjectId(p.id))
            .await?
        {
            let mut row = OnCallRow {
                service_id: svc.id,
                project: p.name.clone(),
                service: svc.name.clone(),
                current: None,
                next: None,
                rotation: None,
                shifts: Vec::new(),
                overrides: s
                    .engine
                    .oncall()
                    .overrides(dispatch_core::ServiceId(svc.id), now)
                    .await?,
            };
            // A provider that cannot answer leaves the row empty rather than the page.
            match s
                .engine
                .oncall()
                .who(dispatch_core::ServiceId(svc.id), now)
                .await
            {
                Ok(v) => {
                    row.rotation = v.schedule.map(|r| RotationRow {
                        members: serde_json::from_str(&r.members).unwrap_or_default(),
                        shift_hours: r.shift_hours,
                        handoff_time: r.handoff_time,
                        time_zone: r.time_zone,
                        start_date: r.start_date,
                    });
                    row.current = v.current;
                    row.next = v.next;
                }
                Err(e) => {
                    tracing::warn!(service.id = svc.id, error = %e, "on-call look-up failed")
                }
            }
            if row.current.is_some() {
                match s
                    .engine
                    .oncall()
                    .upcoming_shifts(dispatch_core::ServiceId(svc.id), now, until, MAX_SHIFTS)
                    .await
                {
                    Ok(v) => row.shifts = v,
                    Err(e) => {
                        tracing::warn!(service.id = svc.id, error = %e, "shift look-up failed")
                    }
                }
            }
            rows.push(row);
        }
    }
    let pages = s
        .engine
        .oncall()
        .pages(None, None, caller.auth.viewer(), 50)
        .await?;
    let page = OnCallPage {
        chrome: caller.chrome("On-call", "oncall"),
        rows,
        pages,
        can_override: caller.auth.is_admin(),
        form,
    };
    Ok(render(status, &page))
}

/// An override as the form sends it.
#[derive(Deserialize)]
pub struct OverrideForm {
    service: Option<String>,
    email: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
}

/// A required time typed into the form (see [`super::forms::time`]).
fn form_time(e: &mut ValidationError, field: &str, raw: Option<&str>) -> Option<DateTime<Utc>> {
    super::forms::required(e, field, raw, "is required", |e, r| {
        super::forms::time(e, field, r)
    })
}

/// `POST /oncall/overrides`: puts someone on call for a service for a while (the engine's
/// `add_override`, as `POST /api/v1/services/{id}/overrides`). Mistakes come back beside their
/// fields and nothing is saved.
pub async fn add_override(
    State(s): State<AppState>,
    caller: Caller,
    axum::Form(b): axum::Form<OverrideForm>,
) -> ApiResult<Response> {
    let mut e = ValidationError::default();
    let service = match b.service.as_deref().map(str::trim) {
        None | Some("") => {
            e.push("service", "choose a service");
            None
        }
        Some(v) => match v.parse::<i64>() {
            Ok(id)
                if s.engine
                    .directory()
                    .service(dispatch_core::ServiceId(id))
                    .await
                    .is_ok() =>
            {
                Some(id)
            }
            _ => {
                e.push("service", format!("unknown service {v:?}"));
                None
            }
        },
    };
    let email = super::forms::required(
        &mut e,
        "email",
        b.email.as_deref(),
        "is required: who covers",
        |e, m| e.check(Email::parse("email", m)),
    );
    let starts = form_time(&mut e, "starts_at", b.starts_at.as_deref());
    let ends = form_time(&mut e, "ends_at", b.ends_at.as_deref());
    let result = super::forms::submit(e, || {
        s.engine.oncall().add_override(
            dispatch_core::ServiceId(service.expect("checked")),
            email.expect("checked"),
            starts.expect("checked"),
            ends.expect("checked"),
        )
    })
    .await
    .map(|_| ())
    .map_err(|err| match err {
        // The service has no rotation to override: said beside the service.
        ApiError::Conflict(m) => ApiError::field("service", m),
        other => other,
    });
    let mut form = Form::with_values([
        ("service", b.service.unwrap_or_default()),
        ("email", b.email.unwrap_or_default()),
        ("starts_at", b.starts_at.unwrap_or_default()),
        ("ends_at", b.ends_at.unwrap_or_default()),
    ]);
    match result {
        Ok(()) => Ok(see_other("/oncall")),
        Err(err) => {
            form.fail(err)?;
            oncall_page(&s, &caller, form, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// `POST /pages/{id}/ack`: acknowledges a page.
pub async fn acknowledge(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    axum::Form(b): axum::Form<AckForm>,
) -> ApiResult<Response> {
    s.engine
        .oncall()
        .acknowledge_page(caller.auth.actor(), dispatch_core::PageId(id))
        .await?;
    Ok(match b.back.as_deref() {
        Some(to) if to.starts_with("/pages/") => see_other(to),
        _ => see_other("/oncall"),
    })
}

/// Where to go after acknowledging (the page's own page sends `back=/pages/{id}`).
#[derive(Deserialize)]
pub struct AckForm {
    back: Option<String>,
}
