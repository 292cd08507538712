//! Engagement and notification rules over the API: listed by anyone, written by admins. Filters
//! are given in the text form (`"priority = high and tag:region = eu"`) or the JSON form, and
//! answered in both.

use crate::api::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody, Json, Path, Query};
use crate::wire::RunbookOut;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::filter::Filter;
use dispatch_core::values::{Name, WebLink};
use dispatch_core::ValidationError;
use dispatch_engine::rules::engagement::{EngagementRule, EngagementRuleSpec, Runbook};
use dispatch_engine::rules::notification::{NotificationRule, NotificationRuleSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// Rule routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/engagement-rules",
            get(list_engagement).post(create_engagement),
        )
        .route(
            "/engagement-rules/{id}",
            get(show_engagement)
                .patch(update_engagement)
                .delete(delete_engagement),
        )
        .route(
            "/notification-rules",
            get(list_notification).post(create_notification),
        )
        .route(
            "/notification-rules/{id}",
            get(show_notification)
                .patch(update_notification)
                .delete(delete_notification),
        )
}

/// Which rules to list.
#[derive(Deserialize, IntoParams)]
pub struct RulesQuery {
    /// Project slug (all projects when absent).
    pub project: Option<String>,
}

/// An engagement rule.
#[derive(Serialize, ToSchema)]
pub struct EngagementRuleOut {
    /// Id.
    pub id: i64,
    /// Project slug.
    pub project: String,
    /// Name, unique in the project.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The filter in its JSON form.
    #[schema(value_type = Object)]
    pub filter: Value,
    /// The filter in its text form.
    pub filter_text: String,
    /// People who join matching incidents as observers.
    pub individuals: Vec<String>,
    /// Teams engaged (ids).
    pub teams: Vec<i64>,
    /// Services whose current on-call joins (ids).
    pub services: Vec<i64>,
    /// Runbooks suggested.
    pub documents: Vec<RunbookOut>,
    /// Whether it is evaluated.
    pub enabled: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<EngagementRule> for EngagementRuleOut {
    fn from(r: EngagementRule) -> Self {
        Self {
            id: r.row.id,
            project: r.project,
            name: r.row.name,
            description: r.row.description,
            filter_text: r.filter.to_string(),
            filter: r.filter.to_json(),
            individuals: r.individuals,
            teams: r.teams,
            services: r.services,
            documents: r
                .documents
                .into_iter()
                .map(|d| RunbookOut {
                    title: d.title,
                    link: d.link,
                })
                .collect(),
            enabled: r.row.enabled,
            created_at: r.row.created_at,
            updated_at: r.row.updated_at,
        }
    }
}

/// A new engagement rule, or (PATCH) the fields to change: absent fields are kept.
#[derive(Deserialize, ToSchema, Default)]
pub struct EngagementRuleIn {
    /// Project slug (the default project when absent).
    pub project: Option<String>,
    /// Name, 1-120 characters, unique in the project (required).
    pub name: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// The filter: text (`"priority = high and tag:region = eu"`) or JSON (required).
    #[schema(value_type = Option<Value>)]
    pub filter: Option<Value>,
    /// E-mails of people who join as observers.
    pub individuals: Option<Vec<String>>,
    /// Team ids.
    pub teams: Option<Vec<i64>>,
    /// Service ids.
    pub services: Option<Vec<i64>>,
    /// Runbooks: `{"title", "link"}`.
    pub documents: Option<Vec<RunbookOut>>,
    /// Whether it is evaluated (default true).
    pub enabled: Option<bool>,
}

fn name(e: &mut ValidationError, raw: Option<&str>) -> Option<String> {
    let raw = raw.or_else(|| {
        e.push("name", "is required");
        None
    })?;
    e.check(Name::parse("name", raw)).map(Name::into_inner)
}

fn description(e: &mut ValidationError, raw: Option<String>) -> String {
    let d = raw.unwrap_or_default();
    if d.chars().count() > 2000 {
        e.push("description", "may have at most 2000 characters");
    }
    d
}

async fn project_or_default(s: &AppState, project: Option<String>) -> ApiResult<String> {
    Ok(match project {
        Some(p) => p.trim().to_lowercase(),
        None => s
            .engine
            .projects()
            .await?
            .into_iter()
            .find(|p| p.is_default)
            .map(|p| p.slug)
            .unwrap_or_else(|| "default".into()),
    })
}

/// Only organization admins may mark a notification target restricted-safe: such a target
/// hears of restricted incidents, which project admins may not see.
fn restricted_safe_needs_admin(auth: &Auth, change: Option<bool>) -> ApiResult<()> {
    if change.is_some() && !auth.is_admin() {
        return Err(ValidationError::field(
            "restricted_safe",
            "only an organization admin may change whether a target hears of restricted incidents",
        )
        .into());
    }
    Ok(())
}

impl EngagementRuleIn {
    fn overlay(self, current: EngagementRuleOut) -> Self {
        Self {
            project: self.project.or(Some(current.project)),
            name: self.name.or(Some(current.name)),
            description: self.description.or(Some(current.description)),
            filter: self.filter.or(Some(current.filter)),
            individuals: self.individuals.or(Some(current.individuals)),
            teams: self.teams.or(Some(current.teams)),
            services: self.services.or(Some(current.services)),
            documents: self.documents.or(Some(current.documents)),
            enabled: self.enabled.or(Some(current.enabled)),
        }
    }

