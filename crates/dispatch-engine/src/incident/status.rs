//! The life cycle: Active → Stable → Closed, re-opening allowed. The explicit endpoints and a
//! PATCH of `status` share these rules.

use super::{load_detail, IncidentDetail};
use crate::changes::Events;
use crate::record::save_with_events;
use crate::{flows, Actor, Error, Result};
use chrono::{DateTime, Utc};
use dispatch_core::event::{Change, TimelineEvent};
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, IncidentStatus, ValidationError};
use dispatch_store::model::{incident, incident_priority, incident_severity, tag_type};
use dispatch_store::repo::job::NewJob;
use dispatch_store::repo::{self, taxonomy};
use serde_json::json;

/// A stable or closed incident needs a severity that allows it.
pub(crate) fn check_severity(
    severity: &incident_severity::Model,
    target: IncidentStatus,
) -> std::result::Result<(), ValidationError> {
    if target == IncidentStatus::Active || severity.allowed_for_stable {
        return Ok(());
    }
    Err(ValidationError::field(
        "severity",
        format!(
            "severity {:?} is not allowed on a {target} incident; set another severity first",
            severity.name
        ),
    ))
}

/// Closing needs a tag of each `required` tag type; `tag_types` are the types of the
/// incident's tags.
pub(crate) fn check_required_tags(
    required: &[tag_type::Model],
    tag_types: &[Option<i64>],
) -> std::result::Result<(), ValidationError> {
    let missing: Vec<&str> = required
        .iter()
        .filter(|t| !tag_types.contains(&Some(t.id)))
        .map(|t| t.name.as_str())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(ValidationError::field(
        "tags",
        format!(
            "closing needs a tag of each required type: {}",
            missing.join(", ")
        ),
    ))
}

/// The project's required tag types.
pub(crate) async fn required_tag_types(
    conn: &impl dispatch_store::Conn,
    project_id: i64,
) -> Result<Vec<tag_type::Model>> {
    let mut types = repo::tag::types(conn, project_id).await?;
    types.retain(|t| t.required);
    Ok(types)
}

/// The tag type of each tag.
pub(crate) async fn tag_types_of(
    conn: &impl dispatch_store::Conn,
    tag_ids: &[i64],
) -> Result<Vec<Option<i64>>> {
    let mut out = Vec::new();
    for id in tag_ids {
        out.push(repo::tag::get(conn, *id).await?.tag_type_id);
    }
    Ok(out)
}

/// Stabilising moved the priority from `before` to the project's stable priority `after`.
pub(crate) fn stable_priority_event(
    before: &incident_priority::Model,
    after: &incident_priority::Model,
) -> TimelineEvent {
    TimelineEvent::IncidentUpdated {
        changes: [(
            "priority".to_string(),
            Change::new(json!(before.slug), json!(after.slug)),
        )]
        .into(),
        stable_priority: Some(after.name.clone()),
    }
}

/// The jobs a move from `from` to `target` queues after the review document's: asking for
/// feedback, computing the response cost and archiving the room when closing, un-archiving it
/// when re-opening a closed incident, and refreshing its resources.
pub(crate) fn transition_jobs(
    base_url: &str,
    incident_id: i64,
    name: &str,
    from: IncidentStatus,
    target: IncidentStatus,
    at: DateTime<Utc>,
) -> Vec<NewJob> {
    let mut jobs = Vec::new();
    if target == IncidentStatus::Closed {
        let text = format!(
            "{name} is closed. Thank you all. How did the response go? Rate it from 1 to 5 with a comment: {}",
            dispatch_core::links::feedback(base_url, name)
        );
        let key = format!("feedback:{}", at.timestamp_micros());
        jobs.push(flows::announce(
            dispatch_core::IncidentId(incident_id),
            &key,
            &text,
            at,
        ));
        jobs.push(crate::cost::job_for(incident_id, at));
    }
    if target == IncidentStatus::Closed || from == IncidentStatus::Closed {
        let archive = target == IncidentStatus::Closed;
        jobs.push(flows::incident_job(
            dispatch_core::job::Archive {
                incident_id,
                archive,
            },
            None,
            at,
        ));
    }
    jobs.push(flows::refresh(
        dispatch_core::IncidentId(incident_id),
        None,
        at,
    ));
    jobs
}

/// The mail that tells the incident's notifications group of a move from `from` to `target`
/// (the notification rules and subscribers hear of it through the change summary).
pub(crate) fn status_mail(
    incident_id: i64,
    name: &str,
    title: &str,
    from: IncidentStatus,
    target: IncidentStatus,
    at: DateTime<Utc>,
) -> NewJob {
    let said = match (from, target) {
        (_, IncidentStatus::Stable) => "is stable: the impact is contained",
        (_, IncidentStatus::Closed) => "is closed",
        (IncidentStatus::Closed, IncidentStatus::Active) => "was re-opened",
        (_, IncidentStatus::Active) => "is active again",
    };
    let message = RichMessage::new(vec![
        Block::Header {
            text: format!("{name} {said}: {title}"),
        },
        Block::Fields {
            fields: vec![("Status".into(), format!("{from} → {target}"))],
        },
    ]);
    flows::mail_stakeholders(
        dispatch_core::IncidentId(incident_id),
        &format!("status:{target}:{}", at.timestamp_micros()),
        &format!(
            "[{name}] {}: {title}",
            crate::report::field_label(target.as_str())
        ),
        &message,
        false,
        at,
    )
}

