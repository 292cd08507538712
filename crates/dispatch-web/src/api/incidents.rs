//! Incidents: declare, read (by id or key), update, list with filters, life-cycle transitions,
//! role assignment and participants.

use super::parse;
use crate::auth::Auth;
use crate::error::ApiResult;
use crate::extract::{Json, MaybeJson, Path, Query};
use crate::wire::{IncidentOut, IncidentSummaryOut, Page, ParticipantOut};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use dispatch_core::commands::{AssignRole, DeclareIncident, UpdateIncident};
use dispatch_core::filter::Filter;
use dispatch_core::values::{Email, IncidentRef, IncidentTitle, LongText};
use dispatch_core::{IncidentStatus, ParticipantRole, Patch, ValidationError, Visibility};
use dispatch_engine::data::{IncidentFilter, SortField};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Incident routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents", post(declare).get(list))
        .route("/incidents/{id}", get(show).patch(update))
        .route("/incidents/{id}/stable", post(mark_stable))
        .route("/incidents/{id}/close", post(mark_closed))
        .route("/incidents/{id}/reopen", post(reopen))
        .route("/incidents/{id}/roles", post(assign_role))
        .route("/incidents/{id}/participants", get(participants))
}

/// The body of a declaration.
#[derive(Deserialize, ToSchema)]
pub struct IncidentIn {
    /// What is wrong (1-200 characters; required).
    #[schema(required = true)]
    pub title: Option<String>,
    /// What is known so far (required).
    #[schema(required = true)]
    pub description: Option<String>,
    /// Project slug (default project when absent).
    pub project: Option<String>,
    /// Incident type (slug or name).
    #[serde(rename = "type", alias = "incident_type")]
    pub incident_type: Option<String>,
    /// Priority (slug or name).
    pub priority: Option<String>,
    /// Severity (slug or name).
    pub severity: Option<String>,
    /// `open` or `restricted` (the type's default when absent).
    pub visibility: Option<String>,
    /// Tags: `name` or `type:name`.
    #[serde(default)]
    pub tags: Vec<String>,
    /// E-mail of the incident commander (the reporter when absent).
    pub commander: Option<String>,
    /// When it was reported (now when absent).
    pub reported_at: Option<String>,
    /// `stable` or `closed` to record a past incident (back-filling); `active` when absent.
    pub status: Option<String>,
}

impl IncidentIn {
    fn parse(&self) -> Result<DeclareIncident, ValidationError> {
        let mut e = ValidationError::default();
        let title = parse::required(&mut e, "title", &self.title)
            .and_then(|t| e.check(IncidentTitle::parse("title", t)));
        let description = parse::required(&mut e, "description", &self.description)
            .and_then(|d| e.check(LongText::parse("description", d)));
        let visibility =
            parse::enum_field::<Visibility>(&mut e, "visibility", self.visibility.as_deref());
        let commander = self
            .commander
            .as_deref()
            .and_then(|c| e.check(Email::parse("commander", c)));
        let reported_at = parse::time(&mut e, "reported_at", self.reported_at.as_deref());
        let status = parse::enum_field::<IncidentStatus>(&mut e, "status", self.status.as_deref());
        e.into_result()?;
        Ok(DeclareIncident {
            project: self.project.as_ref().map(|p| p.trim().to_lowercase()),
            title: title.expect("checked"),
            description: description.expect("checked"),
            incident_type: self.incident_type.clone(),
            priority: self.priority.clone(),
            severity: self.severity.clone(),
            visibility,
            tags: self.tags.clone(),
            commander,
            reported_at,
            status,
        })
    }
}

