//! Status reports: tactical (conditions, actions, needs; mailed to the incident's participant
//! group) and executive (status, overview, next steps).

use crate::incident::{save_with_events, Events};
use crate::{Actor, Engine, Result};
use dispatch_core::commands::CreateReport;
use dispatch_core::values::IncidentRef;
use dispatch_store::entity::{incident, report};
use dispatch_store::repo;
use sea_orm::Set;
use serde_json::{json, Map, Value};

impl Engine {
    /// Stores a report and records it on the timeline.
    pub async fn create_report(
        &self,
        actor: &Actor,
        r: &IncidentRef,
        cmd: CreateReport,
    ) -> Result<report::Model> {
        let txn = self.db.write().await?;
        let conn = &*txn;
        let current = repo::incident::lock(conn, r).await?;
        let now = dispatch_core::now();
        let details: Map<String, Value> = cmd
            .fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), json!(v.as_str())))
            .collect();
        let rep = repo::report::insert(
            conn,
            report::ActiveModel {
                incident_id: Set(current.id),
                kind: Set(cmd.kind.as_str().into()),
                author_id: Set(Some(actor.individual_id.0)),
                details: Set(Value::Object(details.clone()).to_string()),
                created_at: Set(now),
                ..Default::default()
            },
        )
        .await?;
        let text = details
            .iter()
            .map(|(k, v)| {
                let v = v.as_str().unwrap_or_default();
                format!("{}:\n{v}", k.replace('_', " "))
            })
            .collect::<Vec<_>>()
            .join("\n\n");
        let mut events = Events::new(actor, now);
        events.push(
            "report_created",
            format!("{} posted a {} report", actor.email, cmd.kind),
            json!({"report_id": rep.id, "kind": cmd.kind, "fields": details}),
        );
        if cmd.kind == dispatch_core::ReportKind::Tactical {
            // Responders hear it by mail too: the incident's participant group.
            events.job(crate::flows::mail_group(
                current.id,
                &format!("report:{}", rep.id),
                &format!("[{}] Tactical report: {}", current.name, current.title),
                &text,
                now,
            ));
        }
        let row: incident::ActiveModel = current.clone().into();
        save_with_events(conn, &current, row, events).await?;
        txn.commit().await?;
        self.wake_workers();
        Ok(rep)
    }

    /// The reports of an incident, newest first.
    pub async fn reports(
        &self,
        r: &IncidentRef,
        kind: Option<dispatch_core::ReportKind>,
    ) -> Result<Vec<report::Model>> {
        let inc = repo::incident::get(self.db.conn(), r).await?;
        Ok(repo::report::list(self.db.conn(), inc.id, kind.map(|k| k.as_str())).await?)
    }
}
