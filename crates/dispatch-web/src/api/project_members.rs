//! Per-project membership: `GET /projects/{slug}/members`, `PUT` and `DELETE
//! /projects/{slug}/members/{user_id}`. Organization managers and owners, and the project's own
//! admins, manage it (the policy layer checks); every change is audited.

use crate::auth::{Auth, RequestOrigin};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_engine::data::MemberRow;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Membership routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{slug}/members", get(list))
        .route(
            "/projects/{slug}/members/{user_id}",
            put(set).delete(remove),
        )
}

/// A project's member.
#[derive(Serialize, ToSchema)]
pub struct MemberOut {
    /// The user's id.
    pub user_id: i64,
    /// Their e-mail.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role in the project: `admin` or `member`.
    pub role: String,
    /// Their organization role.
    pub org_role: String,
    /// When they joined the project.
    pub created_at: DateTime<Utc>,
    /// When their project role last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<MemberRow> for MemberOut {
    fn from(m: MemberRow) -> Self {
        Self {
            user_id: m.user.id,
            email: m.user.email,
            name: m.user.name,
            role: m.member.role,
            org_role: m.user.role,
            created_at: m.member.created_at,
            updated_at: m.member.updated_at,
        }
    }
}

/// A membership to set.
#[derive(Deserialize, ToSchema)]
pub struct MemberIn {
    /// `admin` (runs the project's configuration and membership) or `member` (required).
    #[schema(required = true)]
    pub role: Option<String>,
}

/// The project's members, by e-mail.
#[utoipa::path(get, path = "/api/v1/projects/{slug}/members", tag = "projects",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, body = Vec<MemberOut>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Vec<MemberOut>>> {
    let members = s.engine.projects().members(&slug).await?;
    Ok(axum::Json(members.into_iter().map(Into::into).collect()))
}

/// Adds a user to the project, or changes their project role.
#[utoipa::path(put, path = "/api/v1/projects/{slug}/members/{user_id}", request_body = MemberIn,
    tag = "projects",
    params(("slug" = String, Path, description = "Project slug"),
        ("user_id" = i64, Path, description = "User id")),
    responses((status = 200, body = MemberOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set(
    State(s): State<AppState>,
    auth: Auth,
    RequestOrigin(origin): RequestOrigin,
    Path((slug, user_id)): Path<(String, String)>,
    Json(b): Json<MemberIn>,
) -> ApiResult<axum::Json<MemberOut>> {
    let user_id = parse_user_id(&user_id)?;
    let m = s
        .engine
        .projects()
        .set_member(
            &auth.0,
            &slug,
            dispatch_core::UserId(user_id),
            b.role.as_deref(),
            &origin,
        )
        .await?;
    Ok(axum::Json(m.into()))
}

/// Removes a user from the project.
#[utoipa::path(delete, path = "/api/v1/projects/{slug}/members/{user_id}", tag = "projects",
    params(("slug" = String, Path, description = "Project slug"),
        ("user_id" = i64, Path, description = "User id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(s): State<AppState>,
    auth: Auth,
    RequestOrigin(origin): RequestOrigin,
    Path((slug, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let user_id = parse_user_id(&user_id)?;
    s.engine
        .projects()
        .remove_member(&auth.0, &slug, dispatch_core::UserId(user_id), &origin)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn parse_user_id(raw: &str) -> ApiResult<i64> {
    raw.trim().parse().map_err(|_| {
        dispatch_core::ValidationError::field("user_id", "must be a user id (a number)").into()
    })
}
