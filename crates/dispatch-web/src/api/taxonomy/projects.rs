//! Projects: the scopes that own taxonomies, tags, teams, services and incident keys.

use crate::api::parse;
use crate::api::rows::{set, slug_from_name};
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::values::{KeyPrefix, Name, Slug};
use dispatch_core::{Patch, ValidationError};
use dispatch_engine::data::model::project;
use dispatch_engine::Engine;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Project routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list).post(create))
        .route("/projects/{slug}", get(show).patch(update))
}

/// A project.
#[derive(Serialize, ToSchema)]
pub struct ProjectOut {
    /// Id.
    pub id: i64,
    /// URL-safe identifier.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Prefix of its incident keys (`SEC` in `SEC-42`).
    pub key_prefix: String,
    /// What it is for.
    pub description: String,
    /// Whether people may join its open incidents by themselves.
    pub allow_self_join: bool,
    /// Whether incidents go here when no project is named.
    pub default: bool,
    /// Whether only its members (and organization admins, and each incident's participants)
    /// see and declare its incidents.
    pub members_only: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Id of the priority incidents take when they become stable, if any.
    pub stable_priority_id: Option<i64>,
    /// The providers the project chose: capability → provider slug. Capabilities it does not
    /// name use the server's defaults.
    pub providers: BTreeMap<String, String>,
    /// The provider used for every capability: the project's choice, else the server's
    /// default (`null` when this server has none).
    pub effective_providers: BTreeMap<String, Option<String>>,
    /// The project's settings for the providers that take some (e.g. `jira`: project key, issue
    /// type, labels, transition names, custom fields, overrides `by_type`); see docs/providers.md.
    #[schema(value_type = Object)]
    pub provider_settings: serde_json::Value,
    /// Reacting to a room message with this emoji puts it on the timeline (default ⏱).
    pub timeline_emoji: String,
    /// How many room messages make an observer a participant.
    pub observer_promotion_messages: i32,
    /// Whether its weekly report is sent to its notification rules' targets.
    pub weekly_report: bool,
    /// The classic cost model's yearly cost of one employee (default 50000).
    pub annual_employee_cost: i64,
    /// The classic cost model's working hours in a year (default 2080); the hourly rate is
    /// `annual_employee_cost / business_year_hours`.
    pub business_year_hours: i64,
}

impl ProjectOut {
    /// The project as shown, with the providers it uses.
    pub fn new(engine: &Engine, p: project::Model) -> Self {
        let used = engine.integrations().of_project(&p);
        Self {
            providers: used
                .chosen
                .iter()
                .map(|(c, s)| (c.to_string(), s.clone()))
                .collect(),
            effective_providers: used
                .effective
                .iter()
                .map(|(c, s)| (c.to_string(), s.map(String::from)))
                .collect(),
            provider_settings: serde_json::to_value(
                dispatch_core::provider_settings::ProviderSettings::from_stored(
                    &p.provider_settings,
                ),
            )
            .unwrap_or_default(),
            id: p.id,
            slug: p.slug,
            name: p.name,
            key_prefix: p.key_prefix,
            description: p.description,
            allow_self_join: p.allow_self_join,
            default: p.is_default,
            members_only: p.members_only,
            created_at: p.created_at,
            stable_priority_id: p.stable_priority_id,
            timeline_emoji: p.timeline_emoji,
            observer_promotion_messages: p.observer_promotion_messages,
            weekly_report: p.weekly_report,
            annual_employee_cost: p.annual_employee_cost,
            business_year_hours: p.business_year_hours,
        }
    }
}

