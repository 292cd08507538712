//! Declaring an incident: one transaction that numbers it, records who reported it and who
//! commands it, tags it and starts its timeline.

use super::{load_detail, resolve_tags, resolve_taxonomy, Events, IncidentDetail};
use crate::{Actor, Engine, Result};
use dispatch_core::commands::DeclareIncident;
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, IncidentStatus, ParticipantRole, ValidationError, Visibility};
use dispatch_store::entity::{incident, project};
use dispatch_store::repo::event::{self, ChainHead};
use dispatch_store::repo::{self, taxonomy};
use sea_orm::{ConnectionTrait, Set};
use serde_json::json;

impl Engine {
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
        let conn = self.db.conn();
        let project = match resolve_project(conn, project).await {
            Ok(p) => p,
            Err(crate::Error::Validation(e)) => return Ok(e),
            Err(other) => return Err(other),
        };
        let mut errors = ValidationError::default();
        resolve_taxonomy(
            conn,
            project.id,
            incident_type,
            priority,
            severity,
            &mut errors,
        )
        .await?;
        Ok(errors)
    }

    /// Declares an incident. Returns once it is durably stored.
    pub async fn declare_incident(
        &self,
        actor: &Actor,
        cmd: DeclareIncident,
    ) -> Result<IncidentDetail> {
        let txn = self.db.write().await?;
        let conn = &*txn;
        let mut errors = ValidationError::default();
        let project = resolve_project(conn, cmd.project.as_deref()).await?;
        let tax = resolve_taxonomy(
            conn,
            project.id,
            cmd.incident_type.as_deref(),
            cmd.priority.as_deref(),
            cmd.severity.as_deref(),
            &mut errors,
        )
        .await?;
        let tag_ids = resolve_tags(conn, project.id, &cmd.tags, &mut errors).await?;
        errors.into_result()?;

        let type_ = match tax.type_ {
            Some(t) => t,
            None => taxonomy::types::default(conn, project.id).await?,
        };
        let priority = match tax.priority {
            Some(p) => p,
            None => taxonomy::priorities::default(conn, project.id).await?,
        };
        let severity = match tax.severity {
            Some(s) => s,
            None => taxonomy::severities::default(conn, project.id).await?,
        };
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
            crate::oncall::resolve_roles(conn, project.id, type_.id, priority.id, &tag_ids, now)
                .await?;
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
        let commander_id = repo::individual::get_or_create(conn, &commander.email, None)
            .await?
            .id;
        let page_commander = priority.page_commander && commander.service_id.is_some();
        let number = repo::project::next_incident_number(conn, project.id).await?;
        let name = format!("{}-{number}", project.key_prefix);

        let mut events = Events::new(actor, now);
        events.push(
            "incident_declared",
            format!("{} declared {name}: {}", actor.email, cmd.title),
            json!({
                "title": cmd.title.as_str(),
                "type": type_.slug,
                "priority": priority.slug,
                "severity": severity.slug,
                "visibility": visibility,
                "tags": cmd.tags,
            }),
        );
        for h in &holders {
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
            events.push(
                "commander_paged",
                format!(
                    "{} was paged: the priority is {}",
                    commander.email, priority.name
                ),
                json!({"email": commander.email, "service_id": commander.service_id}),
            );
        }
        let mut head = ChainHead::genesis(&name);
        let (event_list, _) = events.into_parts();
        let mut event_rows = event::chain(0, &mut head, event_list, now);

        let inc = repo::incident::insert(
            conn,
            incident::ActiveModel {
                project_id: Set(project.id),
                number: Set(number),
                name: Set(name),
                title: Set(cmd.title.into_inner()),
                description: Set(cmd.description.into_inner()),
                resolution: Set(None),
                status: Set(IncidentStatus::Active.as_str().into()),
                visibility: Set(visibility.as_str().into()),
                type_id: Set(type_.id),
                priority_id: Set(priority.id),
                severity_id: Set(severity.id),
                commander_id: Set(commander_id),
                reporter_id: Set(actor.individual_id.0),
                reported_at: Set(reported_at),
                stable_at: Set(None),
                closed_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                event_seq: Set(head.seq),
                last_event_hash: Set(head.hash),
                ..Default::default()
            },
        )
        .await?;
        for row in &mut event_rows {
            row.incident_id = Set(inc.id);
        }
        event::insert(conn, event_rows).await?;

        for h in &holders {
            let who = repo::individual::get_or_create(conn, &h.email, None).await?;
            let (p, _) =
                repo::participant::ensure(conn, inc.id, who.id, h.reason.clone(), now).await?;
            if !repo::participant::active_roles(conn, p.id)
                .await?
                .contains(&h.role)
            {
                repo::participant::assume_role(conn, &p, h.role, now).await?;
            }
        }
        if page_commander {
            repo::oncall::add_page(
                conn,
                dispatch_store::entity::page::ActiveModel {
                    incident_id: Set(inc.id),
                    service_id: Set(commander.service_id),
                    email: Set(commander.email.clone()),
                    reason: Set(format!(
                        "{}: {} ({} priority)",
                        inc.name, inc.title, priority.name
                    )),
                    status: Set("triggered".into()),
                    created_at: Set(now),
                    ..Default::default()
                },
            )
            .await?;
        }
        repo::tag::set_for_incident(conn, inc.id, &tag_ids).await?;
        crate::flows::start_declare(conn, inc.id, now).await?;
        if let Some(target) = cmd.status.filter(|s| *s != IncidentStatus::Active) {
            // Back-filling: the incident goes through the same transition a later call would.
            let current = repo::incident::lock(conn, &IncidentRef::Id(IncidentId(inc.id))).await?;
            let mut row: incident::ActiveModel = current.clone().into();
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
        load_detail(self.db.conn(), &IncidentRef::Id(IncidentId(inc.id))).await
    }
}

/// The named project (a field error when unknown), or the default project.
async fn resolve_project(
    conn: &impl ConnectionTrait,
    slug: Option<&str>,
) -> Result<project::Model> {
    match slug {
        None => Ok(repo::project::default_project(conn).await?),
        Some(slug) => repo::project::by_slug(conn, slug).await?.ok_or_else(|| {
            ValidationError::field("project", format!("unknown project {slug:?}")).into()
        }),
    }
}

/// Someone who takes a role when the incident is declared.
#[derive(Debug, Clone)]
struct Holder {
    email: String,
    role: ParticipantRole,
    /// The on-call service they came from, if any.
    service_id: Option<i64>,
    reason: Option<String>,
}
