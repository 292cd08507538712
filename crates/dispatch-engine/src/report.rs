//! Status reports: tactical (conditions, actions, needs) and executive (status, overview, next
//! steps). A report is stored, posted in the incident's room and mailed to the incident's
//! participant group and to its stakeholders (notifications group, notification rules' e-mail
//! targets, subscribers); an executive report is also written into the executive document (the
//! type's executive template), which shows the latest one.

use crate::changes::Events;
use crate::record::save_with_events;
use crate::{flows, Actor, Result};
use dispatch_core::commands::CreateReport;
use dispatch_core::event::TimelineEvent;
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::values::IncidentRef;
use dispatch_core::{ReportKind, ResourceKind, Transport};
use dispatch_store::model::{incident, report};
use dispatch_store::repo;
use serde_json::{json, Map, Value};

/// A report field's label, e.g. `next_steps` → "Next steps".
pub fn field_label(field: &str) -> String {
    let mut s = field.replace('_', " ");
    if let Some(first) = s.get(..1) {
        s.replace_range(..1, &first.to_uppercase());
    }
    s
}

/// How a report reads in the room and in mail.
pub fn report_message(inc: &incident::Model, rep: &report::Model, author: &str) -> RichMessage {
    let details: Map<String, Value> = serde_json::from_str(&rep.details).unwrap_or_default();
    let kind: ReportKind = rep.kind.parse().unwrap_or(ReportKind::Tactical);
    let fields = kind
        .fields()
        .iter()
        .map(|f| {
            (
                field_label(f),
                details[*f].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    RichMessage::new(vec![
        Block::Header {
            text: format!(
                "{} report: {} {}",
                field_label(kind.as_str()),
                inc.name,
                inc.title
            ),
        },
        Block::Fields { fields },
        Block::Context {
            text: format!(
                "Posted by {author} at {}",
                rep.created_at.format("%Y-%m-%d %H:%M UTC")
            ),
        },
    ])
    .pinned()
}

impl crate::Reports<'_> {
    /// Stores a report, records it on the timeline, posts it in the room, mails it to the
    /// active participants and (executive) writes it into the executive document — one
    /// transaction, the side effects as jobs.
    pub async fn create(
        self,
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
            report::Model {
                incident_id: current.id,
                kind: cmd.kind.as_str().into(),
                author_id: Some(actor.individual_id.0),
                details: Value::Object(details.clone()).to_string(),
                created_at: now,
                ..Default::default()
            },
        )
        .await?;
        let mut events = Events::new(actor, now);
        events.push_event(TimelineEvent::ReportCreated {
            report_id: rep.id,
            kind: cmd.kind,
            fields: json!(details),
        });
        let message = report_message(&current, &rep, &actor.email);
        // Posted from the incident's own room, the command's answer there is this very message:
        // announcing it as well would show the report twice.
        if actor.transport != Transport::Room {
            events.job(flows::announce_message(
                dispatch_core::IncidentId(current.id),
                &format!("report:{}", rep.id),
                &message,
                now,
            ));
        }
        let subject = format!(
            "[{}] {} report: {}",
            current.name,
            field_label(cmd.kind.as_str()),
            current.title
        );
        // Responders hear it by mail too: the incident's participant group.
        events.job(flows::mail_group(
            dispatch_core::IncidentId(current.id),
            &format!("report:{}", rep.id),
            &subject,
            &message.text,
            now,
        ));
        // Stakeholders hear it too: the notifications group, the notification rules' e-mail
        // targets and the subscribers.
        events.job(flows::mail_stakeholders(
            dispatch_core::IncidentId(current.id),
            &format!("report:{}", rep.id),
            &subject,
            &message,
            true,
            now,
        ));
        if cmd.kind == ReportKind::Executive {
            let kind = ResourceKind::ExecutiveDocument;
            if repo::resource::find(conn, current.id, kind)
                .await?
                .is_none()
            {
                repo::resource::add_pending(
                    conn,
                    current.id,
                    &[kind],
                    flows::pending_provider,
                    now,
                )
                .await?;
                events.job(flows::provision(
                    dispatch_core::IncidentId(current.id),
                    kind,
                    now,
                ));
            }
        }
        // Writes the report into the documents (and bookmarks the executive one once it
        // exists): a tactical report's conditions, actions and needs as much as an executive's.
        events.job(flows::refresh(
            dispatch_core::IncidentId(current.id),
            None,
            now,
        ));
        let row = current.clone();
        save_with_events(conn, &current, row, events).await?;
        txn.commit().await?;
        self.wake_workers();
        Ok(rep)
    }

    /// The reports of an incident, newest first.
    pub async fn list(
        self,
        r: &IncidentRef,
        kind: Option<dispatch_core::ReportKind>,
    ) -> Result<Vec<report::Model>> {
        let inc = repo::incident::get(self.db.conn(), r).await?;
        Ok(repo::report::list(self.db.conn(), inc.id, kind.map(|k| k.as_str())).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::field_label;

    #[test]
    fn labels_read_as_words() {
        assert_eq!(field_label("next_steps"), "Next steps");
        assert_eq!(field_label("tactical"), "Tactical");
    }
}
