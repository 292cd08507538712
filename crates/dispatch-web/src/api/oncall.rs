//! On-call over the API: rotations, who is on call now and next, overrides, pages to
//! acknowledge, and the role policies that pick an incident's commander.

use super::parse;
use crate::auth::Auth;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::oncall::Shift;
use dispatch_core::values::{Email, IncidentRef};
use dispatch_core::{ParticipantRole, ValidationError};
use dispatch_engine::data::model::{page, role_policy};
use dispatch_engine::oncall::OnCallView;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// On-call routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/services/{id}/rotation", put(set_rotation))
        .route("/services/{id}/oncall", get(on_call))
        .route("/services/{id}/overrides", post(add_override))
        .route("/pages", get(pages))
        .route("/pages/{id}/ack", post(acknowledge))
        .route(
            "/projects/{slug}/role-policies",
            get(policies).post(add_policy),
        )
        .route("/role-policies/{id}", delete(delete_policy))
}

/// A shift.
#[derive(Serialize, ToSchema)]
pub struct ShiftOut {
    /// Who is on call.
    pub email: String,
    /// From.
    pub starts_at: DateTime<Utc>,
    /// Until.
    pub ends_at: DateTime<Utc>,
    /// Put there by an override.
    pub overridden: bool,
}

impl From<Shift> for ShiftOut {
    fn from(s: Shift) -> Self {
        Self {
            email: s.email,
            starts_at: s.starts_at,
            ends_at: s.ends_at,
            overridden: s.overridden,
        }
    }
}

/// A rotation's settings.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct RotationIn {
    /// E-mails in rotation order.
    #[serde(default)]
    pub members: Vec<String>,
    /// Shift length in hours (168 = weekly).
    pub shift_hours: Option<i64>,
    /// Local handoff time, `HH:MM`.
    pub handoff_time: Option<String>,
    /// The first shift's day, `YYYY-MM-DD`.
    pub start_date: Option<String>,
    /// IANA time zone (default `UTC`).
    pub time_zone: Option<String>,
}

/// Who is on call for a service.
#[derive(Serialize, ToSchema)]
pub struct OnCallOut {
    /// Service id.
    pub service_id: i64,
    /// Service name.
    pub service: String,
    /// The rotation (`null` when the service has none).
    pub rotation: Option<RotationIn>,
    /// On call at the asked time.
    pub current: Option<ShiftOut>,
    /// On call after them.
    pub next: Option<ShiftOut>,
}

impl From<OnCallView> for OnCallOut {
    fn from(v: OnCallView) -> Self {
        Self {
            service_id: v.service.id,
            service: v.service.name,
            rotation: v.schedule.map(|s| RotationIn {
                members: serde_json::from_str(&s.members).unwrap_or_default(),
                shift_hours: Some(i64::from(s.shift_hours)),
                handoff_time: Some(s.handoff_time),
                start_date: Some(s.start_date),
                time_zone: Some(s.time_zone),
            }),
            current: v.current.map(Into::into),
            next: v.next.map(Into::into),
        }
    }
}

