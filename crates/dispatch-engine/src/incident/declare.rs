//! Declaring an incident: one transaction that numbers it, records who reported it and who
//! commands it (role policies, on-call), tags it, starts its timeline, queues its resources and
//! the webhooks its first events trigger.
//! This is the hottest write path, so it reads the project's configuration from the cache and
//! answers from the rows it wrote instead of reading them back.

use super::{resolve_tags, Events, IncidentDetail};
use crate::cache::ProjectConfig;
use crate::webhook::outgoing::Outgoing;
use crate::{Actor, Engine, Error, Result};
use chrono::{DateTime, Utc};
use dispatch_core::commands::DeclareIncident;
use dispatch_core::event::TimelineEvent;
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, IncidentStatus, ParticipantRole, ValidationError, Visibility};
use dispatch_store::model::{
    incident, incident_priority, incident_severity, incident_type, individual, participant,
    participant_role, resource,
};
use dispatch_store::repo;
use dispatch_store::repo::event::{self, ChainHead};
use dispatch_store::repo::incident::IncidentRow;
use dispatch_store::repo::participant::ParticipantView;
use std::sync::Arc;

/// Someone who takes a role when the incident is declared.
#[derive(Debug, Clone)]
struct Holder {
    email: String,
    role: ParticipantRole,
    /// The on-call service they came from, if any.
    service_id: Option<i64>,
    reason: Option<String>,
}

/// The declaration's taxonomy, resolved against the project's configuration.
struct Resolved<'a> {
    type_: &'a incident_type::Model,
    priority: &'a incident_priority::Model,
    severity: &'a incident_severity::Model,
}

/// Resolves the named (or default) type, priority and severity; unknown names are field errors.
fn resolve<'a>(
    cfg: &'a ProjectConfig,
    cmd_type: Option<&str>,
    priority: Option<&str>,
    severity: Option<&str>,
    errors: &mut ValidationError,
) -> Option<Resolved<'a>> {
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

impl Engine {
    /// The project's configuration, or a field error on `project` when it does not exist.
    async fn declaring_in(&self, project: Option<&str>) -> Result<Arc<ProjectConfig>> {
        match self.project_config(project).await {
            Err(Error::NotFound(_)) => Err(ValidationError::field(
                "project",
                format!("unknown project {:?}", project.unwrap_or_default()),
            )
            .into()),
            other => other,
        }
    }

    /// The field errors a declaration's named project, type, priority and severity would get,
    /// without writing anything. Lets a transport report every bad field at once when other
    /// fields already failed to parse.
    pub async fn check_declaration_refs(
        &self,
        project: Option<&str>,
        incident_type: Option<&str>,
        priority: Option<&str>,
        severity: Option<&str>,
    ) -> Result<ValidationError> {
        let cfg = match self.declaring_in(project).await {
            Ok(c) => c,
            Err(Error::Validation(e)) => return Ok(e),
            Err(other) => return Err(other),
        };
        let mut errors = ValidationError::default();
        resolve(&cfg, incident_type, priority, severity, &mut errors);
        Ok(errors)
    }

