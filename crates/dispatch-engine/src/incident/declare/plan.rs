//! The declaration's decisions, without a database, a clock or any I/O: given the request,
//! the project's resolved configuration, who is on call, the people and the time, it says which
//! incident row, role holders, participants, timeline events, page, resources and status
//! back-fill the declaration makes. [`super`] reads what this needs and writes what it returns.

use crate::cache::ProjectConfig;
use crate::incident::Events;
use crate::Actor;
use chrono::{DateTime, Utc};
use dispatch_core::commands::DeclareIncident;
use dispatch_core::{IncidentStatus, ParticipantRole, ResourceKind, ValidationError, Visibility};
use dispatch_store::model::{
    event, incident, incident_priority, incident_severity, incident_type, individual, page,
    project, resource, role_policy,
};
use dispatch_store::repo::event::ChainHead;
use serde_json::json;
use std::collections::HashMap;

/// Someone who takes a role when the incident is declared.
#[derive(Debug, Clone)]
pub(crate) struct Holder {
    pub email: String,
    pub role: ParticipantRole,
    /// The on-call service they came from, if any.
    pub service_id: Option<i64>,
    pub reason: Option<String>,
}

/// The declaration's taxonomy, resolved against the project's configuration.
#[derive(Clone, Copy)]
pub(crate) struct Resolved<'a> {
    pub type_: &'a incident_type::Model,
    pub priority: &'a incident_priority::Model,
    pub severity: &'a incident_severity::Model,
}

/// Picks the named (or default) entry of one taxonomy; an unknown name is a field error.
fn pick<'a, T>(
    errors: &mut ValidationError,
    field: &str,
    input: Option<&str>,
    named: impl Fn(&str) -> Option<&'a T>,
    default: Option<&'a T>,
    known: Vec<&str>,
) -> Option<&'a T> {
    match input {
        Some(name) => {
            let found = named(name);
            if found.is_none() {
                errors.push(
                    field,
                    format!("unknown {field} {name:?}; known: {}", known.join(", ")),
                );
            }
            found
        }
        None => {
            if default.is_none() {
                errors.push(
                    field,
                    format!("the project has no default {field}; name one"),
                );
            }
            default
        }
    }
}

/// Resolves the named (or default) type, priority and severity; unknown names are field errors.
pub(crate) fn resolve<'a>(
    cfg: &'a ProjectConfig,
    cmd_type: Option<&str>,
    priority: Option<&str>,
    severity: Option<&str>,
    errors: &mut ValidationError,
) -> Option<Resolved<'a>> {
    let type_ = pick(
        errors,
        "type",
        cmd_type,
        |n| cfg.type_named(n),
        cfg.types.iter().find(|t| t.is_default && t.enabled),
        cfg.types
            .iter()
            .filter(|t| t.enabled)
            .map(|t| t.slug.as_str())
            .collect(),
    );
    let priority = pick(
        errors,
        "priority",
        priority,
        |n| cfg.priority_named(n),
        cfg.priorities.iter().find(|t| t.is_default && t.enabled),
        cfg.priorities
            .iter()
            .filter(|t| t.enabled)
            .map(|t| t.slug.as_str())
            .collect(),
    );
    let severity = pick(
        errors,
        "severity",
        severity,
        |n| cfg.severity_named(n),
        cfg.severities.iter().find(|t| t.is_default && t.enabled),
        cfg.severities
            .iter()
            .filter(|t| t.enabled)
            .map(|t| t.slug.as_str())
            .collect(),
    );
    Some(Resolved {
        type_: type_?,
        priority: priority?,
        severity: severity?,
    })
}

/// What the planner needs, read before it runs.
pub(crate) struct DeclareInput<'a> {
    /// Who declares.
    pub actor: &'a Actor,
    /// The request.
    pub cmd: DeclareIncident,
    /// The project it is declared in.
    pub project: &'a project::Model,
    /// The request's taxonomy, resolved.
    pub tax: Resolved<'a>,
    /// The project's role policies.
    pub policies: &'a [role_policy::Model],
    /// Who is on call for each service the policies name.
    pub on_call: &'a HashMap<i64, String>,
    /// The request's tags, resolved to ids.
    pub tag_ids: Vec<i64>,
    /// The time of the declaration.
    pub now: DateTime<Utc>,
}

/// Who takes which role: the reporter, the commander, then what the role policies give.
pub(crate) struct Roles {
    /// The incident commander.
    pub commander: Holder,
    /// Every holder, in the order their roles are announced.
    pub holders: Vec<Holder>,
}

impl Roles {
    /// The holders' addresses other than the actor's, once each, in order: the people to look
    /// up (or add) before planning.
    pub(crate) fn people_to_find(&self, actor: &Actor) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for h in &self.holders {
            if h.email != actor.email && !out.contains(&h.email) {
                out.push(h.email.clone());
            }
        }
        out
    }
}

