//! Wire types of the API's answers (`…Out`), built from the engine's read models. Request bodies
//! (`…In`, `…Patch`) live beside their handlers.

use chrono::{DateTime, Utc};
use dispatch_core::event::TimelineEvent;
use dispatch_engine::data::model::{event, individual, report, resource};
use dispatch_engine::data::ParticipantView;
use dispatch_engine::data::TagRow;
use dispatch_engine::incident::{IncidentDetail, IncidentSummary};
use dispatch_engine::task::TaskView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A person, as shown inside other objects.
#[derive(Serialize, ToSchema)]
pub struct PersonOut {
    /// Id.
    pub id: i64,
    /// E-mail address (the identity).
    pub email: String,
    /// Display name.
    pub name: String,
}

impl From<&individual::Model> for PersonOut {
    fn from(i: &individual::Model) -> Self {
        Self {
            id: i.id,
            email: i.email.clone(),
            name: i.name.clone(),
        }
    }
}

/// The project an incident belongs to.
#[derive(Serialize, ToSchema)]
pub struct ProjectRef {
    /// Id.
    pub id: i64,
    /// Slug.
    pub slug: String,
    /// Display name.
    pub name: String,
}

/// One role held over a time span.
#[derive(Serialize, ToSchema)]
pub struct RoleOut {
    /// The role (`incident_commander`, `reporter`, `scribe`, `liaison`, `participant`, `observer`).
    pub role: String,
    /// When it was taken.
    pub assumed_at: DateTime<Utc>,
    /// When it ended (`null` while held).
    pub renounced_at: Option<DateTime<Utc>>,
}

