//! Tasks, status reports and feedback of an incident.

use super::parse;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Json, Path, Query};
use crate::wire::{ReportOut, TaskOut};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use dispatch_core::commands::{CreateReport, CreateTask, UpdateTask};
use dispatch_core::values::{Email, IncidentRef, LongText};
use dispatch_core::{Patch, ReportKind, TaskPriority, TaskStatus, ValidationError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Task, report and feedback routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/tasks", get(list_tasks).post(create_task))
        .route(
            "/incidents/{id}/tasks/{task_id}",
            get(show_task).patch(update_task),
        )
        .route(
            "/incidents/{id}/reports",
            get(list_reports).post(create_report),
        )
        .route(
            "/incidents/{id}/feedback",
            get(list_feedback).post(give_feedback),
        )
        .route("/tasks", get(find_tasks))
}

/// Task filters across incidents.
#[derive(Deserialize, IntoParams)]
pub struct TaskQuery {
    /// `true`: only tasks you are assigned, own or created.
    pub mine: Option<bool>,
    /// `open` or `resolved`.
    pub status: Option<String>,
    /// `true`: only open tasks past their due time.
    pub overdue: Option<bool>,
    /// At most this many (default 100, at most 500), newest first.
    pub limit: Option<u64>,
}

/// Tasks across every incident you may see (`?mine=true` for yours).
#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(TaskQuery),
    responses((status = 200, body = Vec<TaskOut>)))]
pub async fn find_tasks(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<TaskQuery>,
) -> ApiResult<axum::Json<Vec<TaskOut>>> {
    let mut e = ValidationError::default();
    let status = parse::enum_field::<TaskStatus>(&mut e, "status", q.status.as_deref());
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        e.push("limit", "must be 1-500");
    }
    e.into_result()?;
    let f = dispatch_engine::data::TaskFilter {
        person: q
            .mine
            .unwrap_or(false)
            .then_some(auth.actor().individual_id.0),
        status: status.map(|s| s.as_str().to_string()),
        due_before: q.overdue.unwrap_or(false).then(dispatch_core::now),
        limit,
    };
    let tasks = s.engine.tasks().find(&auth.0, &f).await?;
    Ok(axum::Json(tasks.into_iter().map(Into::into).collect()))
}

/// A new task.
#[derive(Deserialize, ToSchema)]
pub struct TaskIn {
    /// What to do.
    pub description: Option<String>,
    /// E-mails of who does it.
    #[serde(default)]
    pub assignees: Vec<String>,
    /// E-mail of who answers for it (the creator when absent).
    pub owner: Option<String>,
    /// Due time (RFC 3339 or date).
    pub resolve_by: Option<String>,
    /// `low`, `medium` (default) or `high`.
    pub priority: Option<String>,
}

/// The tasks of an incident.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/tasks", tag = "tasks", params(("id" = String, Path)),
    responses((status = 200, body = Vec<TaskOut>)))]
pub async fn list_tasks(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<TaskOut>>> {
    let tasks = s.engine.tasks().list(&IncidentRef::parse(&id)).await?;
    Ok(axum::Json(tasks.into_iter().map(Into::into).collect()))
}

/// Creates a task.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/tasks", request_body(content = TaskIn, example = json!({"description": "Check the backup job logs", "priority": "high"})), tag = "tasks", params(("id" = String, Path)),
    responses((status = 201, body = TaskOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_task(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(b): Json<TaskIn>,
) -> ApiResult<(StatusCode, axum::Json<TaskOut>)> {
    let mut e = ValidationError::default();
    let description = parse::required(&mut e, "description", &b.description)
        .and_then(|d| e.check(LongText::parse("description", d)));
    let assignees = parse::emails(&mut e, "assignees", &b.assignees);
    let owner = b
        .owner
        .as_deref()
        .and_then(|o| e.check(Email::parse("owner", o)));
    let resolve_by = parse::time(&mut e, "resolve_by", b.resolve_by.as_deref());
    let priority = parse::enum_field::<TaskPriority>(&mut e, "priority", b.priority.as_deref());
    e.into_result()?;
    let cmd = CreateTask {
        description: description.expect("checked"),
        assignees,
        owner,
        resolve_by,
        priority: priority.unwrap_or(TaskPriority::Medium),
    };
    let t = s
        .engine
        .tasks()
        .create(auth.actor(), &IncidentRef::parse(&id), cmd)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(t.into())))
}

/// One task.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/tasks/{task_id}", tag = "tasks",
    params(("id" = String, Path), ("task_id" = i64, Path)), responses((status = 200, body = TaskOut)))]
