//! Incident types of a project: default visibility and whether incidents of the type count in
//! metrics, reminders and reviews.

use super::entry;
use crate::api::parse;
use crate::api::rows::set;
use crate::auth::Auth;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::{Json, Path};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use dispatch_core::{Patch, ValidationError, Visibility};
use dispatch_engine::data::model::incident_type;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Incident type routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{slug}/incident-types", get(list).post(create))
        .route(
            "/projects/{slug}/incident-types/{id}",
            get(show).patch(update),
        )
}

/// An incident type.
#[derive(Serialize, ToSchema)]
pub struct IncidentTypeOut {
    /// Id.
    pub id: i64,
    /// URL-safe identifier.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Visibility of new incidents of this type: `open` or `restricted`.
    pub default_visibility: String,
    /// The project's default type.
    pub default: bool,
    /// Offered when declaring.
    pub enabled: bool,
    /// Left out of metrics.
    pub exclude_from_metrics: bool,
    /// No report or task reminders.
    pub exclude_from_reminders: bool,
    /// No post-incident review.
    pub exclude_from_review: bool,
    /// Position in lists.
    pub view_order: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Markdown template of the incident document (`null`: the built-in one).
    pub incident_template: Option<String>,
    /// Template of the post-incident review document.
    pub review_template: Option<String>,
    /// Template of the executive summary document.
    pub executive_template: Option<String>,
    /// The cost model its incidents' response cost is computed with (`null`: the classic
    /// model); chosen with the cost model's `incident_types`.
    pub cost_model_id: Option<i64>,
}

impl From<incident_type::Model> for IncidentTypeOut {
    fn from(t: incident_type::Model) -> Self {
        Self {
            id: t.id,
            slug: t.slug,
            name: t.name,
            description: t.description,
            default_visibility: t.default_visibility,
            default: t.is_default,
            enabled: t.enabled,
            exclude_from_metrics: t.exclude_from_metrics,
            exclude_from_reminders: t.exclude_from_reminders,
            exclude_from_review: t.exclude_from_review,
            view_order: t.view_order,
            created_at: t.created_at,
            incident_template: t.incident_template,
            review_template: t.review_template,
            executive_template: t.executive_template,
            cost_model_id: t.cost_model_id,
        }
    }
}

/// A new incident type.
#[derive(Deserialize, ToSchema)]
pub struct IncidentTypeIn {
    /// Display name (required).
    #[schema(required = true)]
    pub name: Option<String>,
    /// URL-safe identifier (derived from the name when absent).
    pub slug: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// `open` (default) or `restricted`.
    pub default_visibility: Option<String>,
    /// Make it the project's only default.
    pub default: Option<bool>,
    /// Offered when declaring (default true).
    pub enabled: Option<bool>,
    /// Leave out of metrics (default false).
    pub exclude_from_metrics: Option<bool>,
    /// No reminders (default false).
    pub exclude_from_reminders: Option<bool>,
    /// No post-incident review (default false).
    pub exclude_from_review: Option<bool>,
    /// Position in lists (default 0).
    pub view_order: Option<i32>,
    /// Incident document template: markdown with `{{name}}`, `{{title}}`, `{{commander}}`,
    /// `{{status}}`, `{{links}}`, `{{timeline}}`, … (the built-in one when absent).
    pub incident_template: Option<String>,
    /// Post-incident review template.
    pub review_template: Option<String>,
    /// Executive summary template.
    pub executive_template: Option<String>,
}

/// Changes to an incident type: absent fields are kept.
#[derive(Deserialize, ToSchema)]
pub struct IncidentTypePatch {
    /// New name.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub name: Patch<String>,
    /// New slug.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub slug: Patch<String>,
    /// New description; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub description: Patch<String>,
    /// `open` or `restricted`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub default_visibility: Patch<String>,
    /// `true` makes it the only default; the default cannot be unset (make another default).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub default: Patch<bool>,
    /// Offered when declaring; the default cannot be disabled.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub enabled: Patch<bool>,
    /// Leave out of metrics.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub exclude_from_metrics: Patch<bool>,
    /// No reminders.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub exclude_from_reminders: Patch<bool>,
    /// No post-incident review.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub exclude_from_review: Patch<bool>,
    /// Position in lists.
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub view_order: Patch<i32>,
    /// Incident document template; `null` goes back to the built-in one.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub incident_template: Patch<String>,
    /// Review template; `null` goes back to the built-in one.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub review_template: Patch<String>,
    /// Executive summary template; `null` goes back to the built-in one.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub executive_template: Patch<String>,
}