/// Declares an incident.
#[utoipa::path(post, path = "/api/v1/incidents", request_body(content = IncidentIn, example = json!({"title": "Checkout errors in eu-west", "description": "Card payments fail", "priority": "high", "tags": ["payments"]})), tag = "incidents",
    responses((status = 201, body = IncidentOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn declare(
    State(s): State<AppState>,
    auth: Auth,
    Json(body): Json<IncidentIn>,
) -> ApiResult<(StatusCode, axum::Json<IncidentOut>)> {
    let cmd = declaration(&s, &body).await?;
    let detail = s.engine.incidents().declare(auth.actor(), cmd).await?;
    Ok((StatusCode::CREATED, axum::Json(detail.into())))
}

/// Parses a declaration (from the API or the web form). When fields are bad, the unknown
/// taxonomy names are reported too, not only the fields that failed to parse.
pub(crate) async fn declaration(s: &AppState, body: &IncidentIn) -> ApiResult<DeclareIncident> {
    match body.parse() {
        Ok(cmd) => Ok(cmd),
        Err(mut e) => {
            let refs = s
                .engine
                .incidents()
                .check_refs(
                    body.project.as_deref(),
                    body.incident_type.as_deref(),
                    body.priority.as_deref(),
                    body.severity.as_deref(),
                )
                .await?;
            e.fields.extend(refs.fields);
            Err(e.into())
        }
    }
}

/// Reads an incident by id (`42`) or key (`INC-42`).
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = IncidentOut), (status = 404, body = crate::error::ErrorBody)))]
pub async fn show(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<IncidentOut>> {
    // The route's rule is `Seen`: the read itself applies the caller's visibility.
    Ok(axum::Json(
        s.engine
            .incidents()
            .get_visible(auth.viewer(), &IncidentRef::parse(&id))
            .await?
            .into(),
    ))
}

/// The body of an update: absent fields are kept, `null` clears (where a field may be empty).
#[derive(Deserialize, ToSchema)]
pub struct IncidentPatch {
    /// New title.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub title: Patch<String>,
    /// New description.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// New resolution; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub resolution: Patch<String>,
    /// New type.
    #[serde(default, rename = "type", alias = "incident_type")]
    #[schema(value_type = Option<String>)]
    pub incident_type: Patch<String>,
    /// New priority.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub priority: Patch<String>,
    /// New severity.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub severity: Patch<String>,
    /// New visibility.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub visibility: Patch<String>,
    /// New status (`active`, `stable`, `closed`).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub status: Patch<String>,
    /// The new set of tags.
    #[serde(default)]
    #[schema(value_type = Option<Vec<String>>)]
    pub tags: Patch<Vec<String>>,
}

impl IncidentPatch {
    fn parse(self) -> Result<UpdateIncident, ValidationError> {
        let mut e = ValidationError::default();
        let title = parse::parsed(&mut e, "title", self.title, IncidentTitle::parse);
        let description = parse::parsed(&mut e, "description", self.description, LongText::parse);
        let resolution = parse::clearable(&mut e, "resolution", self.resolution, LongText::parse);
        let incident_type = parse::not_null(&mut e, "type", self.incident_type);
        let priority = parse::not_null(&mut e, "priority", self.priority);
        let severity = parse::not_null(&mut e, "severity", self.severity);
        let visibility = parse::not_null(&mut e, "visibility", self.visibility);
        let visibility =
            parse::enum_field::<Visibility>(&mut e, "visibility", visibility.as_deref());
        let status = parse::not_null(&mut e, "status", self.status);
        let status = parse::enum_field::<IncidentStatus>(&mut e, "status", status.as_deref());
        let tags = match self.tags {
            Patch::Absent => None,
            Patch::Null => Some(vec![]),
            Patch::Value(t) => Some(t),
        };
        e.into_result()?;
        Ok(UpdateIncident {
            title,
            description,
            resolution,
            incident_type,
            priority,
            severity,
            visibility,
            tags,
            status,
        })
    }
}

/// Updates an incident; answers the updated incident.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}", request_body = IncidentPatch, tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = IncidentOut), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(body): Json<IncidentPatch>,
) -> ApiResult<axum::Json<IncidentOut>> {
    let cmd = body.parse()?;
    let r = IncidentRef::parse(&id);
    // The layer checked editing; a change of status is also changing the status.
    s.engine
        .access()
        .require_all(&auth.0, &r, &cmd.actions())
        .await?;
    Ok(axum::Json(
        s.engine
            .incidents()
            .update(auth.actor(), &r, cmd)
            .await?
            .into(),
    ))
}

