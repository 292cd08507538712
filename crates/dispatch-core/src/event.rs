//! The timeline's event kinds, typed: one [`TimelineEvent`] variant per kind Dispatch writes.
//!
//! An event is stored as three columns: its kind name, its description and its details JSON.
//! The kind names are the variants' snake_case names (written once, by serde); the details are
//! the variant's fields, serialized with exactly the keys stored before the kinds were typed, so
//! old rows decode. The description is rendered in one place, [`TimelineEvent::describe`].
//! A few descriptions name things the details do not keep (a priority's display name, a
//! report's first line); those fields are marked `#[serde(skip)]`: they shape the text written
//! with the event and read back empty.

use crate::enums::{IncidentStatus, ParticipantRole, ReportKind, ResourceKind, Visibility};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A value before and after a change, stored as `{"before": …, "after": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change<T> {
    /// The value before.
    pub before: T,
    /// The value after.
    pub after: T,
}

impl<T> Change<T> {
    /// A change from `before` to `after`.
    pub fn new(before: T, after: T) -> Self {
        Self { before, after }
    }
}

/// Reads a present key (even `null`) as `Some`, so an absent key and a `null` differ.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// "added a, b; removed c": a group's change in words.
fn added_removed(added: &[String], removed: &[String]) -> String {
    let mut said = Vec::new();
    if !added.is_empty() {
        said.push(format!("added {}", added.join(", ")));
    }
    if !removed.is_empty() {
        said.push(format!("removed {}", removed.join(", ")));
    }
    said.join("; ")
}

/// One field's change in words: "severity from sev2 to sev1"; long texts are only named
/// ("the description"), a value set or cleared says so.
fn from_to(field: &str, c: &Change<Value>) -> String {
    let name = field.replace('_', " ");
    let text = |v: &Value| match v {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        other => Some(other.to_string()),
    };
    let long = matches!(field, "description" | "resolution");
    match (text(&c.before), text(&c.after)) {
        (_, None) => format!("{name} (cleared)"),
        (None, Some(_)) if long => format!("{name} (set)"),
        (Some(_), Some(_)) if long => format!("{name} (rewritten)"),
        (None, Some(a)) => format!("{name} to {a}"),
        (Some(b), Some(a)) => format!("{name} from {b} to {a}"),
    }
}

/// Something that happened to an incident, as Dispatch records it on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "details", rename_all = "snake_case")]
pub enum TimelineEvent {
    /// The incident was declared.
    IncidentDeclared {
        /// Its title.
        title: String,
        /// Its type's slug.
        #[serde(rename = "type")]
        type_: String,
        /// Its priority's slug.
        priority: String,
        /// Its severity's slug.
        severity: String,
        /// Who may see it.
        visibility: Visibility,
        /// Its tags.
        tags: Vec<String>,
    },
    /// Someone took a role: at declaration (with `reason`, stored even when `null`) or when
    /// assigned later (no `reason` key).
    RoleAssumed {
        /// Who.
        email: String,
        /// Which role.
        role: ParticipantRole,
        /// Why, at declaration: `Some(None)` stores `"reason": null`, `None` no key at all.
        #[serde(
            default,
            deserialize_with = "present",
            skip_serializing_if = "Option::is_none"
        )]
        reason: Option<Option<String>>,
    },
    /// Someone no longer holds a role.
    RoleRenounced {
        /// Who.
        email: String,
        /// Which role.
        role: ParticipantRole,
    },
    /// The commander was paged at declaration.
    CommanderPaged {
        /// The commander.
        email: String,
        /// The on-call service that named them, if any.
        service_id: Option<i64>,
        /// The priority's display name (text only).
        #[serde(skip)]
        priority_name: String,
    },
    /// Fields of the incident changed, each with its before and after value.
    IncidentUpdated {
        /// The changes by field name.
        #[serde(flatten)]
        changes: BTreeMap<String, Change<Value>>,
        /// Set when stabilising moved the priority to this (display name) project default
        /// (text only).
        #[serde(skip)]
        stable_priority: Option<String>,
    },
    /// The incident's status changed.
    StatusChanged {
        /// From and to.
        status: Change<IncidentStatus>,
    },
    /// Closing ended these many roles.
    RolesRenounced {
        /// How many.
        roles: u64,
    },
    /// Re-opening restored these many roles.
    RolesRestored {
        /// How many.
        roles: u64,
    },
    /// Someone joined: by hand (only `email`), by themselves or by an engagement rule (with
    /// `role` and `reason`).
    ParticipantAdded {
        /// Who.
        email: String,
        /// `participant` or `observer`, when stored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<String>,
        /// Why, when stored.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// Why someone is in the incident changed.
    ParticipantUpdated {
        /// Who.
        email: String,
        /// The reason they were added, before and after.
        added_reason: Change<Option<String>>,
    },
    /// Someone was removed.
    ParticipantRemoved {
        /// Who.
        email: String,
        /// The roles they held.
        roles: Vec<ParticipantRole>,
    },
    /// An observer became a participant by talking in the room.
    ParticipantPromoted {
        /// Who.
        email: String,
        /// The role before (`observer`).
        from: String,
        /// The role after (`participant`).
        to: String,
        /// How many messages they had posted.
        messages: u64,
    },
    /// Someone subscribed to e-mail updates.
    Subscribed {
        /// Who.
        email: String,
    },
    /// An engagement rule engaged a person.
    ParticipantEngaged {
        /// Who.
        email: String,
        /// The rule's name.
        rule: String,
        /// The rule's id.
        rule_id: i64,
    },
    /// An engagement rule engaged whoever is on call for a service.
    OncallEngaged {
        /// Who.
        email: String,
        /// The service's id.
        service_id: i64,
        /// The service's name.
        service: String,
        /// The rule's name.
        rule: String,
        /// The rule's id.
        rule_id: i64,
    },
    /// An engagement rule engaged a team.
    TeamEngaged {
        /// The team's id.
        team_id: i64,
        /// The team's name.
        team: String,
        /// The team's address, if any.
        email: Option<String>,
        /// The rule's name.
        rule: String,
        /// The rule's id.
        rule_id: i64,
    },
    /// An engagement rule suggested a runbook.
    RunbookSuggested {
        /// The runbook's title.
        title: String,
        /// Its link.
        link: String,
        /// The rule's name.
        rule: String,
        /// The rule's id.
        rule_id: i64,
    },
    /// Someone paged the on-call person of a service.
    OncallPaged {
        /// Who was paged.
        email: String,
        /// The service's name.
        service: String,
        /// The page's id.
        page_id: i64,
    },
    /// A page went out through the on-call provider.
    PageSent {
        /// The page's id.
        page_id: i64,
        /// Who was paged.
        email: String,
        /// The provider's slug.
        provider: String,
        /// The provider's id for the page.
        external_id: Option<String>,
    },
    /// A page was acknowledged.
    PageAcknowledged {
        /// The page's id.
        page_id: i64,
        /// Who was paged.
        email: String,
    },
    /// A provider resource (room, document, ticket…) was created.
    ResourceCreated {
        /// Which resource.
        kind: ResourceKind,
        /// The provider's slug.
        provider: String,
        /// The provider's id for it.
        external_id: String,
        /// Its link, if any.
        link: Option<String>,
    },
    /// A provider resource could not be created.
    ResourceFailed {
        /// Which resource.
        kind: ResourceKind,
        /// The error.
        error: String,
    },
    /// The incident room was set up.
    ConversationReady {
        /// The room's topic.
        topic: String,
    },
    /// The incident room was archived.
    ConversationArchived {
        /// `true`.
        archived: bool,
    },
    /// The incident room was un-archived.
    ConversationUnarchived {
        /// `false`.
        archived: bool,
    },
    /// The participant group's members changed.
    GroupMembersChanged {
        /// Who was added.
        added: Vec<String>,
        /// Who was removed.
        removed: Vec<String>,
        /// The provider's slug.
        provider: String,
    },
    /// The notifications group's members (the incident's stakeholders) changed.
    NotificationsGroupChanged {
        /// Who was added.
        added: Vec<String>,
        /// Who was removed.
        removed: Vec<String>,
    },
    /// Someone asked for no more e-mail about the incident.
    Unsubscribed {
        /// Who.
        email: String,
    },
    /// An e-mail went out.
    EmailSent {
        /// To whom.
        to: Vec<String>,
        /// Its subject.
        subject: String,
        /// The provider's slug.
        provider: String,
        /// The job's idempotency key.
        key: String,
    },
    /// A message was not sent to people who may no longer see the incident.
    MessageWithheld {
        /// What was withheld.
        what: String,
        /// From whom.
        to: Vec<String>,
    },
    /// A direct message went out.
    DirectMessageSent {
        /// To whom.
        email: String,
        /// The job's idempotency key.
        key: String,
        /// The provider's slug.
        provider: String,
    },
    /// The incident's card or a change summary went to notification targets.
    NotificationSent {
        /// `created`, `updated` or `report`.
        what: String,
        /// The targets' names.
        rules: Vec<String>,
    },
    /// A report reminder went out.
    ReminderSent {
        /// Which report.
        kind: String,
        /// To whom.
        to: String,
        /// The job's idempotency key.
        key: String,
        /// The reminder's first line (text only).
        #[serde(skip)]
        headline: String,
    },
    /// A report reminder was put off.
    ReminderSnoozed {
        /// Which report.
        kind: ReportKind,
        /// Until when.
        until: DateTime<Utc>,
        /// For how many hours (text only).
        #[serde(skip)]
        hours: i64,
    },
    /// A report was posted.
    ReportCreated {
        /// The report's id.
        report_id: i64,
        /// Which report.
        kind: ReportKind,
        /// Its fields.
        fields: Value,
    },
    /// A task was created.
    TaskCreated {
        /// The task's id.
        task_id: i64,
        /// Its assignees.
        assignees: Vec<String>,
        /// What it is.
        description: String,
        /// When it is due, if set.
        resolve_by: Option<DateTime<Utc>>,
        /// Where it came from.
        source: String,
    },
    /// A task was resolved or re-opened.
    TaskStatusChanged {
        /// The task's id.
        task_id: i64,
        /// From and to.
        status: Change<String>,
        /// What the task is (text only).
        #[serde(skip)]
        description: String,
    },
    /// Fields of a task changed.
    TaskUpdated {
        /// The task's id.
        task_id: i64,
        /// Which fields.
        fields: Vec<String>,
    },
    /// An event was pinned.
    EventPinned {
        /// The event's id.
        event_id: i64,
        /// Its place in the chain.
        seq: i64,
        /// The event's description, shortened (text only).
        #[serde(skip)]
        text: String,
    },
    /// An event was unpinned.
    EventUnpinned {
        /// The event's id.
        event_id: i64,
        /// Its place in the chain.
        seq: i64,
        /// The event's description, shortened (text only).
        #[serde(skip)]
        text: String,
    },
    /// A file was attached.
    FileAttached {
        /// The file's id.
        file_id: i64,
        /// Its name.
        name: String,
        /// Its size in bytes.
        size: i64,
    },
    /// A document was edited in Dispatch.
    DocumentEdited {
        /// The document's id.
        document_id: i64,
        /// Its length in characters, before and after.
        chars: Change<usize>,
        /// Its title (text only).
        #[serde(skip)]
        title: String,
    },
    /// Someone rated the response.
    FeedbackGiven {
        /// From 1 to 5.
        rating: i64,
    },
    /// A case was escalated into this incident.
    CaseEscalated {
        /// The case.
        case_id: i64,
        /// Its title.
        title: String,
        /// How many signals it had.
        signals: u64,
    },
    /// An entry of an escalated case's timeline, copied onto the incident's.
    CaseEventCopied {
        /// The case.
        case_id: i64,
        /// When it happened on the case.
        occurred_at: DateTime<Utc>,
        /// The case event's kind (`signal_received`, `case_opened`, …).
        case_event: String,
        /// Its description as the case has it.
        description: String,
    },
    /// Any other kind (custom events, imported messages, kinds this version does not know) or
    /// details that do not decode: the stored kind and details as they are.
    #[serde(skip)]
    Other {
        /// The stored kind.
        kind: String,
        /// The stored details.
        details: Value,
    },
}

impl TimelineEvent {
    /// Reads a stored event's kind and details. Never fails: what does not decode is
    /// [`TimelineEvent::Other`].
    pub fn decode(kind: &str, details: &Value) -> Self {
        serde_json::from_value(json!({"kind": kind, "details": details})).unwrap_or_else(|_| {
            TimelineEvent::Other {
                kind: kind.to_string(),
                details: details.clone(),
            }
        })
    }

    /// The stored kind name and details JSON.
    pub fn encode(&self) -> (String, Value) {
        if let TimelineEvent::Other { kind, details } = self {
            return (kind.clone(), details.clone());
        }
        match serde_json::to_value(self) {
            Ok(Value::Object(mut o)) => {
                let kind = match o.remove("kind") {
                    Some(Value::String(k)) => k,
                    _ => String::new(),
                };
                (kind, o.remove("details").unwrap_or_else(|| json!({})))
            }
            // Every variant is a struct of serializable fields.
            _ => unreachable!("timeline events serialize to objects"),
        }
    }

    /// What the event is about, for the timeline's filters: the incident's course (`key`),
    /// who is involved (`people`), the work (`work`: tasks, reports, files, documents), or
    /// Dispatch keeping its tools in step (`system`: resources, mail, notifications).
    pub fn group(&self) -> &'static str {
        use TimelineEvent as E;
        match self {
            E::IncidentDeclared { .. }
            | E::IncidentUpdated { .. }
            | E::StatusChanged { .. }
            | E::CaseEscalated { .. }
            | E::CaseEventCopied { .. }
            | E::Other { .. } => "key",
            E::RoleAssumed { .. }
            | E::RoleRenounced { .. }
            | E::CommanderPaged { .. }
            | E::ParticipantAdded { .. }
            | E::ParticipantUpdated { .. }
            | E::ParticipantRemoved { .. }
            | E::ParticipantPromoted { .. }
            | E::Subscribed { .. }
            | E::Unsubscribed { .. }
            | E::ParticipantEngaged { .. }
            | E::OncallEngaged { .. }
            | E::TeamEngaged { .. }
            | E::OncallPaged { .. }
            | E::PageAcknowledged { .. } => "people",
            E::ReportCreated { .. }
            | E::TaskCreated { .. }
            | E::TaskStatusChanged { .. }
            | E::TaskUpdated { .. }
            | E::EventPinned { .. }
            | E::EventUnpinned { .. }
            | E::FileAttached { .. }
            | E::DocumentEdited { .. }
            | E::FeedbackGiven { .. }
            | E::RunbookSuggested { .. }
            | E::ReminderSnoozed { .. } => "work",
            E::RolesRenounced { .. }
            | E::RolesRestored { .. }
            | E::PageSent { .. }
            | E::ResourceCreated { .. }
            | E::ResourceFailed { .. }
            | E::ConversationReady { .. }
            | E::ConversationArchived { .. }
            | E::ConversationUnarchived { .. }
            | E::GroupMembersChanged { .. }
            | E::NotificationsGroupChanged { .. }
            | E::EmailSent { .. }
            | E::MessageWithheld { .. }
            | E::DirectMessageSent { .. }
            | E::NotificationSent { .. }
            | E::ReminderSent { .. } => "system",
        }
    }

    /// The stored kind name.
    pub fn kind(&self) -> String {
        self.encode().0
    }

    /// The details JSON, as stored and as the API and webhooks show it.
    pub fn details(&self) -> Value {
        self.encode().1
    }

    /// The event, typed, as the API and webhooks show it: `{"kind": …, "by": …, fields…}`.
    ///
    /// `by` is who did it (the event's actor; `null` for Dispatch itself). The fields are the
    /// variant's, under their stored names, except that
    /// - a change is `{"from": …, "to": …}` (`status`, `added_reason`, `chars`), and an
    ///   `incident_updated` event holds its changes by field name under `changes`
    ///   (`{"changes": {"severity": {"from": "sev2", "to": "sev1"}}}`);
    /// - a field itself named `kind` is `resource` (the resource's kind) or `report` (the
    ///   report's kind), so it does not hide the event's kind;
    /// - fields kept for the text only (a priority's display name, a report's first line) are
    ///   left out: stored events do not have them.
    ///
    /// Any other event (custom events, imported messages, kinds or details this version does
    /// not know) is `{"kind": …, "by": …, "details": …}` with the stored details as they are.
    pub fn to_json(&self, by: Option<&str>) -> Value {
        use TimelineEvent as E;
        let (kind, details) = self.encode();
        let mut out = Map::new();
        out.insert("kind".into(), Value::String(kind));
        out.insert("by".into(), json!(by));
        let fields = match (self, details) {
            (E::Other { .. }, details) => {
                out.insert("details".into(), details);
                return Value::Object(out);
            }
            (E::IncidentUpdated { changes, .. }, _) => {
                let changes = changes
                    .iter()
                    .map(|(field, c)| (field.clone(), json!({"from": c.before, "to": c.after})))
                    .collect();
                out.insert("changes".into(), Value::Object(changes));
                return Value::Object(out);
            }
            (_, Value::Object(fields)) => fields,
            (_, _) => Map::new(),
        };
        for (name, value) in fields {
            let value = match value {
                Value::Object(mut c) if self.change_fields().contains(&name.as_str()) => {
                    json!({"from": c.remove("before"), "to": c.remove("after")})
                }
                v => v,
            };
            let name = match name.as_str() {
                "kind" => self.inner_kind_name().to_string(),
                _ => name,
            };
            out.insert(name, value);
        }
        Value::Object(out)
    }

    /// The stored fields that are a [`Change`].
    fn change_fields(&self) -> &'static [&'static str] {
        use TimelineEvent as E;
        match self {
            E::StatusChanged { .. } | E::TaskStatusChanged { .. } => &["status"],
            E::ParticipantUpdated { .. } => &["added_reason"],
            E::DocumentEdited { .. } => &["chars"],
            _ => &[],
        }
    }

    /// What [`TimelineEvent::to_json`] calls a variant's own `kind` field.
    fn inner_kind_name(&self) -> &'static str {
        use TimelineEvent as E;
        match self {
            E::ResourceCreated { .. } | E::ResourceFailed { .. } => "resource",
            _ => "report",
        }
    }

    /// The human-readable description stored with the event. `who` is the actor (or
    /// `Dispatch`), `incident` the incident's key.
    pub fn describe(&self, who: &str, incident: &str) -> String {
        use TimelineEvent as E;
        let spaced = |s: &str| s.replace('_', " ");
        match self {
            E::IncidentDeclared { title, .. } => format!("{who} declared {incident}: {title}"),
            E::RoleAssumed {
                email,
                role,
                reason: Some(reason),
            } => {
                let why = reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default();
                format!("{email} is the {}{why}", spaced(role.as_str()))
            }
            E::RoleAssumed {
                email,
                role,
                reason: None,
            } => format!("{who} assigned {role} to {email}"),
            E::RoleRenounced { email, role } => format!("{email} is no longer {role}"),
            E::CommanderPaged {
                email,
                priority_name,
                ..
            } => format!("{email} was paged: the priority is {priority_name}"),
            E::IncidentUpdated {
                stable_priority: Some(name),
                ..
            } => format!("priority set to {name} (the project's stable priority)"),
            E::IncidentUpdated { changes, .. } => {
                let said: Vec<String> = changes.iter().map(|(f, c)| from_to(f, c)).collect();
                format!("{who} changed {incident}: {}", said.join("; "))
            }
            E::StatusChanged { status } => {
                let verb = match status.after {
                    IncidentStatus::Stable => "marked stable",
                    IncidentStatus::Closed => "closed",
                    IncidentStatus::Active => "re-opened",
                };
                format!("{who} {verb} {incident}")
            }
            E::RolesRenounced { roles } => format!("{roles} role(s) ended with the incident"),
            E::RolesRestored { roles } => format!("{roles} role(s) taken up again"),
            E::ParticipantAdded {
                email,
                role: Some(role),
                reason,
            } if role == "observer" => format!(
                "{email} joined {incident} as observer ({})",
                reason.as_deref().unwrap_or_default()
            ),
            E::ParticipantAdded { email, .. } => format!("{email} joined {incident}"),
            E::ParticipantUpdated {
                email,
                added_reason,
            } => format!(
                "{who} changed why {email} is in {incident}: {}",
                added_reason.after.as_deref().unwrap_or_default()
            ),
            E::ParticipantRemoved { email, .. } => format!("{who} removed {email} from {incident}"),
            E::ParticipantPromoted {
                email, messages, ..
            } => format!("{email} became a participant after {messages} messages in the room"),
            E::Subscribed { email } => format!("{email} subscribed to {incident} by e-mail"),
            E::ParticipantEngaged { email, rule, .. } => {
                format!("{email} was engaged by rule {rule:?}")
            }
            E::OncallEngaged {
                email,
                service,
                rule,
                ..
            } => format!("{email}, on call for {service}, was engaged by rule {rule:?}"),
            E::TeamEngaged { team, rule, .. } => {
                format!("team {team} was engaged by rule {rule:?}")
            }
            E::RunbookSuggested { title, rule, .. } => {
                format!("runbook {title:?} suggested by rule {rule:?}")
            }
            E::OncallPaged { email, service, .. } => format!("{who} paged {email} ({service})"),
            E::PageSent {
                email, provider, ..
            } => format!("{email} was paged through {provider}"),
            E::PageAcknowledged { email, .. } => {
                format!("{who} acknowledged the page to {email}")
            }
            E::ResourceCreated {
                kind,
                external_id,
                link,
                ..
            } => format!(
                "{} ready: {}",
                spaced(kind.as_str()),
                link.as_deref().unwrap_or(external_id)
            ),
            E::ResourceFailed { kind, error } => {
                format!("{} could not be created: {error}", spaced(kind.as_str()))
            }
            E::ConversationReady { .. } => {
                "the incident room is set up: topic, bookmarks and members".into()
            }
            E::ConversationArchived { .. } => "the incident room was archived".into(),
            E::ConversationUnarchived { .. } => "the incident room was un-archived".into(),
            E::GroupMembersChanged { added, removed, .. } => {
                format!("participant group: {}", added_removed(added, removed))
            }
            E::NotificationsGroupChanged { added, removed } => {
                format!("notifications group: {}", added_removed(added, removed))
            }
            E::Unsubscribed { email } => {
                format!("{email} unsubscribed from e-mail about {incident}")
            }
            E::EmailSent { to, subject, .. } => {
                format!("e-mail \"{subject}\" sent to {}", to.join(", "))
            }
            E::MessageWithheld { what, to } => format!(
                "{what} not sent to {}: they may no longer see the incident",
                to.join(", ")
            ),
            E::DirectMessageSent {
                email, provider, ..
            } => format!("direct message sent to {email} through {provider}"),
            E::NotificationSent { what, rules } => format!(
                "{} sent to {} notification target(s): {}",
                match what.as_str() {
                    "created" => "the incident card was",
                    "report" => "the report was",
                    _ => "a change summary was",
                },
                rules.len(),
                rules.join(", ")
            ),
            E::ReminderSent {
                kind, to, headline, ..
            } => format!(
                "{to} reminded: {}",
                if headline.is_empty() { kind } else { headline }
            ),
            E::ReminderSnoozed { kind, hours, .. } => {
                format!("{who} put off the {kind} report reminder for {hours} hour(s)")
            }
            E::ReportCreated { kind, .. } => format!("{who} posted a {kind} report"),
            E::TaskCreated {
                task_id,
                description,
                ..
            } => format!("{who} created task {task_id}: {description}"),
            E::TaskStatusChanged {
                task_id,
                status,
                description,
            } => {
                let verb = if status.after == "resolved" {
                    "resolved"
                } else {
                    "re-opened"
                };
                format!("{who} {verb} task {task_id}: {description}")
            }
            E::TaskUpdated { task_id, fields } => {
                format!("{who} changed {} of task {task_id}", fields.join(", "))
            }
            E::EventPinned { text, .. } => format!("{who} pinned \"{text}\""),
            E::EventUnpinned { text, .. } => format!("{who} unpinned \"{text}\""),
            E::FileAttached { name, size, .. } => format!("{who} attached {name} ({size} bytes)"),
            E::DocumentEdited { title, .. } => format!("{who} edited {title}"),
            E::FeedbackGiven { rating } => format!("{who} rated the response {rating}/5"),
            E::CaseEscalated {
                case_id,
                title,
                signals,
            } => {
                format!("{who} escalated case {case_id} ({title}, {signals} signals) to {incident}")
            }
            E::CaseEventCopied {
                case_id,
                occurred_at,
                description,
                ..
            } => format!(
                "Case {case_id} at {}: {description}",
                occurred_at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            E::Other { kind, .. } => kind.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TimelineEvent as E;

    const WHO: &str = "ann@example.com";
    const INC: &str = "SEC-7";

    /// Every kind: the typed event the engine writes, the details JSON as stored before the
    /// kinds were typed (the old-format fixture), and the description it must render.
    fn cases() -> Vec<(E, &'static str, Value, &'static str)> {
        let until = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        vec![
            (
                E::IncidentDeclared {
                    title: "Payments failing".into(),
                    type_: "security".into(),
                    priority: "high".into(),
                    severity: "sev1".into(),
                    visibility: Visibility::Open,
                    tags: vec!["eu".into()],
                },
                "incident_declared",
                json!({"title": "Payments failing", "type": "security", "priority": "high",
                    "severity": "sev1", "visibility": "open", "tags": ["eu"]}),
                "ann@example.com declared SEC-7: Payments failing",
            ),
            (
                E::RoleAssumed {
                    email: "bo@example.com".into(),
                    role: ParticipantRole::IncidentCommander,
                    reason: Some(Some("on call".into())),
                },
                "role_assumed",
                json!({"email": "bo@example.com", "role": "incident_commander", "reason": "on call"}),
                "bo@example.com is the incident commander (on call)",
            ),
            (
                E::RoleAssumed {
                    email: "bo@example.com".into(),
                    role: ParticipantRole::IncidentCommander,
                    reason: Some(None),
                },
                "role_assumed",
                json!({"email": "bo@example.com", "role": "incident_commander", "reason": null}),
                "bo@example.com is the incident commander",
            ),
            (
                E::RoleAssumed {
                    email: "bo@example.com".into(),
                    role: ParticipantRole::Scribe,
                    reason: None,
                },
                "role_assumed",
                json!({"email": "bo@example.com", "role": "scribe"}),
                "ann@example.com assigned scribe to bo@example.com",
            ),
            (
                E::RoleRenounced {
                    email: "bo@example.com".into(),
                    role: ParticipantRole::Scribe,
                },
                "role_renounced",
                json!({"email": "bo@example.com", "role": "scribe"}),
                "bo@example.com is no longer scribe",
            ),
            (
                E::CommanderPaged {
                    email: "bo@example.com".into(),
                    service_id: Some(3),
                    priority_name: "High".into(),
                },
                "commander_paged",
                json!({"email": "bo@example.com", "service_id": 3}),
                "bo@example.com was paged: the priority is High",
            ),
            (
                E::IncidentUpdated {
                    changes: [
                        ("title".to_string(), Change::new(json!("a"), json!("b"))),
                        (
                            "severity".to_string(),
                            Change::new(json!("s1"), json!("s2")),
                        ),
                    ]
                    .into(),
                    stable_priority: None,
                },
                "incident_updated",
                json!({"title": {"before": "a", "after": "b"},
                    "severity": {"before": "s1", "after": "s2"}}),
                "ann@example.com changed SEC-7: severity from s1 to s2; title from a to b",
            ),
            (
                E::IncidentUpdated {
                    changes: [(
                        "priority".to_string(),
                        Change::new(json!("high"), json!("low")),
                    )]
                    .into(),
                    stable_priority: Some("Low".into()),
                },
                "incident_updated",
                json!({"priority": {"before": "high", "after": "low"}}),
                "priority set to Low (the project's stable priority)",
            ),
            (
                E::StatusChanged {
                    status: Change::new(IncidentStatus::Active, IncidentStatus::Stable),
                },
                "status_changed",
                json!({"status": {"before": "active", "after": "stable"}}),
                "ann@example.com marked stable SEC-7",
            ),
            (
                E::RolesRenounced { roles: 2 },
                "roles_renounced",
                json!({"roles": 2}),
                "2 role(s) ended with the incident",
            ),
            (
                E::RolesRestored { roles: 2 },
                "roles_restored",
                json!({"roles": 2}),
                "2 role(s) taken up again",
            ),
            (
                E::ParticipantAdded {
                    email: "bo@example.com".into(),
                    role: None,
                    reason: None,
                },
                "participant_added",
                json!({"email": "bo@example.com"}),
                "bo@example.com joined SEC-7",
            ),
            (
                E::ParticipantAdded {
                    email: "bo@example.com".into(),
                    role: Some("observer".into()),
                    reason: Some("engagement rule db".into()),
                },
                "participant_added",
                json!({"email": "bo@example.com", "role": "observer", "reason": "engagement rule db"}),
                "bo@example.com joined SEC-7 as observer (engagement rule db)",
            ),
            (
                E::ParticipantAdded {
                    email: "ann@example.com".into(),
                    role: Some("participant".into()),
                    reason: Some("joined by themselves".into()),
                },
                "participant_added",
                json!({"email": "ann@example.com", "role": "participant", "reason": "joined by themselves"}),
                "ann@example.com joined SEC-7",
            ),
            (
                E::ParticipantUpdated {
                    email: "bo@example.com".into(),
                    added_reason: Change::new(None, Some("expert".into())),
                },
                "participant_updated",
                json!({"email": "bo@example.com", "added_reason": {"before": null, "after": "expert"}}),
                "ann@example.com changed why bo@example.com is in SEC-7: expert",
            ),
            (
                E::ParticipantRemoved {
                    email: "bo@example.com".into(),
                    roles: vec![ParticipantRole::Scribe],
                },
                "participant_removed",
                json!({"email": "bo@example.com", "roles": ["scribe"]}),
                "ann@example.com removed bo@example.com from SEC-7",
            ),
            (
                E::ParticipantPromoted {
                    email: "ann@example.com".into(),
                    from: "observer".into(),
                    to: "participant".into(),
                    messages: 3,
                },
                "participant_promoted",
                json!({"email": "ann@example.com", "from": "observer", "to": "participant", "messages": 3}),
                "ann@example.com became a participant after 3 messages in the room",
            ),
            (
                E::Subscribed {
                    email: "ann@example.com".into(),
                },
                "subscribed",
                json!({"email": "ann@example.com"}),
                "ann@example.com subscribed to SEC-7 by e-mail",
            ),
            (
                E::ParticipantEngaged {
                    email: "bo@example.com".into(),
                    rule: "db".into(),
                    rule_id: 4,
                },
                "participant_engaged",
                json!({"email": "bo@example.com", "rule": "db", "rule_id": 4}),
                "bo@example.com was engaged by rule \"db\"",
            ),
            (
                E::OncallEngaged {
                    email: "bo@example.com".into(),
                    service_id: 5,
                    service: "Payments".into(),
                    rule: "db".into(),
                    rule_id: 4,
                },
                "oncall_engaged",
                json!({"email": "bo@example.com", "service_id": 5, "service": "Payments", "rule": "db", "rule_id": 4}),
                "bo@example.com, on call for Payments, was engaged by rule \"db\"",
            ),
            (
                E::TeamEngaged {
                    team_id: 6,
                    team: "SRE".into(),
                    email: None,
                    rule: "db".into(),
                    rule_id: 4,
                },
                "team_engaged",
                json!({"team_id": 6, "team": "SRE", "email": null, "rule": "db", "rule_id": 4}),
                "team SRE was engaged by rule \"db\"",
            ),
            (
                E::RunbookSuggested {
                    title: "DB".into(),
                    link: "https://r/db".into(),
                    rule: "db".into(),
                    rule_id: 4,
                },
                "runbook_suggested",
                json!({"title": "DB", "link": "https://r/db", "rule": "db", "rule_id": 4}),
                "runbook \"DB\" suggested by rule \"db\"",
            ),
            (
                E::OncallPaged {
                    email: "bo@example.com".into(),
                    service: "Payments".into(),
                    page_id: 9,
                },
                "oncall_paged",
                json!({"email": "bo@example.com", "service": "Payments", "page_id": 9}),
                "ann@example.com paged bo@example.com (Payments)",
            ),
            (
                E::PageSent {
                    page_id: 9,
                    email: "bo@example.com".into(),
                    provider: "pd".into(),
                    external_id: Some("x1".into()),
                },
                "page_sent",
                json!({"page_id": 9, "email": "bo@example.com", "provider": "pd", "external_id": "x1"}),
                "bo@example.com was paged through pd",
            ),
            (
                E::PageAcknowledged {
                    page_id: 9,
                    email: "bo@example.com".into(),
                },
                "page_acknowledged",
                json!({"page_id": 9, "email": "bo@example.com"}),
                "ann@example.com acknowledged the page to bo@example.com",
            ),
            (
                E::ResourceCreated {
                    kind: ResourceKind::ReviewDocument,
                    provider: "docs".into(),
                    external_id: "d1".into(),
                    link: None,
                },
                "resource_created",
                json!({"kind": "review_document", "provider": "docs", "external_id": "d1", "link": null}),
                "review document ready: d1",
            ),
            (
                E::ResourceFailed {
                    kind: ResourceKind::Ticket,
                    error: "boom".into(),
                },
                "resource_failed",
                json!({"kind": "ticket", "error": "boom"}),
                "ticket could not be created: boom",
            ),
            (
                E::ConversationReady {
                    topic: "SEC-7".into(),
                },
                "conversation_ready",
                json!({"topic": "SEC-7"}),
                "the incident room is set up: topic, bookmarks and members",
            ),
            (
                E::ConversationArchived { archived: true },
                "conversation_archived",
                json!({"archived": true}),
                "the incident room was archived",
            ),
            (
                E::ConversationUnarchived { archived: false },
                "conversation_unarchived",
                json!({"archived": false}),
                "the incident room was un-archived",
            ),
            (
                E::GroupMembersChanged {
                    added: vec!["a@x".into(), "b@x".into()],
                    removed: vec!["c@x".into()],
                    provider: "g".into(),
                },
                "group_members_changed",
                json!({"added": ["a@x", "b@x"], "removed": ["c@x"], "provider": "g"}),
                "participant group: added a@x, b@x; removed c@x",
            ),
            (
                E::NotificationsGroupChanged {
                    added: vec!["vp@x".into()],
                    removed: vec!["c@x".into()],
                },
                "notifications_group_changed",
                json!({"added": ["vp@x"], "removed": ["c@x"]}),
                "notifications group: added vp@x; removed c@x",
            ),
            (
                E::Unsubscribed {
                    email: "ann@example.com".into(),
                },
                "unsubscribed",
                json!({"email": "ann@example.com"}),
                "ann@example.com unsubscribed from e-mail about SEC-7",
            ),
            (
                E::EmailSent {
                    to: vec!["a@x".into()],
                    subject: "Hi".into(),
                    provider: "smtp".into(),
                    key: "k".into(),
                },
                "email_sent",
                json!({"to": ["a@x"], "subject": "Hi", "provider": "smtp", "key": "k"}),
                "e-mail \"Hi\" sent to a@x",
            ),
            (
                E::MessageWithheld {
                    what: "the welcome".into(),
                    to: vec!["a@x".into()],
                },
                "message_withheld",
                json!({"what": "the welcome", "to": ["a@x"]}),
                "the welcome not sent to a@x: they may no longer see the incident",
            ),
            (
                E::DirectMessageSent {
                    email: "a@x".into(),
                    key: "k".into(),
                    provider: "slack".into(),
                },
                "direct_message_sent",
                json!({"email": "a@x", "key": "k", "provider": "slack"}),
                "direct message sent to a@x through slack",
            ),
            (
                E::NotificationSent {
                    what: "created".into(),
                    rules: vec!["ops".into()],
                },
                "notification_sent",
                json!({"what": "created", "rules": ["ops"]}),
                "the incident card was sent to 1 notification target(s): ops",
            ),
            (
                E::ReminderSent {
                    kind: "tactical".into(),
                    to: "bo@example.com".into(),
                    key: "k".into(),
                    headline: "Time for a tactical report".into(),
                },
                "reminder_sent",
                json!({"kind": "tactical", "to": "bo@example.com", "key": "k"}),
                "bo@example.com reminded: Time for a tactical report",
            ),
            (
                E::ReminderSnoozed {
                    kind: ReportKind::Tactical,
                    until,
                    hours: 2,
                },
                "reminder_snoozed",
                json!({"kind": "tactical", "until": "2023-11-14T22:13:20Z"}),
                "ann@example.com put off the tactical report reminder for 2 hour(s)",
            ),
            (
                E::ReportCreated {
                    report_id: 1,
                    kind: ReportKind::Executive,
                    fields: json!({"summary": "ok"}),
                },
                "report_created",
                json!({"report_id": 1, "kind": "executive", "fields": {"summary": "ok"}}),
                "ann@example.com posted a executive report",
            ),
            (
                E::TaskCreated {
                    task_id: 2,
                    assignees: vec!["bo@example.com".into()],
                    description: "rotate keys".into(),
                    resolve_by: Some(until),
                    source: "api".into(),
                },
                "task_created",
                json!({"task_id": 2, "assignees": ["bo@example.com"], "description": "rotate keys",
                    "resolve_by": "2023-11-14T22:13:20Z", "source": "api"}),
                "ann@example.com created task 2: rotate keys",
            ),
            (
                E::TaskStatusChanged {
                    task_id: 2,
                    status: Change::new("open".into(), "resolved".into()),
                    description: "rotate keys".into(),
                },
                "task_status_changed",
                json!({"task_id": 2, "status": {"before": "open", "after": "resolved"}}),
                "ann@example.com resolved task 2: rotate keys",
            ),
            (
                E::TaskUpdated {
                    task_id: 2,
                    fields: vec!["owner".into(), "assignees".into()],
                },
                "task_updated",
                json!({"task_id": 2, "fields": ["owner", "assignees"]}),
                "ann@example.com changed owner, assignees of task 2",
            ),
            (
                E::EventPinned {
                    event_id: 10,
                    seq: 3,
                    text: "it broke".into(),
                },
                "event_pinned",
                json!({"event_id": 10, "seq": 3}),
                "ann@example.com pinned \"it broke\"",
            ),
            (
                E::EventUnpinned {
                    event_id: 10,
                    seq: 3,
                    text: "it broke".into(),
                },
                "event_unpinned",
                json!({"event_id": 10, "seq": 3}),
                "ann@example.com unpinned \"it broke\"",
            ),
            (
                E::FileAttached {
                    file_id: 11,
                    name: "log.txt".into(),
                    size: 12,
                },
                "file_attached",
                json!({"file_id": 11, "name": "log.txt", "size": 12}),
                "ann@example.com attached log.txt (12 bytes)",
            ),
            (
                E::DocumentEdited {
                    document_id: 12,
                    chars: Change::new(10, 20),
                    title: "Review".into(),
                },
                "document_edited",
                json!({"document_id": 12, "chars": {"before": 10, "after": 20}}),
                "ann@example.com edited Review",
            ),
            (
                E::FeedbackGiven { rating: 4 },
                "feedback_given",
                json!({"rating": 4}),
                "ann@example.com rated the response 4/5",
            ),
            (
                E::CaseEscalated {
                    case_id: 7,
                    title: "5xx above 5%".into(),
                    signals: 2,
                },
                "case_escalated",
                json!({"case_id": 7, "title": "5xx above 5%", "signals": 2}),
                "ann@example.com escalated case 7 (5xx above 5%, 2 signals) to SEC-7",
            ),
            (
                E::CaseEventCopied {
                    case_id: 7,
                    occurred_at: "2026-12-03T06:00:00Z".parse().unwrap(),
                    case_event: "signal_received".into(),
                    description: "Signal received: 5xx above 5%".into(),
                },
                "case_event_copied",
                json!({"case_id": 7, "occurred_at": "2026-12-03T06:00:00Z",
                    "case_event": "signal_received", "description": "Signal received: 5xx above 5%"}),
                "Case 7 at 2026-12-03 06:00:00 UTC: Signal received: 5xx above 5%",
            ),
        ]
    }

    #[test]
    fn every_kind_encodes_as_stored_and_renders_its_text() {
        for (event, kind, details, text) in cases() {
            assert_eq!(
                event.encode(),
                (kind.to_string(), details.clone()),
                "{kind}"
            );
            // The text column stores the details as serde_json writes them.
            assert_eq!(
                serde_json::to_string(&event.details()).unwrap(),
                serde_json::to_string(&details).unwrap(),
                "{kind}"
            );
            assert_eq!(event.describe(WHO, INC), text, "{kind}");
            let typed = event.to_json(Some(WHO));
            assert_eq!(typed["kind"], kind, "{kind}");
            assert_eq!(typed["by"], WHO, "{kind}");
        }
    }

    #[test]
    fn every_old_format_fixture_decodes_to_its_kind_and_round_trips() {
        for (event, kind, details, _) in cases() {
            let decoded = TimelineEvent::decode(kind, &details);
            assert!(
                !matches!(decoded, TimelineEvent::Other { .. }),
                "{kind} did not decode"
            );
            assert_eq!(
                std::mem::discriminant(&decoded),
                std::mem::discriminant(&event),
                "{kind}"
            );
            assert_eq!(decoded.encode(), (kind.to_string(), details), "{kind}");
        }
    }

    #[test]
    fn every_variant_is_covered_by_the_fixtures() {
        let kinds: std::collections::BTreeSet<&str> = cases().iter().map(|c| c.1).collect();
        // One entry per variant but `Other`: a new variant must add its fixture here.
        assert_eq!(kinds.len(), 45);
    }

    #[test]
    fn the_typed_json_names_from_and_to_who_and_by_whom() {
        let severity = E::IncidentUpdated {
            changes: [(
                "severity".to_string(),
                Change::new(json!("sev2"), json!("sev1")),
            )]
            .into(),
            stable_priority: None,
        };
        assert_eq!(
            severity.to_json(Some(WHO)),
            json!({"kind": "incident_updated", "by": WHO,
                "changes": {"severity": {"from": "sev2", "to": "sev1"}}})
        );
        let status = E::StatusChanged {
            status: Change::new(IncidentStatus::Active, IncidentStatus::Closed),
        };
        assert_eq!(
            status.to_json(None),
            json!({"kind": "status_changed", "by": null,
                "status": {"from": "active", "to": "closed"}})
        );
        let added = E::ParticipantAdded {
            email: "bo@example.com".into(),
            role: None,
            reason: None,
        };
        assert_eq!(
            added.to_json(Some(WHO)),
            json!({"kind": "participant_added", "by": WHO, "email": "bo@example.com"})
        );
        let resource = E::ResourceFailed {
            kind: ResourceKind::Ticket,
            error: "boom".into(),
        };
        assert_eq!(
            resource.to_json(None),
            json!({"kind": "resource_failed", "by": null, "resource": "ticket", "error": "boom"})
        );
        let paged = E::CommanderPaged {
            email: "bo@example.com".into(),
            service_id: None,
            priority_name: "High".into(),
        };
        assert_eq!(
            paged.to_json(None),
            json!({"kind": "commander_paged", "by": null, "email": "bo@example.com",
                "service_id": null}),
            "text-only fields are left out"
        );
    }

    #[test]
    fn every_kind_s_typed_json_holds_its_stored_details() {
        for (event, kind, details, _) in cases() {
            let typed = event.to_json(Some(WHO));
            let read_back = TimelineEvent::decode(kind, &details).to_json(Some(WHO));
            assert_eq!(typed, read_back, "{kind}: a stored row renders the same");
            let Value::Object(stored) = details else {
                panic!("{kind}: details are an object")
            };
            let fields = typed.as_object().unwrap();
            // kind and by, then one field per stored key (changes: one object for all).
            let expected = if kind == "incident_updated" {
                3
            } else {
                2 + stored.len()
            };
            assert_eq!(fields.len(), expected, "{kind}: {typed}");
            for (name, value) in &stored {
                if name == "kind" {
                    assert_eq!(&fields[event.inner_kind_name()], value, "{kind}");
                    continue;
                }
                match fields.get(name.as_str()) {
                    Some(v) if v == value => {}
                    Some(v) => assert_eq!(
                        v,
                        &json!({"from": value["before"], "to": value["after"]}),
                        "{kind}.{name}"
                    ),
                    None if kind == "incident_updated" => assert_eq!(
                        typed["changes"][name],
                        json!({"from": value["before"], "to": value["after"]})
                    ),
                    None => panic!("{kind}: {name} is missing"),
                }
            }
        }
    }

    #[test]
    fn other_events_show_their_stored_details() {
        let custom = json!({"pager": "db-oncall", "before": 1, "after": 2});
        assert_eq!(
            TimelineEvent::decode("custom", &custom).to_json(Some(WHO)),
            json!({"kind": "custom", "by": WHO, "details": custom})
        );
        let old = json!({"rating": "five"});
        assert_eq!(
            TimelineEvent::decode("feedback_given", &old).to_json(None),
            json!({"kind": "feedback_given", "by": null, "details": old})
        );
    }

    #[test]
    fn unknown_kinds_and_undecodable_details_read_as_other() {
        let custom = json!({"anything": [1, 2]});
        let e = TimelineEvent::decode("custom", &custom);
        assert_eq!(
            e,
            TimelineEvent::Other {
                kind: "custom".into(),
                details: custom.clone()
            }
        );
        assert_eq!(e.encode(), ("custom".to_string(), custom));
        let bad = json!({"rating": "five"});
        assert!(matches!(
            TimelineEvent::decode("feedback_given", &bad),
            TimelineEvent::Other { ref kind, .. } if kind == "feedback_given"
        ));
        assert!(matches!(
            TimelineEvent::decode("status_changed", &Value::Null),
            TimelineEvent::Other { .. }
        ));
    }
}
