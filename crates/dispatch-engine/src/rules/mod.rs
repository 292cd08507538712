//! Rules: engagement rules pull people, on-call, teams and runbooks into matching incidents;
//! notification rules tell targets (a room, e-mail, a webhook subscription) about them. Both are
//! written in the filter language ([`dispatch_core::filter`]) and evaluated by jobs, never inside
//! the command that changed the incident. Restricted incidents get no automatic engagement and
//! reach only targets marked restricted-safe.

pub(crate) mod digest;
pub mod engagement;
pub mod notification;
pub(crate) mod weekly;
pub(crate) mod welcome;

use crate::flows::incident_job;
use crate::Result;
use chrono::{DateTime, Utc};
use dispatch_core::event::TimelineEvent;
use dispatch_core::filter::{Filter, FilterSubject};
use dispatch_core::job;
use dispatch_core::values::IncidentRef;
use dispatch_core::{
    IncidentId, IncidentStatus, ParticipantRole, RuleId, ValidationError, Visibility,
};
use dispatch_store::model::project;
use dispatch_store::repo;
use dispatch_store::repo::incident::IncidentRow;
use dispatch_store::repo::job::NewJob;
use dispatch_store::repo::rules::RuleRow;
use dispatch_store::Conn;
use serde_json::{json, Map, Value};

/// The changes a notification's change summary reports.
const SIGNIFICANT: &[&str] = &["status", "priority", "severity", "title", "commander"];

/// An incident as rules see it: its row and what filters look at.
pub(crate) async fn subject(
    conn: &impl Conn,
    incident_id: i64,
) -> Result<(IncidentRow, FilterSubject)> {
    let row = repo::incident::get(conn, &IncidentRef::Id(IncidentId(incident_id))).await?;
    let tags = repo::tag::for_incidents(conn, &[incident_id])
        .await?
        .remove(&incident_id)
        .unwrap_or_default();
    let s = row.filter_subject(&tags);
    Ok((row, s))
}

/// A stored filter; a row that no longer reads (it never should) matches nothing.
pub(crate) fn stored_filter(json: &str) -> Filter {
    serde_json::from_str::<Value>(json)
        .map_err(|e| e.to_string())
        .and_then(|v| Filter::from_json(&v))
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "a stored filter does not read; it matches nothing");
            Filter::Or(vec![])
        })
}

/// Reads a filter given as text (`priority = high`) or as its JSON form; errors go on `field`.
pub fn parse_filter(e: &mut ValidationError, field: &str, raw: Option<&Value>) -> Option<Filter> {
    match raw {
        None | Some(Value::Null) => {
            e.push(field, "is required; write \"all\" to match every incident");
            None
        }
        Some(v) => match Filter::from_json(v) {
            Ok(f) => Some(f),
            Err(m) => {
                e.push(field, m);
                None
            }
        },
    }
}

/// What one kind of rule targets: the people, teams, services and runbooks of an engagement
/// rule, or the room, addresses or webhook of a notification rule. Each kind reads it from its
/// row, checks it when a rule is saved and writes it into the row; the rest of a rule (project,
/// name, description, filter, enabled) is handled once, by [`Rules::save`] and its
/// siblings.
pub trait Targets: Sized + Send {
    /// The stored rule.
    type Row: RuleRow;
    /// The targets of a stored rule.
    fn read(row: &Self::Row) -> Self;
    /// Checks (and tidies) the targets of a rule about to be saved in `project` (`None` when
    /// the project named is unknown), recording every bad field.
    fn check(
        &mut self,
        conn: &impl Conn,
        project: Option<&project::Model>,
        e: &mut ValidationError,
    ) -> impl std::future::Future<Output = Result<()>> + Send;
    /// Writes the targets into the row.
    fn write(self, row: &mut Self::Row);
}

/// A rule as written by an admin, already parsed.
#[derive(Debug, Clone)]
pub struct RuleSpec<T> {
    /// Project slug.
    pub project: String,
    /// Unique within the project.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// Which incidents it matches.
    pub filter: Filter,
    /// Off rules match nothing.
    pub enabled: bool,
    /// What it targets.
    pub targets: T,
}

/// A stored rule, decoded.
#[derive(Debug, Clone)]
pub struct Rule<T: Targets> {
    /// The row.
    pub row: T::Row,
    /// Its project's slug.
    pub project: String,
    /// Its filter.
    pub filter: Filter,
    /// What it targets.
    pub targets: T,
}

impl<T: Targets> Rule<T> {
    fn decode(row: T::Row, project: String) -> Self {
        Self {
            filter: stored_filter(row.filter()),
            targets: T::read(&row),
            project,
            row,
        }
    }
}

/// The rules that are on, that `may` lets through, and whose filter matches the incident.
pub(crate) fn matching<'a, R: RuleRow>(
    rules: &'a [R],
    s: &FilterSubject,
    may: impl Fn(&R) -> bool,
) -> Vec<&'a R> {
    rules
        .iter()
        .filter(|r| r.enabled() && may(r))
        .filter(|r| stored_filter(r.filter()).matches(s))
        .collect()
}

