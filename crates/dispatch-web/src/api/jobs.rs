//! The durable job queue, visible: list jobs by state, retry a failed one.

use super::parse;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::{JobState, ValidationError};
use dispatch_engine::data::model::job;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Job routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/jobs", get(list))
        .route("/jobs/{id}/retry", post(retry))
}

/// A job.
#[derive(Serialize, ToSchema)]
pub struct JobOut {
    /// Id.
    pub id: i64,
    /// What it does (`provision`, `setup_conversation`, `refresh`, `archive`, …).
    pub kind: String,
    /// `queued`, `running`, `succeeded` or `failed`.
    pub state: String,
    /// Attempts made.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// Not before this time.
    pub run_at: DateTime<Utc>,
    /// The last error.
    pub last_error: Option<String>,
    /// The incident it is for.
    pub incident_id: Option<i64>,
    /// Its arguments.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Enqueued.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<job::Model> for JobOut {
    fn from(j: job::Model) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            state: j.state,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_at: j.run_at,
            last_error: j.last_error,
            incident_id: j.incident_id,
            payload: serde_json::from_str(&j.payload).unwrap_or(serde_json::Value::Null),
            created_at: j.created_at,
            updated_at: j.updated_at,
        }
    }
}

/// Job filters.
#[derive(Deserialize, IntoParams)]
pub struct JobQuery {
    /// `queued`, `running`, `succeeded` or `failed`.
    pub state: Option<String>,
    /// At most this many (1-500, default 100).
    pub limit: Option<i64>,
}

/// Jobs, newest first.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(JobQuery), responses((status = 200, body = Vec<JobOut>)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<JobQuery>,
) -> ApiResult<axum::Json<Vec<JobOut>>> {
    let mut e = ValidationError::default();
    let state = parse::enum_field::<JobState>(&mut e, "state", q.state.as_deref());
    let limit = parse::limit(&mut e, q.limit);
    e.into_result()?;
    let jobs = s
        .engine
        .jobs()
        .list(state.map(|s| s.as_str()), auth.viewer(), limit)
        .await?;
    Ok(axum::Json(jobs.into_iter().map(Into::into).collect()))
}

/// Puts a failed job back in the queue (its resource goes back to pending).
#[utoipa::path(post, path = "/api/v1/jobs/{id}/retry", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 200, body = JobOut), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn retry(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<JobOut>> {
    Ok(axum::Json(
        s.engine
            .jobs()
            .retry(dispatch_core::JobId(id))
            .await?
            .into(),
    ))
}