    fn parse(self, project: String) -> Result<EngagementRuleSpec, ValidationError> {
        let mut e = ValidationError::default();
        let name = name(&mut e, self.name.as_deref());
        let description = description(&mut e, self.description);
        let filter = dispatch_engine::rules::parse_filter(&mut e, "filter", self.filter.as_ref());
        let individuals: Vec<String> =
            parse::emails(&mut e, "individuals", &self.individuals.unwrap_or_default())
                .into_iter()
                .map(|m| m.to_string())
                .collect();
        let mut documents = Vec::new();
        for d in self.documents.unwrap_or_default() {
            if d.title.trim().is_empty() || d.title.chars().count() > 200 {
                e.push(
                    "documents",
                    format!("runbook {:?}: a title has 1-200 characters", d.title),
                );
            }
            if let Some(link) = e.check(WebLink::parse("documents", &d.link)) {
                documents.push(Runbook {
                    title: d.title.trim().to_string(),
                    link: link.as_str().to_string(),
                });
            }
        }
        let teams = self.teams.unwrap_or_default();
        let services = self.services.unwrap_or_default();
        if individuals.is_empty() && teams.is_empty() && services.is_empty() && documents.is_empty()
        {
            e.push(
                "individuals",
                "a rule engages someone or something: give individuals, teams, services or documents",
            );
        }
        e.into_result()?;
        Ok(EngagementRuleSpec {
            project,
            name: name.expect("checked"),
            description,
            filter: filter.expect("checked"),
            individuals,
            teams,
            services,
            documents,
            enabled: self.enabled.unwrap_or(true),
        })
    }
}

/// Engagement rules, by name.
#[utoipa::path(get, path = "/api/v1/engagement-rules", tag = "rules", params(RulesQuery),
    responses((status = 200, body = Vec<EngagementRuleOut>)))]
pub async fn list_engagement(
    State(s): State<AppState>,
    _auth: Auth,
    Query(q): Query<RulesQuery>,
) -> ApiResult<axum::Json<Vec<EngagementRuleOut>>> {
    let rules = s.engine.engagement_rules(q.project.as_deref()).await?;
    Ok(axum::Json(rules.into_iter().map(Into::into).collect()))
}

/// Creates an engagement rule (admins).
#[utoipa::path(post, path = "/api/v1/engagement-rules", request_body = EngagementRuleIn, tag = "rules",
    responses((status = 201, body = EngagementRuleOut), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_engagement(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<EngagementRuleIn>,
) -> ApiResult<(StatusCode, axum::Json<EngagementRuleOut>)> {
    let project = project_or_default(&s, b.project.clone()).await?;
    auth.require_configure(&s.engine, &project).await?;
    let spec = b.parse(project)?;
    let r = s.engine.save_engagement_rule(None, spec).await?;
    Ok((StatusCode::CREATED, axum::Json(r.into())))
}

/// One engagement rule.
#[utoipa::path(get, path = "/api/v1/engagement-rules/{id}", tag = "rules",
    params(("id" = i64, Path, description = "Rule id")),
    responses((status = 200, body = EngagementRuleOut), (status = 404, body = ErrorBody)))]