/// A new project.
#[derive(Deserialize, ToSchema)]
pub struct ProjectIn {
    /// URL-safe identifier: lower-case letters, digits, dashes (derived from the name when absent).
    pub slug: Option<String>,
    /// Display name (required).
    #[schema(required = true)]
    pub name: Option<String>,
    /// Prefix of incident keys: 2-10 letters or digits, starting with a letter (required).
    #[schema(required = true)]
    pub key_prefix: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// Whether people may join its open incidents by themselves (default true).
    pub allow_self_join: Option<bool>,
    /// Make it the default project (the previous default stops being one).
    pub default: Option<bool>,
    /// Only its members (and organization admins) see and declare its incidents (default false).
    pub members_only: Option<bool>,
    /// Providers to use instead of the server's defaults: capability → provider slug, e.g.
    /// `{"email": "smtp", "conversation": "dispatch-room"}` (see `GET /api/v1/providers`).
    #[schema(value_type = Option<Object>)]
    pub providers: Option<serde_json::Value>,
    /// Settings for the providers that take some: provider slug → settings, e.g.
    /// `{"jira": {"project_key": "OPS", "issue_type": "Incident"}}`.
    #[schema(value_type = Option<Object>)]
    pub provider_settings: Option<serde_json::Value>,
    /// The emoji that puts a room message on the timeline (default ⏱).
    pub timeline_emoji: Option<String>,
    /// How many room messages make an observer a participant (1-1000, default 3).
    pub observer_promotion_messages: Option<i64>,
    /// Send its weekly report to its notification rules' targets (default false).
    pub weekly_report: Option<bool>,
    /// The yearly cost of one employee, for the cost models (default 50000).
    pub annual_employee_cost: Option<i64>,
    /// Working hours in a year, for the cost models (default 2080).
    pub business_year_hours: Option<i64>,
}

/// Changes to a project: absent fields are kept.
#[derive(Deserialize, ToSchema)]
pub struct ProjectPatch {
    /// New slug.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub slug: Patch<String>,
    /// New name.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    /// New key prefix (only while the project has no incidents).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub key_prefix: Patch<String>,
    /// New description; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// Whether people may join its open incidents by themselves.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub allow_self_join: Patch<bool>,
    /// `true` makes it the default project; the default cannot be unset (make another default).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub default: Patch<bool>,
    /// Whether only its members (and organization admins, and each incident's participants)
    /// see and declare its incidents.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub members_only: Patch<bool>,
    /// The priority (slug or name) incidents take when they become stable; `null` for none.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub stable_priority: Patch<String>,
    /// Provider choices to change: capability → provider slug, or `null` to go back to the
    /// server's default for that capability; capabilities left out keep their choice. `null`
    /// for the whole object clears every choice.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub providers: Patch<serde_json::Value>,
    /// Provider settings to change, as a JSON merge patch (RFC 7396) of provider slug → its
    /// settings: given fields replace, `null` drops a field (or a provider's settings), fields
    /// left out are kept. `null` for the whole object drops every provider's settings.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub provider_settings: Patch<serde_json::Value>,
    /// The emoji that puts a room message on the timeline.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub timeline_emoji: Patch<String>,
    /// How many room messages make an observer a participant (1-1000).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub observer_promotion_messages: Patch<i64>,
    /// Whether its weekly report is sent to its notification rules' targets.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub weekly_report: Patch<bool>,
    /// The yearly cost of one employee, for the cost models (0-100000000).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub annual_employee_cost: Patch<i64>,
    /// Working hours in a year, for the cost models (1-8784).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    pub business_year_hours: Patch<i64>,
}

impl From<ProjectIn> for ProjectPatch {
    fn from(b: ProjectIn) -> Self {
        Self {
            slug: b.slug.into(),
            name: b.name.into(),
            key_prefix: b.key_prefix.into(),
            description: b.description.into(),
            allow_self_join: b.allow_self_join.into(),
            default: b.default.into(),
            members_only: b.members_only.into(),
            stable_priority: Patch::Absent,
            providers: b.providers.into(),
            provider_settings: b.provider_settings.into(),
            timeline_emoji: b.timeline_emoji.into(),
            observer_promotion_messages: b.observer_promotion_messages.into(),
            weekly_report: b.weekly_report.into(),
            annual_employee_cost: b.annual_employee_cost.into(),
            business_year_hours: b.business_year_hours.into(),
        }
    }
}

