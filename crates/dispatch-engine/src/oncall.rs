//! On-call: rotations per service, overrides, pages and the role policies that pick who
//! commands (and scribes, and liaises for) a new incident.

use crate::cache::ProjectConfig;
use crate::changes::Events;
use crate::flows;
use crate::record::save_with_events;
use crate::{Actor, Engine, Error, Result};
use chrono::{DateTime, Utc};
use dispatch_core::event::TimelineEvent;
use dispatch_core::oncall::{Rotation, Shift};
use dispatch_core::provider::{Email as Mail, OnCallService};
use dispatch_core::values::{Email, IncidentRef};
use dispatch_core::{IncidentId, ParticipantRole, ProjectId, ServiceId, ValidationError};
use dispatch_store::model::{
    incident, oncall_override, oncall_schedule, page, role_policy, service,
};
use dispatch_store::repo;
use dispatch_store::repo::job::NewJob;
use std::collections::HashMap;

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

/// The on-call provider's view of a service.
pub(crate) fn service_ref(s: &service::Model) -> OnCallService {
    OnCallService {
        id: s.id,
        name: s.name.clone(),
        external_id: s.external_id.clone(),
    }
}

/// Whom the enabled policies of the project give each role for an incident of this type,
/// priority and tags; the lowest order wins per role. `on_call` holds who is on call for each
/// service the policies name (asked before the declaration's transaction); a service with
/// nobody on call gives nobody.
pub(crate) fn resolve_roles(
    policies: &[role_policy::Model],
    on_call: &HashMap<i64, String>,
    type_id: i64,
    priority_id: i64,
    tag_ids: &[i64],
) -> Vec<Assignment> {
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
            (Some(sid), _) => on_call.get(&sid).map(|email| {
                (
                    email.clone(),
                    Some(sid),
                    format!("on call for service {sid} (role policy {})", p.id),
                )
            }),
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
    out
}

/// The jobs that page someone: the on-call provider's page, an e-mail with the links to open
/// the incident and acknowledge, and a direct message saying the same.
pub(crate) fn page_jobs(
    base_url: &str,
    inc: &incident::Model,
    page: &page::Model,
    at: DateTime<Utc>,
) -> Vec<NewJob> {
    let open = dispatch_core::links::incident(base_url, &inc.name);
    let ack = dispatch_core::links::page(base_url, page.id);
    let mail = Mail {
        to: vec![page.email.clone()],
        subject: format!("[PAGE] {}", page.reason),
        text: format!(
            "You are on call and now the incident commander of {}: {}.\n\n{}\n\nOpen it: {open}\nAcknowledge: {ack}",
            inc.name, inc.title, inc.description
        ),
        html: None,
        thread: None,
        unsubscribe: None,
    };
    let dm = format!(
        "You were paged: {}. You are the incident commander of {}. Open it: {open} — acknowledge: {ack}",
        page.reason, inc.name
    );
    let key = format!("page:{}", page.id);
    vec![
        flows::incident_job(
            dispatch_core::job::Page {
                incident_id: inc.id,
                page_id: page.id,
            },
            Some(page.id.to_string()),
            at,
        ),
        flows::email_job(&key, Some(dispatch_core::IncidentId(inc.id)), &mail, at),
        flows::direct_message(
            dispatch_core::IncidentId(inc.id),
            &page.email,
            &key,
            &dm,
            at,
        ),
    ]
}

impl Engine {
    /// Who is on call now for each service the project's enabled role policies name, asked of
    /// the project's on-call provider outside any transaction. A provider that fails is logged
    /// and gives nobody (the declaration goes on; the reporter commands).
    pub(crate) async fn on_call_for_policies(
        &self,
        cfg: &ProjectConfig,
        at: DateTime<Utc>,
    ) -> Result<HashMap<i64, String>> {
        if cfg.services.is_empty() {
            return Ok(HashMap::new());
        }
        let oncall = self.providers_for(cfg)?.oncall;
        Ok(ask_on_call(oncall.as_ref(), &cfg.services, at).await)
    }