    /// Declares an incident. Returns once it is durably stored.
    pub async fn declare_incident(
        &self,
        actor: &Actor,
        cmd: DeclareIncident,
    ) -> Result<IncidentDetail> {
        let cfg = self.declaring_in(cmd.project.as_deref()).await?;
        let project = &cfg.project;
        // A members-only project takes declarations from its members and admins only.
        if !crate::accounts::projects::may_use_project(
            self.db.conn(),
            project,
            actor.individual_id.0,
        )
        .await?
        {
            return Err(Error::Forbidden(format!(
                "project {} is members-only: ask one of its admins to add you",
                project.slug
            )));
        }
        // Asked before the transaction: an external on-call provider's call never holds it.
        let on_call = self
            .on_call_for_policies(&cfg, dispatch_core::now())
            .await?;
        let txn = self.db.write().await?;
        let conn = &*txn;
        let mut errors = ValidationError::default();
        let tax = resolve(
            &cfg,
            cmd.incident_type.as_deref(),
            cmd.priority.as_deref(),
            cmd.severity.as_deref(),
            &mut errors,
        );
        let tag_ids = if cmd.tags.is_empty() {
            vec![]
        } else {
            resolve_tags(conn, project.id, &cmd.tags, &mut errors).await?
        };
        errors.into_result()?;
        let Resolved {
            type_,
            priority,
            severity,
        } = tax.expect("no field errors");
        let visibility = cmd
            .visibility
            .or_else(|| type_.default_visibility.parse().ok())
            .unwrap_or(Visibility::Open);
        let now = dispatch_core::now();
        let reported_at = cmd
            .reported_at
            .map(dispatch_core::timeline::to_micros)
            .unwrap_or(now);

        // Who commands (and scribes, and liaises): named at declaration, else the role
        // policies (a service's on-call or a named person), else the reporter commands.
        let policies =
            crate::oncall::resolve_roles(&cfg.policies, &on_call, type_.id, priority.id, &tag_ids);
        let commander = match &cmd.commander {
            Some(email) => Holder {
                email: email.to_string(),
                role: ParticipantRole::IncidentCommander,
                service_id: None,
                reason: Some("named at declaration".into()),
            },
            None => match policies
                .iter()
                .find(|a| a.role == ParticipantRole::IncidentCommander)
            {
                Some(a) => Holder {
                    email: a.email.clone(),
                    role: a.role,
                    service_id: a.service_id,
                    reason: Some(a.reason.clone()),
                },
                None => Holder {
                    email: actor.email.clone(),
                    role: ParticipantRole::IncidentCommander,
                    service_id: None,
                    reason: None,
                },
            },
        };
        let mut holders = vec![
            Holder {
                email: actor.email.clone(),
                role: ParticipantRole::Reporter,
                service_id: None,
                reason: None,
            },
            commander.clone(),
        ];
        holders.extend(
            policies
                .iter()
                .filter(|a| a.role != ParticipantRole::IncidentCommander)
                .map(|a| Holder {
                    email: a.email.clone(),
                    role: a.role,
                    service_id: a.service_id,
                    reason: Some(a.reason.clone()),
                }),
        );
        // The people, once each: the actor is known; others are looked up (or added).
        let me = individual::Model {
            id: actor.individual_id.0,
            email: actor.email.clone(),
            name: actor.name.clone(),
            title: None,
            weblink: None,
            created_at: now,
        };
        let mut people: Vec<individual::Model> = vec![me];
        for h in &holders {
            if !people.iter().any(|p| p.email == h.email) {
                people.push(repo::individual::get_or_create(conn, &h.email, None).await?);
            }
        }
        let person = |email: &str| {
            people
                .iter()
                .find(|p| p.email == email)
                .expect("looked up above")
                .clone()
        };
        let commander_person = person(&commander.email);
        let page_commander = priority.page_commander && commander.service_id.is_some();
        let number = repo::project::next_incident_number(conn, project.id).await?;
        let name = format!("{}-{number}", project.key_prefix);

        let mut events = Events::new(actor, now);
        events.push_event(TimelineEvent::IncidentDeclared {
            title: cmd.title.as_str().to_string(),
            type_: type_.slug.clone(),
            priority: priority.slug.clone(),
            severity: severity.slug.clone(),
            visibility,
            tags: cmd.tags.clone(),
        });
        for h in &holders {
            events.push_event(TimelineEvent::RoleAssumed {
                email: h.email.clone(),
                role: h.role,
                reason: Some(h.reason.clone()),
            });
        }
        if page_commander {
            events.push_event(TimelineEvent::CommanderPaged {
                email: commander.email.clone(),
                service_id: commander.service_id,
                priority_name: priority.name.clone(),
            });
        }
        let mut head = ChainHead::genesis(&name);
        let (event_list, _) = events.into_parts(&name);
        let mut event_rows = event::chain(0, &mut head, event_list, now);

        let inc = repo::incident::insert(
            conn,
            incident::Model {
                project_id: project.id,
                number,
                name,
                title: cmd.title.into_inner(),
                description: cmd.description.into_inner(),
                resolution: None,
                status: IncidentStatus::Active.as_str().into(),
                visibility: visibility.as_str().into(),
                type_id: type_.id,
                priority_id: priority.id,
                severity_id: severity.id,
                commander_id: commander_person.id,
                reporter_id: actor.individual_id.0,
                reported_at,
                stable_at: None,
                closed_at: None,
                created_at: now,
                updated_at: now,
                event_seq: head.seq,
                last_event_hash: head.hash,
                ..Default::default()
            },
        )
        .await?;
        for row in &mut event_rows {
            row.incident_id = inc.id;
        }
        let webhooks = Outgoing::prepare(conn, &event_rows).await?;
        event::insert(conn, event_rows).await?;

        // Participants (one per person, with every role they take) and their roles.
        let mut participants = Vec::new();
        for who in people
            .iter()
            .filter(|p| holders.iter().any(|h| h.email == p.email))
        {
            let reason = holders
                .iter()
                .find(|h| h.email == who.email && h.reason.is_some())
                .and_then(|h| h.reason.clone());
            let p = repo::participant::insert(
                conn,
                participant::Model {
                    incident_id: inc.id,
                    individual_id: who.id,
                    added_reason: reason,
                    created_at: now,
                    ..Default::default()
                },
            )
            .await?;
            let mut roles: Vec<ParticipantRole> = Vec::new();
            for h in holders.iter().filter(|h| h.email == who.email) {
                if !roles.contains(&h.role) {
                    roles.push(h.role);
                }
            }
            participants.push((p, who.clone(), roles));
        }
        let role_rows: Vec<participant_role::Model> = participants
            .iter()
            .flat_map(|(p, _, roles)| {
                roles.iter().map(|r| participant_role::Model {
                    participant_id: p.id,
                    incident_id: inc.id,
                    role: r.as_str().into(),
                    assumed_at: now,
                    ..Default::default()
                })
            })
            .collect();
        repo::participant::insert_roles(conn, role_rows).await?;
        if !tag_ids.is_empty() {
            repo::tag::set_for_incident(conn, inc.id, &tag_ids).await?;
        }
        if page_commander {
            // The page is recorded, and its jobs (the on-call provider, mail, direct message)
            // queued, in this transaction.
            let page = repo::oncall::add_page(
                conn,
                dispatch_store::model::page::Model {
                    incident_id: inc.id,
                    service_id: commander.service_id,
                    email: commander.email.clone(),
                    reason: format!("{}: {} ({} priority)", inc.name, inc.title, priority.name),
                    status: "triggered".into(),
                    created_at: now,
                    ..Default::default()
                },
            )
            .await?;
            repo::job::enqueue(
                conn,
                crate::oncall::page_jobs(&self.base_url(), &inc, &page, now),
            )
            .await?;
        }
        crate::flows::start_declare(conn, inc.id, |k| self.pending_slug(&cfg, k), now).await?;
        if let Some(w) = webhooks {
            w.enqueue(conn, &inc).await?;
        }
        let backfill = cmd.status.filter(|s| *s != IncidentStatus::Active);
        if let Some(target) = backfill {
            // Back-filling: the incident goes through the same transition a later call would.
            let current = repo::incident::lock(conn, &IncidentRef::Id(IncidentId(inc.id))).await?;
            let mut row = current.clone();
            let mut events = Events::new(actor, now);
            super::status::apply_status(
                conn,
                &current,
                &mut row,
                target,
                current.severity_id,
                &mut events,
            )
            .await?;
            super::save_with_events(conn, &current, row, events).await?;
        }
        txn.commit().await?;
        self.wake_workers();
        tracing::info!(incident.id = inc.id, incident.name = %inc.name, "incident declared");
        if backfill.is_some() || !tag_ids.is_empty() {
            // Rare paths: read back what the transition and tags made.
            return super::load_detail(self.db.conn(), &IncidentRef::Id(IncidentId(inc.id))).await;
        }
        let row = IncidentRow {
            id: inc.id,
            project_id: project.id,
            project_slug: project.slug.clone(),
            project_name: project.name.clone(),
            project_members_only: project.members_only,
            number: inc.number,
            name: inc.name.clone(),
            title: inc.title.clone(),
            description: inc.description.clone(),
            resolution: None,
            status: inc.status.clone(),
            visibility: inc.visibility.clone(),
            type_id: type_.id,
            type_slug: type_.slug.clone(),
            type_name: type_.name.clone(),
            priority_id: priority.id,
            priority_slug: priority.slug.clone(),
            priority_name: priority.name.clone(),
            severity_id: severity.id,
            severity_slug: severity.slug.clone(),
            severity_name: severity.name.clone(),
            commander_id: commander_person.id,
            commander_email: commander_person.email.clone(),
            commander_name: commander_person.name.clone(),
            reporter_id: actor.individual_id.0,
            reporter_email: actor.email.clone(),
            reporter_name: actor.name.clone(),
            reported_at: inc.reported_at,
            stable_at: None,
            closed_at: None,
            created_at: now,
            updated_at: now,
        };
        let participants = participants
            .into_iter()
            .map(|(p, who, roles)| ParticipantView {
                roles: roles
                    .iter()
                    .map(|r| participant_role::Model {
                        id: 0,
                        participant_id: p.id,
                        incident_id: inc.id,
                        role: r.as_str().into(),
                        assumed_at: now,
                        renounced_at: None,
                    })
                    .collect(),
                participant: p,
                individual: who,
            })
            .collect();
        Ok(IncidentDetail {
            row,
            tags: vec![],
            participants,
            resources: pending_resources(inc.id, |k| self.pending_slug(&cfg, k), now),
            last_tactical_report: None,
            last_executive_report: None,
            runbooks: vec![],
        })
    }
}

/// The resources a new incident starts with, as the declare saga wrote them.
fn pending_resources(
    incident_id: i64,
    provider: impl Fn(dispatch_core::ResourceKind) -> String,
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
