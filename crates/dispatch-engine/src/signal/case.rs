//! Cases: a signal being looked at. A case moves new → triage → escalated → stable → closed;
//! escalating it (in `escalate`) declares an incident through the normal declaration (its type,
//! priority and severity from the case) in the same transaction, links the two both ways and
//! copies the case's timeline (its signals among it) onto the incident's.

use crate::{Actor, Error, Result};
use chrono::{DateTime, Utc};
use dispatch_core::signal::{CaseStatus, ResolutionReason};
use dispatch_core::values::IncidentRef;
use dispatch_core::{CaseId, IncidentId};
use dispatch_store::model::{case, case_event, case_participant, signal_instance};
use dispatch_store::repo;
use dispatch_store::repo::signal::CaseFilter;
use dispatch_store::repo::tag::TagRow;
use dispatch_store::Conn;
use serde_json::json;

/// How far back related cases are looked for (instances sharing an entity).
pub const RELATED_DAYS: i64 = 14;

/// A case with its timeline, signals, incident and related cases.
#[derive(Debug, Clone)]
pub struct CaseDetail {
    /// The case.
    pub case: case::Model,
    /// Its timeline, oldest first.
    pub events: Vec<case_event::Model>,
    /// Its signal instances, oldest first.
    pub instances: Vec<signal_instance::Model>,
    /// The incident's key (`INC-3`) it was escalated to.
    pub incident: Option<String>,
    /// Other cases whose signals share an entity with this one's (within [`RELATED_DAYS`]).
    pub related: Vec<i64>,
    /// Its tags, by name.
    pub tags: Vec<TagRow>,
    /// Its people, in the order they joined.
    pub participants: Vec<case_participant::Model>,
}

/// Which cases to list (parsed).
#[derive(Debug, Clone, Default)]
pub struct CaseQuery {
    /// The project's slug.
    pub project: Option<String>,
    /// Any of these statuses (any when empty).
    pub statuses: Vec<CaseStatus>,
    /// Assigned to this address.
    pub assignee: Option<String>,
    /// Opened by this definition.
    pub definition: Option<dispatch_core::SignalDefinitionId>,
    /// With this priority slug.
    pub priority: Option<String>,
    /// Words the title or description holds (each of them, any case).
    pub text: Option<String>,
    /// Carrying each of these tags (by name).
    pub tags: Vec<String>,
    /// Who lists them (the default sees only projects open to everyone).
    pub viewer: dispatch_store::repo::incident::Viewer,
}

/// Escalating: the incident's fields (the case's when absent).
#[derive(Debug, Clone, Default)]
pub struct Escalation {
    /// The incident type's slug or name.
    pub incident_type: Option<String>,
    /// The priority's slug or name.
    pub priority: Option<String>,
    /// The severity's slug or name.
    pub severity: Option<String>,
}

/// A case's timeline entry, written by `actor` at `at`.
pub(crate) fn case_event(
    case_id: i64,
    at: DateTime<Utc>,
    actor: Option<&str>,
    kind: &str,
    description: String,
    details: serde_json::Value,
) -> case_event::Model {
    case_event::Model {
        case_id,
        occurred_at: at,
        kind: kind.into(),
        actor: actor.map(str::to_string),
        description,
        details: details.to_string(),
        ..Default::default()
    }
}

/// The case moved to `to` at `at`, with that status's timestamp set.
pub(crate) fn moved(c: &case::Model, to: CaseStatus, at: DateTime<Utc>) -> Result<case::Model> {
    let from: CaseStatus = c.status.parse().unwrap_or(CaseStatus::New);
    if !from.may_become(to) {
        return Err(Error::Conflict(format!(
            "case {} is {from}; it cannot become {to}",
            c.id
        )));
    }
    let mut row = c.clone();
    row.status = to.as_str().into();
    row.updated_at = at;
    match to {
        CaseStatus::Triage => row.triage_at = Some(at),
        CaseStatus::Escalated => row.escalated_at = Some(at),
        CaseStatus::Stable => row.stable_at = Some(at),
        CaseStatus::Closed => row.closed_at = Some(at),
        CaseStatus::New => {}
    }
    Ok(row)
}