    /// Who is on call now for each of these services of the project, asked of its on-call
    /// provider outside any transaction (new cases' assignees). A failing look-up gives nobody.
    pub(crate) async fn on_call_for_service_ids(
        &self,
        cfg: &ProjectConfig,
        ids: &[i64],
        at: DateTime<Utc>,
    ) -> Result<HashMap<i64, String>> {
        let services = repo::directory::services_by_ids(self.db().conn(), ids).await?;
        if services.is_empty() {
            return Ok(HashMap::new());
        }
        let oncall = self.providers_for(cfg)?.oncall;
        Ok(ask_on_call(oncall.as_ref(), &services, at).await)
    }

    /// Who is on call now for each of `services`, asked of the incident's project's on-call
    /// provider outside any transaction (engagement rules use it before they write). A service
    /// whose look-up fails gives nobody.
    pub(crate) async fn on_call_for_services(
        &self,
        incident_id: i64,
        services: &[i64],
        at: DateTime<Utc>,
    ) -> Result<HashMap<i64, String>> {
        if services.is_empty() {
            return Ok(HashMap::new());
        }
        let oncall = self.providers_of_incident(incident_id).await?.oncall;
        let mut found = Vec::new();
        for sid in services {
            if let Ok(s) = repo::directory::service(self.db().conn(), *sid).await {
                found.push(s);
            }
        }
        Ok(ask_on_call(oncall.as_ref(), &found, at).await)
    }
}

/// Who is on call at `at` for each service, as `oncall` says; a service whose look-up fails
/// is logged and gives nobody.
async fn ask_on_call(
    oncall: &dyn dispatch_core::provider::OnCallProvider,
    services: &[service::Model],
    at: DateTime<Utc>,
) -> HashMap<i64, String> {
    let mut out = HashMap::new();
    for s in services {
        match oncall.on_call(&service_ref(s), at).await {
            Ok(Some(shift)) => {
                out.insert(s.id, shift.email);
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(service.id = s.id, error = %e, "on-call look-up failed; the service gives nobody")
            }
        }
    }
    out
}

/// The mail a page sends: what the incident is, and how to open and acknowledge it.
pub(crate) fn page_email(
    base: &str,
    inc: &dispatch_store::model::incident::Model,
    page: &page::Model,
    lead: &str,
) -> dispatch_core::provider::Email {
    dispatch_core::provider::Email {
        to: vec![page.email.clone()],
        subject: format!("[PAGE] {}", page.reason),
        text: format!(
            "{lead} {}: {}.\n\n{}\n\nOpen it: {}\nAcknowledge: {}",
            inc.name,
            inc.title,
            inc.description,
            dispatch_core::links::incident(base, &inc.name),
            dispatch_core::links::page(base, page.id)
        ),
        html: None,
        thread: None,
        unsubscribe: None,
    }
}