/// Checks that `current` may move to `target`: not already there, a severity that allows it
/// (`severity_id`: the severity the incident will have after the command), and for closing a
/// tag of each required type.
async fn check_move(
    conn: &impl dispatch_store::Conn,
    current: &incident::Model,
    from: IncidentStatus,
    target: IncidentStatus,
    severity_id: i64,
) -> Result<()> {
    if from == target {
        return Err(Error::Conflict(format!(
            "{} is already {}",
            current.name, target
        )));
    }
    if target != IncidentStatus::Active {
        let severity = taxonomy::severities::get(conn, severity_id).await?;
        check_severity(&severity, target)?;
    }
    if target == IncidentStatus::Closed {
        let required = required_tag_types(conn, current.project_id).await?;
        if !required.is_empty() {
            let tag_ids = repo::tag::ids_for_incident(conn, current.id).await?;
            check_required_tags(&required, &tag_types_of(conn, &tag_ids).await?)?;
        }
    }
    Ok(())
}

/// Checks that `current` may move to `target` and records the change on `row` and `events`.
/// `severity_id` is the severity the incident will have after the command.
pub(crate) async fn apply_status(
    base_url: &str,
    conn: &impl dispatch_store::Conn,
    current: &incident::Model,
    row: &mut incident::Model,
    target: IncidentStatus,
    severity_id: i64,
    events: &mut Events,
) -> Result<()> {
    let from: IncidentStatus = current.status.parse().unwrap_or(IncidentStatus::Active);
    check_move(conn, current, from, target, severity_id).await?;
    let now = events.at();
    match target {
        IncidentStatus::Stable => {
            row.stable_at = Some(now);
            row.closed_at = None;
        }
        IncidentStatus::Closed => {
            row.stable_at = Some(current.stable_at.unwrap_or(now));
            row.closed_at = Some(now);
            // Closing ends every role; the history keeps who held what.
            let n = repo::participant::renounce_every_role(conn, current.id, now).await?;
            events.push_event(TimelineEvent::RolesRenounced { roles: n });
        }
        IncidentStatus::Active if from == IncidentStatus::Closed => {
            row.stable_at = None;
            row.closed_at = None;
            // Re-opening gives back the roles closing ended.
            if let Some(closed_at) = current.closed_at {
                let n = repo::participant::restore_roles(conn, current.id, closed_at, now).await?;
                events.push_event(TimelineEvent::RolesRestored { roles: n });
            }
        }
        IncidentStatus::Active => {
            row.stable_at = None;
            row.closed_at = None;
        }
    }
    row.status = target.as_str().to_string();
    if target != from {
        let who = events.who().to_string();
        let actor = (who != "Dispatch").then_some(who.as_str());
        crate::signal::case::follow_incident(conn, row, target, actor, now).await?;
    }
    if target != IncidentStatus::Active && from == IncidentStatus::Active {
        // The project's stable priority, if it has one.
        let project = repo::project::get(conn, current.project_id).await?;
        if let Some(p) = project
            .stable_priority_id
            .filter(|p| *p != current.priority_id)
        {
            let before = taxonomy::priorities::get(conn, current.priority_id).await?;
            let after = taxonomy::priorities::get(conn, p).await?;
            row.priority_id = p;
            events.push_event(stable_priority_event(&before, &after));
        }
    }
    if target != IncidentStatus::Active {
        let type_ = taxonomy::types::get(conn, current.type_id).await?;
        flows::on_stable(
            conn,
            dispatch_core::IncidentId(current.id),
            type_.exclude_from_review,
            events,
        )
        .await?;
    }
    for job in transition_jobs(base_url, current.id, &current.name, from, target, now) {
        events.job(job);
    }
    events.job(status_mail(
        current.id,
        &current.name,
        &row.title,
        from,
        target,
        now,
    ));
    events.push_event(TimelineEvent::StatusChanged {
        status: Change::new(from, target),
    });
    Ok(())
}

impl crate::Incidents<'_> {
    /// Moves an incident to `target` (stable, closed, or active to re-open).
    pub async fn change_status(
        self,
        actor: &Actor,
        r: &IncidentRef,
        target: IncidentStatus,
    ) -> Result<IncidentDetail> {
        let txn = self.db.write().await?;
        let current = repo::incident::lock(&*txn, r).await?;
        let mut row = current.clone();
        let mut events = Events::new(actor, dispatch_core::now());
        apply_status(
            &self.base_url(),
            &*txn,
            &current,
            &mut row,
            target,
            current.severity_id,
            &mut events,
        )
        .await?;
        save_with_events(&*txn, &current, row, events).await?;
        txn.commit().await?;
        self.wake_workers();
        load_detail(self.db.conn(), &IncidentRef::Id(IncidentId(current.id))).await
    }
}
