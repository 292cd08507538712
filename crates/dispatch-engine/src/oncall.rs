//! On-call: rotations per service, overrides, pages and the role policies that pick who
//! commands (and scribes, and liaises for) a new incident.

use crate::incident::{save_with_events, Events};
use crate::{Actor, Engine, Error, Result};
use chrono::{DateTime, Utc};
use dispatch_core::oncall::{Override, Rotation, Shift};
use dispatch_core::values::{Email, IncidentRef};
use dispatch_core::{IncidentId, ParticipantRole, ValidationError};
use dispatch_store::entity::{oncall_override, oncall_schedule, page, role_policy, service};
use dispatch_store::repo;
use sea_orm::{ConnectionTrait, Set};
use serde_json::json;

/// Who is on call for a service now and next.
#[derive(Debug, Clone)]
pub struct OnCallView {
    /// The service.
    pub service: service::Model,
    /// Its rotation, if it has one.
    pub schedule: Option<oncall_schedule::Model>,
    /// Who is on call at the asked time.
    pub current: Option<Shift>,
    /// Who takes over after them.
    pub next: Option<Shift>,
}

/// A role a policy gives to someone for a new incident.
#[derive(Debug, Clone)]
pub(crate) struct Assignment {
    pub role: ParticipantRole,
    pub email: String,
    /// Set when the person came from a service's rotation.
    pub service_id: Option<i64>,
    pub reason: String,
}

fn rotation(s: &oncall_schedule::Model) -> Result<Rotation> {
    let members: Vec<String> = serde_json::from_str(&s.members).unwrap_or_default();
    Rotation::parse(
        &members,
        i64::from(s.shift_hours),
        &s.handoff_time,
        &s.start_date,
        &s.time_zone,
    )
    .map_err(Error::from)
}

/// The shift at `at` and the next one, for a service with a rotation.
async fn shifts(
    conn: &impl ConnectionTrait,
    s: &oncall_schedule::Model,
    at: DateTime<Utc>,
) -> Result<(Shift, Shift)> {
    let r = rotation(s)?;
    let overrides: Vec<Override> =
        repo::oncall::overrides(conn, s.id, at - chrono::Duration::days(60))
            .await?
            .into_iter()
            .map(|o| Override {
                email: o.email,
                starts_at: o.starts_at,
                ends_at: o.ends_at,
            })
            .collect();
    Ok((r.on_call(&overrides, at), r.next(&overrides, at)))
}

/// Who is on call for the service at `at`; `None` when it has no rotation.
pub(crate) async fn on_call_email(
    conn: &impl ConnectionTrait,
    service_id: i64,
    at: DateTime<Utc>,
) -> Result<Option<String>> {
    Ok(match repo::oncall::schedule(conn, service_id).await? {
        Some(s) => Some(shifts(conn, &s, at).await?.0.email),
        None => None,
    })
}

/// Whom the enabled policies of the project give each role for an incident of this type,
/// priority and tags; the lowest order wins per role. A service without a rotation gives nobody.
pub(crate) async fn resolve_roles(
    conn: &impl ConnectionTrait,
    policies: &[role_policy::Model],
    type_id: i64,
    priority_id: i64,
    tag_ids: &[i64],
    at: DateTime<Utc>,
) -> Result<Vec<Assignment>> {
    let mut out: Vec<Assignment> = Vec::new();
    for p in policies.iter().filter(|p| p.enabled) {
        let Ok(role) = p.role.parse::<ParticipantRole>() else {
            continue;
        };
        let matches = p.type_id.is_none_or(|t| t == type_id)
            && p.priority_id.is_none_or(|t| t == priority_id)
            && p.tag_id.is_none_or(|t| tag_ids.contains(&t));
        if !matches || out.iter().any(|a| a.role == role) {
            continue;
        }
        let who = match (p.service_id, &p.email) {
            (Some(sid), _) => match repo::oncall::schedule(conn, sid).await? {
                Some(s) => Some((
                    shifts(conn, &s, at).await?.0.email,
                    Some(sid),
                    format!("on call for service {sid} (role policy {})", p.id),
                )),
                None => None,
            },
            (None, Some(email)) => Some((
                email.clone(),
                None,
                format!("named by role policy {}", p.id),
            )),
            (None, None) => None,
        };
        if let Some((email, service_id, reason)) = who {
            out.push(Assignment {
                role,
                email,
                service_id,
                reason,
            });
        }
    }
    Ok(out)
}

