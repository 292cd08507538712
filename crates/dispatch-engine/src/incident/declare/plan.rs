//! The declaration's decisions, without a database, a clock or any I/O: given the request,
//! the project's resolved configuration, who is on call, the people and the time, it says which
//! incident row, role holders, participants, timeline events, page, resources and, for a past
//! incident, the back-fill (the move to its status, with the events, row, roles, review document
//! and jobs the later transition would make) the declaration makes. [`super`] reads what this needs and writes what it returns.

use crate::cache::ProjectConfig;
use crate::changes::Events;
use crate::incident::status::{
    check_required_tags, check_severity, stable_priority_event, status_mail, transition_jobs,
};
use crate::Actor;
use chrono::{DateTime, Utc};
use dispatch_core::commands::DeclareIncident;
use dispatch_core::event::{Change, TimelineEvent};
use dispatch_core::{IncidentStatus, ParticipantRole, ResourceKind, ValidationError, Visibility};
use dispatch_store::model::{
    event, incident, incident_priority, incident_severity, incident_type, individual, page,
    project, resource, role_policy, tag_type,
};
use dispatch_store::repo::event::ChainHead;
use dispatch_store::repo::job::NewJob;
use std::collections::HashMap;

/// Someone who takes a role when the incident is declared.
#[derive(Debug, Clone)]
pub(crate) struct Holder {
    /// Their address.
    pub email: String,
    /// The role they take.
    pub role: ParticipantRole,
    /// The on-call service they came from, if any.
    pub service_id: Option<i64>,
    /// Why they take it (none for the reporter, or the reporter commanding by default).
    pub reason: Option<String>,
}

/// The declaration's taxonomy, resolved against the project's configuration.
#[derive(Clone, Copy)]
pub(crate) struct Resolved<'a> {
    /// The incident type.
    pub type_: &'a incident_type::Model,
    /// The priority.
    pub priority: &'a incident_priority::Model,
    /// The severity.
    pub severity: &'a incident_severity::Model,
}