/// A participant of an incident.
#[derive(Serialize, ToSchema)]
pub struct ParticipantOut {
    /// Participant id.
    pub id: i64,
    /// The person.
    pub individual: PersonOut,
    /// E-mail of the person (shortcut).
    pub email: String,
    /// Roles held now.
    pub roles: Vec<String>,
    /// Every role ever held, oldest first.
    pub role_history: Vec<RoleOut>,
    /// Why they were added.
    pub added_reason: Option<String>,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

impl From<&ParticipantView> for ParticipantOut {
    fn from(v: &ParticipantView) -> Self {
        Self {
            id: v.participant.id,
            individual: (&v.individual).into(),
            email: v.individual.email.clone(),
            roles: v
                .roles
                .iter()
                .filter(|r| r.renounced_at.is_none())
                .map(|r| r.role.clone())
                .collect(),
            role_history: v
                .roles
                .iter()
                .map(|r| RoleOut {
                    role: r.role.clone(),
                    assumed_at: r.assumed_at,
                    renounced_at: r.renounced_at,
                })
                .collect(),
            added_reason: v.participant.added_reason.clone(),
            joined_at: v.participant.created_at,
        }
    }
}

/// A resource created for an incident.
#[derive(Serialize, ToSchema, Clone)]
pub struct ResourceOut {
    /// Kind (`ticket`, `storage`, `document`, `review_document`, `executive_document`,
    /// `conference`, `conversation`, `group`).
    pub kind: String,
    /// The provider that made it.
    pub provider: String,
    /// `pending`, `ready`, `failed` or `archived`.
    pub status: String,
    /// Where to open it.
    pub link: Option<String>,
    /// The provider's id for it.
    pub external_id: Option<String>,
    /// The last error, when failed.
    pub error: Option<String>,
    /// What else people need to use it, by name (e.g. a conference's `passcode`).
    pub details: std::collections::BTreeMap<String, String>,
}

impl From<&resource::Model> for ResourceOut {
    fn from(r: &resource::Model) -> Self {
        Self {
            kind: r.kind.clone(),
            provider: r.provider.clone(),
            status: r.status.clone(),
            link: r.link.clone(),
            external_id: r.external_id.clone(),
            error: r.last_error.clone(),
            details: serde_json::from_str(&r.details).unwrap_or_default(),
        }
    }
}

pub(crate) fn tag_names(tags: &[TagRow]) -> Vec<String> {
    tags.iter().map(TagRow::label).collect()
}

/// A full incident.
#[derive(Serialize, ToSchema)]
pub struct IncidentOut {
    /// Row id.
    pub id: i64,
    /// Human key, e.g. `INC-42`.
    pub name: String,
    /// The project.
    pub project: ProjectRef,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Resolution, once known.
    pub resolution: Option<String>,
    /// `active`, `stable` or `closed`.
    pub status: String,
    /// `open` or `restricted`.
    pub visibility: String,
    /// Incident type slug.
    #[serde(rename = "type")]
    pub incident_type: String,
    /// Priority slug.
    pub priority: String,
    /// Severity slug.
    pub severity: String,
    /// Tags (`name`, or `type:name` for typed tags).
    pub tags: Vec<String>,
    /// The active incident commander.
    pub commander: PersonOut,
    /// Who reported it.
    pub reporter: PersonOut,
    /// Everyone engaged, with roles.
    pub participants: Vec<ParticipantOut>,
    /// What providers created for it.
    pub resources: Vec<ResourceOut>,
    /// Runbooks its engagement rules suggest.
    pub runbooks: Vec<RunbookOut>,
    /// When it was reported.
    pub reported_at: DateTime<Utc>,
    /// When it became stable.
    pub stable_at: Option<DateTime<Utc>>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// The latest tactical report (conditions, actions, needs).
    pub last_tactical_report: Option<ReportOut>,
    /// The latest executive report (current status, overview, next steps).
    pub last_executive_report: Option<ReportOut>,
    /// Its costs' total (the response cost and any other), as last computed; `null` until
    /// computed (`GET /api/v1/incidents/{id}/costs` has the breakdown).
    pub total_cost: Option<f64>,
}

/// A suggested runbook.
#[derive(Serialize, Deserialize, ToSchema, Clone)]
pub struct RunbookOut {
    /// What it is called.
    pub title: String,
    /// Where it is.
    pub link: String,
}

impl IncidentOut {
    /// Its total cost for people (`1500.00`), once computed.
    pub fn cost_text(&self) -> Option<String> {
        self.total_cost.map(|c| format!("{c:.2}"))
    }
}

impl From<IncidentDetail> for IncidentOut {
    fn from(d: IncidentDetail) -> Self {
        let r = d.row;
        Self {
            id: r.id,
            name: r.name,
            project: ProjectRef {
                id: r.project_id,
                slug: r.project_slug,
                name: r.project_name,
            },
            title: r.title,
            description: r.description,
            resolution: r.resolution,
            status: r.status,
            visibility: r.visibility,
            incident_type: r.type_slug,
            priority: r.priority_slug,
            severity: r.severity_slug,
            tags: tag_names(&d.tags),
            commander: PersonOut {
                id: r.commander_id,
                email: r.commander_email,
                name: r.commander_name,
            },
            reporter: PersonOut {
                id: r.reporter_id,
                email: r.reporter_email,
                name: r.reporter_name,
            },
            participants: d.participants.iter().map(Into::into).collect(),
            resources: d.resources.iter().map(Into::into).collect(),
            runbooks: d
                .runbooks
                .into_iter()
                .map(|(title, link)| RunbookOut { title, link })
                .collect(),
            reported_at: r.reported_at,
            stable_at: r.stable_at,
            closed_at: r.closed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_tactical_report: d.last_tactical_report.map(Into::into),
            last_executive_report: d.last_executive_report.map(Into::into),
            total_cost: d.total_cost_cents.map(|c| c as f64 / 100.0),
        }
    }
}

/// An incident in a list.
#[derive(Serialize, ToSchema)]
pub struct IncidentSummaryOut {
    /// Row id.
    pub id: i64,
    /// Human key.
    pub name: String,
    /// Project slug.
    pub project: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: String,
    /// Visibility.
    pub visibility: String,
    /// Type slug.
    #[serde(rename = "type")]
    pub incident_type: String,
    /// Priority slug.
    pub priority: String,
    /// Severity slug.
    pub severity: String,
    /// Tags.
    pub tags: Vec<String>,
    /// The incident commander.
    pub commander: PersonOut,
    /// When it was reported.
    pub reported_at: DateTime<Utc>,
    /// When it became stable.
    pub stable_at: Option<DateTime<Utc>>,
    /// When it was closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<IncidentSummary> for IncidentSummaryOut {
    fn from(s: IncidentSummary) -> Self {
        let r = s.row;
        Self {
            id: r.id,
            name: r.name,
            project: r.project_slug,
            title: r.title,
            status: r.status,
            visibility: r.visibility,
            incident_type: r.type_slug,
            priority: r.priority_slug,
            severity: r.severity_slug,
            tags: tag_names(&s.tags),
            commander: PersonOut {
                id: r.commander_id,
                email: r.commander_email,
                name: r.commander_name,
            },
            reported_at: r.reported_at,
            stable_at: r.stable_at,
            closed_at: r.closed_at,
            updated_at: r.updated_at,
        }
    }
}

/// A page of a list.
#[derive(Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// How many rows match in all; when `total_exact` is false, more than this many (incidents
    /// are counted up to 10,000, or 1,000 for a full-text search).
    pub total: u64,
    /// Whether `total` is every match rather than the limit a count stopped at.
    pub total_exact: bool,
    /// This page (from 1).
    pub page: u64,
    /// Rows per page.
    pub per_page: u64,
}

impl<T: ToSchema> Page<T> {
    /// A page of stored rows, each made into its wire type, out of `total` counted exactly.
    pub fn of<R: Into<T>>(rows: Vec<R>, total: u64, page: u64, per_page: u64) -> Self {
        Self {
            items: rows.into_iter().map(Into::into).collect(),
            total,
            total_exact: true,
            page,
            per_page,
        }
    }
}

