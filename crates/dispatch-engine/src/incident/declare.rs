//! Declaring an incident: one transaction that numbers it, records who reported it and who
//! commands it, tags it, starts its timeline and enqueues the webhooks its first events trigger.

use super::{load_detail, resolve_tags, resolve_taxonomy, Events, IncidentDetail};
use crate::webhook::outgoing::Outgoing;
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
        let commander_id = match &cmd.commander {
            Some(email) => {
                repo::individual::get_or_create(conn, email.as_str(), None)
                    .await?
                    .id
            }
            None => actor.individual_id.0,
        };
        let commander_email = cmd
            .commander
            .as_ref()
            .map_or(actor.email.clone(), |e| e.to_string());

        let now = dispatch_core::now();
        let reported_at = cmd
            .reported_at
            .map(dispatch_core::timeline::to_micros)
            .unwrap_or(now);
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
        events.push(
            "role_assumed",
            format!("{} is the reporter", actor.email),
            json!({"email": actor.email, "role": ParticipantRole::Reporter}),
        );
        events.push(
            "role_assumed",
            format!("{commander_email} is the incident commander"),
            json!({"email": commander_email, "role": ParticipantRole::IncidentCommander}),
        );
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
        let webhooks = Outgoing::prepare(conn, &event_rows).await?;
        event::insert(conn, event_rows).await?;

        let (reporter, _) =
            repo::participant::ensure(conn, inc.id, actor.individual_id.0, None, now).await?;
        repo::participant::assume_role(conn, &reporter, ParticipantRole::Reporter, now).await?;
        let commander = if commander_id == actor.individual_id.0 {
            reporter
        } else {
            repo::participant::ensure(conn, inc.id, commander_id, None, now)
                .await?
                .0
        };
        repo::participant::assume_role(conn, &commander, ParticipantRole::IncidentCommander, now)
            .await?;
        repo::tag::set_for_incident(conn, inc.id, &tag_ids).await?;
        crate::flows::start_declare(conn, inc.id, now).await?;
        if let Some(w) = webhooks {
            w.enqueue(conn, &inc).await?;
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
