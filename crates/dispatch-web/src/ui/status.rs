//! `/status`: the incidents under way (active and stable) that the caller may see, with their
//! status, commander and priority, and join / subscribe buttons.

use super::{render, Caller, Chrome};
use crate::error::ApiResult;
use crate::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use dispatch_core::IncidentStatus;
use dispatch_engine::data::{IncidentFilter, IncidentRow};

/// At most this many incidents on the page.
const LIMIT: u64 = 200;

/// The status page.
#[derive(Template)]
#[template(path = "status.html")]
struct Page {
    chrome: Chrome,
    incidents: Vec<IncidentRow>,
    total: u64,
}

/// `GET /status`.
pub async fn page(State(s): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let f = IncidentFilter {
        viewer: caller.auth.viewer(),
        statuses: vec![IncidentStatus::Active, IncidentStatus::Stable],
        page: 1,
        per_page: LIMIT,
        ..Default::default()
    };
    let (rows, total) = s.engine.incidents().list(&f).await?;
    let page = Page {
        chrome: caller.chrome("Status", "status"),
        incidents: rows.into_iter().map(|r| r.row).collect(),
        total: total.count,
    };
    Ok(render(StatusCode::OK, &page))
}