async fn transition(
    s: &AppState,
    auth: &Auth,
    id: &str,
    to: IncidentStatus,
) -> ApiResult<axum::Json<IncidentOut>> {
    Ok(axum::Json(
        s.engine
            .incidents()
            .change_status(auth.actor(), &IncidentRef::parse(id), to)
            .await?
            .into(),
    ))
}

/// Marks an incident stable.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/stable", tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = IncidentOut), (status = 409, body = crate::error::ErrorBody)))]
pub async fn mark_stable(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<IncidentOut>> {
    transition(&s, &auth, &id, IncidentStatus::Stable).await
}

/// What closing may say.
#[derive(Deserialize, ToSchema)]
pub struct CloseIn {
    /// The resolution, set in the same change as the close (what was done; the ticket's
    /// closing comment and the review start from it).
    pub resolution: Option<String>,
}

/// Closes an incident, with its resolution when the body gives one (the body may be left out).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/close", tag = "incidents",
    request_body(content = Option<CloseIn>, description = "Optional: the resolution"),
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = IncidentOut), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn mark_closed(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    MaybeJson(body): MaybeJson<CloseIn>,
) -> ApiResult<axum::Json<IncidentOut>> {
    let Some(resolution) = body.and_then(|b| b.resolution) else {
        return transition(&s, &auth, &id, IncidentStatus::Closed).await;
    };
    // The resolution and the close: one change, as `PATCH` with both would make it.
    let patch = IncidentPatch {
        resolution: Patch::Value(resolution),
        status: Patch::Value(IncidentStatus::Closed.as_str().into()),
        title: Patch::Absent,
        description: Patch::Absent,
        incident_type: Patch::Absent,
        priority: Patch::Absent,
        severity: Patch::Absent,
        visibility: Patch::Absent,
        tags: Patch::Absent,
    };
    update(State(s), auth, Path(id), Json(patch)).await
}

/// Re-opens a stable or closed incident.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/reopen", tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = IncidentOut), (status = 409, body = crate::error::ErrorBody)))]
pub async fn reopen(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<IncidentOut>> {
    transition(&s, &auth, &id, IncidentStatus::Active).await
}

/// A role assignment.
#[derive(Deserialize, ToSchema)]
pub struct RoleIn {
    /// The person's e-mail.
    pub email: Option<String>,
    /// The role: `incident_commander`, `reporter`, `scribe`, `liaison`, `participant`, `observer`.
    pub role: Option<String>,
}

/// Gives a person a role; the previous commander, scribe or liaison becomes a participant.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/roles", request_body = RoleIn, tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = IncidentOut), (status = 422, body = crate::error::ErrorBody)))]
pub async fn assign_role(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Json(body): Json<RoleIn>,
) -> ApiResult<axum::Json<IncidentOut>> {
    let mut e = ValidationError::default();
    let email = parse::required(&mut e, "email", &body.email)
        .and_then(|m| e.check(Email::parse("email", m)));
    let role = parse::required(&mut e, "role", &body.role)
        .and_then(|r| parse::enum_field::<ParticipantRole>(&mut e, "role", Some(r)));
    e.into_result()?;
    let cmd = AssignRole {
        email: email.expect("checked"),
        role: role.expect("checked"),
    };
    Ok(axum::Json(
        s.engine
            .roles()
            .assign(auth.actor(), &IncidentRef::parse(&id), cmd)
            .await?
            .into(),
    ))
}

/// The participants of an incident with their roles.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/participants", tag = "incidents",
    params(("id" = String, Path, description = "Id or key")),
    responses((status = 200, body = Vec<ParticipantOut>)))]