/// Picks the named (or default) entry of one taxonomy; an unknown name is a field error.
fn pick<'a, T: dispatch_store::repo::taxonomy::Taxonomy>(
    errors: &mut ValidationError,
    field: &str,
    input: Option<&str>,
    named: impl Fn(&str) -> Option<&'a T>,
    entries: &'a [T],
) -> Option<&'a T> {
    let default = entries.iter().find(|t| t.is_default() && t.enabled());
    match input {
        Some(name) => {
            let found = named(name);
            if found.is_none() {
                errors.push(
                    field,
                    format!(
                        "unknown {field} {name:?}; known: {}",
                        entries
                            .iter()
                            .filter(|t| t.enabled())
                            .map(|t| t.slug())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
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
    let type_ = pick(errors, "type", cmd_type, |n| cfg.type_named(n), &cfg.types);
    let priority = pick(
        errors,
        "priority",
        priority,
        |n| cfg.priority_named(n),
        &cfg.priorities,
    );
    let severity = pick(
        errors,
        "severity",
        severity,
        |n| cfg.severity_named(n),
        &cfg.severities,
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
    /// What back-filling a past status needs (empty when declaring an active incident).
    pub backfill: BackfillFacts,
    /// The time of the declaration.
    pub now: DateTime<Utc>,
}

/// What back-filling a past status needs read besides the configuration; empty for an active
/// declaration.
#[derive(Debug, Clone, Default)]
pub(crate) struct BackfillFacts {
    /// The project's stable priority, if it has one.
    pub stable_priority: Option<incident_priority::Model>,
    /// The project's required tag types (read when closing).
    pub required_tag_types: Vec<tag_type::Model>,
    /// The tag type of each of the request's tags (read when closing and some are required).
    pub tag_types: Vec<Option<i64>>,
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
    /// The move to a past status right after the declaration (back-filling a past incident).
    pub backfill: Option<Backfill>,
}

/// Back-filling: the move from active to a past status, as a later transition at the
/// declaration's time would record it.
#[derive(Debug, Clone)]
pub(crate) struct Backfill {
    /// The status.
    pub status: IncidentStatus,
    /// The incident row after the move: what the declared row is updated to.
    pub incident: incident::Model,
    /// The move's events, chained after the declaration's (`incident_id` 0).
    pub events: Vec<event::Model>,
    /// The same events, typed: the rules' follow-ups read them.
    typed: Vec<TimelineEvent>,
    /// When closing ended the roles taken at declaration.
    pub roles_renounced_at: Option<DateTime<Utc>>,
    /// The review document, pending (`incident_id` 0), unless the type opts out.
    pub review: Option<resource::Model>,
}

impl Backfill {
    /// The move's jobs for the incident inserted as `incident_id`, in the transition's order:
    /// the review document's, closing's and the refresh, then the rules' follow-ups.
    pub(crate) fn jobs(&self, base_url: &str, incident_id: i64) -> Vec<NewJob> {
        let (at, row) = (self.incident.updated_at, &self.incident);
        let mut jobs = Vec::new();
        if let Some(r) = &self.review {
            jobs.push(crate::flows::provision(
                dispatch_core::IncidentId(incident_id),
                ResourceKind::ReviewDocument,
                r.created_at,
            ));
        }
        jobs.extend(transition_jobs(
            base_url,
            incident_id,
            &row.name,
            IncidentStatus::Active,
            self.status,
            at,
        ));
        jobs.push(status_mail(
            incident_id,
            &row.name,
            &row.title,
            IncidentStatus::Active,
            self.status,
            at,
        ));
        jobs.extend(crate::rules::follow_up(
            incident_id,
            &row.status,
            &row.visibility,
            self.typed.iter(),
            at,
        ));
        jobs
    }
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
/// pending resource. A past status the incident may not take (its severity, a required tag) is
/// a field error, as the later transition would answer.
pub(crate) fn plan(
    input: DeclareInput,
    roles: Roles,
    found: Vec<individual::Model>,
    number: i64,
    provider_of: impl Fn(ResourceKind) -> String,
) -> Result<DeclarePlan, ValidationError> {
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
    let participants = participants(&people, &roles.holders);
    let held = participants.iter().map(|p| p.roles.len()).sum();
    let backfill = backfill(&input, &incident, held)?;
    Ok(DeclarePlan {
        incident,
        commander,
        events,
        participants,
        tag_ids: input.tag_ids,
        page,
        resources: pending_resources(0, provider_of, now),
        backfill,
    })
}

/// The field errors a declaration gets whatever its number: a past status the incident may not
/// take (its severity, on closing a required tag type). Checked before the number is taken, so
/// that a refused declaration never uses one up.
pub(crate) fn check(input: &DeclareInput) -> Result<(), ValidationError> {
    let Some(target) = input.cmd.status.filter(|s| *s != IncidentStatus::Active) else {
        return Ok(());
    };
    check_severity(input.tax.severity, target)?;
    if target == IncidentStatus::Closed {
        let facts = &input.backfill;
        check_required_tags(&facts.required_tag_types, &facts.tag_types)?;
    }
    Ok(())
}

/// The back-fill of a declaration that carries a past status: the checks, row, events and
/// review document of the move from active, at the declaration's time. `held` is how many
/// roles the declaration gives (closing ends them all).
fn backfill(
    input: &DeclareInput,
    declared: &incident::Model,
    held: usize,
) -> Result<Option<Backfill>, ValidationError> {
    let Some(target) = input.cmd.status.filter(|s| *s != IncidentStatus::Active) else {
        return Ok(None);
    };
    let (now, facts) = (input.now, &input.backfill);
    check(input)?;
    let closing = target == IncidentStatus::Closed;
    let mut row = declared.clone();
    let mut events = Events::new(input.actor, now);
    row.stable_at = Some(now);
    if closing {
        row.closed_at = Some(now);
        events.push_event(TimelineEvent::RolesRenounced { roles: held as u64 });
    }
    row.status = target.as_str().into();
    let stable = facts.stable_priority.as_ref();
    if let Some(p) = stable.filter(|p| p.id != input.tax.priority.id) {
        row.priority_id = p.id;
        events.push_event(stable_priority_event(input.tax.priority, p));
    }
    events.push_event(TimelineEvent::StatusChanged {
        status: Change::new(IncidentStatus::Active, target),
    });
    let typed = events.typed().cloned().collect();
    let mut head = ChainHead {
        incident_name: row.name.clone(),
        seq: row.event_seq,
        hash: row.last_event_hash.clone(),
    };
    let list = events.into_parts(&row.name).0;
    let chained = dispatch_store::repo::event::chain(0, &mut head, list, now);
    (row.event_seq, row.last_event_hash, row.updated_at) = (head.seq, head.hash, now);
    let review = (!input.tax.type_.exclude_from_review).then(|| {
        let kind = ResourceKind::ReviewDocument;
        pending_resources_of(0, &[kind], crate::flows::pending_provider, now).remove(0)
    });
    Ok(Some(Backfill {
        status: target,
        incident: row,
        events: chained,
        typed,
        roles_renounced_at: closing.then_some(now),
        review,
    }))
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
        teams_id: None,
        matrix_id: None,
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
    events.push_event(TimelineEvent::IncidentDeclared {
        title: cmd.title.as_str().to_string(),
        type_: tax.type_.slug.clone(),
        priority: tax.priority.slug.clone(),
        severity: tax.severity.slug.clone(),
        visibility,
        tags: cmd.tags.clone(),
    });
    for h in &roles.holders {
        events.push_event(TimelineEvent::RoleAssumed {
            email: h.email.clone(),
            role: h.role,
            reason: Some(h.reason.clone()),
        });
    }
    if page_commander {
        let c = &roles.commander;
        events.push_event(TimelineEvent::CommanderPaged {
            email: c.email.clone(),
            service_id: c.service_id,
            priority_name: tax.priority.name.clone(),
        });
    }
    events.into_parts(name).0
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
    pending_resources_of(incident_id, crate::flows::DECLARE_STEPS, provider, now)
}

/// Pending resources of `kinds`, as `repo::resource::add_pending` writes them.
fn pending_resources_of(
    incident_id: i64,
    kinds: &[ResourceKind],
    provider: impl Fn(ResourceKind) -> String,
    now: DateTime<Utc>,
) -> Vec<resource::Model> {
    kinds
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
            details: "{}".into(),
            created_at: now,
            updated_at: now,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use dispatch_core::values::{Email, IncidentTitle, LongText};
    use dispatch_core::{IndividualId, Transport};

    /// The configuration a test declares in: a project, one type, priority and severity.
    struct Fixture {
        actor: Actor,
        project: project::Model,
        type_: incident_type::Model,
        priority: incident_priority::Model,
        severity: incident_severity::Model,
        policies: Vec<role_policy::Model>,
        on_call: HashMap<i64, String>,
        backfill: BackfillFacts,
    }

    fn fixture() -> Fixture {
        Fixture {
            actor: Actor {
                individual_id: IndividualId(1),
                email: "reporter@example.com".into(),
                name: "Rita Reporter".into(),
                transport: Transport::Api,
            },
            project: project::Model {
                id: 3,
                slug: "default".into(),
                key_prefix: "INC".into(),
                ..Default::default()
            },
            type_: incident_type::Model {
                id: 10,
                slug: "outage".into(),
                default_visibility: "open".into(),
                ..Default::default()
            },
            priority: incident_priority::Model {
                id: 20,
                slug: "p1".into(),
                name: "P1".into(),
                ..Default::default()
            },
            severity: incident_severity::Model {
                id: 30,
                slug: "sev2".into(),
                ..Default::default()
            },
            policies: vec![],
            on_call: HashMap::new(),
            backfill: BackfillFacts::default(),
        }
    }

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    fn request() -> DeclareIncident {
        DeclareIncident::new(
            IncidentTitle::parse("title", "Checkout is down").unwrap(),
            LongText::parse("description", "500s everywhere").unwrap(),
        )
    }

    fn policy(id: i64, role: ParticipantRole) -> role_policy::Model {
        role_policy::Model {
            id,
            role: role.as_str().into(),
            enabled: true,
            view_order: id as i32,
            ..Default::default()
        }
    }

    /// What the shell would look up for the people the roles name (ids from 100 on).
    fn look_up(emails: Vec<String>) -> Vec<individual::Model> {
        emails
            .into_iter()
            .zip(100..)
            .map(|(email, id)| individual::Model {
                id,
                email,
                ..Default::default()
            })
            .collect()
    }

    /// Plans `cmd` in `f` the way the shell does: roles, the people they name, then the plan.
    fn plan_in(f: &Fixture, cmd: DeclareIncident, tag_ids: Vec<i64>) -> (DeclarePlan, Vec<String>) {
        let input = DeclareInput {
            actor: &f.actor,
            cmd,
            project: &f.project,
            tax: Resolved {
                type_: &f.type_,
                priority: &f.priority,
                severity: &f.severity,
            },
            policies: &f.policies,
            on_call: &f.on_call,
            tag_ids,
            backfill: f.backfill.clone(),
            now: at(),
        };
        let roles = roles(&input);
        let wanted = roles.people_to_find(&f.actor);
        let found = look_up(wanted.clone());
        let plan = plan(input, roles, found, 7, crate::flows::pending_provider);
        (plan.expect("planned"), wanted)
    }

    fn kinds(p: &DeclarePlan) -> Vec<&str> {
        p.events.iter().map(|e| e.kind.as_str()).collect()
    }

    fn roles_of(p: &DeclarePlan, email: &str) -> Vec<ParticipantRole> {
        p.participants
            .iter()
            .find(|pp| pp.individual.email == email)
            .map(|pp| pp.roles.clone())
            .unwrap_or_default()
    }

    #[test]
    fn without_policies_the_reporter_commands() {
        let f = fixture();
        let (p, wanted) = plan_in(&f, request(), vec![]);
        assert!(wanted.is_empty(), "nobody to look up: {wanted:?}");
        assert_eq!(p.incident.name, "INC-7");
        assert_eq!(p.incident.number, 7);
        assert_eq!(p.incident.commander_id, 1);
        assert_eq!(p.incident.reporter_id, 1);
        assert_eq!(p.incident.status, "active");
        assert_eq!(p.incident.reported_at, at());
        assert_eq!(p.commander.email, "reporter@example.com");
        assert_eq!(
            kinds(&p),
            ["incident_declared", "role_assumed", "role_assumed"]
        );
        assert_eq!(
            p.events[0].description,
            "reporter@example.com declared INC-7: Checkout is down"
        );
        assert_eq!(
            p.events[2].description,
            "reporter@example.com is the incident commander"
        );
        assert_eq!(p.participants.len(), 1);
        assert_eq!(p.participants[0].reason, None);
        assert_eq!(
            roles_of(&p, "reporter@example.com"),
            [
                ParticipantRole::Reporter,
                ParticipantRole::IncidentCommander
            ]
        );
        assert!(p.page.is_none());
        assert!(p.backfill.is_none());
    }

    #[test]
    fn the_on_call_answer_commands_and_a_paging_priority_pages_them() {
        let mut f = fixture();
        f.policies = vec![role_policy::Model {
            service_id: Some(5),
            ..policy(1, ParticipantRole::IncidentCommander)
        }];
        f.on_call.insert(5, "oncall@example.com".into());
        f.priority.page_commander = true;
        let (p, wanted) = plan_in(&f, request(), vec![]);
        assert_eq!(wanted, ["oncall@example.com"]);
        assert_eq!(p.commander.email, "oncall@example.com");
        assert_eq!(p.incident.commander_id, 100);
        assert_eq!(
            kinds(&p),
            [
                "incident_declared",
                "role_assumed",
                "role_assumed",
                "commander_paged"
            ]
        );
        assert_eq!(
            p.events[2].description,
            "oncall@example.com is the incident commander (on call for service 5 (role policy 1))"
        );
        assert_eq!(
            p.events[3].description,
            "oncall@example.com was paged: the priority is P1"
        );
        let page = p.page.as_ref().expect("the commander is paged");
        assert_eq!(page.email, "oncall@example.com");
        assert_eq!(page.service_id, Some(5));
        assert_eq!(page.reason, "INC-7: Checkout is down (P1 priority)");
        assert_eq!(page.status, "triggered");
        assert_eq!(
            roles_of(&p, "oncall@example.com"),
            [ParticipantRole::IncidentCommander]
        );
    }

    #[test]
    fn nobody_on_call_leaves_the_reporter_commanding_unpaged() {
        let mut f = fixture();
        f.policies = vec![role_policy::Model {
            service_id: Some(5),
            ..policy(1, ParticipantRole::IncidentCommander)
        }];
        f.priority.page_commander = true;
        let (p, wanted) = plan_in(&f, request(), vec![]);
        assert!(wanted.is_empty());
        assert_eq!(p.commander.email, "reporter@example.com");
        assert!(p.page.is_none());
        assert!(!kinds(&p).contains(&"commander_paged"));
    }

    #[test]
    fn a_named_commander_wins_and_the_policy_person_is_not_looked_up() {
        let mut f = fixture();
        f.policies = vec![role_policy::Model {
            service_id: Some(5),
            ..policy(1, ParticipantRole::IncidentCommander)
        }];
        f.on_call.insert(5, "oncall@example.com".into());
        f.priority.page_commander = true;
        let mut cmd = request();
        cmd.commander = Some(Email::parse("commander", "ann@example.com").unwrap());
        let (p, wanted) = plan_in(&f, cmd, vec![]);
        assert_eq!(wanted, ["ann@example.com"]);
        assert_eq!(p.commander.email, "ann@example.com");
        assert!(p.page.is_none(), "a named commander is not paged");
        assert_eq!(
            p.events[2].description,
            "ann@example.com is the incident commander (named at declaration)"
        );
        let ann = &p.participants[1];
        assert_eq!(ann.reason.as_deref(), Some("named at declaration"));
    }

    #[test]
    fn one_person_can_take_several_roles_from_the_policies() {
        let mut f = fixture();
        let named = |id, role| role_policy::Model {
            email: Some("bob@example.com".into()),
            ..policy(id, role)
        };
        f.policies = vec![
            named(1, ParticipantRole::Scribe),
            named(2, ParticipantRole::Liaison),
        ];
        let (p, wanted) = plan_in(&f, request(), vec![]);
        assert_eq!(wanted, ["bob@example.com"], "looked up once");
        assert_eq!(p.participants.len(), 2);
        assert_eq!(
            roles_of(&p, "bob@example.com"),
            [ParticipantRole::Scribe, ParticipantRole::Liaison]
        );
        assert_eq!(
            p.participants[1].reason.as_deref(),
            Some("named by role policy 1"),
            "the first role's reason"
        );
        let texts: Vec<&str> = p.events.iter().map(|e| e.description.as_str()).collect();
        assert_eq!(
            texts[3..],
            [
                "bob@example.com is the scribe (named by role policy 1)",
                "bob@example.com is the liaison (named by role policy 2)"
            ]
        );
    }

    #[test]
    fn visibility_comes_from_the_request_else_the_type() {
        let mut f = fixture();
        let mut cmd = request();
        cmd.visibility = Some(Visibility::Restricted);
        let (p, _) = plan_in(&f, cmd, vec![]);
        assert_eq!(p.incident.visibility, "restricted");
        let details: serde_json::Value = serde_json::from_str(&p.events[0].details).unwrap();
        assert_eq!(details["visibility"], "restricted");

        f.type_.default_visibility = "restricted".into();
        let (p, _) = plan_in(&f, request(), vec![]);
        assert_eq!(p.incident.visibility, "restricted");
        f.type_.default_visibility = "nonsense".into();
        let (p, _) = plan_in(&f, request(), vec![]);
        assert_eq!(p.incident.visibility, "open");
    }

    #[test]
    fn tags_are_planned_and_select_tag_policies() {
        let mut f = fixture();
        f.policies = vec![role_policy::Model {
            email: Some("db@example.com".into()),
            tag_id: Some(44),
            ..policy(1, ParticipantRole::IncidentCommander)
        }];
        let mut cmd = request();
        cmd.tags = vec!["database".into()];
        let (p, _) = plan_in(&f, cmd.clone(), vec![44]);
        assert_eq!(p.tag_ids, [44]);
        assert_eq!(p.commander.email, "db@example.com");
        let details: serde_json::Value = serde_json::from_str(&p.events[0].details).unwrap();
        assert_eq!(details["tags"], serde_json::json!(["database"]));

        let (p, _) = plan_in(&f, request(), vec![]);
        assert!(p.tag_ids.is_empty());
        assert_eq!(p.commander.email, "reporter@example.com");
    }

    #[test]
    fn a_past_incident_is_back_filled_after_being_declared_active() {
        let mut f = fixture();
        f.severity.allowed_for_stable = true;
        for (asked, planned) in [
            (Some(IncidentStatus::Stable), Some(IncidentStatus::Stable)),
            (Some(IncidentStatus::Closed), Some(IncidentStatus::Closed)),
            (Some(IncidentStatus::Active), None),
            (None, None),
        ] {
            let mut cmd = request();
            cmd.status = asked;
            cmd.reported_at = Some(DateTime::from_timestamp(1_700_000_000, 0).unwrap());
            let (p, _) = plan_in(&f, cmd, vec![]);
            assert_eq!(p.backfill.map(|b| b.status), planned, "asked {asked:?}");
            assert_eq!(p.incident.status, "active");
            assert!(p.incident.stable_at.is_none() && p.incident.closed_at.is_none());
            assert_eq!(
                p.incident.reported_at,
                DateTime::from_timestamp(1_700_000_000, 0).unwrap()
            );
        }
    }

    /// A past incident declared with `status`, in a project whose stable priority is P3.
    fn back_filled(f: &mut Fixture, status: IncidentStatus) -> (DeclarePlan, Backfill) {
        f.severity.allowed_for_stable = true;
        f.backfill.stable_priority = Some(incident_priority::Model {
            id: 21,
            slug: "p3".into(),
            name: "P3".into(),
            ..Default::default()
        });
        let mut cmd = request();
        cmd.status = Some(status);
        let (p, _) = plan_in(f, cmd, vec![]);
        let b = p.backfill.clone().expect("back-filled");
        (p, b)
    }

    fn job_kinds(jobs: &[NewJob]) -> Vec<&str> {
        jobs.iter().map(|j| j.kind.as_str()).collect()
    }

    #[test]
    fn back_filling_stable_plans_the_move_the_transition_would_make() {
        let (p, b) = back_filled(&mut fixture(), IncidentStatus::Stable);
        assert_eq!(p.incident.status, "active", "inserted as declared");
        let row = &b.incident;
        assert_eq!(row.status, "stable");
        assert_eq!((row.stable_at, row.closed_at), (Some(at()), None));
        assert_eq!(row.priority_id, 21, "the project's stable priority");
        let kinds: Vec<&str> = b.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["incident_updated", "status_changed"]);
        let texts: Vec<&str> = b.events.iter().map(|e| e.description.as_str()).collect();
        assert_eq!(
            texts,
            [
                "priority set to P3 (the project's stable priority)",
                "reporter@example.com marked stable INC-7"
            ]
        );
        assert_eq!(
            b.events[0].details,
            r#"{"priority":{"after":"p3","before":"p1"}}"#
        );
        // Chained after the declaration's events; the row holds the new head.
        assert_eq!(b.events[0].seq, p.incident.event_seq + 1);
        assert_eq!(b.events[0].prev_hash, p.incident.last_event_hash);
        assert_eq!(row.event_seq, p.incident.event_seq + 2);
        assert_eq!(row.last_event_hash, b.events[1].hash);
        assert_eq!(row.updated_at, at());
        assert!(b.roles_renounced_at.is_none(), "stable keeps the roles");
        let review = b.review.as_ref().expect("the review document");
        assert_eq!(
            (review.kind.as_str(), review.status.as_str()),
            ("review_document", "pending")
        );
        let jobs = b.jobs("http://dispatch.example", 42);
        assert_eq!(
            job_kinds(&jobs),
            ["provision", "refresh", "mail_stakeholders", "notify"]
        );
        assert!(jobs.iter().all(|j| j.incident_id == Some(42)));
        assert_eq!(jobs[0].payload["kind"], "review_document");
        let changes = &jobs[3].payload["changes"];
        assert_eq!(
            jobs[2].payload["subject"],
            "[INC-7] Stable: Checkout is down"
        );
        assert_eq!(changes["status"]["after"], "stable");
        assert_eq!(changes["priority"]["after"], "p3");
    }

    #[test]
    fn back_filling_closed_ends_the_roles_asks_for_feedback_and_archives() {
        let mut f = fixture();
        f.type_.exclude_from_review = true;
        let (p, b) = back_filled(&mut f, IncidentStatus::Closed);
        let row = &b.incident;
        assert_eq!(row.status, "closed");
        assert_eq!((row.stable_at, row.closed_at), (Some(at()), Some(at())));
        let kinds: Vec<&str> = b.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["roles_renounced", "incident_updated", "status_changed"]
        );
        let held: usize = p.participants.iter().map(|pp| pp.roles.len()).sum();
        assert_eq!(held, 2);
        assert_eq!(b.events[0].details, r#"{"roles":2}"#);
        assert_eq!(b.events[2].description, "reporter@example.com closed INC-7");
        assert_eq!(b.roles_renounced_at, Some(at()));
        assert!(b.review.is_none(), "the type opts out of reviews");
        let jobs = b.jobs("http://dispatch.example", 42);
        assert_eq!(
            job_kinds(&jobs),
            [
                "announce",
                "calculate_costs",
                "archive",
                "refresh",
                "mail_stakeholders",
                "notify"
            ]
        );
        assert!(jobs[0].payload["text"]
            .as_str()
            .unwrap()
            .starts_with("INC-7 is closed."));
        assert_eq!(jobs[1].payload["incident"], 42, "its response cost");
        assert_eq!(jobs[2].payload["archive"], true);
    }

    #[test]
    fn a_past_status_the_incident_may_not_take_is_a_field_error() {
        let mut f = fixture();
        let input = |f: &Fixture, status| {
            let mut cmd = request();
            cmd.status = Some(status);
            let input = DeclareInput {
                actor: &f.actor,
                cmd,
                project: &f.project,
                tax: Resolved {
                    type_: &f.type_,
                    priority: &f.priority,
                    severity: &f.severity,
                },
                policies: &f.policies,
                on_call: &f.on_call,
                tag_ids: vec![],
                backfill: f.backfill.clone(),
                now: at(),
            };
            let roles = roles(&input);
            plan(input, roles, vec![], 7, crate::flows::pending_provider).map(|_| ())
        };
        let fields = |r: Result<(), ValidationError>| -> Vec<(String, String)> {
            r.unwrap_err()
                .fields
                .into_iter()
                .map(|e| (e.field, e.message))
                .collect()
        };
        f.severity.name = "Critical".into();
        assert_eq!(
            fields(input(&f, IncidentStatus::Stable)),
            [(
                "severity".to_string(),
                r#"severity "Critical" is not allowed on a stable incident; set another severity first"#.to_string()
            )]
        );
        f.severity.allowed_for_stable = true;
        f.backfill.required_tag_types = vec![tag_type::Model {
            id: 8,
            name: "Cause".into(),
            required: true,
            ..Default::default()
        }];
        assert!(
            input(&f, IncidentStatus::Stable).is_ok(),
            "stable needs no tag"
        );
        assert_eq!(
            fields(input(&f, IncidentStatus::Closed)),
            [(
                "tags".to_string(),
                "closing needs a tag of each required type: Cause".to_string()
            )]
        );
        f.backfill.tag_types = vec![None, Some(8)];
        assert!(input(&f, IncidentStatus::Closed).is_ok());
    }

    #[test]
    fn the_events_are_chained_and_the_row_holds_the_head() {
        let f = fixture();
        let (p, _) = plan_in(&f, request(), vec![]);
        let seqs: Vec<i64> = p.events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        for pair in p.events.windows(2) {
            assert_eq!(pair[1].prev_hash, pair[0].hash);
        }
        let last = p.events.last().unwrap();
        assert_eq!(p.incident.event_seq, 3);
        assert_eq!(p.incident.last_event_hash, last.hash);
        assert!(p.events.iter().all(|e| e.incident_id == 0));
    }

    #[test]
    fn the_declare_saga_resources_are_pending_with_their_providers() {
        let f = fixture();
        let (p, _) = plan_in(&f, request(), vec![]);
        let kinds: Vec<&str> = p.resources.iter().map(|r| r.kind.as_str()).collect();
        let steps: Vec<&str> = crate::flows::DECLARE_STEPS
            .iter()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(kinds, steps);
        assert!(p.resources.iter().all(|r| r.status == "pending"));
        assert_eq!(p.provider_of(ResourceKind::Ticket), "dispatch-ticket");
        assert!(
            !kinds.contains(&"review_document"),
            "no review at declaration"
        );
    }

    fn config(f: &Fixture) -> ProjectConfig {
        let enabled_default = |t: &incident_type::Model| incident_type::Model {
            is_default: true,
            enabled: true,
            ..t.clone()
        };
        ProjectConfig {
            project: f.project.clone(),
            types: vec![
                enabled_default(&f.type_),
                incident_type::Model {
                    id: 11,
                    slug: "security".into(),
                    name: "Security".into(),
                    enabled: true,
                    ..Default::default()
                },
            ],
            priorities: vec![incident_priority::Model {
                enabled: true,
                ..f.priority.clone()
            }],
            severities: vec![],
            policies: vec![],
            services: vec![],
            selection: Default::default(),
        }
    }

    #[test]
    fn resolving_takes_defaults_and_names_every_bad_field() {
        let cfg = config(&fixture());
        let mut errors = ValidationError::default();
        let tax = resolve(&cfg, Some("Security"), Some("nope"), None, &mut errors);
        assert!(tax.is_none());
        let fields: Vec<(&str, &str)> = errors
            .fields
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("priority", r#"unknown priority "nope"; known: p1"#),
                ("severity", "the project has no default severity; name one"),
            ]
        );

        let mut cfg = cfg;
        cfg.severities = vec![incident_severity::Model {
            id: 31,
            enabled: true,
            is_default: true,
            ..Default::default()
        }];
        cfg.priorities[0].is_default = true;
        let mut errors = ValidationError::default();
        let tax = resolve(&cfg, Some("security"), None, None, &mut errors).expect("resolved");
        assert!(errors.fields.is_empty());
        assert_eq!(
            (tax.type_.id, tax.priority.id, tax.severity.id),
            (11, 20, 31)
        );
    }
}