/// The jobs a saved change of an incident starts: engagement is evaluated again while the
/// incident is active and open, and significant changes (status, priority, severity, title,
/// commander) are summarised to the notification targets and subscribers.
pub(crate) fn follow_up<'a>(
    incident_id: i64,
    status: &str,
    visibility: &str,
    events: impl Iterator<Item = &'a TimelineEvent>,
    at: DateTime<Utc>,
) -> Vec<NewJob> {
    let mut changed = false;
    let mut changes = Map::new();
    for e in events {
        match e {
            TimelineEvent::IncidentUpdated { .. } | TimelineEvent::StatusChanged { .. } => {
                changed = true;
                if let Value::Object(o) = e.details() {
                    for (k, v) in o
                        .into_iter()
                        .filter(|(k, _)| SIGNIFICANT.contains(&k.as_str()))
                    {
                        changes.insert(k, v);
                    }
                }
            }
            TimelineEvent::RoleAssumed {
                email,
                role: ParticipantRole::IncidentCommander,
                ..
            } => {
                changes.insert("commander".into(), json!({"after": email}));
            }
            _ => {}
        }
    }
    let stamp = at.timestamp_micros().to_string();
    let mut jobs = Vec::new();
    if changed
        && status == IncidentStatus::Active.as_str()
        && visibility == Visibility::Open.as_str()
    {
        jobs.push(engage_job(incident_id, &stamp, at));
    }
    if !changes.is_empty() {
        jobs.push(incident_job(
            job::Notify {
                incident_id,
                what: job::NotifyWhat::Updated,
                changes: Some(Value::Object(changes)),
                key: stamp.clone(),
            },
            Some(format!("updated:{stamp}")),
            at,
        ));
    }
    jobs
}

/// The job that evaluates the engagement rules for an incident (once per `key`).
pub(crate) fn engage_job(incident_id: i64, key: &str, at: DateTime<Utc>) -> NewJob {
    incident_job(job::Engage { incident_id }, Some(key.to_string()), at)
}

/// The job that sends the card about a new incident to the matching notification targets.
pub(crate) fn created_job(incident_id: i64, at: DateTime<Utc>) -> NewJob {
    incident_job(
        job::Notify {
            incident_id,
            what: job::NotifyWhat::Created,
            changes: None,
            key: "created".into(),
        },
        Some("created".into()),
        at,
    )
}

impl crate::Rules<'_> {
    /// Rules of one kind, of one project (slug) or all, by name.
    pub async fn list<T: Targets>(self, project: Option<&str>) -> Result<Vec<Rule<T>>> {
        let conn = self.db().conn();
        let projects = repo::project::list(conn).await?;
        let project_id = match project {
            Some(slug) => Some(self.projects().get(slug).await?.id),
            None => None,
        };
        let slug = |id: i64| {
            projects
                .iter()
                .find(|p| p.id == id)
                .map(|p| p.slug.clone())
                .unwrap_or_default()
        };
        Ok(repo::rules::list::<T::Row>(conn, project_id)
            .await?
            .into_iter()
            .map(|r| {
                let s = slug(r.project_id());
                Rule::decode(r, s)
            })
            .collect())
    }

    /// One rule.
    pub async fn get<T: Targets>(self, id: RuleId) -> Result<Rule<T>> {
        let id = id.0;
        let conn = self.db().conn();
        let row = repo::rules::get::<T::Row>(conn, id).await?;
        let project = repo::project::get(conn, row.project_id()).await?;
        Ok(Rule::decode(row, project.slug))
    }

    /// Creates (`id` = `None`) or replaces a rule, checking its project and its targets.
    pub async fn save<T: Targets>(self, id: Option<RuleId>, spec: RuleSpec<T>) -> Result<Rule<T>> {
        let id = id.map(|i| i.0);
        let txn = self.db().write().await?;
        let conn = &*txn;
        let mut e = ValidationError::default();
        let project = repo::project::by_slug(conn, &spec.project).await?;
        if project.is_none() {
            e.push("project", format!("unknown project {:?}", spec.project));
        }
        let mut targets = spec.targets;
        targets.check(conn, project.as_ref(), &mut e).await?;
        e.into_result()?;
        let project = project.expect("checked");
        let now = dispatch_core::now();
        let before = match id {
            Some(id) => Some(repo::rules::get::<T::Row>(conn, id).await?),
            None => None,
        };
        let mut row = match &before {
            Some(b) => b.clone(),
            None => {
                let mut row = T::Row::default();
                *row.head().created_at = now;
                row
            }
        };
        let head = row.head();
        *head.project_id = project.id;
        *head.name = spec.name;
        *head.description = spec.description;
        *head.filter = spec.filter.to_json().to_string();
        *head.enabled = spec.enabled;
        *head.updated_at = now;
        targets.write(&mut row);
        let saved = repo::rules::save(conn, before.as_ref(), row).await?;
        txn.commit().await?;
        Ok(Rule::decode(saved, project.slug))
    }

    /// Deletes a rule (what an engagement rule engaged stays).
    pub async fn delete<T: Targets>(self, id: RuleId) -> Result<()> {
        let id = id.0;
        let txn = self.db().write().await?;
        repo::rules::get::<T::Row>(&*txn, id).await?;
        repo::rules::delete::<T::Row>(&*txn, id).await?;
        txn.commit().await?;
        Ok(())
    }
}
