//! Escalating a case into an incident, in one transaction: the case becomes escalated, the
//! incident is declared through the declaration's own transactional core (the case's type,
//! priority and severity unless given), the two are linked both ways, the case's timeline (its
//! signals among it) is copied onto the incident's, the case's tags are the incident's and its
//! people join it as observers, and the declare flow's jobs are queued. A failure anywhere
//! leaves nothing written.

use super::case::{case_event, moved, Escalation};
use crate::changes::Events;
use crate::incident::IncidentDetail;
use crate::record::save_with_events;
use crate::{Actor, Error, Result};
use dispatch_core::commands::DeclareIncident;
use dispatch_core::event::TimelineEvent;
use dispatch_core::signal::CaseStatus;
use dispatch_core::values::{IncidentTitle, LongText};
use dispatch_core::CaseId;
use dispatch_store::model::case;
use dispatch_store::repo;
use serde_json::json;

impl crate::Cases<'_> {
    /// The declaration a case escalates to: the case's taxonomy where the project still has it
    /// (given fields must fit), its title and description.
    async fn escalation_of(&self, current: &case::Model, e: Escalation) -> Result<DeclareIncident> {
        let conn = self.db().conn();
        let project = repo::project::get(conn, current.project_id).await?;
        let pick = |given: Option<String>, own: &Option<String>| given.or_else(|| own.clone());
        let mut incident_type = pick(e.incident_type.clone(), &current.case_type);
        let mut priority = pick(e.priority.clone(), &current.case_priority);
        let mut severity = pick(e.severity.clone(), &current.case_severity);
        let bad = self
            .incidents()
            .check_refs(
                Some(&project.slug),
                incident_type.as_deref(),
                priority.as_deref(),
                severity.as_deref(),
            )
            .await?;
        let given_bad = bad.fields.iter().any(|f| {
            (f.field.contains("type") && e.incident_type.is_some())
                || (f.field.contains("priority") && e.priority.is_some())
                || (f.field.contains("severity") && e.severity.is_some())
        });
        if given_bad {
            return Err(bad.into());
        }
        for f in &bad.fields {
            if f.field.contains("type") {
                incident_type = None;
            } else if f.field.contains("priority") {
                priority = None;
            } else if f.field.contains("severity") {
                severity = None;
            }
        }
        let title: String = current.title.chars().take(IncidentTitle::MAX).collect();
        let text = if current.description.trim().is_empty() {
            format!("Escalated from case {}: {}", current.id, current.title)
        } else {
            current.description.clone()
        };
        Ok(DeclareIncident {
            project: Some(project.slug),
            title: IncidentTitle::parse("title", &title)?,
            description: LongText::parse(
                "description",
                &text.chars().take(LongText::MAX).collect::<String>(),
            )?,
            incident_type,
            priority,
            severity,
            visibility: None,
            tags: repo::tag::for_cases(conn, &[current.id])
                .await?
                .remove(&current.id)
                .unwrap_or_default()
                .into_iter()
                .map(|t| t.name)
                .collect(),
            commander: None,
            reported_at: None,
            status: None,
        })
    }

    /// Escalates a case: declares an incident (the case's type, priority, severity and tags
    /// unless given), links the two, copies the case's timeline onto the incident's, adds the
    /// case's people to it as observers and queues the declare flow — one transaction.
    pub async fn escalate(
        self,
        actor: &Actor,
        id: CaseId,
        e: Escalation,
    ) -> Result<(IncidentDetail, case::Model)> {
        let current = repo::signal::case(self.db().conn(), id.0).await?;
        let from: CaseStatus = current.status.parse().unwrap_or(CaseStatus::New);
        if !from.may_become(CaseStatus::Escalated) {
            return Err(Error::Conflict(format!(
                "case {id} is {from}; only a new or triaged case can be escalated"
            )));
        }
        let cmd = self.escalation_of(&current, e).await?;
        let setup = self.prepare_declare(actor, &cmd).await?;
        let at = dispatch_core::now();
        let txn = self.db().write().await?;
        let conn = &*txn;
        // Read again in the transaction: a case escalated meanwhile is a conflict, not twice.
        let current = repo::signal::case(conn, id.0).await?;
        let mut row = moved(&current, CaseStatus::Escalated, at)?;
        let declared = self.declare_within(conn, &setup, actor, cmd).await?;
        let incident = declared.incident().clone();
        row.incident_id = Some(incident.id);
        let saved = repo::signal::update(conn, &current, row).await?;
        let history = repo::signal::case_events(conn, id.0).await?;
        let signals = repo::signal::case_instances(conn, id.0).await?.len() as u64;
        let mut events = Events::new(actor, at);
        events.push_event(TimelineEvent::CaseEscalated {
            case_id: id.0,
            title: current.title.clone(),
            signals,
        });
        for h in &history {
            events.push_event(TimelineEvent::CaseEventCopied {
                case_id: id.0,
                occurred_at: h.occurred_at,
                case_event: h.kind.clone(),
                description: h.description.clone(),
            });
        }
        super::case_people::join(conn, &[(id.0, &actor.email, "escalated")], at).await?;
        // The case's people join the incident; a service account (the alert source that
        // reported the case) is no one to welcome or engage.
        let mut people: Vec<(String, String)> = Vec::new();
        for p in repo::case_participant::of_case(conn, id.0).await? {
            let service = repo::user::by_email(conn, &p.email)
                .await?
                .is_some_and(|u| u.kind == "service");
            if service {
                continue;
            }
            let why = match p.added_reason.as_str() {
                r @ ("reporter" | "assignee") => format!("{r} of case {id}"),
                r => format!("took part in case {id} ({r})"),
            };
            people.push((p.email, why));
        }
        let joined =
            crate::participant::add_observers(conn, incident.id, &people, &mut events, at).await?;
        save_with_events(conn, &incident, incident.clone(), events).await?;
        crate::webhook::cases::record(
            conn,
            vec![case_event(
                id.0,
                at,
                Some(&actor.email),
                "case_escalated",
                format!("{} escalated the case to {}", actor.email, incident.name),
                json!({"incident": incident.name}),
            )],
        )
        .await?;
        txn.commit().await?;
        self.wake_workers();
        let mut detail = self.declared_answer(&setup, actor, declared).await?;
        if !joined.is_empty() {
            // The observers joined after the declaration's own rows: read it back.
            let r = dispatch_core::values::IncidentRef::Id(dispatch_core::IncidentId(incident.id));
            detail = crate::incident::load_detail(self.db().conn(), &r).await?;
        }
        Ok((detail, saved))
    }
}
