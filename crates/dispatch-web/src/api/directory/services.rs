//! On-call services of a project: rotations that resolve to whoever is on call now, through the
//! provider that runs them (`dispatch` for the built-in one).

use crate::api::parse;
use crate::api::rows::{set, set_opt};
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::values::{Name, Slug};
use dispatch_core::{Patch, ValidationError};
use dispatch_engine::data::model::service;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Service routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{slug}/services", get(list).post(create))
        .route("/services/{id}", get(show).patch(update).delete(delete))
}

/// The provider of a service when none is named: the built-in on-call.
const BUILT_IN_PROVIDER: &str = "dispatch";

/// An on-call service.
#[derive(Serialize, ToSchema)]
pub struct ServiceOut {
    /// Id.
    pub id: i64,
    /// The project's id.
    pub project_id: i64,
    /// Name (unique in the project).
    pub name: String,
    /// The on-call provider (`dispatch` for the built-in one).
    pub provider: String,
    /// The provider's id for the rotation.
    pub external_id: Option<String>,
    /// What it covers.
    pub description: String,
    /// Whether engagement may page it.
    pub is_active: bool,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

impl From<service::Model> for ServiceOut {
    fn from(s: service::Model) -> Self {
        Self {
            id: s.id,
            project_id: s.project_id,
            name: s.name,
            provider: s.provider,
            external_id: s.external_id,
            description: s.description,
            is_active: s.is_active,
            created_at: s.created_at,
        }
    }
}

/// A new service.
#[derive(Deserialize, ToSchema)]
pub struct ServiceIn {
    /// Name (required; unique in the project).
    #[schema(required = true)]
    pub name: Option<String>,
    /// On-call provider: lower-case letters, digits, dashes (default `dispatch`).
    pub provider: Option<String>,
    /// The provider's id for the rotation.
    pub external_id: Option<String>,
    /// What it covers.
    pub description: Option<String>,
    /// Whether engagement may page it (default true).
    pub is_active: Option<bool>,
}

/// Changes to a service: absent fields are kept, `null` clears external id and description.
#[derive(Deserialize, ToSchema)]
pub struct ServicePatch {
    /// New name.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    /// New provider.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub provider: Patch<String>,
    /// New external id; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub external_id: Patch<String>,
    /// New description; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// Whether engagement may page it.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub is_active: Patch<bool>,
}

impl From<ServiceIn> for ServicePatch {
    fn from(b: ServiceIn) -> Self {
        Self {
            name: b.name.into(),
            provider: b.provider.into(),
            external_id: b.external_id.into(),
            description: b.description.into(),
            is_active: b.is_active.into(),
        }
    }
}

impl ServicePatch {
    /// Writes the changes into `row`, recording every bad field.
    fn apply(self, row: &mut service::Model, e: &mut ValidationError) {
        let name = parse::parsed(e, "name", self.name, Name::parse);
        set(&mut row.name, name.map(Name::into_inner));
        let provider = parse::parsed(e, "provider", self.provider, Slug::parse);
        set(&mut row.provider, provider.map(|p| p.as_str().to_string()));
        let external_id = parse::clearable(e, "external_id", self.external_id, Name::parse);
        set_opt(&mut row.external_id, external_id.map(Name::into_inner));
        set(
            &mut row.description,
            parse::description(e, "description", self.description),
        );
        set(
            &mut row.is_active,
            parse::not_null(e, "is_active", self.is_active),
        );
    }
}

/// The on-call services of a project, by name.
#[utoipa::path(get, path = "/api/v1/projects/{slug}/services", tag = "directory",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, body = Vec<ServiceOut>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Vec<ServiceOut>>> {
    let p = s.engine.projects().get(&slug).await?;
    let services = s
        .engine
        .directory()
        .services(dispatch_core::ProjectId(p.id))
        .await?;
    Ok(axum::Json(services.into_iter().map(Into::into).collect()))
}

/// Adds an on-call service to a project.
#[utoipa::path(post, path = "/api/v1/projects/{slug}/services", request_body(content = ServiceIn, example = json!({"name": "Search", "description": "Full-text search"})),
    tag = "directory", params(("slug" = String, Path, description = "Project slug")),
    responses((status = 201, body = ServiceOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
    Json(b): Json<ServiceIn>,
) -> ApiResult<(StatusCode, axum::Json<ServiceOut>)> {
    let p = s.engine.projects().get(&slug).await?;
    let mut e = ValidationError::default();
    parse::required(&mut e, "name", &b.name);
    let mut row = service::Model {
        project_id: p.id,
        provider: BUILT_IN_PROVIDER.to_string(),
        external_id: None,
        description: String::new(),
        is_active: true,
        created_at: dispatch_core::now(),
        ..Default::default()
    };
    ServicePatch::from(b).apply(&mut row, &mut e);
    e.into_result()?;
    let saved = s.engine.directory().create(row).await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

/// One service.
#[utoipa::path(get, path = "/api/v1/services/{id}", tag = "directory", params(("id" = i64, Path)),
    responses((status = 200, body = ServiceOut), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<ServiceOut>> {
    Ok(axum::Json(
        s.engine
            .directory()
            .service(dispatch_core::ServiceId(id))
            .await?
            .into(),
    ))
}

/// Changes a service.
#[utoipa::path(patch, path = "/api/v1/services/{id}", request_body = ServicePatch, tag = "directory",
    params(("id" = i64, Path)),
    responses((status = 200, body = ServiceOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<ServicePatch>,
) -> ApiResult<axum::Json<ServiceOut>> {
    let before = s
        .engine
        .directory()
        .service(dispatch_core::ServiceId(id))
        .await?;
    let mut row = before.clone();
    let mut e = ValidationError::default();
    b.apply(&mut row, &mut e);
    e.into_result()?;
    Ok(axum::Json(
        s.engine.directory().update(&before, row).await?.into(),
    ))
}

/// Removes a service.
#[utoipa::path(delete, path = "/api/v1/services/{id}", tag = "directory", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    s.engine
        .directory()
        .delete_service(dispatch_core::ServiceId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
