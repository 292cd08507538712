//! Teams of a project: groups with a shared address that engagement rules can pull in.

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
use dispatch_core::values::{Email, Name};
use dispatch_core::{Patch, ValidationError};
use dispatch_engine::data::model::team;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Team routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{slug}/teams", get(list).post(create))
        .route("/teams/{id}", get(show).patch(update).delete(delete))
}

/// A team.
#[derive(Serialize, ToSchema)]
pub struct TeamOut {
    /// Id.
    pub id: i64,
    /// The project's id.
    pub project_id: i64,
    /// Name (unique in the project).
    pub name: String,
    /// The team's shared address.
    pub email: Option<String>,
    /// What the team does.
    pub description: String,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

impl From<team::Model> for TeamOut {
    fn from(t: team::Model) -> Self {
        Self {
            id: t.id,
            project_id: t.project_id,
            name: t.name,
            email: t.email,
            description: t.description,
            created_at: t.created_at,
        }
    }
}

/// A new team.
#[derive(Deserialize, ToSchema)]
pub struct TeamIn {
    /// Name (required; unique in the project).
    #[schema(required = true)]
    pub name: Option<String>,
    /// The team's shared address.
    pub email: Option<String>,
    /// What the team does.
    pub description: Option<String>,
}

/// Changes to a team: absent fields are kept, `null` clears email and description.
#[derive(Deserialize, ToSchema)]
pub struct TeamPatch {
    /// New name.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    /// New address; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub email: Patch<String>,
    /// New description; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
}

impl From<TeamIn> for TeamPatch {
    fn from(b: TeamIn) -> Self {
        Self {
            name: b.name.into(),
            email: b.email.into(),
            description: b.description.into(),
        }
    }
}

impl TeamPatch {
    /// Writes the changes into `row`, recording every bad field.
    fn apply(self, row: &mut team::Model, e: &mut ValidationError) {
        let name = parse::parsed(e, "name", self.name, Name::parse);
        set(&mut row.name, name.map(Name::into_inner));
        let email = parse::clearable(e, "email", self.email, Email::parse);
        set_opt(&mut row.email, email.map(|m| m.as_str().to_string()));
        set(
            &mut row.description,
            parse::description(e, "description", self.description),
        );
    }
}

/// The teams of a project, by name.
#[utoipa::path(get, path = "/api/v1/projects/{slug}/teams", tag = "directory",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, body = Vec<TeamOut>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Vec<TeamOut>>> {
    let p = s.engine.projects().get(&slug).await?;
    let teams = s
        .engine
        .directory()
        .teams(dispatch_core::ProjectId(p.id))
        .await?;
    Ok(axum::Json(teams.into_iter().map(Into::into).collect()))
}

/// Adds a team to a project.
#[utoipa::path(post, path = "/api/v1/projects/{slug}/teams", request_body(content = TeamIn, example = json!({"name": "Storage", "email": "storage@example.com"})), tag = "directory",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 201, body = TeamOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
    Json(b): Json<TeamIn>,
) -> ApiResult<(StatusCode, axum::Json<TeamOut>)> {
    let p = s.engine.projects().get(&slug).await?;
    let mut e = ValidationError::default();
    parse::required(&mut e, "name", &b.name);
    let mut row = team::Model {
        project_id: p.id,
        email: None,
        description: String::new(),
        created_at: dispatch_core::now(),
        ..Default::default()
    };
    TeamPatch::from(b).apply(&mut row, &mut e);
    e.into_result()?;
    let saved = s.engine.directory().create(row).await?;
    Ok((StatusCode::CREATED, axum::Json(saved.into())))
}

/// One team.
#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "directory", params(("id" = i64, Path)),
    responses((status = 200, body = TeamOut), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<TeamOut>> {
    Ok(axum::Json(
        s.engine
            .directory()
            .team(dispatch_core::TeamId(id))
            .await?
            .into(),
    ))
}

/// Changes a team.
#[utoipa::path(patch, path = "/api/v1/teams/{id}", request_body = TeamPatch, tag = "directory",
    params(("id" = i64, Path)),
    responses((status = 200, body = TeamOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<TeamPatch>,
) -> ApiResult<axum::Json<TeamOut>> {
    let before = s.engine.directory().team(dispatch_core::TeamId(id)).await?;
    let mut row = before.clone();
    let mut e = ValidationError::default();
    b.apply(&mut row, &mut e);
    e.into_result()?;
    Ok(axum::Json(
        s.engine.directory().update(&before, row).await?.into(),
    ))
}

/// Removes a team; one that incident participants still point at is a conflict.
#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "directory", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    s.engine
        .directory()
        .delete_team(dispatch_core::TeamId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
