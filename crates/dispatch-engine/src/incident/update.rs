//! Updating an incident's fields (PATCH): every changed field goes on the timeline with its
//! value before and after.

use super::status::apply_status;
use super::{load_detail, resolve_taxonomy, IncidentDetail};
use crate::changes::Events;
use crate::record::save_with_events;
use crate::tags::resolve_tags;
use crate::{Actor, Result};
use dispatch_core::commands::UpdateIncident;
use dispatch_core::event::{Change, TimelineEvent};
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, Patch, ValidationError};
use dispatch_store::repo::{self, taxonomy};
use serde_json::{json, Map, Value};

impl crate::Incidents<'_> {
    /// Changes the fields the command names; absent fields keep their value.
    pub async fn update(
        self,
        actor: &Actor,
        r: &IncidentRef,
        cmd: UpdateIncident,
    ) -> Result<IncidentDetail> {
        let txn = self.db.write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        let mut errors = ValidationError::default();
        let tax = resolve_taxonomy(
            conn,
            current.project_id,
            cmd.incident_type.as_deref(),
            cmd.priority.as_deref(),
            cmd.severity.as_deref(),
            &mut errors,
        )
        .await?;
        let tag_ids = match &cmd.tags {
            Some(names) => Some(resolve_tags(conn, current.project_id, names, &mut errors).await?),
            None => None,
        };
        errors.into_result()?;

        let mut row = current.clone();
        let mut changes = Map::new();
        let mut change = |field: &str, before: Value, after: Value| {
            if before != after {
                changes.insert(field.to_string(), json!({"before": before, "after": after}));
            }
        };
        if let Some(t) = cmd.title {
            change("title", json!(current.title), json!(t.as_str()));
            row.title = t.into_inner();
        }
        if let Some(d) = cmd.description {
            change("description", json!(current.description), json!(d.as_str()));
            row.description = d.into_inner();
        }
        match cmd.resolution {
            Patch::Absent => {}
            Patch::Null => {
                change("resolution", json!(current.resolution), Value::Null);
                row.resolution = None;
            }
            Patch::Value(v) => {
                change("resolution", json!(current.resolution), json!(v.as_str()));
                row.resolution = Some(v.into_inner());
            }
        }
        if let Some(v) = cmd.visibility {
            change("visibility", json!(current.visibility), json!(v));
            row.visibility = v.as_str().to_string();
        }
        if let Some(t) = tax.type_ {
            let before = taxonomy::types::get(conn, current.type_id).await?;
            change("type", json!(before.slug), json!(t.slug));
            row.type_id = t.id;
        }
        if let Some(p) = tax.priority {
            let before = taxonomy::priorities::get(conn, current.priority_id).await?;
            change("priority", json!(before.slug), json!(p.slug));
            row.priority_id = p.id;
        }
        let mut severity_id = current.severity_id;
        if let Some(s) = tax.severity {
            let before = taxonomy::severities::get(conn, current.severity_id).await?;
            change("severity", json!(before.slug), json!(s.slug));
            row.severity_id = s.id;
            severity_id = s.id;
        }
        if let Some(ids) = &tag_ids {
            let mut before = repo::tag::ids_for_incident(conn, current.id).await?;
            before.sort_unstable();
            let mut after = ids.clone();
            after.sort_unstable();
            if before != after {
                let names = |ids: Vec<i64>| async move {
                    let mut out = Vec::new();
                    for id in ids {
                        out.push(repo::tag::get(conn, id).await?.name);
                    }
                    Ok::<_, crate::Error>(out)
                };
                change(
                    "tags",
                    json!(names(before).await?),
                    json!(names(after).await?),
                );
                repo::tag::set_for_incident(conn, current.id, ids).await?;
            }
        }

        let mut events = Events::new(actor, dispatch_core::now());
        if !changes.is_empty() {
            events.push_event(TimelineEvent::IncidentUpdated {
                changes: changes
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            Change::new(v["before"].clone(), v["after"].clone()),
                        )
                    })
                    .collect(),
                stable_priority: None,
            });
        }
        let target = cmd.status.filter(|s| s.as_str() != current.status);
        // A status change refreshes everything itself (apply_status); otherwise refresh here.
        if !changes.is_empty() && target.is_none() {
            events.job(crate::flows::refresh(
                dispatch_core::IncidentId(current.id),
                None,
                events.at(),
            ));
        }
        if let Some(target) = target {
            apply_status(
                &self.base_url(),
                conn,
                &current,
                &mut row,
                target,
                severity_id,
                &mut events,
            )
            .await?;
        }
        if events.is_empty() {
            // Nothing changed: no write, no event.
            drop(txn);
            return load_detail(self.db.conn(), &IncidentRef::Id(IncidentId(current.id))).await;
        }
        save_with_events(conn, &current, row, events).await?;
        txn.commit().await?;
        self.wake_workers();
        load_detail(self.db.conn(), &IncidentRef::Id(IncidentId(current.id))).await
    }
}