/// Sets (or replaces) a service's rotation.
#[utoipa::path(put, path = "/api/v1/services/{id}/rotation", tag = "oncall", request_body(content = RotationIn, example = json!({"members": ["ann@example.com", "bob@example.com"], "shift_hours": 24, "handoff_time": "09:00", "start_date": "2026-01-05"})), params(("id" = i64, Path)),
    responses((status = 200, body = OnCallOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_rotation(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<RotationIn>,
) -> ApiResult<axum::Json<OnCallOut>> {
    let mut e = ValidationError::default();
    let members = parse::emails(&mut e, "members", &b.members);
    let shift_hours = b.shift_hours.unwrap_or(168);
    let handoff = b.handoff_time.unwrap_or_else(|| "09:00".into());
    let start = b
        .start_date
        .unwrap_or_else(|| dispatch_core::now().format("%Y-%m-%d").to_string());
    let tz = b.time_zone.unwrap_or_else(|| "UTC".into());
    e.into_result()?;
    Ok(axum::Json(
        s.engine
            .oncall()
            .set_rotation(
                dispatch_core::ServiceId(id),
                members,
                shift_hours,
                &handoff,
                &start,
                &tz,
            )
            .await?
            .into(),
    ))
}

/// When to ask about.
#[derive(Deserialize, IntoParams)]
pub struct AtQuery {
    /// A time (RFC 3339); now when absent.
    pub at: Option<String>,
}

/// Who is on call for a service now (or at `at`) and who is next.
#[utoipa::path(get, path = "/api/v1/services/{id}/oncall", tag = "oncall", params(("id" = i64, Path), AtQuery), responses((status = 200, body = OnCallOut)))]
pub async fn on_call(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<AtQuery>,
) -> ApiResult<axum::Json<OnCallOut>> {
    let mut e = ValidationError::default();
    let at = parse::time(&mut e, "at", q.at.as_deref());
    e.into_result()?;
    Ok(axum::Json(
        s.engine
            .oncall()
            .who(
                dispatch_core::ServiceId(id),
                at.unwrap_or_else(dispatch_core::now),
            )
            .await?
            .into(),
    ))
}

/// An override.
#[derive(Deserialize, ToSchema)]
pub struct OverrideIn {
    /// Who covers.
    pub email: Option<String>,
    /// From (RFC 3339).
    pub starts_at: Option<String>,
    /// Until (RFC 3339).
    pub ends_at: Option<String>,
}

/// Puts someone on call for a time span.
#[utoipa::path(post, path = "/api/v1/services/{id}/overrides", tag = "oncall", request_body = OverrideIn, params(("id" = i64, Path)),
    responses((status = 201, body = OnCallOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_override(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<OverrideIn>,
) -> ApiResult<(StatusCode, axum::Json<OnCallOut>)> {
    let mut e = ValidationError::default();
    let email =
        parse::required(&mut e, "email", &b.email).and_then(|m| e.check(Email::parse("email", m)));
    let starts = parse::required(&mut e, "starts_at", &b.starts_at)
        .and_then(|t| parse::time(&mut e, "starts_at", Some(t)));
    let ends = parse::required(&mut e, "ends_at", &b.ends_at)
        .and_then(|t| parse::time(&mut e, "ends_at", Some(t)));
    e.into_result()?;
    let starts = starts.expect("checked");
    s.engine
        .oncall()
        .add_override(
            dispatch_core::ServiceId(id),
            email.expect("checked"),
            starts,
            ends.expect("checked"),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            s.engine
                .oncall()
                .who(dispatch_core::ServiceId(id), starts)
                .await?
                .into(),
        ),
    ))
}

/// A page.
#[derive(Serialize, ToSchema)]
pub struct PageOut {
    /// Id.
    pub id: i64,
    /// The incident's id.
    pub incident_id: i64,
    /// The service whose on-call was paged.
    pub service_id: Option<i64>,
    /// Who was paged.
    pub email: String,
    /// Why.
    pub reason: String,
    /// `triggered` or `acknowledged`.
    pub status: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it was acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
}

impl From<page::Model> for PageOut {
    fn from(p: page::Model) -> Self {
        Self {
            id: p.id,
            incident_id: p.incident_id,
            service_id: p.service_id,
            email: p.email,
            reason: p.reason,
            status: p.status,
            created_at: p.created_at,
            acknowledged_at: p.acknowledged_at,
        }
    }
}

/// Page filters.
#[derive(Deserialize, IntoParams)]
pub struct PageQuery {
    /// `triggered` or `acknowledged`.
    pub status: Option<String>,
    /// Incident id or key.
    pub incident: Option<String>,
}

/// Pages, newest first.
#[utoipa::path(get, path = "/api/v1/pages", tag = "oncall", params(PageQuery), responses((status = 200, body = Vec<PageOut>)))]
pub async fn pages(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<PageQuery>,
) -> ApiResult<axum::Json<Vec<PageOut>>> {
    if let Some(st) = q
        .status
        .as_deref()
        .filter(|s| !["triggered", "acknowledged"].contains(s))
    {
        return Err(ApiError::field(
            "status",
            format!("{st:?} is not valid; must be one of: triggered, acknowledged"),
        ));
    }
    let r = q.incident.as_deref().map(IncidentRef::parse);
    Ok(axum::Json(
        s.engine
            .oncall()
            .pages(q.status.as_deref(), r.as_ref(), auth.viewer(), 200)
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Acknowledges a page.
#[utoipa::path(post, path = "/api/v1/pages/{id}/ack", tag = "oncall", params(("id" = i64, Path)), responses((status = 200, body = PageOut)))]
pub async fn acknowledge(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<PageOut>> {
    Ok(axum::Json(
        s.engine
            .oncall()
            .acknowledge_page(auth.actor(), dispatch_core::PageId(id))
            .await?
            .into(),
    ))
}

/// A role policy.
#[derive(Serialize, ToSchema)]
pub struct PolicyOut {
    /// Id.
    pub id: i64,
    /// `incident_commander`, `scribe` or `liaison`.
    pub role: String,
    /// Only for this type (id).
    pub type_id: Option<i64>,
    /// Only for this priority (id).
    pub priority_id: Option<i64>,
    /// Only for incidents with this tag (id).
    pub tag_id: Option<i64>,
    /// The service whose on-call takes the role.
    pub service_id: Option<i64>,
    /// Or this person.
    pub email: Option<String>,
    /// Lowest wins.
    pub order: i32,
}

impl From<role_policy::Model> for PolicyOut {
    fn from(p: role_policy::Model) -> Self {
        Self {
            id: p.id,
            role: p.role,
            type_id: p.type_id,
            priority_id: p.priority_id,
            tag_id: p.tag_id,
            service_id: p.service_id,
            email: p.email,
            order: p.view_order,
        }
    }
}

/// A new role policy: a role, the incidents it applies to, and who takes it.
#[derive(Deserialize, ToSchema)]
pub struct PolicyIn {
    /// `incident_commander`, `scribe` or `liaison`.
    pub role: Option<String>,
    /// Incident type (slug or name); any when absent.
    #[serde(rename = "type")]
    pub incident_type: Option<String>,
    /// Priority (slug or name); any when absent.
    pub priority: Option<String>,
    /// Tag name; any when absent.
    pub tag: Option<String>,
    /// The service whose current on-call takes the role…
    pub service_id: Option<i64>,
    /// …or this person.
    pub email: Option<String>,
    /// Lowest wins (default 0).
    #[serde(default)]
    pub order: i32,
}

/// A project's role policies, lowest order first.
#[utoipa::path(get, path = "/api/v1/projects/{slug}/role-policies", tag = "oncall", params(("slug" = String, Path)), responses((status = 200, body = Vec<PolicyOut>)))]
pub async fn policies(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<Vec<PolicyOut>>> {
    let p = s.engine.projects().get(&slug).await?;
    Ok(axum::Json(
        s.engine
            .roles()
            .policies(dispatch_core::ProjectId(p.id))
            .await?
            .into_iter()
            .map(Into::into)
            .collect(),
    ))
}

/// Adds a role policy.
#[utoipa::path(post, path = "/api/v1/projects/{slug}/role-policies", tag = "oncall", request_body = PolicyIn, params(("slug" = String, Path)),
    responses((status = 201, body = PolicyOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_policy(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
    Json(b): Json<PolicyIn>,
) -> ApiResult<(StatusCode, axum::Json<PolicyOut>)> {
    let project = s.engine.projects().get(&slug).await?;
    let mut e = ValidationError::default();
    let role = parse::required(&mut e, "role", &b.role)
        .and_then(|r| parse::enum_field::<ParticipantRole>(&mut e, "role", Some(r)));
    if role.is_some_and(|r| {
        ![
            ParticipantRole::IncidentCommander,
            ParticipantRole::Scribe,
            ParticipantRole::Liaison,
        ]
        .contains(&r)
    }) {
        e.push(
            "role",
            "policies pick an incident_commander, scribe or liaison",
        );
    }
    let email = b
        .email
        .as_deref()
        .and_then(|m| e.check(Email::parse("email", m)));
    if b.service_id.is_some() == b.email.is_some() {
        e.push(
            "service_id",
            "give either service_id (its on-call takes the role) or email, not both",
        );
    }
    let refs = s
        .engine
        .roles()
        .policy_refs(
            dispatch_core::ProjectId(project.id),
            b.incident_type.as_deref(),
            b.priority.as_deref(),
            b.tag.as_deref(),
            b.service_id.map(dispatch_core::ServiceId),
            &mut e,
        )
        .await?;
    e.into_result()?;
    let row = role_policy::Model {
        project_id: project.id,
        role: role.expect("checked").as_str().into(),
        type_id: refs.type_id.map(|i| i.0),
        priority_id: refs.priority_id.map(|i| i.0),
        tag_id: refs.tag_id.map(|i| i.0),
        service_id: b.service_id,
        email: email.map(|m| m.to_string()),
        view_order: b.order,
        enabled: true,
        created_at: dispatch_core::now(),
        ..Default::default()
    };
    Ok((
        StatusCode::CREATED,
        axum::Json(s.engine.roles().add_policy(row).await?.into()),
    ))
}

/// Deletes a role policy.
#[utoipa::path(delete, path = "/api/v1/role-policies/{id}", tag = "oncall", params(("id" = i64, Path)), responses((status = 204)))]
pub async fn delete_policy(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    s.engine
        .roles()
        .delete_policy(dispatch_core::RolePolicyId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