/// Applies provider choice changes to the stored choices (`current`, JSON). Every bad entry is
/// a field error named `providers.<capability>`; `None` when nothing changes.
fn merge_providers(
    engine: &Engine,
    current: &str,
    change: Patch<serde_json::Value>,
    e: &mut ValidationError,
) -> Option<String> {
    let mut chosen: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(current).unwrap_or_default();
    match change {
        Patch::Absent => return None,
        Patch::Null => chosen.clear(),
        Patch::Value(v) => {
            let Some(map) = v.as_object() else {
                e.push(
                    "providers",
                    "must be an object of capability: provider slug",
                );
                return None;
            };
            let (cleared, set): (Vec<_>, Vec<_>) = map.iter().partition(|(_, v)| v.is_null());
            let set: serde_json::Map<String, serde_json::Value> = set
                .into_iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (k, _) in cleared {
                if k.parse::<dispatch_core::Capability>().is_err() {
                    e.push(
                        format!("providers.{k}"),
                        format!(
                            "unknown capability {k:?}; known: {}",
                            dispatch_core::Capability::NAMES.join(", ")
                        ),
                    );
                }
                chosen.remove(k);
            }
            for (c, slug) in engine
                .integrations()
                .check(&serde_json::Value::Object(set), e)
            {
                chosen.insert(c.to_string(), slug.into());
            }
        }
    }
    Some(serde_json::Value::Object(chosen.into_iter().collect()).to_string())
}

/// RFC 7396 JSON merge patch: objects merge key by key, `null` removes a key, anything else
/// replaces.
fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let Some(p) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(Default::default());
    }
    let t = target.as_object_mut().expect("an object");
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(serde_json::Value::Null), v);
        }
    }
}

/// Applies a merge patch of provider settings to the stored settings (`current`, JSON). Every
/// bad entry is a field error named `provider_settings.<provider>.<field>`; `None` when nothing
/// changes.
fn merge_provider_settings(
    current: &str,
    change: Patch<serde_json::Value>,
    e: &mut ValidationError,
) -> Option<String> {
    use dispatch_core::provider_settings::ProviderSettings;
    const FIELD: &str = "provider_settings";
    let mut stored =
        serde_json::to_value(ProviderSettings::from_stored(current)).unwrap_or_default();
    match change {
        Patch::Absent => return None,
        Patch::Null => stored = serde_json::json!({}),
        Patch::Value(v) if !v.is_object() => {
            e.push(FIELD, "must be an object of provider slug: settings");
            return None;
        }
        Patch::Value(v) => merge_patch(&mut stored, &v),
    }
    let parsed = ProviderSettings::parse(&stored, FIELD, e)?;
    Some(parsed.to_stored())
}

impl ProjectPatch {
    /// Writes the changes into `row`, recording every bad field.
    fn apply(self, engine: &Engine, row: &mut project::Model, e: &mut ValidationError) {
        let merged = merge_providers(engine, &row.providers, self.providers, e);
        set(&mut row.providers, merged);
        let settings = merge_provider_settings(&row.provider_settings, self.provider_settings, e);
        set(&mut row.provider_settings, settings);
        let slug = parse::parsed(e, "slug", self.slug, Slug::parse);
        set(&mut row.slug, slug.map(|s| s.as_str().to_string()));
        let name = parse::parsed(e, "name", self.name, Name::parse);
        set(&mut row.name, name.map(Name::into_inner));
        let prefix = parse::parsed(e, "key_prefix", self.key_prefix, KeyPrefix::parse);
        set(&mut row.key_prefix, prefix.map(|p| p.as_str().to_string()));
        set(
            &mut row.description,
            parse::description(e, "description", self.description),
        );
        let self_join = parse::not_null(e, "allow_self_join", self.allow_self_join);
        set(&mut row.allow_self_join, self_join);
        set(
            &mut row.is_default,
            parse::not_null(e, "default", self.default),
        );
        set(
            &mut row.members_only,
            parse::not_null(e, "members_only", self.members_only),
        );
        set(
            &mut row.weekly_report,
            parse::not_null(e, "weekly_report", self.weekly_report),
        );
        let emoji =
            parse::not_null(e, "timeline_emoji", self.timeline_emoji).map(|v| v.trim().to_string());
        if emoji
            .as_ref()
            .is_some_and(|v| v.is_empty() || v.chars().count() > 64)
        {
            e.push("timeline_emoji", "must be 1-64 characters");
        }
        set(&mut row.timeline_emoji, emoji);
        let promotion = parse::not_null(
            e,
            "observer_promotion_messages",
            self.observer_promotion_messages,
        )
        .filter(|n| {
            let ok = (1..=1000).contains(n);
            if !ok {
                e.push("observer_promotion_messages", "must be 1-1000");
            }
            ok
        });
        set(
            &mut row.observer_promotion_messages,
            promotion.map(|n| n as i32),
        );
        for (field, value, column, range) in [
            (
                "annual_employee_cost",
                self.annual_employee_cost,
                &mut row.annual_employee_cost,
                0..=100_000_000,
            ),
            (
                "business_year_hours",
                self.business_year_hours,
                &mut row.business_year_hours,
                1..=8784,
            ),
        ] {
            let v = parse::not_null(e, field, value).filter(|n| {
                let ok = range.contains(n);
                if !ok {
                    e.push(field, format!("must be {}-{}", range.start(), range.end()));
                }
                ok
            });
            set(column, v);
        }
    }
}