/// Moves the cases escalated to an incident along with it, in the incident's transaction:
/// when it becomes stable its escalated cases do, and when it closes its open cases close with
/// the `escalated` resolution reason and the incident's resolution.
pub(crate) async fn follow_incident(
    conn: &impl Conn,
    incident: &dispatch_store::model::incident::Model,
    target: dispatch_core::IncidentStatus,
    actor: Option<&str>,
    at: DateTime<Utc>,
) -> Result<()> {
    use dispatch_core::IncidentStatus as S;
    let to = match target {
        S::Stable => CaseStatus::Stable,
        S::Closed => CaseStatus::Closed,
        S::Active => return Ok(()),
    };
    let mut events = Vec::new();
    for c in repo::signal::cases_of_incident(conn, incident.id).await? {
        let Ok(mut row) = moved(&c, to, at) else {
            continue;
        };
        let mut details = json!({"incident": incident.name, "from": c.status, "to": to.as_str()});
        if to == CaseStatus::Closed {
            row.resolution_reason = Some(ResolutionReason::Escalated.as_str().into());
            row.resolution = Some(
                incident
                    .resolution
                    .clone()
                    .filter(|r| !r.is_empty())
                    .unwrap_or_else(|| format!("Closed with incident {}", incident.name)),
            );
            details["resolution_reason"] = json!("escalated");
        }
        repo::signal::update(conn, &c, row).await?;
        events.push(case_event(
            c.id,
            at,
            actor,
            "status_changed",
            format!(
                "Incident {} became {target}: the case is {to}",
                incident.name
            ),
            details,
        ));
    }
    crate::webhook::cases::record(conn, events).await?;
    Ok(())
}

impl crate::Cases<'_> {
    /// A page of cases, newest first, and how many match.
    pub async fn list(
        self,
        q: &CaseQuery,
        page: u64,
        per_page: u64,
    ) -> Result<(Vec<case::Model>, u64)> {
        let project_id = match &q.project {
            Some(p) => Some(self.project_config(Some(p)).await?.project.id),
            None => None,
        };
        let f = CaseFilter {
            project_id,
            statuses: q.statuses.iter().map(|s| s.as_str().to_string()).collect(),
            assignee: q.assignee.clone(),
            definition_id: q.definition.map(|d| d.0),
            priority: q.priority.clone(),
            words: q
                .text
                .as_deref()
                .map(repo::search::terms)
                .unwrap_or_default(),
            tags: q.tags.clone(),
            viewer: q.viewer,
        };
        Ok(repo::signal::cases(self.db().conn(), &f, page, per_page).await?)
    }

    /// A case with its timeline, signals, incident and related cases.
    pub async fn get(self, id: CaseId) -> Result<CaseDetail> {
        let conn = self.db().conn();
        let case = repo::signal::case(conn, id.0).await?;
        let events = repo::signal::case_events(conn, id.0).await?;
        let instances = repo::signal::case_instances(conn, id.0).await?;
        let incident = match case.incident_id {
            Some(i) => repo::incident::find(conn, &IncidentRef::Id(IncidentId(i)))
                .await?
                .map(|r| r.name),
            None => None,
        };
        let mut fragments: Vec<String> = instances
            .iter()
            .flat_map(|i| {
                serde_json::from_str::<Vec<dispatch_core::signal::Entity>>(&i.entities)
                    .unwrap_or_default()
            })
            .filter_map(|e| serde_json::to_string(&e).ok())
            .collect();
        fragments.sort();
        fragments.dedup();
        fragments.truncate(20);
        let since = dispatch_core::now() - chrono::Duration::days(RELATED_DAYS);
        let related =
            repo::signal::related_cases(conn, case.project_id, case.id, &fragments, since, 20)
                .await?;
        let tags = repo::tag::for_cases(conn, &[case.id])
            .await?
            .remove(&case.id)
            .unwrap_or_default();
        let participants = repo::case_participant::of_case(conn, case.id).await?;
        Ok(CaseDetail {
            case,
            events,
            instances,
            incident,
            related,
            tags,
            participants,
        })
    }

    /// Moves a case to triage, stable or closed (with a resolution reason and text).
    pub async fn transition(
        self,
        actor: &Actor,
        id: CaseId,
        to: CaseStatus,
        resolution: Option<(ResolutionReason, Option<String>)>,
    ) -> Result<case::Model> {
        let at = dispatch_core::now();
        let txn = self.db().write().await?;
        let current = repo::signal::case(&*txn, id.0).await?;
        let mut row = moved(&current, to, at)?;
        let mut details = json!({"from": current.status, "to": to.as_str()});
        let mut description = format!(
            "{} moved the case from {} to {to}",
            actor.email, current.status
        );
        if let Some((reason, text)) = resolution {
            row.resolution_reason = Some(reason.as_str().into());
            row.resolution = text;
            details["resolution_reason"] = json!(reason.as_str());
            description.push_str(&format!(" ({})", reason.as_str()));
        }
        let saved = repo::signal::update(&*txn, &current, row).await?;
        super::case_people::join(&*txn, &[(id.0, &actor.email, to.as_str())], at).await?;
        crate::webhook::cases::record(
            &*txn,
            vec![case_event(
                id.0,
                at,
                Some(&actor.email),
                "status_changed",
                description,
                details,
            )],
        )
        .await?;
        txn.commit().await?;
        Ok(saved)
    }

    /// The cases escalated to an incident.
    pub async fn of_incident(self, incident: IncidentId) -> Result<Vec<case::Model>> {
        Ok(repo::signal::cases_of_incident(self.db().conn(), incident.0).await?)
    }
}
