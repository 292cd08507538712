//! Joining, subscribing to and leaving incidents, and what engagement rules brought in.

use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::Path;
use crate::wire::IncidentOut;
use crate::AppState;
use axum::extract::State;
use axum::routing::{delete, get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::values::{Email, IncidentRef};
use dispatch_engine::data::model::{engagement, subscriber};
use serde::Serialize;
use utoipa::ToSchema;

/// Membership routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/join", post(join))
        .route(
            "/incidents/{id}/subscribe",
            post(subscribe).delete(unsubscribe),
        )
        .route("/incidents/{id}/subscribers", get(subscribers))
        .route("/incidents/{id}/participants/{email}", delete(remove))
        .route("/incidents/{id}/engagements", get(engagements))
}

/// Someone who follows an incident by e-mail.
#[derive(Serialize, ToSchema)]
pub struct SubscriberOut {
    /// Their address.
    pub email: String,
    /// Since when.
    pub created_at: DateTime<Utc>,
}

impl From<subscriber::Model> for SubscriberOut {
    fn from(s: subscriber::Model) -> Self {
        Self {
            email: s.email,
            created_at: s.created_at,
        }
    }
}

/// One match of an engagement rule on an incident.
#[derive(Serialize, ToSchema)]
pub struct EngagementOut {
    /// `individual`, `service` (its on-call joined), `team` or `document` (a suggested runbook).
    pub kind: String,
    /// The rule's name when it matched.
    pub rule: String,
    /// The rule's id (`null` once deleted).
    pub rule_id: Option<i64>,
    /// The person who joined, or the team's address.
    pub email: Option<String>,
    /// The service's or team's name, or the runbook's title.
    pub title: Option<String>,
    /// The runbook's link.
    pub link: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<engagement::Model> for EngagementOut {
    fn from(e: engagement::Model) -> Self {
        Self {
            kind: e.kind,
            rule: e.rule_name,
            rule_id: e.rule_id,
            email: e.email,
            title: e.title,
            link: e.link,
            created_at: e.created_at,
        }
    }
}

/// Joins the incident as a participant (and its room). Refused (403) for restricted incidents
/// and where the project disallows self-join, unless the token is an admin's or owner's.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/join", tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = IncidentOut), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn join(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<IncidentOut>> {
    let d = s
        .engine
        .participants()
        .join(auth.actor(), &IncidentRef::parse(&id), auth.is_admin())
        .await?;
    Ok(axum::Json(d.into()))
}

/// Follows the incident by e-mail (change summaries; not the room). Refused like joining.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/subscribe", tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = Vec<SubscriberOut>), (status = 403, body = ErrorBody)))]
pub async fn subscribe(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<SubscriberOut>>> {
    let list = s
        .engine
        .participants()
        .subscribe(auth.actor(), &IncidentRef::parse(&id), auth.is_admin())
        .await?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}

/// Stops e-mail about the incident for the caller: they stop following it, and its
/// stakeholder mail (notifications group, reports, status changes) no longer reaches them until
/// they subscribe again. Anyone who sees the incident may.
#[utoipa::path(delete, path = "/api/v1/incidents/{id}/subscribe", tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn unsubscribe(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    s.engine
        .participants()
        .unsubscribe(auth.actor(), &IncidentRef::parse(&id))
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Who follows the incident by e-mail.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/subscribers", tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = Vec<SubscriberOut>)))]
pub async fn subscribers(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<SubscriberOut>>> {
    let list = s
        .engine
        .participants()
        .subscribers(&IncidentRef::parse(&id))
        .await?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}

/// Removes a participant (their roles end). Refused (409) for the incident commander and for
/// anyone with open tasks in the incident.
#[utoipa::path(delete, path = "/api/v1/incidents/{id}/participants/{email}", tag = "incidents",
    params(("id" = String, Path, description = "Id or key"), ("email" = String, Path, description = "The participant's e-mail")),
    responses((status = 200, body = IncidentOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn remove(
    State(s): State<AppState>,
    auth: Auth,
    Path((id, email)): Path<(String, String)>,
) -> ApiResult<axum::Json<IncidentOut>> {
    let email = Email::parse("email", &email)?;
    let d = s
        .engine
        .participants()
        .remove(auth.actor(), &IncidentRef::parse(&id), &email)
        .await?;
    Ok(axum::Json(d.into()))
}

/// What engagement rules brought into the incident: people, on-call, teams, runbooks.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/engagements", tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = Vec<EngagementOut>)))]
pub async fn engagements(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<EngagementOut>>> {
    let list = s
        .engine
        .rules()
        .engagements(&IncidentRef::parse(&id))
        .await?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}