pub async fn show_task(
    State(s): State<AppState>,
    _auth: Auth,
    Path((id, task_id)): Path<(String, dispatch_core::TaskId)>,
) -> ApiResult<axum::Json<TaskOut>> {
    Ok(axum::Json(
        s.engine
            .tasks()
            .get(&IncidentRef::parse(&id), task_id)
            .await?
            .into(),
    ))
}

/// Changes to a task.
#[derive(Deserialize, ToSchema)]
pub struct TaskPatch {
    /// New description.
    pub description: Option<String>,
    /// New assignees (replaces the list).
    pub assignees: Option<Vec<String>>,
    /// New owner.
    pub owner: Option<String>,
    /// New due time; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub resolve_by: Patch<String>,
    /// `open` or `resolved`.
    pub status: Option<String>,
    /// `low`, `medium` or `high`.
    pub priority: Option<String>,
}

/// Updates a task (e.g. `{"status": "resolved"}`).
#[utoipa::path(patch, path = "/api/v1/incidents/{id}/tasks/{task_id}", request_body = TaskPatch, tag = "tasks",
    params(("id" = String, Path), ("task_id" = i64, Path)), responses((status = 200, body = TaskOut)))]
pub async fn update_task(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, task_id)): Path<(String, dispatch_core::TaskId)>,
    Json(b): Json<TaskPatch>,
) -> ApiResult<axum::Json<TaskOut>> {
    let mut e = ValidationError::default();
    let description = b
        .description
        .as_deref()
        .and_then(|d| e.check(LongText::parse("description", d)));
    let assignees = b
        .assignees
        .as_ref()
        .map(|a| parse::emails(&mut e, "assignees", a));
    let owner = b
        .owner
        .as_deref()
        .and_then(|o| e.check(Email::parse("owner", o)));
    let resolve_by = match b.resolve_by {
        Patch::Absent => Patch::Absent,
        Patch::Null => Patch::Null,
        Patch::Value(v) => {
            parse::time(&mut e, "resolve_by", Some(&v)).map_or(Patch::Absent, Patch::Value)
        }
    };
    let status = parse::enum_field::<TaskStatus>(&mut e, "status", b.status.as_deref());
    let priority = parse::enum_field::<TaskPriority>(&mut e, "priority", b.priority.as_deref());
    e.into_result()?;
    let cmd = UpdateTask {
        description,
        assignees,
        owner,
        resolve_by,
        status,
        priority,
    };
    let r = IncidentRef::parse(&id);
    // The layer checked resolving; changing anything else is updating the task.
    s.engine
        .access()
        .require_all(&auth.0, &r, &cmd.actions())
        .await?;
    Ok(axum::Json(
        s.engine
            .tasks()
            .update(auth.actor(), &r, task_id, cmd)
            .await?
            .into(),
    ))
}

/// Report filters.
#[derive(Deserialize, IntoParams)]
pub struct ReportQuery {
    /// `tactical` or `executive`.
    pub kind: Option<String>,
}

/// The reports of an incident, newest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/reports", tag = "reports", params(("id" = String, Path), ReportQuery),
    responses((status = 200, body = Vec<ReportOut>)))]
pub async fn list_reports(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
    Query(q): Query<ReportQuery>,
) -> ApiResult<axum::Json<Vec<ReportOut>>> {
    let mut e = ValidationError::default();
    let kind = parse::enum_field::<ReportKind>(&mut e, "kind", q.kind.as_deref());
    e.into_result()?;
    let reports = s
        .engine
        .reports()
        .list(&IncidentRef::parse(&id), kind)
        .await?;
    Ok(axum::Json(reports.into_iter().map(Into::into).collect()))
}