/// A timeline event.
#[derive(Serialize, ToSchema)]
pub struct EventOut {
    /// Id.
    pub id: i64,
    /// Position in the incident's chain.
    pub seq: i64,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Event type, e.g. `incident_declared`, `status_changed`, `custom`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `dispatch` or `custom`.
    pub source: String,
    /// Who did it.
    pub actor: Option<String>,
    /// How the command arrived (`api`, `web`, `room`, `slack`, `system`).
    pub transport: String,
    /// What happened.
    pub description: String,
    /// What changed, with before/after values, as stored.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// The event, typed: its kind, who did it and its fields (see [`TypedEvent`]).
    #[schema(value_type = TypedEvent)]
    pub event: serde_json::Value,
    /// Pinned.
    pub pinned: bool,
    /// This event's hash.
    pub hash: String,
    /// The previous event's hash.
    pub prev_hash: String,
}

/// The OpenAPI schema of a typed timeline event, the `event` of an [`EventOut`] (and of a
/// webhook's `data.event`), as `dispatch_core::event::TimelineEvent::to_json` renders it.
pub enum TypedEvent {}

impl utoipa::PartialSchema for TypedEvent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
        let string = |description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
        };
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(TYPED_EVENT_DOC))
            .property("kind", string("The event's type, as `type`."))
            .required("kind")
            .property(
                "by",
                string("Who did it; `null` for Dispatch itself.")
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null])),
            )
            .required("by")
            .additional_properties(Some(
                utoipa::openapi::schema::AdditionalProperties::FreeForm(true),
            ))
            .examples([
                serde_json::json!({"kind": "incident_updated", "by": "ann@example.com",
                    "changes": {"severity": {"from": "sev2", "to": "sev1"}}}),
                serde_json::json!({"kind": "participant_added", "by": "ann@example.com",
                    "email": "bo@example.com"}),
                serde_json::json!({"kind": "status_changed", "by": "ann@example.com",
                    "status": {"from": "active", "to": "stable"}}),
                serde_json::json!({"kind": "custom", "by": "ann@example.com",
                    "details": {"pager": "db-oncall"}}),
            ])
            .into()
    }
}

impl ToSchema for TypedEvent {}

/// The description of [`TypedEvent`].
const TYPED_EVENT_DOC: &str = "A timeline event, typed: `kind`, `by` and the kind's fields \
under their stored names (`email`, `role`, `reason`, `task_id`, …). A change is \
`{\"from\": …, \"to\": …}` (`status`, `added_reason`, `chars`); an `incident_updated` event \
holds its changes by field under `changes`. A field that is itself a kind is `resource` \
(`resource_created`, `resource_failed`) or `report` (`report_created`, `reminder_sent`, \
`reminder_snoozed`). Custom events, imported messages and kinds or details this version does \
not know are `{\"kind\", \"by\", \"details\"}` with the stored details.";

impl From<event::Model> for EventOut {
    fn from(e: event::Model) -> Self {
        let details = serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null);
        let event = TimelineEvent::decode(&e.kind, &details).to_json(e.actor.as_deref());
        Self {
            id: e.id,
            seq: e.seq,
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
            kind: e.kind,
            source: e.source,
            actor: e.actor,
            transport: e.transport,
            description: e.description,
            details,
            event,
            pinned: e.pinned,
            hash: e.hash,
            prev_hash: e.prev_hash,
        }
    }
}

/// A task.
#[derive(Serialize, ToSchema)]
pub struct TaskOut {
    /// Id.
    pub id: i64,
    /// The incident's id.
    pub incident_id: i64,
    /// What to do.
    pub description: String,
    /// `open` or `resolved`.
    pub status: String,
    /// `low`, `medium` or `high`.
    pub priority: String,
    /// Who does it.
    pub assignees: Vec<PersonOut>,
    /// Who answers for it.
    pub owner: Option<PersonOut>,
    /// Due time (a day after creation by default; a week for review follow-ups).
    pub resolve_by: Option<DateTime<Utc>>,
    /// `incident`, or `review` for a follow-up created once the incident was stable or closed.
    pub source: String,
    /// The incident's key.
    pub incident: String,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<TaskView> for TaskOut {
    fn from(v: TaskView) -> Self {
        Self {
            id: v.task.id,
            incident_id: v.task.incident_id,
            description: v.task.description,
            status: v.task.status,
            priority: v.task.priority,
            assignees: v.assignees.iter().map(Into::into).collect(),
            owner: v.owner.as_ref().map(Into::into),
            resolve_by: v.task.resolve_by,
            source: v.task.source,
            incident: v.incident,
            resolved_at: v.task.resolved_at,
            created_at: v.task.created_at,
            updated_at: v.task.updated_at,
        }
    }
}

/// A status report.
#[derive(Serialize, ToSchema)]
pub struct ReportOut {
    /// Id.
    pub id: i64,
    /// `tactical` or `executive`.
    pub kind: String,
    /// The author's individual id.
    pub author_id: Option<i64>,
    /// The report's fields.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    /// When it was posted.
    pub created_at: DateTime<Utc>,
}

impl From<report::Model> for ReportOut {
    fn from(r: report::Model) -> Self {
        Self {
            id: r.id,
            kind: r.kind,
            author_id: r.author_id,
            details: serde_json::from_str(&r.details).unwrap_or(serde_json::Value::Null),
            created_at: r.created_at,
        }
    }
}
