//! Commands: what a transport asks the engine to do, already parsed into domain values. Every
//! transport (REST, web, chat, CLI) builds the same command for the same intent.

use crate::patch::Patch;
use crate::values::{Email, IncidentTitle, LongText};
use crate::{IncidentStatus, ParticipantRole, ReportKind, TaskPriority, TaskStatus, Visibility};
use chrono::{DateTime, Utc};

/// Declare a new incident.
#[derive(Debug, Clone)]
pub struct DeclareIncident {
    /// Project slug; the default project when `None`.
    pub project: Option<String>,
    /// What is wrong.
    pub title: IncidentTitle,
    /// What is known so far.
    pub description: LongText,
    /// Type slug or name; the project's default when `None`.
    pub incident_type: Option<String>,
    /// Priority slug or name; the default when `None`.
    pub priority: Option<String>,
    /// Severity slug or name; the default when `None`.
    pub severity: Option<String>,
    /// The type's default visibility when `None`.
    pub visibility: Option<Visibility>,
    /// Tag names (`name` or `type:name`).
    pub tags: Vec<String>,
    /// The incident commander; the reporter when `None`.
    pub commander: Option<Email>,
    /// When it was reported; now when `None`.
    pub reported_at: Option<DateTime<Utc>>,
    /// Declare it already stable or closed (back-filling a past incident); active when `None`.
    pub status: Option<IncidentStatus>,
}

impl DeclareIncident {
    /// A declaration of `title` with `description` and nothing else: the default project, its
    /// default type, priority and severity, the reporter as commander, reported now, active.
    pub fn new(title: IncidentTitle, description: LongText) -> Self {
        Self {
            project: None,
            title,
            description,
            incident_type: None,
            priority: None,
            severity: None,
            visibility: None,
            tags: vec![],
            commander: None,
            reported_at: None,
            status: None,
        }
    }
}

/// Change fields of an incident (PATCH semantics: `None`/absent keeps the value).
#[derive(Debug, Clone, Default)]
pub struct UpdateIncident {
    /// New title.
    pub title: Option<IncidentTitle>,
    /// New description.
    pub description: Option<LongText>,
    /// New resolution, or cleared.
    pub resolution: Patch<LongText>,
    /// New type.
    pub incident_type: Option<String>,
    /// New priority.
    pub priority: Option<String>,
    /// New severity.
    pub severity: Option<String>,
    /// New visibility.
    pub visibility: Option<Visibility>,
    /// New tag set.
    pub tags: Option<Vec<String>>,
    /// New status (same rules as the explicit transitions).
    pub status: Option<IncidentStatus>,
}

impl UpdateIncident {
    /// True when the command changes nothing.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.resolution.is_absent()
            && self.incident_type.is_none()
            && self.priority.is_none()
            && self.severity.is_none()
            && self.visibility.is_none()
            && self.tags.is_none()
            && self.status.is_none()
    }
}

/// Give a person a role in an incident.
#[derive(Debug, Clone)]
pub struct AssignRole {
    /// The person (created in the directory if new).
    pub email: Email,
    /// The role.
    pub role: ParticipantRole,
}

/// Add a custom entry to the timeline.
#[derive(Debug, Clone)]
pub struct AddTimelineEvent {
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// What happened.
    pub description: LongText,
    /// Extra structured data.
    pub details: Option<serde_json::Value>,
    /// Pin it.
    pub pinned: bool,
}

/// Create a task.
#[derive(Debug, Clone)]
pub struct CreateTask {
    /// What to do.
    pub description: LongText,
    /// Who does it.
    pub assignees: Vec<Email>,
    /// Who answers for it; the creator when `None`.
    pub owner: Option<Email>,
    /// Due time.
    pub resolve_by: Option<DateTime<Utc>>,
    /// Urgency.
    pub priority: TaskPriority,
}

/// Change a task.
#[derive(Debug, Clone, Default)]
pub struct UpdateTask {
    /// New description.
    pub description: Option<LongText>,
    /// New assignees.
    pub assignees: Option<Vec<Email>>,
    /// New owner.
    pub owner: Option<Email>,
    /// New due time, or cleared.
    pub resolve_by: Patch<DateTime<Utc>>,
    /// New status.
    pub status: Option<TaskStatus>,
    /// New priority.
    pub priority: Option<TaskPriority>,
}

/// Post a status report.
#[derive(Debug, Clone)]
pub struct CreateReport {
    /// Tactical or executive.
    pub kind: ReportKind,
    /// The fields: tactical `conditions`/`actions`/`needs`, executive
    /// `current_status`/`overview`/`next_steps`.
    pub fields: Vec<(&'static str, LongText)>,
}

impl ReportKind {
    /// The fields a report of this kind carries, all required.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            ReportKind::Tactical => &["conditions", "actions", "needs"],
            ReportKind::Executive => &["current_status", "overview", "next_steps"],
        }
    }
}
