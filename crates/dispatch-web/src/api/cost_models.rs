//! A project's cost models over the API: the response time each kind of activity stands for,
//! and the incident types each one costs (docs/metrics.md, "Cost").

use crate::api::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::values::Name;
use dispatch_core::{Patch, ValidationError};
use dispatch_engine::cost::{activities_of, parse_activities, Activities};
use dispatch_engine::data::model::cost_model;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Cost model routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{slug}/cost-models",
            get(list_models).post(create_model),
        )
        .route(
            "/projects/{slug}/cost-models/{id}",
            get(show_model).patch(update_model).delete(delete_model),
        )
}

/// A cost model: the response time each kind of activity stands for.
#[derive(Serialize, ToSchema)]
pub struct CostModelOut {
    /// Id.
    pub id: i64,
    /// Name, unique in the project.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Whether incident types that use it are costed by it (else by the classic model).
    pub enabled: bool,
    /// Activity kind (`room_message`, `command`, `page_acknowledgement`) → response time in
    /// seconds; kinds left out count nothing.
    #[schema(value_type = Object)]
    pub activities: Activities,
    /// Slugs of the incident types that use it.
    pub incident_types: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A new cost model, or changes to one (absent fields are kept).
#[derive(Deserialize, ToSchema)]
pub struct CostModelIn {
    /// Name (required when creating).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    /// What it is for.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// Whether it is used (default true).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub enabled: Patch<bool>,
    /// Activity kind → response time in seconds (1-86400), replacing the stored ones, e.g.
    /// `{"room_message": 300, "command": 120, "page_acknowledgement": 600}`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub activities: Patch<serde_json::Value>,
    /// Slugs or names of the incident types that use it from now on (others that used it go
    /// back to the classic model).
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub incident_types: Patch<Vec<String>>,
}

impl CostModelIn {
    fn apply(self, row: &mut cost_model::Model, e: &mut ValidationError) -> Option<Vec<String>> {
        if let Some(n) = parse::parsed(e, "name", self.name, Name::parse) {
            row.name = n.into_inner();
        }
        if let Some(d) = parse::description(e, "description", self.description) {
            row.description = d;
        }
        if let Some(b) = parse::not_null(e, "enabled", self.enabled) {
            row.enabled = b;
        }
        if let Some(v) = parse::not_null(e, "activities", self.activities) {
            row.activities = serde_json::to_string(&parse_activities(&v, e)).unwrap_or_default();
        }
        parse::not_null(e, "incident_types", self.incident_types)
    }
}

async fn model_out(s: &AppState, m: cost_model::Model) -> ApiResult<CostModelOut> {
    let incident_types = s.engine.costs().types_using(&m).await?;
    Ok(CostModelOut {
        activities: activities_of(&m),
        id: m.id,
        name: m.name,
        description: m.description,
        enabled: m.enabled,
        incident_types,
        created_at: m.created_at,
    })
}

/// The cost models of a project, by name.
#[utoipa::path(get, path = "/api/v1/projects/{slug}/cost-models", tag = "metrics",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, body = Vec<CostModelOut>), (status = 404, body = ErrorBody)))]
pub async fn list_models(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Vec<CostModelOut>>> {
    let p = s.engine.projects().get(&slug).await?;
    let mut out = Vec::new();
    for m in s.engine.costs().models(p.id).await? {
        out.push(model_out(&s, m).await?);
    }
    Ok(axum::Json(out))
}

/// Creates a cost model; `incident_types` choose the types it costs.
#[utoipa::path(post, path = "/api/v1/projects/{slug}/cost-models", tag = "metrics",
    request_body(content = CostModelIn, example = json!({"name": "Chat response", "activities": {"room_message": 300, "command": 120}, "incident_types": ["default"]})),
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 201, body = CostModelOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create_model(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
    Json(b): Json<CostModelIn>,
) -> ApiResult<(StatusCode, axum::Json<CostModelOut>)> {
    let p = s.engine.projects().get(&slug).await?;
    let mut e = ValidationError::default();
    if !matches!(b.name, Patch::Value(_)) {
        e.push("name", "is required");
    }
    let mut row = cost_model::Model {
        project_id: p.id,
        enabled: true,
        activities: "{}".into(),
        created_at: dispatch_core::now(),
        ..Default::default()
    };
    let types = b.apply(&mut row, &mut e);
    e.into_result()?;
    let saved = s.engine.costs().save_model(None, row, types).await?;
    Ok((StatusCode::CREATED, axum::Json(model_out(&s, saved).await?)))
}

/// One cost model.
#[utoipa::path(get, path = "/api/v1/projects/{slug}/cost-models/{id}", tag = "metrics",
    params(("slug" = String, Path, description = "Project slug"), ("id" = i64, Path)),
    responses((status = 200, body = CostModelOut), (status = 404, body = ErrorBody)))]
pub async fn show_model(
    State(s): State<AppState>,
    _auth: Auth,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<axum::Json<CostModelOut>> {
    let p = s.engine.projects().get(&slug).await?;
    let m = s.engine.costs().model(p.id, id).await?;
    Ok(axum::Json(model_out(&s, m).await?))
}

/// Changes a cost model.
#[utoipa::path(patch, path = "/api/v1/projects/{slug}/cost-models/{id}", tag = "metrics",
    request_body = CostModelIn,
    params(("slug" = String, Path, description = "Project slug"), ("id" = i64, Path)),
    responses((status = 200, body = CostModelOut), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_model(
    State(s): State<AppState>,
    _auth: Auth,
    Path((slug, id)): Path<(String, i64)>,
    Json(b): Json<CostModelIn>,
) -> ApiResult<axum::Json<CostModelOut>> {
    let p = s.engine.projects().get(&slug).await?;
    let before = s.engine.costs().model(p.id, id).await?;
    let mut row = before.clone();
    let mut e = ValidationError::default();
    let types = b.apply(&mut row, &mut e);
    e.into_result()?;
    let saved = s
        .engine
        .costs()
        .save_model(Some(&before), row, types)
        .await?;
    Ok(axum::Json(model_out(&s, saved).await?))
}

/// Deletes a cost model; the incident types that used it go back to the classic model.
#[utoipa::path(delete, path = "/api/v1/projects/{slug}/cost-models/{id}", tag = "metrics",
    params(("slug" = String, Path, description = "Project slug"), ("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_model(
    State(s): State<AppState>,
    _auth: Auth,
    Path((slug, id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    let p = s.engine.projects().get(&slug).await?;
    let m = s.engine.costs().model(p.id, id).await?;
    s.engine.costs().delete_model(&m).await?;
    Ok(StatusCode::NO_CONTENT)
}
