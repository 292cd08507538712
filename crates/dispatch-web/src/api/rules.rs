//! Engagement and notification rules over the API: listed by anyone, written by admins. Filters
//! are given in the text form (`"priority = high and tag:region = eu"`) or the JSON form, and
//! answered in both.

use crate::api::parse;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path, Query};
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
use dispatch_engine::rules::engagement::{
    EngagementRule, EngagementRuleSpec, Engagements, Runbook,
};
use dispatch_engine::rules::notification::{
    NotificationRule, NotificationRuleSpec, NotificationTarget,
};
use dispatch_engine::rules::{Rule, RuleSpec, Targets};
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
            individuals: r.targets.individuals,
            teams: r.targets.teams,
            services: r.targets.services,
            documents: r
                .targets
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

/// The project a body names, or the default project's slug.
pub(crate) async fn project_or_default(s: &AppState, project: Option<String>) -> ApiResult<String> {
    Ok(match project {
        Some(p) => p.trim().to_lowercase(),
        None => s
            .engine
            .projects()
            .list()
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

/// The fields every rule is written with, read from a body.
struct Head {
    name: Option<String>,
    description: String,
    filter: Option<Filter>,
}

impl Head {
    /// Reads the name, the description and the filter, recording every bad field.
    fn parse(
        e: &mut ValidationError,
        name_raw: Option<&str>,
        description_raw: Option<String>,
        filter: Option<&Value>,
    ) -> Self {
        Self {
            name: name(e, name_raw),
            description: description(e, description_raw),
            filter: dispatch_engine::rules::parse_filter(e, "filter", filter),
        }
    }

    /// The rule, once every field was checked.
    fn spec<T>(self, project: String, enabled: Option<bool>, targets: T) -> RuleSpec<T> {
        RuleSpec {
            project,
            name: self.name.expect("checked"),
            description: self.description,
            filter: self.filter.expect("checked"),
            enabled: enabled.unwrap_or(true),
            targets,
        }
    }
}

/// What a kind of rule declares for the API: its bodies and how a body is read. Listing,
/// reading, creating, changing and deleting are written once, below; the route handlers of each
/// kind stay thin, one per route, for the OpenAPI document.
pub trait RuleApi: Targets {
    /// The body that creates or changes one.
    type In;
    /// The answer body.
    type Out: From<Rule<Self>> + Serialize;
    /// The project a body names.
    fn project_in(b: &Self::In) -> Option<String>;
    /// The project of a stored rule.
    fn project_of(current: &Self::Out) -> &str;
    /// The body with the absent fields taken from the current rule.
    fn overlay(b: Self::In, current: Self::Out) -> Self::In;
    /// Reads a whole body, recording every bad field.
    fn parse(b: Self::In, project: String) -> Result<RuleSpec<Self>, ValidationError>;
    /// Refuses what only an organization admin may change, given the rule as it is (`None` on
    /// create).
    fn guard(_auth: &Auth, _b: &Self::In, _current: Option<&Self::Out>) -> ApiResult<()> {
        Ok(())
    }
}

/// The rules of a kind, of a project or all.
async fn list<T: RuleApi>(s: &AppState, q: RulesQuery) -> ApiResult<axum::Json<Vec<T::Out>>> {
    let rules = s.engine.rules().list::<T>(q.project.as_deref()).await?;
    Ok(axum::Json(rules.into_iter().map(Into::into).collect()))
}

/// Creates a rule in the project the body names (or the default one).
async fn create<T: RuleApi>(
    s: &AppState,
    auth: &Auth,
    b: T::In,
) -> ApiResult<(StatusCode, axum::Json<T::Out>)> {
    let project = project_or_default(s, T::project_in(&b)).await?;
    auth.require_configure(&s.engine, &project).await?;
    T::guard(auth, &b, None)?;
    let r = s.engine.rules().save(None, T::parse(b, project)?).await?;
    Ok((StatusCode::CREATED, axum::Json(r.into())))
}

/// One rule.
async fn show<T: RuleApi>(s: &AppState, id: i64) -> ApiResult<axum::Json<T::Out>> {
    Ok(axum::Json(
        s.engine
            .rules()
            .get::<T>(dispatch_core::RuleId(id))
            .await?
            .into(),
    ))
}

/// Changes a rule; absent fields are kept. The caller configures both the project it is in
/// and the one it moves to.
async fn update<T: RuleApi>(
    s: &AppState,
    auth: &Auth,
    id: i64,
    b: T::In,
) -> ApiResult<axum::Json<T::Out>> {
    let current: T::Out = s
        .engine
        .rules()
        .get::<T>(dispatch_core::RuleId(id))
        .await?
        .into();
    auth.require_configure(&s.engine, T::project_of(&current))
        .await?;
    T::guard(auth, &b, Some(&current))?;
    let b = T::overlay(b, current);
    let project = project_or_default(s, T::project_in(&b)).await?;
    auth.require_configure(&s.engine, &project).await?;
    let r = s
        .engine
        .rules()
        .save(Some(dispatch_core::RuleId(id)), T::parse(b, project)?)
        .await?;
    Ok(axum::Json(r.into()))
}

/// Deletes a rule (the policy layer checked the caller administers its project).
async fn delete<T: RuleApi>(s: &AppState, id: i64) -> ApiResult<StatusCode> {
    s.engine
        .rules()
        .delete::<T>(dispatch_core::RuleId(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

impl RuleApi for Engagements {
    type In = EngagementRuleIn;
    type Out = EngagementRuleOut;

    fn project_in(b: &EngagementRuleIn) -> Option<String> {
        b.project.clone()
    }

    fn project_of(current: &EngagementRuleOut) -> &str {
        &current.project
    }

    fn overlay(b: EngagementRuleIn, current: EngagementRuleOut) -> EngagementRuleIn {
        EngagementRuleIn {
            project: b.project.or(Some(current.project)),
            name: b.name.or(Some(current.name)),
            description: b.description.or(Some(current.description)),
            filter: b.filter.or(Some(current.filter)),
            individuals: b.individuals.or(Some(current.individuals)),
            teams: b.teams.or(Some(current.teams)),
            services: b.services.or(Some(current.services)),
            documents: b.documents.or(Some(current.documents)),
            enabled: b.enabled.or(Some(current.enabled)),
        }
    }

    fn parse(b: EngagementRuleIn, project: String) -> Result<EngagementRuleSpec, ValidationError> {
        let mut e = ValidationError::default();
        let head = Head::parse(&mut e, b.name.as_deref(), b.description, b.filter.as_ref());
        let individuals: Vec<String> =
            parse::emails(&mut e, "individuals", &b.individuals.unwrap_or_default())
                .into_iter()
                .map(|m| m.to_string())
                .collect();
        let mut documents = Vec::new();
        for d in b.documents.unwrap_or_default() {
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
        let teams = b.teams.unwrap_or_default();
        let services = b.services.unwrap_or_default();
        if individuals.is_empty() && teams.is_empty() && services.is_empty() && documents.is_empty()
        {
            e.push(
                "individuals",
                "a rule engages someone or something: give individuals, teams, services or documents",
            );
        }
        e.into_result()?;
        Ok(head.spec(
            project,
            b.enabled,
            Engagements {
                individuals,
                teams,
                services,
                documents,
            },
        ))
    }
}

/// The five routes of one kind of rule — list, create, show, change, delete — as thin handlers
/// over the generic functions above, each with its OpenAPI entry; each kind writes one call.
macro_rules! rule_routes {
    ($T:ty, $path:tt, $item:tt, $In:ident, $Out:ident, $what:tt, $deleted:tt,
     $list:ident, $create:ident, $show:ident, $update:ident, $delete:ident) => {
        #[doc = concat!("The ", $what, "s, by name.")]
        #[utoipa::path(get, path = $path, tag = "rules", params(RulesQuery),
            responses((status = 200, body = Vec<$Out>)))]
        pub async fn $list(
            State(s): State<AppState>,
            _auth: Auth,
            Query(q): Query<RulesQuery>,
        ) -> ApiResult<axum::Json<Vec<$Out>>> {
            list::<$T>(&s, q).await
        }

        #[doc = concat!("Creates a ", $what, " (admins).")]
        #[utoipa::path(post, path = $path, request_body = $In, tag = "rules",
            responses((status = 201, body = $Out), (status = 403, body = ErrorBody),
                (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn $create(
            State(s): State<AppState>,
            auth: Auth,
            Json(b): Json<$In>,
        ) -> ApiResult<(StatusCode, axum::Json<$Out>)> {
            create::<$T>(&s, &auth, b).await
        }

        #[doc = concat!("One ", $what, ".")]
        #[utoipa::path(get, path = $item, tag = "rules",
            params(("id" = i64, Path, description = "Rule id")),
            responses((status = 200, body = $Out), (status = 404, body = ErrorBody)))]
        pub async fn $show(
            State(s): State<AppState>,
            _auth: Auth,
            Path(id): Path<i64>,
        ) -> ApiResult<axum::Json<$Out>> {
            show::<$T>(&s, id).await
        }

        #[doc = concat!("Changes a ", $what, " (admins); absent fields are kept.")]
        #[utoipa::path(patch, path = $item, request_body = $In, tag = "rules",
            params(("id" = i64, Path, description = "Rule id")),
            responses((status = 200, body = $Out), (status = 403, body = ErrorBody),
                (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
        pub async fn $update(
            State(s): State<AppState>,
            auth: Auth,
            Path(id): Path<i64>,
            Json(b): Json<$In>,
        ) -> ApiResult<axum::Json<$Out>> {
            update::<$T>(&s, &auth, id, b).await
        }

        #[doc = concat!("Deletes a ", $what, " (admins)", $deleted, ".")]
        #[utoipa::path(delete, path = $item, tag = "rules",
            params(("id" = i64, Path, description = "Rule id")),
            responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
        pub async fn $delete(
            State(s): State<AppState>,
            _auth: Auth,
            Path(id): Path<i64>,
        ) -> ApiResult<StatusCode> {
            delete::<$T>(&s, id).await
        }
    };
}

rule_routes!(
    Engagements,
    "/api/v1/engagement-rules",
    "/api/v1/engagement-rules/{id}",
    EngagementRuleIn,
    EngagementRuleOut,
    "engagement rule",
    "; what it engaged stays",
    list_engagement,
    create_engagement,
    show_engagement,
    update_engagement,
    delete_engagement
);

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
            target_kind: r.targets.target_kind,
            target: r.targets.target,
            restricted_safe: r.targets.restricted_safe,
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

impl RuleApi for NotificationTarget {
    type In = NotificationRuleIn;
    type Out = NotificationRuleOut;

    fn project_in(b: &NotificationRuleIn) -> Option<String> {
        b.project.clone()
    }

    fn project_of(current: &NotificationRuleOut) -> &str {
        &current.project
    }

    /// Only organization admins may mark a target restricted-safe, or unmark one.
    fn guard(
        auth: &Auth,
        b: &NotificationRuleIn,
        current: Option<&NotificationRuleOut>,
    ) -> ApiResult<()> {
        let was = current.is_some_and(|c| c.restricted_safe);
        restricted_safe_needs_admin(auth, b.restricted_safe.filter(|v| *v != was))
    }

    fn overlay(b: NotificationRuleIn, current: NotificationRuleOut) -> NotificationRuleIn {
        NotificationRuleIn {
            project: b.project.or(Some(current.project)),
            name: b.name.or(Some(current.name)),
            description: b.description.or(Some(current.description)),
            filter: b.filter.or(Some(current.filter)),
            target_kind: b.target_kind.or(Some(current.target_kind)),
            target: b.target.or(Some(current.target)),
            restricted_safe: b.restricted_safe.or(Some(current.restricted_safe)),
            enabled: b.enabled.or(Some(current.enabled)),
        }
    }

    fn parse(
        b: NotificationRuleIn,
        project: String,
    ) -> Result<NotificationRuleSpec, ValidationError> {
        let mut e = ValidationError::default();
        let head = Head::parse(&mut e, b.name.as_deref(), b.description, b.filter.as_ref());
        let target_kind =
            parse::required(&mut e, "target_kind", &b.target_kind).map(|k| k.trim().to_lowercase());
        let target = parse::required(&mut e, "target", &b.target).map(str::to_string);
        e.into_result()?;
        Ok(head.spec(
            project,
            b.enabled,
            NotificationTarget {
                target_kind: target_kind.expect("checked"),
                target: target.expect("checked"),
                restricted_safe: b.restricted_safe.unwrap_or(false),
            },
        ))
    }
}

rule_routes!(
    NotificationTarget,
    "/api/v1/notification-rules",
    "/api/v1/notification-rules/{id}",
    NotificationRuleIn,
    NotificationRuleOut,
    "notification rule",
    "",
    list_notification,
    create_notification,
    show_notification,
    update_notification,
    delete_notification
);