impl crate::OnCall<'_> {
    /// Sets (or replaces) a service's rotation.
    pub async fn set_rotation(
        self,
        service_id: ServiceId,
        members: Vec<Email>,
        shift_hours: i64,
        handoff: &str,
        start: &str,
        tz: &str,
    ) -> Result<OnCallView> {
        let service_id = service_id.0;
        let emails: Vec<String> = members.iter().map(|m| m.to_string()).collect();
        Rotation::parse(&emails, shift_hours, handoff, start, tz)?;
        let txn = self.db().write().await?;
        repo::directory::service(&*txn, service_id).await?;
        let now = dispatch_core::now();
        repo::oncall::save_schedule(
            &*txn,
            oncall_schedule::Model {
                service_id,
                time_zone: tz.trim().into(),
                handoff_time: handoff.trim().into(),
                shift_hours: shift_hours as i32,
                start_date: start.trim().into(),
                members: serde_json::to_string(&emails).unwrap_or_default(),
                created_at: now,
                updated_at: now,
                ..Default::default()
            },
        )
        .await?;
        txn.commit().await?;
        self.who(ServiceId(service_id), now).await
    }

    /// Who is on call for a service at `at`, and who is next, as its project's on-call
    /// provider says.
    pub async fn who(self, service_id: ServiceId, at: DateTime<Utc>) -> Result<OnCallView> {
        let service_id = service_id.0;
        let conn = self.db().conn();
        let service = repo::directory::service(conn, service_id).await?;
        let schedule = repo::oncall::schedule(conn, service_id).await?;
        let cfg = self.project_config_by_id(service.project_id).await?;
        let oncall = self.providers_for(&cfg)?.oncall;
        let who = service_ref(&service);
        let current = oncall.on_call(&who, at).await?;
        let next = match current {
            Some(_) => oncall.next(&who, at).await?,
            None => None,
        };
        Ok(OnCallView {
            service,
            schedule,
            current,
            next,
        })
    }

    /// The shifts of a service from the one holding at `from` until `until` (at most `max`),
    /// overrides included, as its project's on-call provider says; empty when the service has
    /// no rotation there.
    pub async fn upcoming_shifts(
        self,
        service_id: ServiceId,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        max: usize,
    ) -> Result<Vec<Shift>> {
        let service_id = service_id.0;
        let service = repo::directory::service(self.db().conn(), service_id).await?;
        let cfg = self.project_config_by_id(service.project_id).await?;
        let oncall = self.providers_for(&cfg)?.oncall;
        let who = service_ref(&service);
        let mut out: Vec<Shift> = Vec::new();
        let mut at = from;
        while at < until && out.len() < max {
            let Some(shift) = oncall.on_call(&who, at).await? else {
                break;
            };
            if shift.ends_at <= at {
                break;
            }
            at = shift.ends_at;
            out.push(shift);
        }
        Ok(out)
    }

    /// A service's overrides that end after `after`, earliest first (none without a rotation).
    pub async fn overrides(
        self,
        service_id: ServiceId,
        after: DateTime<Utc>,
    ) -> Result<Vec<oncall_override::Model>> {
        let service_id = service_id.0;
        let conn = self.db().conn();
        Ok(match repo::oncall::schedule(conn, service_id).await? {
            Some(s) => repo::oncall::overrides(conn, s.id, after).await?,
            None => Vec::new(),
        })
    }

    /// Brings a service's current on-call into an incident as an observer (`/dispatch-engage-oncall`),
    /// and pages them when asked. Returns who it was and the page.
    pub async fn engage(
        self,
        actor: &Actor,
        r: &IncidentRef,
        service_name: &str,
        page_them: bool,
    ) -> Result<(String, Option<page::Model>)> {
        let conn = self.db().conn();
        let inc = repo::incident::get(conn, r).await?;
        let services = repo::directory::services(conn, inc.project_id).await?;
        let wanted = service_name.trim().to_lowercase();
        let Some(service) = services.iter().find(|s| s.name.to_lowercase() == wanted) else {
            let known: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
            return Err(ValidationError::field(
                "service",
                format!(
                    "unknown service {service_name:?}; known: {}",
                    known.join(", ")
                ),
            )
            .into());
        };
        let now = dispatch_core::now();
        let Some(shift) = self.who(ServiceId(service.id), now).await?.current else {
            return Err(Error::Conflict(format!(
                "no one is on call for {} now",
                service.name
            )));
        };
        let email = Email::parse("email", &shift.email)?;
        let reason = format!("on call for {} (engaged by {})", service.name, actor.email);
        let cmd = dispatch_core::commands::AssignRole {
            email,
            role: ParticipantRole::Observer,
        };
        self.roles()
            .assign_because(actor, r, cmd, Some(reason))
            .await?;
        if !page_them {
            return Ok((shift.email, None));
        }
        let txn = self.db().write().await?;
        let current = repo::incident::lock(&*txn, r).await?;
        let page = repo::oncall::add_page(
            &*txn,
            page::Model {
                incident_id: current.id,
                service_id: Some(service.id),
                email: shift.email.clone(),
                reason: format!(
                    "{}: {} (engaged by {})",
                    current.name, current.title, actor.email
                ),
                status: "triggered".into(),
                created_at: now,
                ..Default::default()
            },
        )
        .await?;
        let mut events = Events::new(actor, now);
        events.push_event(TimelineEvent::OncallPaged {
            email: shift.email.clone(),
            service: service.name.clone(),
            page_id: page.id,
        });
        events.job(crate::flows::email_job(
            &format!("page:{}", page.id),
            Some(dispatch_core::IncidentId(current.id)),
            &page_email(
                &self.base_url(),
                &current,
                &page,
                "You are on call and were asked to join",
            ),
            now,
        ));
        save_with_events(&*txn, &current, current.clone(), events).await?;
        txn.commit().await?;
        self.wake_workers();
        Ok((shift.email, Some(page)))
    }

    /// Puts someone on call for a service from `starts_at` to `ends_at`.
    pub async fn add_override(
        self,
        service_id: ServiceId,
        email: Email,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    ) -> Result<oncall_override::Model> {
        let service_id = service_id.0;
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
            oncall_override::Model {
                schedule_id: s.id,
                email: email.to_string(),
                starts_at,
                ends_at,
                created_at: dispatch_core::now(),
                ..Default::default()
            },
        )
        .await?;
        txn.commit().await?;
        Ok(o)
    }

    /// Pages, newest first.
    pub async fn pages(
        self,
        status: Option<&str>,
        incident: Option<&IncidentRef>,
        viewer: crate::access::Viewer,
        limit: u64,
    ) -> Result<Vec<page::Model>> {
        let incident_id = match incident {
            Some(r) => Some(self.access().visible(viewer, r).await?.id),
            None => None,
        };
        Ok(repo::oncall::pages_for(self.db().conn(), status, incident_id, viewer, limit).await?)
    }

    /// One page.
    pub async fn page(self, id: dispatch_core::PageId) -> Result<page::Model> {
        Ok(repo::oncall::page(self.db().conn(), id.0).await?)
    }

    /// Acknowledges a page; the incident's timeline records who did.
    pub async fn acknowledge_page(
        self,
        actor: &Actor,
        id: dispatch_core::PageId,
    ) -> Result<page::Model> {
        let id = id.0;
        let txn = self.db().write().await?;
        let now = dispatch_core::now();
        let before = repo::oncall::page(&*txn, id).await?;
        let p = repo::oncall::acknowledge(&*txn, id, now).await?;
        if before.status != "acknowledged" {
            let current =
                repo::incident::lock(&*txn, &IncidentRef::Id(IncidentId(p.incident_id))).await?;
            let mut events = Events::new(actor, now);
            events.push_event(TimelineEvent::PageAcknowledged {
                page_id: p.id,
                email: p.email.clone(),
            });
            save_with_events(&*txn, &current, current.clone(), events).await?;
        }
        txn.commit().await?;
        Ok(p)
    }
}

