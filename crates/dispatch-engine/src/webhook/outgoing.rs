//! The fan-out: every timeline event appended by a command becomes, in that command's
//! transaction, one pending delivery and one `deliver_webhook` job per enabled subscription that
//! selected its type. The body is built here, once, so every attempt sends (and signs) the same
//! bytes and the event is described as it was when it happened.

use crate::Result;
use chrono::{DateTime, SecondsFormat, Utc};
use dispatch_core::event::TimelineEvent;
use dispatch_core::webhook::event_type;
use dispatch_core::Visibility;
use dispatch_store::model::{event, incident};
use dispatch_store::repo;
use dispatch_store::repo::webhook::NewDelivery;
use dispatch_store::Conn;
use serde_json::{json, Value};

/// The enabled subscriptions, as read.
#[derive(Default)]
pub(crate) struct Subscribers(Vec<Subscriber>);

/// A subscription as the fan-out needs it.
#[derive(Clone)]
struct Subscriber {
    id: i64,
    /// Selected types; empty: all.
    types: Vec<String>,
}

impl Subscriber {
    fn wants(&self, event_type: &str) -> bool {
        self.types.is_empty() || self.types.iter().any(|t| t == event_type)
    }
}

/// One appended event, copied out of its row before the row is inserted.
struct Appended {
    seq: i64,
    kind: String,
    occurred_at: DateTime<Utc>,
    actor: Option<String>,
    transport: String,
    description: String,
    details: String,
    hash: String,
}

impl Appended {
    /// Reads a chained row (every column but the id is set by `event::chain`).
    fn from_row(r: &event::Model) -> Self {
        Self {
            seq: r.seq,
            kind: r.kind.clone(),
            occurred_at: r.occurred_at,
            actor: r.actor.clone(),
            transport: r.transport.clone(),
            description: r.description.clone(),
            details: r.details.clone(),
            hash: r.hash.clone(),
        }
    }

    /// The `webhook-id`: taken from the event's chain hash, so it is the same for every
    /// subscription and attempt, unique across incidents, and contains no `.` (the spec forbids
    /// one in ids, which are part of the signed content).
    fn message_id(&self) -> String {
        format!("msg_{}", &self.hash[..self.hash.len().min(32)])
    }
}

/// Events waiting for their incident row to be saved before their deliveries are enqueued.
pub(crate) struct Outgoing {
    subscribers: Vec<Subscriber>,
    events: Vec<Appended>,
}