impl From<IncidentTypeIn> for IncidentTypePatch {
    fn from(b: IncidentTypeIn) -> Self {
        Self {
            name: b.name.into(),
            slug: b.slug.into(),
            description: b.description.into(),
            default_visibility: b.default_visibility.into(),
            default: b.default.into(),
            enabled: b.enabled.into(),
            exclude_from_metrics: b.exclude_from_metrics.into(),
            exclude_from_reminders: b.exclude_from_reminders.into(),
            exclude_from_review: b.exclude_from_review.into(),
            view_order: b.view_order.into(),
            incident_template: b.incident_template.into(),
            review_template: b.review_template.into(),
            executive_template: b.executive_template.into(),
        }
    }
}

impl entry::Entry for incident_type::Model {
    type Out = IncidentTypeOut;
    type In = IncidentTypeIn;
    type Patch = IncidentTypePatch;
    fn fresh() -> Self {
        Self {
            description: String::new(),
            default_visibility: Visibility::Open.as_str().to_string(),
            is_default: false,
            enabled: true,
            exclude_from_metrics: false,
            exclude_from_reminders: false,
            exclude_from_review: false,
            view_order: 0,
            ..Default::default()
        }
    }
    fn name_in(b: &IncidentTypeIn) -> &Option<String> {
        &b.name
    }
    fn apply(p: IncidentTypePatch, row: &mut Self, e: &mut ValidationError) {
        entry::apply_head(
            e,
            (p.name, p.slug, p.description),
            (&mut row.name, &mut row.slug, &mut row.description),
        );
        let visibility = parse::not_null(e, "default_visibility", p.default_visibility);
        let visibility =
            parse::enum_field::<Visibility>(e, "default_visibility", visibility.as_deref());
        set(
            &mut row.default_visibility,
            visibility.map(|v| v.as_str().to_string()),
        );
        entry::apply_flags(
            e,
            (p.default, p.enabled),
            (&mut row.is_default, &mut row.enabled),
        );
        let metrics = parse::not_null(e, "exclude_from_metrics", p.exclude_from_metrics);
        set(&mut row.exclude_from_metrics, metrics);
        let reminders = parse::not_null(e, "exclude_from_reminders", p.exclude_from_reminders);
        set(&mut row.exclude_from_reminders, reminders);
        let review = parse::not_null(e, "exclude_from_review", p.exclude_from_review);
        set(&mut row.exclude_from_review, review);
        set(
            &mut row.view_order,
            parse::not_null(e, "view_order", p.view_order),
        );
        for (field, value, column) in [
            (
                "incident_template",
                p.incident_template,
                &mut row.incident_template,
            ),
            (
                "review_template",
                p.review_template,
                &mut row.review_template,
            ),
            (
                "executive_template",
                p.executive_template,
                &mut row.executive_template,
            ),
        ] {
            match value {
                Patch::Absent => {}
                Patch::Null => *column = None,
                Patch::Value(t) if t.trim().is_empty() => *column = None,
                Patch::Value(t) if t.chars().count() > 100_000 => {
                    e.push(field, "must be at most 100000 characters")
                }
                Patch::Value(t) => match dispatch_core::template::check(&t) {
                    Ok(()) => *column = Some(t),
                    Err(m) => e.push(field, m),
                },
            }
        }
    }
    fn name_and_slug(&mut self) -> (&str, &mut String) {
        (&self.name, &mut self.slug)
    }
}

entry::entry_routes!(
    incident_type::Model,
    "/api/v1/projects/{slug}/incident-types",
    "/api/v1/projects/{slug}/incident-types/{id}",
    IncidentTypeIn,
    IncidentTypeOut,
    IncidentTypePatch,
    "incident types",
    "an incident type"
);
