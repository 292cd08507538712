//! Incident priorities of a project: whether the commander is paged and how often status
//! reports are due.

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
use dispatch_engine::data::model::incident_priority;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Priority routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{slug}/incident-priorities",
            get(list).post(create),
        )
        .route(
            "/projects/{slug}/incident-priorities/{id}",
            get(show).patch(update),
        )
}

/// Longest report cadence accepted, in hours (30 days).
const MAX_REMINDER_HOURS: i32 = 720;

/// An incident priority.
#[derive(Serialize, ToSchema)]
pub struct IncidentPriorityOut {
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
    /// The project's default priority.
    pub default: bool,
    /// Offered when declaring.
    pub enabled: bool,
    /// Page the incident commander.
    pub page_commander: bool,
    /// Hours between tactical reports (`null`: no reminder).
    pub tactical_report_reminder_hours: Option<i32>,
    /// Hours between executive reports (`null`: no reminder).
    pub executive_report_reminder_hours: Option<i32>,
    /// Position in lists.
    pub view_order: i32,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<incident_priority::Model> for IncidentPriorityOut {
    fn from(p: incident_priority::Model) -> Self {
        Self {
            id: p.id,
            slug: p.slug,
            name: p.name,
            description: p.description,
            color: p.color,
            default: p.is_default,
            enabled: p.enabled,
            page_commander: p.page_commander,
            tactical_report_reminder_hours: p.tactical_report_reminder_hours,
            executive_report_reminder_hours: p.executive_report_reminder_hours,
            view_order: p.view_order,
            created_at: p.created_at,
        }
    }
}

/// A new incident priority.
#[derive(Deserialize, ToSchema)]
pub struct IncidentPriorityIn {
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
    /// Page the incident commander (default false).
    pub page_commander: Option<bool>,
    /// Hours between tactical reports, 1-720 (none when absent).
    pub tactical_report_reminder_hours: Option<i32>,
    /// Hours between executive reports, 1-720 (none when absent).
    pub executive_report_reminder_hours: Option<i32>,
    /// Position in lists (default 0).
    pub view_order: Option<i32>,
}

/// Changes to an incident priority: absent fields are kept, `null` clears a nullable one.
#[derive(Deserialize, ToSchema)]
pub struct IncidentPriorityPatch {
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
    /// Page the incident commander.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub page_commander: Patch<bool>,
    /// Hours between tactical reports; `null`: no reminder.
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub tactical_report_reminder_hours: Patch<i32>,
    /// Hours between executive reports; `null`: no reminder.
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub executive_report_reminder_hours: Patch<i32>,
    /// Position in lists.
    #[serde(default)]
    #[schema(value_type = Option<i32>)]
    pub view_order: Patch<i32>,
}

impl From<IncidentPriorityIn> for IncidentPriorityPatch {
    fn from(b: IncidentPriorityIn) -> Self {
        Self {
            name: b.name.into(),
            slug: b.slug.into(),
            description: b.description.into(),
            color: b.color.into(),
            default: b.default.into(),
            enabled: b.enabled.into(),
            page_commander: b.page_commander.into(),
            tactical_report_reminder_hours: b.tactical_report_reminder_hours.into(),
            executive_report_reminder_hours: b.executive_report_reminder_hours.into(),
            view_order: b.view_order.into(),
        }
    }
}

/// A report cadence: 1 to [`MAX_REMINDER_HOURS`] hours, or `null` for none.
fn hours(e: &mut ValidationError, field: &str, p: Patch<i32>) -> Patch<i32> {
    match p {
        Patch::Value(h) if !(1..=MAX_REMINDER_HOURS).contains(&h) => {
            e.push(
                field,
                format!(
                    "must be between 1 and {MAX_REMINDER_HOURS} hours, or null for none (got {h})"
                ),
            );
            Patch::Absent
        }
        other => other,
    }
}

impl entry::Entry for incident_priority::Model {
    type Out = IncidentPriorityOut;
    type In = IncidentPriorityIn;
    type Patch = IncidentPriorityPatch;
    fn fresh() -> Self {
        Self {
            description: String::new(),
            color: None,
            is_default: false,
            enabled: true,
            page_commander: false,
            tactical_report_reminder_hours: None,
            executive_report_reminder_hours: None,
            view_order: 0,
            ..Default::default()
        }
    }
    fn name_in(b: &IncidentPriorityIn) -> &Option<String> {
        &b.name
    }
    fn apply(p: IncidentPriorityPatch, row: &mut Self, e: &mut ValidationError) {
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
        set(
            &mut row.page_commander,
            parse::not_null(e, "page_commander", p.page_commander),
        );
        let field = "tactical_report_reminder_hours";
        let tactical = hours(e, field, p.tactical_report_reminder_hours);
        set_opt(&mut row.tactical_report_reminder_hours, tactical);
        let field = "executive_report_reminder_hours";
        let executive = hours(e, field, p.executive_report_reminder_hours);
        set_opt(&mut row.executive_report_reminder_hours, executive);
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
    incident_priority::Model,
    "/api/v1/projects/{slug}/incident-priorities",
    "/api/v1/projects/{slug}/incident-priorities/{id}",
    IncidentPriorityIn,
    IncidentPriorityOut,
    IncidentPriorityPatch,
    "priorities",
    "a priority"
);