impl Outgoing {
    /// Looks up the enabled subscriptions (one query, none when nothing was appended) and keeps
    /// the events some of them want. `None` when there is nothing to send.
    pub(crate) async fn prepare(conn: &impl Conn, rows: &[event::Model]) -> Result<Option<Self>> {
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Self::for_events(&Self::subscribers(conn).await?, rows))
    }

    /// The enabled subscriptions, read ahead of the events they will be offered (a
    /// declaration reads them before its transaction; see [`Outgoing::for_events`]).
    pub(crate) async fn subscribers(conn: &impl Conn) -> Result<Subscribers> {
        let list = repo::webhook::enabled(conn)
            .await?
            .iter()
            .map(|s| Subscriber {
                id: s.id,
                types: repo::webhook::event_types(s),
            })
            .collect();
        Ok(Subscribers(list))
    }

    /// The events of `rows` some of `subscribers` want; `None` when there is nothing to send.
    pub(crate) fn for_events(subscribers: &Subscribers, rows: &[event::Model]) -> Option<Self> {
        let subscribers = &subscribers.0;
        let events: Vec<Appended> = rows
            .iter()
            .map(Appended::from_row)
            .filter(|e| {
                let t = event_type(&e.kind);
                subscribers.iter().any(|s| s.wants(&t))
            })
            .collect();
        (!events.is_empty()).then(|| Self {
            subscribers: subscribers.clone(),
            events,
        })
    }

    /// Records the deliveries and enqueues their jobs, describing the incident as `incident`
    /// (the row as saved by the command). A second call for the same events adds nothing: the
    /// deliveries are unique per (subscription, message id) and the jobs per idempotency key.
    pub(crate) async fn enqueue(self, conn: &impl Conn, incident: &incident::Model) -> Result<()> {
        let now = dispatch_core::now();
        let mut deliveries = Vec::new();
        let mut jobs = Vec::new();
        // A members-only project's incidents are described like restricted ones.
        let open = incident.visibility == Visibility::Open.as_str()
            && (self.subscribers.is_empty()
                || !repo::project::get(conn, incident.project_id)
                    .await?
                    .members_only);
        for e in &self.events {
            let t = event_type(&e.kind);
            let body = payload(incident, open, e, &t).to_string();
            let message_id = e.message_id();
            for s in self.subscribers.iter().filter(|s| s.wants(&t)) {
                deliveries.push(NewDelivery {
                    subscription_id: s.id,
                    message_id: message_id.clone(),
                    event_type: t.clone(),
                    payload: body.clone(),
                });
                jobs.push(crate::flows::webhook_job(
                    dispatch_core::IncidentId(incident.id),
                    dispatch_core::WebhookId(s.id),
                    &message_id,
                    now,
                ));
            }
        }
        repo::webhook::add_deliveries(conn, deliveries, now).await?;
        repo::job::enqueue(conn, jobs).await?;
        Ok(())
    }
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The Standard Webhooks body: `{"type", "timestamp", "data": {"incident", "event"}}`.
/// The event carries its stored `details` and, under `event`, the typed event
/// ([`TimelineEvent::to_json`]), as the API's timeline shows them.
///
/// Restricted incidents are delivered too — subscriptions are configured by admins, and a
/// receiver should know that *something* happened — but they carry only the incident's id, key
/// and visibility, and only the event's position, time, actor and transport. No title,
/// description, status, event text, details or typed event: those routinely repeat the title or describe
/// the incident, and a receiver may pass them on to people who may not see it. A receiver that
/// needs more asks the API with a token that may see the incident. Anything but `open` counts
/// as restricted, so a visibility added later is kept quiet until someone decides otherwise.
fn payload(i: &incident::Model, open: bool, e: &Appended, event_type: &str) -> Value {
    let (incident, event) = if open {
        let details: Value = serde_json::from_str(&e.details).unwrap_or(Value::Null);
        let typed = TimelineEvent::decode(&e.kind, &details).to_json(e.actor.as_deref());
        (
            json!({
                "id": i.id,
                "name": i.name,
                "title": i.title,
                "description": i.description,
                "status": i.status,
                "visibility": i.visibility,
                "resolution": i.resolution,
                "project_id": i.project_id,
                "reported_at": time(i.reported_at),
                "stable_at": i.stable_at.map(time),
                "closed_at": i.closed_at.map(time),
                "updated_at": time(i.updated_at),
            }),
            json!({
                "seq": e.seq,
                "occurred_at": time(e.occurred_at),
                "actor": e.actor,
                "transport": e.transport,
                "description": e.description,
                "details": details,
                "event": typed,
            }),
        )
    } else {
        (
            json!({"id": i.id, "name": i.name, "visibility": i.visibility}),
            json!({
                "seq": e.seq,
                "occurred_at": time(e.occurred_at),
                "actor": e.actor,
                "transport": e.transport,
            }),
        )
    };
    json!({
        "type": event_type,
        "timestamp": time(e.occurred_at),
        "data": {"incident": incident, "event": event},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(visibility: &str) -> incident::Model {
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        incident::Model {
            id: 7,
            project_id: 1,
            number: 7,
            name: "INC-7".into(),
            title: "Payments failing".into(),
            description: "5xx on checkout".into(),
            resolution: None,
            status: "active".into(),
            visibility: visibility.into(),
            type_id: 1,
            priority_id: 1,
            severity_id: 1,
            commander_id: 1,
            reporter_id: 1,
            reported_at: t,
            stable_at: None,
            closed_at: None,
            created_at: t,
            updated_at: t,
            event_seq: 1,
            last_event_hash: "ab".repeat(32),
        }
    }

    fn declared() -> Appended {
        Appended {
            seq: 1,
            kind: "incident_declared".into(),
            occurred_at: incident("open").created_at,
            actor: Some("alice@example.com".into()),
            transport: "api".into(),
            description: "alice declared INC-7: Payments failing".into(),
            details: r#"{"title":"Payments failing"}"#.into(),
            hash: "ab".repeat(32),
        }
    }

    #[test]
    fn open_incidents_are_described_in_full() {
        let p = payload(
            &incident("open"),
            true,
            &declared(),
            "incident.incident_declared",
        );
        assert_eq!(p["type"], "incident.incident_declared");
        assert_eq!(p["timestamp"], "2026-11-25T10:00:00.000000Z");
        assert_eq!(p["data"]["incident"]["title"], "Payments failing");
        assert_eq!(p["data"]["event"]["details"]["title"], "Payments failing");
        assert_eq!(
            p["data"]["event"]["event"],
            json!({"kind": "incident_declared", "by": "alice@example.com",
                "details": {"title": "Payments failing"}}),
            "details missing fields of the kind read as another event"
        );
        assert_eq!(p["data"]["event"]["seq"], 1);
    }

    #[test]
    fn restricted_incidents_carry_only_id_key_and_visibility() {
        let p = payload(
            &incident("restricted"),
            false,
            &declared(),
            "incident.incident_declared",
        );
        assert_eq!(
            p["data"]["incident"],
            json!({"id": 7, "name": "INC-7", "visibility": "restricted"})
        );
        assert!(p["data"]["event"].get("event").is_none(), "no typed event");
        let text = p.to_string();
        assert!(
            !text.contains("Payments") && !text.contains("checkout"),
            "{text}"
        );
    }

    #[test]
    fn message_ids_come_from_the_event_hash_and_have_no_dots() {
        let id = declared().message_id();
        assert_eq!(id, format!("msg_{}", "ab".repeat(16)));
        assert!(!id.contains('.'));
    }
}