/// The taxonomy entries a role policy names, resolved in its project.
#[derive(Debug, Clone, Copy, Default)]
pub struct PolicyRefs {
    /// The incident type it applies to.
    pub type_id: Option<dispatch_core::IncidentTypeId>,
    /// The priority it applies to.
    pub priority_id: Option<dispatch_core::IncidentPriorityId>,
    /// The tag it applies to.
    pub tag_id: Option<dispatch_core::TagId>,
}

impl crate::Roles<'_> {
    /// Resolves a policy's type, priority and tag names to ids in the project and checks the
    /// service exists; unknown names become field errors.
    pub async fn policy_refs(
        self,
        project_id: ProjectId,
        incident_type: Option<&str>,
        priority: Option<&str>,
        tag: Option<&str>,
        service_id: Option<dispatch_core::ServiceId>,
        errors: &mut ValidationError,
    ) -> Result<PolicyRefs> {
        let service_id = service_id.map(|s| s.0);
        let project_id = project_id.0;
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
        Ok(PolicyRefs {
            type_id: tax.type_.map(|t| dispatch_core::IncidentTypeId(t.id)),
            priority_id: tax
                .priority
                .map(|p| dispatch_core::IncidentPriorityId(p.id)),
            tag_id: tag_id.map(dispatch_core::TagId),
        })
    }

    /// A project's role policies.
    pub async fn policies(self, project_id: ProjectId) -> Result<Vec<role_policy::Model>> {
        let project_id = project_id.0;
        Ok(repo::oncall::policies(self.db().conn(), project_id).await?)
    }

    /// Adds a role policy (validated by the caller).
    pub async fn add_policy(self, row: role_policy::Model) -> Result<role_policy::Model> {
        let txn = self.db().write().await?;
        let p = repo::oncall::add_policy(&*txn, row).await?;
        txn.commit().await?;
        self.invalidate_config();
        Ok(p)
    }

    /// Deletes a role policy.
    pub async fn delete_policy(self, id: dispatch_core::RolePolicyId) -> Result<()> {
        let id = id.0;
        let txn = self.db().write().await?;
        repo::oncall::delete_policy(&*txn, id).await?;
        txn.commit().await?;
        self.invalidate_config();
        Ok(())
    }
}
