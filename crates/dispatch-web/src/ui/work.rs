//! The tasks page (all tasks or mine, open or resolved, resolved inline) and the on-call page
//! (who is on call now and next for each service, and the pages to acknowledge).

use super::{render, see_other, Caller, Chrome};
use crate::error::{ApiResult, Path, Query};
use crate::wire::TaskOut;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dispatch_core::oncall::Shift;
use dispatch_store::entity::page;
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
    let f = dispatch_store::repo::task::TaskFilter {
        person: mine.then_some(caller.auth.actor().individual_id.0),
        status: (status != "all").then(|| status.to_string()),
        due_before: None,
        limit: 200,
    };
    let tasks = s.engine.find_tasks(&caller.auth.0, &f).await?;
    let page = TasksPage {
        chrome: caller.chrome("Tasks", "tasks"),
        tasks: tasks.into_iter().map(Into::into).collect(),
        mine,
        status: status.to_string(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// One service's on-call.
struct OnCallRow {
    project: String,
    service: String,
    current: Option<Shift>,
    next: Option<Shift>,
    has_rotation: bool,
}

/// The on-call page.
#[derive(Template)]
#[template(path = "oncall.html")]
struct OnCallPage {
    chrome: Chrome,
    rows: Vec<OnCallRow>,
    pages: Vec<page::Model>,
}

/// `GET /oncall`: every service's on-call now and next, and the latest pages.
pub async fn oncall(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let now = dispatch_core::now();
    let mut rows = Vec::new();
    for p in s.engine.projects().await? {
        for svc in s.engine.services(p.id).await? {
            let row = match s.engine.on_call(svc.id, now).await {
                Ok(v) => OnCallRow {
                    project: p.name.clone(),
                    service: svc.name.clone(),
                    has_rotation: v.schedule.is_some(),
                    current: v.current,
                    next: v.next,
                },
                // A provider that cannot answer leaves the row empty rather than the page.
                Err(e) => {
                    tracing::warn!(service.id = svc.id, error = %e, "on-call look-up failed");
                    OnCallRow {
                        project: p.name.clone(),
                        service: svc.name.clone(),
                        has_rotation: false,
                        current: None,
                        next: None,
                    }
                }
            };
            rows.push(row);
        }
    }
    let pages = s.engine.pages(None, None, caller.auth.viewer(), 50).await?;
    let page = OnCallPage {
        chrome: caller.chrome("On-call", "oncall"),
        rows,
        pages,
    };
    Ok(render(StatusCode::OK, &page))
}

/// `POST /pages/{id}/ack`: acknowledges a page.
pub async fn acknowledge(
    State(s): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    s.engine.acknowledge_page(caller.auth.actor(), id).await?;
    Ok(see_other("/oncall"))
}