/// A policy's assignment as a holder.
fn from_policy(a: &crate::oncall::Assignment) -> Holder {
    Holder {
        email: a.email.clone(),
        role: a.role,
        service_id: a.service_id,
        reason: Some(a.reason.clone()),
    }
}

/// Who commands (and scribes, and liaises): named at declaration, else the role policies (a
/// service's on-call or a named person), else the reporter commands.
pub(crate) fn roles(input: &DeclareInput) -> Roles {
    let (actor, tax) = (input.actor, &input.tax);
    let policies = crate::oncall::resolve_roles(
        input.policies,
        input.on_call,
        tax.type_.id,
        tax.priority.id,
        &input.tag_ids,
    );
    let is_commander =
        |a: &&crate::oncall::Assignment| a.role == ParticipantRole::IncidentCommander;
    let commander = match &input.cmd.commander {
        Some(email) => Holder {
            email: email.to_string(),
            role: ParticipantRole::IncidentCommander,
            service_id: None,
            reason: Some("named at declaration".into()),
        },
        None => match policies.iter().find(is_commander) {
            Some(a) => from_policy(a),
            None => Holder {
                email: actor.email.clone(),
                role: ParticipantRole::IncidentCommander,
                service_id: None,
                reason: None,
            },
        },
    };
    let reporter = Holder {
        email: actor.email.clone(),
        role: ParticipantRole::Reporter,
        service_id: None,
        reason: None,
    };
    let mut holders = vec![reporter, commander.clone()];
    holders.extend(
        policies
            .iter()
            .filter(|a| !is_commander(a))
            .map(from_policy),
    );
    Roles { commander, holders }
}

/// A participant the declaration adds, with every role they take.
#[derive(Debug, Clone)]
pub(crate) struct PlannedParticipant {
    /// The person.
    pub individual: individual::Model,
    /// Why they were added (the first reason among their roles).
    pub reason: Option<String>,
    /// Their roles, once each.
    pub roles: Vec<ParticipantRole>,
}

/// Everything a declaration writes, decided. Rows that belong to the incident carry
/// `incident_id` 0 until the incident is inserted.
#[derive(Debug, Clone)]
pub(crate) struct DeclarePlan {
    /// The incident row (its chain head included), to insert.
    pub incident: incident::Model,
    /// The commander.
    pub commander: individual::Model,
    /// The timeline's first events, chained.
    pub events: Vec<event::Model>,
    /// The participants, one per person.
    pub participants: Vec<PlannedParticipant>,
    /// The incident's tags.
    pub tag_ids: Vec<i64>,
    /// The commander's page, when the priority pages an on-call commander.
    pub page: Option<page::Model>,
    /// The declare saga's resources, pending.
    pub resources: Vec<resource::Model>,
    /// The status the incident moves to right away (back-filling a past incident).
    pub backfill: Option<IncidentStatus>,
}

impl DeclarePlan {
    /// The provider slug a pending resource of `kind` shows.
    pub(crate) fn provider_of(&self, kind: ResourceKind) -> String {
        self.resources
            .iter()
            .find(|r| r.kind == kind.as_str())
            .map(|r| r.provider.clone())
            .unwrap_or_else(|| crate::flows::pending_provider(kind))
    }
}

/// Plans the declaration. `found` are the people [`Roles::people_to_find`] named, looked up;
/// `number` is the incident's number in its project; `provider_of` names the provider of each
/// pending resource.
pub(crate) fn plan(
    input: DeclareInput,
    roles: Roles,
    found: Vec<individual::Model>,
    number: i64,
    provider_of: impl Fn(ResourceKind) -> String,
) -> DeclarePlan {
    let now = input.now;
    let people = people(input.actor, found, now);
    let person = |email: &str| people.iter().find(|p| p.email == email).cloned();
    let commander = person(&roles.commander.email).expect("the commander was looked up");
    let name = format!("{}-{number}", input.project.key_prefix);
    let page_commander = input.tax.priority.page_commander && roles.commander.service_id.is_some();
    let visibility = input
        .cmd
        .visibility
        .or_else(|| input.tax.type_.default_visibility.parse().ok())
        .unwrap_or(Visibility::Open);
    let list = events(&input, &roles, &name, visibility, page_commander);
    let mut head = ChainHead::genesis(&name);
    let events = dispatch_store::repo::event::chain(0, &mut head, list, now);
    let page = page_commander.then(|| page::Model {
        service_id: roles.commander.service_id,
        email: roles.commander.email.clone(),
        reason: format!(
            "{name}: {} ({} priority)",
            input.cmd.title.as_str(),
            input.tax.priority.name
        ),
        status: "triggered".into(),
        created_at: now,
        ..Default::default()
    });
    let incident = incident_row(&input, number, name, visibility, commander.id, head);
    DeclarePlan {
        incident,
        commander,
        events,
        participants: participants(&people, &roles.holders),
        tag_ids: input.tag_ids,
        page,
        resources: pending_resources(0, provider_of, now),
        backfill: input.cmd.status.filter(|s| *s != IncidentStatus::Active),
    }
}