/// A status report: `kind` plus the kind's fields.
#[derive(Deserialize, ToSchema)]
pub struct ReportIn {
    /// `tactical` (conditions, actions, needs) or `executive` (current_status, overview, next_steps).
    pub kind: Option<String>,
    /// Tactical: the current conditions.
    pub conditions: Option<String>,
    /// Tactical: what is being done.
    pub actions: Option<String>,
    /// Tactical: what is needed.
    pub needs: Option<String>,
    /// Executive: the current status.
    pub current_status: Option<String>,
    /// Executive: an overview.
    pub overview: Option<String>,
    /// Executive: the next steps.
    pub next_steps: Option<String>,
}

/// Posts a status report.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/reports", request_body(content = ReportIn, example = json!({"kind": "tactical", "conditions": "EU down", "actions": "failing over", "needs": "a DBA"})), tag = "reports", params(("id" = String, Path)),
    responses((status = 201, body = ReportOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_report(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(b): Json<ReportIn>,
) -> ApiResult<(StatusCode, axum::Json<ReportOut>)> {
    let mut e = ValidationError::default();
    let kind = match b.kind.as_deref() {
        None => {
            e.push("kind", "is required (tactical or executive)");
            None
        }
        Some(k) => parse::enum_field::<ReportKind>(&mut e, "kind", Some(k)),
    };
    let mut fields = Vec::new();
    if let Some(kind) = kind {
        for name in kind.fields() {
            let value = match *name {
                "conditions" => &b.conditions,
                "actions" => &b.actions,
                "needs" => &b.needs,
                "current_status" => &b.current_status,
                "overview" => &b.overview,
                _ => &b.next_steps,
            };
            match value {
                None => e.push(*name, format!("is required in a {kind} report")),
                Some(v) => {
                    if let Some(t) = e.check(LongText::parse(name, v)) {
                        fields.push((*name, t));
                    }
                }
            }
        }
    }
    e.into_result()?;
    let cmd = CreateReport {
        kind: kind.expect("checked"),
        fields,
    };
    let r = s
        .engine
        .reports()
        .create(auth.actor(), &IncidentRef::parse(&id), cmd)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(r.into())))
}

/// Feedback on how an incident was run.
#[derive(Serialize, ToSchema)]
pub struct FeedbackOut {
    /// Who gave it.
    pub email: String,
    /// 1 (bad) to 5 (great).
    pub rating: i32,
    /// What they said.
    pub comment: String,
    /// Last change.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Feedback to give.
#[derive(Deserialize, ToSchema)]
pub struct FeedbackIn {
    /// 1 (bad) to 5 (great).
    pub rating: Option<i32>,
    /// What went well or not.
    #[serde(default)]
    pub comment: String,
}

/// The feedback on an incident.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/feedback", tag = "feedback", params(("id" = String, Path)), responses((status = 200, body = Vec<FeedbackOut>)))]
pub async fn list_feedback(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<FeedbackOut>>> {
    let list = s.engine.feedback().list(&IncidentRef::parse(&id)).await?;
    Ok(axum::Json(
        list.into_iter()
            .map(|f| FeedbackOut {
                email: f.email,
                rating: f.rating,
                comment: f.comment,
                updated_at: f.updated_at,
            })
            .collect(),
    ))
}

/// Gives (or changes) your feedback on an incident.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/feedback", tag = "feedback", request_body = FeedbackIn, params(("id" = String, Path)),
    responses((status = 201, body = FeedbackOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn give_feedback(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(b): Json<FeedbackIn>,
) -> ApiResult<(StatusCode, axum::Json<FeedbackOut>)> {
    let mut e = ValidationError::default();
    if b.rating.is_none() {
        e.push("rating", "is required (1 to 5)");
    }
    if b.comment.chars().count() > 5000 {
        e.push("comment", "must be at most 5000 characters");
    }
    e.into_result()?;
    let f = s
        .engine
        .feedback()
        .give(
            auth.actor(),
            &IncidentRef::parse(&id),
            b.rating.expect("checked"),
            b.comment.trim().to_string(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(FeedbackOut {
            email: f.email,
            rating: f.rating,
            comment: f.comment,
            updated_at: f.updated_at,
        }),
    ))
}
