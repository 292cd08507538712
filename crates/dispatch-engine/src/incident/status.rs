//! The life cycle: Active → Stable → Closed, re-opening allowed. The explicit endpoints and a
//! PATCH of `status` share these rules.

use super::{load_detail, IncidentDetail};
use crate::changes::Events;
use crate::record::save_with_events;
use crate::{flows, Actor, Error, Result};
use dispatch_core::event::{Change, TimelineEvent};
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, IncidentStatus, ValidationError};
use dispatch_store::model::incident;
use dispatch_store::repo::{self, taxonomy};
use serde_json::json;

/// Checks that `current` may move to `target` and records the change on `row` and `events`.
/// `severity_id` is the severity the incident will have after the command.
pub(crate) async fn apply_status(
    conn: &impl dispatch_store::Conn,
    current: &incident::Model,
    row: &mut incident::Model,
    target: IncidentStatus,
    severity_id: i64,
    events: &mut Events,
) -> Result<()> {
    let from: IncidentStatus = current.status.parse().unwrap_or(IncidentStatus::Active);
    if from == target {
        return Err(Error::Conflict(format!(
            "{} is already {}",
            current.name, target
        )));
    }
    let now = events.at();
    if target != IncidentStatus::Active {
        let severity = taxonomy::severities::get(conn, severity_id).await?;
        if !severity.allowed_for_stable {
            return Err(ValidationError::field(
                "severity",
                format!("severity {:?} is not allowed on a {target} incident; set another severity first", severity.name),
            )
            .into());
        }
    }
    if target == IncidentStatus::Closed {
        let required: Vec<_> = repo::tag::types(conn, current.project_id)
            .await?
            .into_iter()
            .filter(|t| t.required)
            .collect();
        if !required.is_empty() {
            let tag_ids = repo::tag::ids_for_incident(conn, current.id).await?;
            let mut missing = Vec::new();
            for tt in required {
                let mut has = false;
                for id in &tag_ids {
                    if repo::tag::get(conn, *id).await?.tag_type_id == Some(tt.id) {
                        has = true;
                    }
                }
                if !has {
                    missing.push(tt.name);
                }
            }
            if !missing.is_empty() {
                return Err(ValidationError::field(
                    "tags",
                    format!(
                        "closing needs a tag of each required type: {}",
                        missing.join(", ")
                    ),
                )
                .into());
            }
        }
    }
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
    let at = events.at();
    if target != IncidentStatus::Active && from == IncidentStatus::Active {
        // The project's stable priority, if it has one.
        let project = repo::project::get(conn, current.project_id).await?;
        if let Some(p) = project
            .stable_priority_id
            .filter(|p| *p != current.priority_id)
        {
            let (before, after) = (
                taxonomy::priorities::get(conn, current.priority_id).await?,
                taxonomy::priorities::get(conn, p).await?,
            );
            row.priority_id = p;
            events.push_event(TimelineEvent::IncidentUpdated {
                changes: [(
                    "priority".to_string(),
                    Change::new(json!(before.slug), json!(after.slug)),
                )]
                .into(),
                stable_priority: Some(after.name.clone()),
            });
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
    if target == IncidentStatus::Closed {
        let text = format!(
            "{} is closed. Thank you all. How did the response go? Rate it from 1 to 5 with a comment: POST /api/v1/incidents/{}/feedback",
            current.name, current.name
        );
        events.job(flows::announce(
            dispatch_core::IncidentId(current.id),
            &format!("feedback:{}", at.timestamp_micros()),
            &text,
            at,
        ));
    }
    if target == IncidentStatus::Closed || from == IncidentStatus::Closed {
        let archive = target == IncidentStatus::Closed;
        events.job(flows::incident_job(
            dispatch_core::job::Archive {
                incident_id: current.id,
                archive,
            },
            None,
            at,
        ));
    }
    events.job(flows::refresh(
        dispatch_core::IncidentId(current.id),
        None,
        at,
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
