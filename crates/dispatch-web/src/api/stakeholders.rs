//! An incident's notifications group over the API: who receives its reports and status
//! changes by mail, read by anyone who sees the incident and edited by its commander or scribe
//! (the rule `edit_notifications_group`, the same as `/dispatch-notifications-group`).

use super::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::routing::{delete, get, post};
use axum::Router;
use dispatch_core::values::{Email, IncidentRef};
use dispatch_core::ValidationError;
use dispatch_engine::stakeholders::NotificationsGroup;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Notifications-group routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/group/notifications", get(show))
        .route("/incidents/{id}/group/notifications/members", post(add))
        .route(
            "/incidents/{id}/group/notifications/members/{email}",
            delete(remove),
        )
}

/// An incident's notifications group.
#[derive(Serialize, ToSchema)]
pub struct NotificationsGroupOut {
    /// Name, e.g. `inc-7-notifications`.
    pub name: String,
    /// The address it is known by (mail goes to its members).
    pub email: String,
    /// Members' addresses: people and plain addresses.
    pub members: Vec<String>,
    /// Members who unsubscribed from the incident's mail (not mailed until they subscribe
    /// again).
    pub unsubscribed: Vec<String>,
}

impl From<NotificationsGroup> for NotificationsGroupOut {
    fn from(g: NotificationsGroup) -> Self {
        Self {
            name: g.name,
            email: g.email,
            members: g.members,
            unsubscribed: g.unsubscribed,
        }
    }
}

/// A member to add.
#[derive(Deserialize, ToSchema)]
pub struct MemberIn {
    /// The address: a person's or any other.
    pub email: Option<String>,
}

/// The incident's notifications group: who receives its reports and status changes by mail.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/group/notifications", tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = NotificationsGroupOut), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<NotificationsGroupOut>> {
    let g = s
        .engine
        .stakeholders()
        .notifications_group(&IncidentRef::parse(&id))
        .await?;
    Ok(axum::Json(g.into()))
}

/// Adds an address to the notifications group (one already in stays). Incident commander or
/// scribe (or an admin).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/group/notifications/members",
    request_body = MemberIn, tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = NotificationsGroupOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(body): Json<MemberIn>,
) -> ApiResult<axum::Json<NotificationsGroupOut>> {
    let mut e = ValidationError::default();
    let email = parse::required(&mut e, "email", &body.email)
        .and_then(|m| e.check(Email::parse("email", m)));
    e.into_result()?;
    let edit = s
        .engine
        .stakeholders()
        .edit_notifications_group(
            auth.actor(),
            &IncidentRef::parse(&id),
            &[email.expect("checked")],
            &[],
        )
        .await?;
    Ok(axum::Json(edit.group.into()))
}

/// Removes an address from the notifications group (one not in is a no-op). Incident
/// commander or scribe (or an admin).
#[utoipa::path(delete, path = "/api/v1/incidents/{id}/group/notifications/members/{email}",
    tag = "incidents",
    params(("id" = String, Path, description = "Id or key"),
        ("email" = String, Path, description = "The address to remove")),
    responses((status = 200, body = NotificationsGroupOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, email)): Path<(String, String)>,
) -> ApiResult<axum::Json<NotificationsGroupOut>> {
    let email = Email::parse("email", &email)?;
    let edit = s
        .engine
        .stakeholders()
        .edit_notifications_group(auth.actor(), &IncidentRef::parse(&id), &[], &[email])
        .await?;
    Ok(axum::Json(edit.group.into()))
}
