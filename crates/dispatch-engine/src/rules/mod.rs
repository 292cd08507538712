//! Rules: engagement rules pull people, on-call, teams and runbooks into matching incidents;
//! notification rules tell targets (a room, e-mail, a webhook subscription) about them. Both are
//! written in the filter language ([`dispatch_core::filter`]) and evaluated by jobs, never inside
//! the command that changed the incident. Restricted incidents get no automatic engagement and
//! reach only targets marked restricted-safe.

mod digest;
pub mod engagement;
pub mod notification;
pub(crate) mod welcome;

pub(crate) use digest::run as run_digest;

use crate::flows::incident_job;
use crate::Result;
use chrono::{DateTime, Utc};
use dispatch_core::filter::{Filter, FilterSubject};
use dispatch_core::job;
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, IncidentStatus, ValidationError, Visibility};
use dispatch_store::repo;
use dispatch_store::repo::event::NewEvent;
use dispatch_store::repo::incident::IncidentRow;
use dispatch_store::repo::job::NewJob;
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

/// The jobs a saved change of an incident starts: engagement is evaluated again while the
/// incident is active and open, and significant changes (status, priority, severity, title,
/// commander) are summarised to the notification targets and subscribers.
pub(crate) fn follow_up(
    incident_id: i64,
    status: &str,
    visibility: &str,
    events: &[NewEvent],
    at: DateTime<Utc>,
) -> Vec<NewJob> {
    let mut changed = false;
    let mut changes = Map::new();
    for e in events {
        match e.kind.as_str() {
            "incident_updated" | "status_changed" => {
                changed = true;
                if let Some(o) = e.details.as_object() {
                    for (k, v) in o.iter().filter(|(k, _)| SIGNIFICANT.contains(&k.as_str())) {
                        changes.insert(k.clone(), v.clone());
                    }
                }
            }
            "role_assumed" if e.details["role"] == "incident_commander" => {
                changes.insert(
                    "commander".into(),
                    json!({"after": e.details["email"].clone()}),
                );
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