impl Engine {
    /// Sets (or replaces) a service's rotation.
    pub async fn set_rotation(
        &self,
        service_id: i64,
        members: Vec<Email>,
        shift_hours: i64,
        handoff: &str,
        start: &str,
        tz: &str,
    ) -> Result<OnCallView> {
        let emails: Vec<String> = members.iter().map(|m| m.to_string()).collect();
        Rotation::parse(&emails, shift_hours, handoff, start, tz)?;
        let txn = self.db().write().await?;
        repo::directory::service(&*txn, service_id).await?;
        let now = dispatch_core::now();
        repo::oncall::save_schedule(
            &*txn,
            oncall_schedule::ActiveModel {
                service_id: Set(service_id),
                time_zone: Set(tz.trim().into()),
                handoff_time: Set(handoff.trim().into()),
                shift_hours: Set(shift_hours as i32),
                start_date: Set(start.trim().into()),
                members: Set(serde_json::to_string(&emails).unwrap_or_default()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            },
        )
        .await?;
        txn.commit().await?;
        self.on_call(service_id, now).await
    }

    /// Who is on call for a service at `at`, and who is next.
    pub async fn on_call(&self, service_id: i64, at: DateTime<Utc>) -> Result<OnCallView> {
        let conn = self.db().conn();
        let service = repo::directory::service(conn, service_id).await?;
        let schedule = repo::oncall::schedule(conn, service_id).await?;
        let (current, next) = match &schedule {
            Some(s) => {
                let (c, n) = shifts(conn, s, at).await?;
                (Some(c), Some(n))
            }
            None => (None, None),
        };
        Ok(OnCallView {
            service,
            schedule,
            current,
            next,
        })
    }

    /// Puts someone on call for a service from `starts_at` to `ends_at`.
    pub async fn add_override(
        &self,
        service_id: i64,
        email: Email,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    ) -> Result<oncall_override::Model> {
        if ends_at <= starts_at {
            return Err(ValidationError::field("ends_at", "must be after starts_at").into());
        }
        let txn = self.db().write().await?;
        let Some(s) = repo::oncall::schedule(&*txn, service_id).await? else {
            return Err(Error::Conflict(format!(
                "service {service_id} has no rotation; set one first"
            )));
        };
        let o = repo::oncall::add_override(
            &*txn,
            oncall_override::ActiveModel {
                schedule_id: Set(s.id),
                email: Set(email.to_string()),
                starts_at: Set(starts_at),
                ends_at: Set(ends_at),
                created_at: Set(dispatch_core::now()),
                ..Default::default()
            },
        )
        .await?;
        txn.commit().await?;
        Ok(o)
    }

    /// Pages, newest first.
    pub async fn pages(
        &self,
        status: Option<&str>,
        incident: Option<&IncidentRef>,
        limit: u64,
    ) -> Result<Vec<page::Model>> {
        let incident_id = match incident {
            Some(r) => Some(repo::incident::get(self.db().conn(), r).await?.id),
            None => None,
        };
        Ok(repo::oncall::pages(self.db().conn(), status, incident_id, limit).await?)
    }

    /// Acknowledges a page; the incident's timeline records who did.
    pub async fn acknowledge_page(&self, actor: &Actor, id: i64) -> Result<page::Model> {
        let txn = self.db().write().await?;
        let now = dispatch_core::now();
        let before = repo::oncall::page(&*txn, id).await?;
        let p = repo::oncall::acknowledge(&*txn, id, now).await?;
        if before.status != "acknowledged" {
            let current =
                repo::incident::lock(&*txn, &IncidentRef::Id(IncidentId(p.incident_id))).await?;
            let mut events = Events::new(actor, now);
            events.push(
                "page_acknowledged",
                format!("{} acknowledged the page to {}", actor.email, p.email),
                json!({"page_id": p.id, "email": p.email}),
            );
            save_with_events(&*txn, &current, current.clone().into(), events).await?;
        }
        txn.commit().await?;
        Ok(p)
    }

    /// Resolves a policy's type, priority and tag names to ids in the project and checks the
    /// service exists; unknown names become field errors.
    pub async fn policy_refs(
        &self,
        project_id: i64,
        incident_type: Option<&str>,
        priority: Option<&str>,
        tag: Option<&str>,
        service_id: Option<i64>,
        errors: &mut ValidationError,
    ) -> Result<(Option<i64>, Option<i64>, Option<i64>)> {
        let conn = self.db().conn();
        let tax = crate::incident::resolve_taxonomy(
            conn,
            project_id,
            incident_type,
            priority,
            None,
            errors,
        )
        .await?;
        let tag_id = match tag {
            None => None,
            Some(name) => match repo::tag::by_names(conn, project_id, &[name.to_string()])
                .await?
                .into_iter()
                .next()
            {
                Some(t) => Some(t.id),
                None => {
                    errors.push("tag", format!("unknown tag {name:?}"));
                    None
                }
            },
        };
        if let Some(sid) = service_id {
            if repo::directory::service(conn, sid).await.is_err() {
                errors.push("service_id", format!("unknown service {sid}"));
            }
        }
        Ok((tax.type_.map(|t| t.id), tax.priority.map(|p| p.id), tag_id))
    }

    /// A project's role policies.
    pub async fn role_policies(&self, project_id: i64) -> Result<Vec<role_policy::Model>> {
        Ok(repo::oncall::policies(self.db().conn(), project_id).await?)
    }

    /// Adds a role policy (validated by the caller).
    pub async fn add_role_policy(
        &self,
        row: role_policy::ActiveModel,
    ) -> Result<role_policy::Model> {
        let txn = self.db().write().await?;
        let p = repo::oncall::add_policy(&*txn, row).await?;
        txn.commit().await?;
        self.invalidate_config();
        Ok(p)
    }

    /// Deletes a role policy.
    pub async fn delete_role_policy(&self, id: i64) -> Result<()> {
        let txn = self.db().write().await?;
        repo::oncall::delete_policy(&*txn, id).await?;
        txn.commit().await?;
        self.invalidate_config();
        Ok(())
    }
}