pub async fn participants(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Vec<ParticipantOut>>> {
    let list = s
        .engine
        .participants()
        .list(&IncidentRef::parse(&id))
        .await?;
    Ok(axum::Json(list.iter().map(Into::into).collect()))
}

/// List filters. Multi-valued filters take comma-separated values.
#[derive(Deserialize, Serialize, IntoParams, Clone, Default)]
pub struct ListQuery {
    /// Project slugs.
    pub project: Option<String>,
    /// Statuses, e.g. `active,stable`.
    pub status: Option<String>,
    /// Type slugs or names.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub incident_type: Option<String>,
    /// Priority slugs or names.
    pub priority: Option<String>,
    /// Severity slugs or names.
    pub severity: Option<String>,
    /// `open` or `restricted`.
    pub visibility: Option<String>,
    /// Tag names; the incident must carry all of them.
    pub tag: Option<String>,
    /// Commander e-mail.
    pub commander: Option<String>,
    /// Reported at or after this time (RFC 3339 or date).
    pub reported_after: Option<String>,
    /// Reported before this time (RFC 3339 or date).
    pub reported_before: Option<String>,
    /// Full-text search over title and description.
    pub q: Option<String>,
    /// A filter in the filter language, e.g.
    /// `priority = high and (type = "Security" or tag:region = eu) and not status = closed`.
    pub filter: Option<String>,
    /// Sort field, `-field` for descending: reported_at (default, newest first), updated_at,
    /// stable_at, closed_at, name, title, status.
    pub sort: Option<String>,
    /// Page, from 1.
    pub page: Option<i64>,
    /// Rows per page, 1-100 (default 20).
    pub per_page: Option<i64>,
}

impl ListQuery {
    /// The store filter these parameters describe (the caller's viewer is set by the handler).
    pub(crate) fn parse(self) -> Result<IncidentFilter, ValidationError> {
        let mut e = ValidationError::default();
        let statuses = parse::enum_list::<IncidentStatus>(&mut e, "status", self.status.as_deref());
        let visibilities =
            parse::enum_list::<Visibility>(&mut e, "visibility", self.visibility.as_deref());
        let reported_from = parse::time(&mut e, "reported_after", self.reported_after.as_deref());
        let reported_to = parse::time(&mut e, "reported_before", self.reported_before.as_deref());
        let commander = self
            .commander
            .as_deref()
            .and_then(|c| e.check(Email::parse("commander", c)));
        let (sort, ascending) = match self
            .sort
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => (SortField::ReportedAt, false),
            Some(s) => {
                let (name, asc) = match s.strip_prefix('-') {
                    Some(n) => (n, false),
                    None => (s.strip_prefix('+').unwrap_or(s), true),
                };
                match SortField::parse(name) {
                    Some(f) => (f, asc),
                    None => {
                        e.push(
                            "sort",
                            format!(
                                "{s:?} is not sortable; use one of {} (prefix - for descending)",
                                SortField::NAMES.join(", ")
                            ),
                        );
                        (SortField::ReportedAt, false)
                    }
                }
            }
        };
        let (page, per_page) = parse::paging(&mut e, self.page, self.per_page, 20);
        let projects = parse::list(&mut e, "project", self.project.as_deref());
        let types = parse::list(&mut e, "type", self.incident_type.as_deref());
        let priorities = parse::list(&mut e, "priority", self.priority.as_deref());
        let severities = parse::list(&mut e, "severity", self.severity.as_deref());
        // Each tag is a condition of its own: the bound keeps the query within what the
        // databases take.
        let tags = parse::list_as_written(&mut e, "tag", self.tag.as_deref());
        let filter = self
            .filter
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .and_then(|t| match Filter::parse(t) {
                Ok(f) => Some(f),
                Err(err) => {
                    e.push("filter", err.to_string());
                    None
                }
            });
        e.into_result()?;
        Ok(IncidentFilter {
            // Set by the handler from the caller.
            viewer: Default::default(),
            projects,
            statuses,
            visibilities,
            types,
            priorities,
            severities,
            tags,
            commander: commander.map(|c| c.to_string()),
            reported_from,
            reported_to,
            text: self.q.filter(|q| !q.trim().is_empty()),
            filter,
            sort,
            ascending,
            page,
            per_page,
            count_limit: None,
        })
    }
}

/// Lists incidents, newest first by default.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(ListQuery),
    responses((status = 200, body = Page<IncidentSummaryOut>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    auth: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Page<IncidentSummaryOut>>> {
    let mut f = q.parse()?;
    f.viewer = auth.viewer();
    let (rows, total) = s.engine.incidents().list(&f).await?;
    Ok(axum::Json(Page {
        items: rows.into_iter().map(Into::into).collect(),
        total: total.count,
        total_exact: total.exact,
        page: f.page,
        per_page: f.per_page,
    }))
}