/// Every project, by name.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects",
    responses((status = 200, body = Vec<ProjectOut>), (status = 401, body = ErrorBody)))]
pub async fn list(
    State(s): State<AppState>,
    _auth: Auth,
) -> ApiResult<axum::Json<Vec<ProjectOut>>> {
    let projects = s.engine.projects().list().await?;
    Ok(axum::Json(
        projects
            .into_iter()
            .map(|p| ProjectOut::new(&s.engine, p))
            .collect(),
    ))
}

/// Creates a project with the default incident types, priorities and severities.
#[utoipa::path(post, path = "/api/v1/projects", request_body(content = ProjectIn, example = json!({"name": "Security", "key_prefix": "SEC"})), tag = "projects",
    responses((status = 201, body = ProjectOut), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn create(
    State(s): State<AppState>,
    _auth: Auth,
    Json(b): Json<ProjectIn>,
) -> ApiResult<(StatusCode, axum::Json<ProjectOut>)> {
    let mut e = ValidationError::default();
    parse::required(&mut e, "name", &b.name);
    parse::required(&mut e, "key_prefix", &b.key_prefix);
    let mut row = dispatch_engine::Engine::new_project();
    ProjectPatch::from(b).apply(&s.engine, &mut row, &mut e);
    slug_from_name(&mut row.slug, &row.name);
    e.into_result()?;
    let p = s.engine.projects().create(row).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(ProjectOut::new(&s.engine, p)),
    ))
}

/// One project.
#[utoipa::path(get, path = "/api/v1/projects/{slug}", tag = "projects",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, body = ProjectOut), (status = 404, body = ErrorBody)))]
pub async fn show(
    State(s): State<AppState>,
    _auth: Auth,
    Path(slug): Path<String>,
) -> ApiResult<axum::Json<ProjectOut>> {
    let p = s.engine.projects().get(&slug).await?;
    Ok(axum::Json(ProjectOut::new(&s.engine, p)))
}

/// Changes a project.
#[utoipa::path(patch, path = "/api/v1/projects/{slug}", request_body = ProjectPatch, tag = "projects",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, body = ProjectOut), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(s): State<AppState>,
    auth: Auth,
    Path(slug): Path<String>,
    Json(mut b): Json<ProjectPatch>,
) -> ApiResult<axum::Json<ProjectOut>> {
    // A project admin (not an organization manager) changes their project only: which
    // project is the default is the organization's choice.
    if !auth.0.role.at_least(dispatch_core::OrgRole::Manager) && !b.default.is_absent() {
        return Err(ValidationError::field(
            "default",
            "only an organization manager or owner may change the default project",
        )
        .into());
    }
    let before = s.engine.projects().get(&slug).await?;
    let project_id = before.id;
    let mut row = before.clone();
    let mut e = ValidationError::default();
    let stable = std::mem::take(&mut b.stable_priority);
    b.apply(&s.engine, &mut row, &mut e);
    match stable {
        Patch::Absent => {}
        Patch::Null => row.stable_priority_id = None,
        Patch::Value(name) => match s
            .engine
            .taxonomy()
            .incident_priorities(dispatch_core::ProjectId(project_id))
            .await?
            .into_iter()
            .find(|p| {
                p.enabled
                    && (p.slug == name.trim().to_lowercase()
                        || p.name.eq_ignore_ascii_case(name.trim()))
            }) {
            Some(p) => row.stable_priority_id = Some(p.id),
            None => e.push("stable_priority", format!("unknown priority {name:?}")),
        },
    }
    e.into_result()?;
    let p = s.engine.projects().update(&before, row).await?;
    Ok(axum::Json(ProjectOut::new(&s.engine, p)))
}
