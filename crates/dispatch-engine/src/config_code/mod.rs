//! Configuration as code: everything an operator configures, as one document (written as YAML
//! by `dispatch config export`, reviewed in git, applied with `dispatch config apply`).
//!
//! The document has no ids and no timestamps: objects are named by their natural keys (a
//! project's slug, a taxonomy entry's slug, a tag's or a rule's name, a webhook's URL) and refer
//! to each other by those keys. Every list is sorted by its key, so an export is stable and
//! diffs read well; exporting, applying on a fresh server and exporting again gives the same
//! document. Secrets never appear in it: a webhook's signing secret stays where it is, and a
//! webhook that an apply creates gets a fresh one, which the apply answers once.
//!
//! [`plan`] compares a document with the database (create / update / delete per object, field
//! by field); [`apply`] validates it whole, then writes the plan in one transaction, so any
//! error leaves everything as it was.

mod apply;
mod export;
mod plan;
mod rules;
mod validate;

pub use apply::{apply, Applied};
pub use export::export;
pub use plan::{plan, Change, ChangeKind, Plan};
pub use validate::validate;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The whole configuration: what `dispatch config export` writes and `dispatch config apply`
/// reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The projects, by slug.
    #[serde(default)]
    pub projects: Vec<ProjectDoc>,
    /// Outgoing webhooks (server-wide), by URL; their secrets are not in the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<Vec<WebhookDoc>>,
}

/// A project and everything configured in it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectDoc {
    pub slug: String,
    pub name: String,
    pub key_prefix: String,
    #[serde(default)]
    pub description: String,
    /// The project incidents go to when none is named (exactly one project is).
    #[serde(default)]
    pub default: bool,
    #[serde(default = "yes")]
    pub allow_self_join: bool,
    #[serde(default)]
    pub members_only: bool,
    #[serde(default = "timeline_emoji")]
    pub timeline_emoji: String,
    #[serde(default = "three")]
    pub observer_promotion_messages: i32,
    /// The cost models' yearly cost of one employee.
    #[serde(default = "annual_employee_cost")]
    pub annual_employee_cost: i64,
    /// The cost models' working hours in a year.
    #[serde(default = "business_year_hours")]
    pub business_year_hours: i64,
    /// The priority (slug) an incident takes when it becomes stable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stable_priority: Option<String>,
    /// Which provider serves each capability (capability → provider slug).
    #[serde(default)]
    pub providers: BTreeMap<String, Value>,
    /// The project's provider settings (no credentials: those are the server's).
    #[serde(default)]
    pub provider_settings: BTreeMap<String, Value>,
    #[serde(default)]
    pub incident_types: Vec<TypeDoc>,
    #[serde(default)]
    pub incident_priorities: Vec<PriorityDoc>,
    #[serde(default)]
    pub incident_severities: Vec<SeverityDoc>,
    #[serde(default)]
    pub tag_types: Vec<TagTypeDoc>,
    #[serde(default)]
    pub tags: Vec<TagDoc>,
    #[serde(default)]
    pub teams: Vec<TeamDoc>,
    #[serde(default)]
    pub services: Vec<ServiceDoc>,
    #[serde(default)]
    pub role_policies: Vec<RolePolicyDoc>,
    #[serde(default)]
    pub notification_rules: Vec<NotificationRuleDoc>,
    #[serde(default)]
    pub engagement_rules: Vec<EngagementRuleDoc>,
    #[serde(default)]
    pub signal_definitions: Vec<SignalDefinitionDoc>,
    #[serde(default)]
    pub signal_filters: Vec<SignalFilterDoc>,
}

fn yes() -> bool {
    true
}
fn three() -> i32 {
    3
}
fn annual_employee_cost() -> i64 {
    50_000
}
fn business_year_hours() -> i64 {
    2080
}
fn timeline_emoji() -> String {
    "⏱".into()
}
fn open() -> String {
    "open".into()
}
fn hour() -> i64 {
    3600
}

/// An incident type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TypeDoc {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "open")]
    pub default_visibility: String,
    #[serde(default)]
    pub default: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub exclude_from_metrics: bool,
    #[serde(default)]
    pub exclude_from_reminders: bool,
    #[serde(default)]
    pub exclude_from_review: bool,
    #[serde(default)]
    pub view_order: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executive_template: Option<String>,
}

