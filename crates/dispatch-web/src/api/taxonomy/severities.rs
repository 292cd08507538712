//! Incident severities of a project: labels for impact, and which ones a stable incident may
//! carry.

use super::entry;
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
use dispatch_core::values::Color;
use dispatch_core::{Patch, ValidationError};
use dispatch_engine::data::model::incident_severity;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Severity routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{slug}/incident-severities",
            get(list).post(create),
        )
        .route(
            "/projects/{slug}/incident-severities/{id}",
            get(show).patch(update),
        )
}

/// An incident severity.
#[derive(Serialize, ToSchema)]
pub struct IncidentSeverityOut {
    /// Id.
    pub id: i64,
    /// URL-safe identifier.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What it means.
    pub description: String,
    /// Display colour (`#rrggbb`).
    pub color: Option<String>,
    /// The project's default severity.
    pub default: bool,
    /// Offered when declaring.
    pub enabled: bool,
    /// A stable incident may carry it.
    pub allowed_for_stable: bool,
    /// Position in lists.
    pub view_order: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<incident_severity::Model> for IncidentSeverityOut {
    fn from(s: incident_severity::Model) -> Self {
        Self {
            id: s.id,
            slug: s.slug,
            name: s.name,
            description: s.description,
            color: s.color,
            default: s.is_default,
            enabled: s.enabled,
            allowed_for_stable: s.allowed_for_stable,
            view_order: s.view_order,
            created_at: s.created_at,
        }
    }
}

/// A new incident severity.
#[derive(Deserialize, ToSchema)]
pub struct IncidentSeverityIn {
    /// Display name (required).
    #[schema(required = true)]
    pub name: Option<String>,
    /// URL-safe identifier (derived from the name when absent).
    pub slug: Option<String>,
    /// What it means.
    pub description: Option<String>,
    /// Display colour (`#rrggbb`).
    pub color: Option<String>,
    /// Make it the project's only default.
    pub default: Option<bool>,
    /// Offered when declaring (default true).
    pub enabled: Option<bool>,
    /// A stable incident may carry it (default true).
    pub allowed_for_stable: Option<bool>,
    /// Position in lists (default 0).
    pub view_order: Option<i32>,
}

/// Changes to an incident severity: absent fields are kept, `null` clears a nullable one.
#[derive(Deserialize, ToSchema)]
pub struct IncidentSeverityPatch {
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
    /// New colour; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub color: Patch<String>,
    /// `true` makes it the only default; the default cannot be unset (make another default).
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub default: Patch<bool>,
    /// Offered when declaring; the default cannot be disabled.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub enabled: Patch<bool>,
    /// A stable incident may carry it.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub allowed_for_stable: Patch<bool>,
    /// Position in lists.
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub view_order: Patch<i32>,
}

impl From<IncidentSeverityIn> for IncidentSeverityPatch {
    fn from(b: IncidentSeverityIn) -> Self {
        Self {
            name: b.name.into(),
            slug: b.slug.into(),
            description: b.description.into(),
            color: b.color.into(),
            default: b.default.into(),
            enabled: b.enabled.into(),
            allowed_for_stable: b.allowed_for_stable.into(),
            view_order: b.view_order.into(),
        }
    }
}

impl entry::Entry for incident_severity::Model {
    type Out = IncidentSeverityOut;
    type In = IncidentSeverityIn;
    type Patch = IncidentSeverityPatch;
    fn fresh() -> Self {
        Self {
            description: String::new(),
            color: None,
            is_default: false,
            enabled: true,
            allowed_for_stable: true,
            view_order: 0,
            ..Default::default()
        }
    }
    fn name_in(b: &IncidentSeverityIn) -> &Option<String> {
        &b.name
    }
    fn apply(p: IncidentSeverityPatch, row: &mut Self, e: &mut ValidationError) {
        entry::apply_head(
            e,
            (p.name, p.slug, p.description),
            (&mut row.name, &mut row.slug, &mut row.description),
        );
        let color = parse::clearable(e, "color", p.color, Color::parse);
        set_opt(&mut row.color, color.map(|c| c.as_str().to_string()));
        entry::apply_flags(
            e,
            (p.default, p.enabled),
            (&mut row.is_default, &mut row.enabled),
        );
        let stable = parse::not_null(e, "allowed_for_stable", p.allowed_for_stable);
        set(&mut row.allowed_for_stable, stable);
        set(
            &mut row.view_order,
            parse::not_null(e, "view_order", p.view_order),
        );
    }
    fn name_and_slug(&mut self) -> (&str, &mut String) {
        (&self.name, &mut self.slug)
    }
}

entry::entry_routes!(
    incident_severity::Model,
    "/api/v1/projects/{slug}/incident-severities",
    "/api/v1/projects/{slug}/incident-severities/{id}",
    IncidentSeverityIn,
    IncidentSeverityOut,
    IncidentSeverityPatch,
    "severities",
    "a severity"
);