/// The actor (known) and the people looked up, once each.
fn people(
    actor: &Actor,
    found: Vec<individual::Model>,
    now: DateTime<Utc>,
) -> Vec<individual::Model> {
    let me = individual::Model {
        id: actor.individual_id.0,
        email: actor.email.clone(),
        name: actor.name.clone(),
        title: None,
        weblink: None,
        created_at: now,
    };
    let mut people = vec![me];
    for p in found {
        if !people.iter().any(|q| q.email == p.email) {
            people.push(p);
        }
    }
    people
}

/// The timeline's first events: the declaration, each role taken, the commander's page.
fn events(
    input: &DeclareInput,
    roles: &Roles,
    name: &str,
    visibility: Visibility,
    page_commander: bool,
) -> Vec<dispatch_store::repo::event::NewEvent> {
    let (actor, cmd, tax) = (input.actor, &input.cmd, &input.tax);
    let mut events = Events::new(actor, input.now);
    events.push(
        "incident_declared",
        format!("{} declared {name}: {}", actor.email, cmd.title.as_str()),
        json!({"title": cmd.title.as_str(), "type": tax.type_.slug, "priority": tax.priority.slug, "severity": tax.severity.slug, "visibility": visibility, "tags": cmd.tags}),
    );
    for h in &roles.holders {
        let why = h
            .reason
            .as_deref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        events.push(
            "role_assumed",
            format!(
                "{} is the {}{why}",
                h.email,
                h.role.as_str().replace('_', " ")
            ),
            json!({"email": h.email, "role": h.role, "reason": h.reason}),
        );
    }
    if page_commander {
        let c = &roles.commander;
        events.push(
            "commander_paged",
            format!(
                "{} was paged: the priority is {}",
                c.email, tax.priority.name
            ),
            json!({"email": c.email, "service_id": c.service_id}),
        );
    }
    events.into_parts().0
}

/// The incident row, active, with the chain head of its first events.
fn incident_row(
    input: &DeclareInput,
    number: i64,
    name: String,
    visibility: Visibility,
    commander_id: i64,
    head: ChainHead,
) -> incident::Model {
    let now = input.now;
    incident::Model {
        project_id: input.project.id,
        number,
        name,
        title: input.cmd.title.as_str().to_string(),
        description: input.cmd.description.as_str().to_string(),
        resolution: None,
        status: IncidentStatus::Active.as_str().into(),
        visibility: visibility.as_str().into(),
        type_id: input.tax.type_.id,
        priority_id: input.tax.priority.id,
        severity_id: input.tax.severity.id,
        commander_id,
        reporter_id: input.actor.individual_id.0,
        reported_at: input
            .cmd
            .reported_at
            .map(dispatch_core::timeline::to_micros)
            .unwrap_or(now),
        stable_at: None,
        closed_at: None,
        created_at: now,
        updated_at: now,
        event_seq: head.seq,
        last_event_hash: head.hash,
        ..Default::default()
    }
}

/// One participant per person holding a role, with every role they take.
fn participants(people: &[individual::Model], holders: &[Holder]) -> Vec<PlannedParticipant> {
    people
        .iter()
        .filter(|p| holders.iter().any(|h| h.email == p.email))
        .map(|who| {
            let mine = || holders.iter().filter(|h| h.email == who.email);
            let mut roles: Vec<ParticipantRole> = Vec::new();
            for h in mine() {
                if !roles.contains(&h.role) {
                    roles.push(h.role);
                }
            }
            PlannedParticipant {
                individual: who.clone(),
                reason: mine().find_map(|h| h.reason.clone()),
                roles,
            }
        })
        .collect()
}

/// The resources a new incident starts with, as the declare saga writes them.
pub(crate) fn pending_resources(
    incident_id: i64,
    provider: impl Fn(ResourceKind) -> String,
    now: DateTime<Utc>,
) -> Vec<resource::Model> {
    crate::flows::DECLARE_STEPS
        .iter()
        .map(|k| resource::Model {
            id: 0,
            incident_id,
            kind: k.as_str().into(),
            provider: provider(*k),
            external_id: None,
            link: None,
            status: "pending".into(),
            last_error: None,
            created_at: now,
            updated_at: now,
        })
        .collect()
}