/// An incident priority.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityDoc {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default)]
    pub default: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub page_commander: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tactical_report_reminder_hours: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executive_report_reminder_hours: Option<i32>,
    #[serde(default)]
    pub view_order: i32,
}

/// An incident severity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityDoc {
    pub slug: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    #[serde(default)]
    pub default: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "yes")]
    pub allowed_for_stable: bool,
    #[serde(default)]
    pub view_order: i32,
}

/// A tag type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagTypeDoc {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub exclusive: bool,
    #[serde(default)]
    pub required: bool,
}

/// A tag, with its tag type's name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagDoc {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag_type: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// A team.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamDoc {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub description: String,
}

/// A service (an on-call rotation at a provider, or Dispatch's own).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceDoc {
    pub name: String,
    pub provider: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub active: bool,
}

/// Who takes a role, for which incidents. Keyed by all its fields but `order` and `enabled`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RolePolicyDoc {
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub order: i32,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// A notification rule; `filter` in the filter language's text form.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationRuleDoc {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub filter: String,
    pub target_kind: String,
    pub target: String,
    #[serde(default)]
    pub restricted_safe: bool,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// An engagement rule: whom to engage (people by e-mail, teams and services by name) and which
/// documents to suggest, for the incidents its filter matches.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EngagementRuleDoc {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub filter: String,
    #[serde(default)]
    pub individuals: Vec<String>,
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default)]
    pub documents: Vec<Value>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// A signal definition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignalDefinitionDoc {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub owner: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_url: Option<String>,
    pub source: String,
    #[serde(default)]
    pub matcher: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default = "yes")]
    pub create_case: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_priority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_target: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub entity_types: Vec<Value>,
    #[serde(default)]
    pub fields: BTreeMap<String, Value>,
    #[serde(default = "hour")]
    pub dedup_window_seconds: i64,
}

/// A signal filter (snooze or deduplicate).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignalFilterDoc {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub kind: String,
    pub expression: String,
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub window_seconds: i64,
}

/// An outgoing webhook, without its secret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookDoc {
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// The event types it receives (none: every type).
    #[serde(default)]
    pub event_types: Vec<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

/// The JSON Schema (draft 2020-12) of the document, derived from its types: editors check a
/// `dispatch.yaml` against it (`dispatch config schema`, `GET /api/v1/config/schema`).
pub fn schema() -> Value {
    let mut s = schemars::schema_for!(Document).to_value();
    s["title"] = "Dispatch configuration (dispatch config export)".into();
    s
}

impl Document {
    /// Sorts every list by its key, as an export writes it.
    pub fn sort(&mut self) {
        self.projects.sort_by(|a, b| a.slug.cmp(&b.slug));
        for p in &mut self.projects {
            p.incident_types.sort_by(|a, b| a.slug.cmp(&b.slug));
            p.incident_priorities.sort_by(|a, b| a.slug.cmp(&b.slug));
            p.incident_severities.sort_by(|a, b| a.slug.cmp(&b.slug));
            p.tag_types.sort_by(|a, b| a.name.cmp(&b.name));
            p.tags.sort_by(|a, b| a.name.cmp(&b.name));
            p.teams.sort_by(|a, b| a.name.cmp(&b.name));
            p.services.sort_by(|a, b| a.name.cmp(&b.name));
            p.role_policies.sort_by_key(RolePolicyDoc::key);
            p.notification_rules.sort_by(|a, b| a.name.cmp(&b.name));
            p.engagement_rules.sort_by(|a, b| a.name.cmp(&b.name));
            p.signal_definitions.sort_by(|a, b| a.name.cmp(&b.name));
            p.signal_filters.sort_by(|a, b| a.name.cmp(&b.name));
        }
        if let Some(w) = &mut self.webhooks {
            w.sort_by(|a, b| a.url.cmp(&b.url));
        }
    }
}

impl RolePolicyDoc {
    /// What names a role policy: its role and what it applies to.
    pub fn key(&self) -> String {
        let part = |v: &Option<String>| v.clone().unwrap_or_else(|| "*".into());
        format!(
            "{} type={} priority={} tag={} service={} email={}",
            self.role,
            part(&self.incident_type),
            part(&self.priority),
            part(&self.tag),
            part(&self.service),
            part(&self.email)
        )
    }
}