pub async fn show_engagement(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<EngagementRuleOut>> {
    Ok(axum::Json(s.engine.engagement_rule(id).await?.into()))
}

/// Changes an engagement rule (admins); absent fields are kept.
#[utoipa::path(patch, path = "/api/v1/engagement-rules/{id}", request_body = EngagementRuleIn, tag = "rules",
    params(("id" = i64, Path, description = "Rule id")),
    responses((status = 200, body = EngagementRuleOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_engagement(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<EngagementRuleIn>,
) -> ApiResult<axum::Json<EngagementRuleOut>> {
    let current: EngagementRuleOut = s.engine.engagement_rule(id).await?.into();
    auth.require_configure(&s.engine, &current.project).await?;
    let b = b.overlay(current);
    let project = project_or_default(&s, b.project.clone()).await?;
    auth.require_configure(&s.engine, &project).await?;
    let r = s
        .engine
        .save_engagement_rule(Some(id), b.parse(project)?)
        .await?;
    Ok(axum::Json(r.into()))
}

/// Deletes an engagement rule (admins); what it engaged stays.
#[utoipa::path(delete, path = "/api/v1/engagement-rules/{id}", tag = "rules",
    params(("id" = i64, Path, description = "Rule id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_engagement(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    // The policy layer checked the caller administers the rule's project.
    s.engine.delete_engagement_rule(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A notification rule.
#[derive(Serialize, ToSchema)]
pub struct NotificationRuleOut {
    /// Id.
    pub id: i64,
    /// Project slug.
    pub project: String,
    /// Name, unique in the project.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The filter in its JSON form.
    #[schema(value_type = Object)]
    pub filter: Value,
    /// The filter in its text form.
    pub filter_text: String,
    /// `conversation`, `email` or `webhook`.
    pub target_kind: String,
    /// An incident key (its room) or `channel:<id>`; addresses; a webhook subscription id.
    pub target: String,
    /// Whether restricted incidents may reach the target.
    pub restricted_safe: bool,
    /// Whether it sends.
    pub enabled: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<NotificationRule> for NotificationRuleOut {
    fn from(r: NotificationRule) -> Self {
        Self {
            id: r.row.id,
            project: r.project,
            name: r.row.name,
            description: r.row.description,
            filter_text: r.filter.to_string(),
            filter: r.filter.to_json(),
            target_kind: r.row.target_kind,
            target: r.row.target,
            restricted_safe: r.row.restricted_safe,
            enabled: r.row.enabled,
            created_at: r.row.created_at,
            updated_at: r.row.updated_at,
        }
    }
}

/// A new notification rule, or (PATCH) the fields to change: absent fields are kept.
#[derive(Deserialize, ToSchema, Default)]
pub struct NotificationRuleIn {
    /// Project slug (the default project when absent).
    pub project: Option<String>,
    /// Name, 1-120 characters, unique in the project (required).
    pub name: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// The filter: text or JSON (required; `"all"` for every incident).
    #[schema(value_type = Option<Value>)]
    pub filter: Option<Value>,
    /// `conversation`, `email` or `webhook` (required).
    pub target_kind: Option<String>,
    /// Where: an incident key whose room hears it, or `channel:<id>`; comma-separated e-mail
    /// addresses; a webhook subscription id (required).
    pub target: Option<String>,
    /// Whether restricted incidents may reach the target (default false).
    pub restricted_safe: Option<bool>,
    /// Whether it sends (default true).
    pub enabled: Option<bool>,
}

impl NotificationRuleIn {
    fn overlay(self, current: NotificationRuleOut) -> Self {
        Self {
            project: self.project.or(Some(current.project)),
            name: self.name.or(Some(current.name)),
            description: self.description.or(Some(current.description)),
            filter: self.filter.or(Some(current.filter)),
            target_kind: self.target_kind.or(Some(current.target_kind)),
            target: self.target.or(Some(current.target)),
            restricted_safe: self.restricted_safe.or(Some(current.restricted_safe)),
            enabled: self.enabled.or(Some(current.enabled)),
        }
    }

    fn parse(self, project: String) -> Result<NotificationRuleSpec, ValidationError> {
        let mut e = ValidationError::default();
        let name = name(&mut e, self.name.as_deref());
        let description = description(&mut e, self.description);
        let filter: Option<Filter> =
            dispatch_engine::rules::parse_filter(&mut e, "filter", self.filter.as_ref());
        let target_kind = parse::required(&mut e, "target_kind", &self.target_kind)
            .map(|k| k.trim().to_lowercase());
        let target = parse::required(&mut e, "target", &self.target).map(str::to_string);
        e.into_result()?;
        Ok(NotificationRuleSpec {
            project,
            name: name.expect("checked"),
            description,
            filter: filter.expect("checked"),
            target_kind: target_kind.expect("checked"),
            target: target.expect("checked"),
            restricted_safe: self.restricted_safe.unwrap_or(false),
            enabled: self.enabled.unwrap_or(true),
        })
    }
}

/// Notification rules, by name.
#[utoipa::path(get, path = "/api/v1/notification-rules", tag = "rules", params(RulesQuery),
    responses((status = 200, body = Vec<NotificationRuleOut>)))]
pub async fn list_notification(
    State(s): State<AppState>,
    _auth: Auth,
    Query(q): Query<RulesQuery>,
) -> ApiResult<axum::Json<Vec<NotificationRuleOut>>> {
    let rules = s.engine.notification_rules(q.project.as_deref()).await?;
    Ok(axum::Json(rules.into_iter().map(Into::into).collect()))
}

/// Creates a notification rule (admins).
#[utoipa::path(post, path = "/api/v1/notification-rules", request_body = NotificationRuleIn, tag = "rules",
    responses((status = 201, body = NotificationRuleOut), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_notification(
    State(s): State<AppState>,
    auth: Auth,
    Json(b): Json<NotificationRuleIn>,
) -> ApiResult<(StatusCode, axum::Json<NotificationRuleOut>)> {
    let project = project_or_default(&s, b.project.clone()).await?;
    auth.require_configure(&s.engine, &project).await?;
    restricted_safe_needs_admin(&auth, b.restricted_safe.filter(|v| *v))?;
    let r = s
        .engine
        .save_notification_rule(None, b.parse(project)?)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(r.into())))
}

/// One notification rule.
#[utoipa::path(get, path = "/api/v1/notification-rules/{id}", tag = "rules",
    params(("id" = i64, Path, description = "Rule id")),
    responses((status = 200, body = NotificationRuleOut), (status = 404, body = ErrorBody)))]
pub async fn show_notification(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<NotificationRuleOut>> {
    Ok(axum::Json(s.engine.notification_rule(id).await?.into()))
}

/// Changes a notification rule (admins); absent fields are kept.
#[utoipa::path(patch, path = "/api/v1/notification-rules/{id}", request_body = NotificationRuleIn, tag = "rules",
    params(("id" = i64, Path, description = "Rule id")),
    responses((status = 200, body = NotificationRuleOut), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_notification(
    State(s): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(b): Json<NotificationRuleIn>,
) -> ApiResult<axum::Json<NotificationRuleOut>> {
    let current: NotificationRuleOut = s.engine.notification_rule(id).await?.into();
    auth.require_configure(&s.engine, &current.project).await?;
    restricted_safe_needs_admin(
        &auth,
        b.restricted_safe.filter(|v| *v != current.restricted_safe),
    )?;
    let b = b.overlay(current);
    let project = project_or_default(&s, b.project.clone()).await?;
    auth.require_configure(&s.engine, &project).await?;
    let r = s
        .engine
        .save_notification_rule(Some(id), b.parse(project)?)
        .await?;
    Ok(axum::Json(r.into()))
}

/// Deletes a notification rule (admins).
#[utoipa::path(delete, path = "/api/v1/notification-rules/{id}", tag = "rules",
    params(("id" = i64, Path, description = "Rule id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_notification(
    State(s): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    // The policy layer checked the caller administers the rule's project.
    s.engine.delete_notification_rule(id).await?;
    Ok(StatusCode::NO_CONTENT)
}
