//! Case events as outgoing webhooks: each case timeline entry of a webhook type (opened, status
//! changed, closed, escalated, edited or snoozed, a signal resolved) becomes, in the transaction
//! that writes it, one pending delivery and one `deliver_webhook` job (naming the case) per
//! enabled subscription that selected its type — signed and retried like the incident events.
//! The case in the body is as it stands once the transaction's changes are made (its tags
//! included), so a receiver needs no second call to read it.

use crate::Result;
use chrono::SecondsFormat;
use dispatch_store::model::{case, case_event};
use dispatch_store::repo;
use dispatch_store::repo::webhook::NewDelivery;
use dispatch_store::Conn;
use serde_json::{json, Value};

/// The webhook type of a case timeline entry, if it has one.
fn event_type(e: &case_event::Model) -> Option<&'static str> {
    Some(match e.kind.as_str() {
        "case_opened" => "case.created",
        "status_changed" if e.details.contains("\"to\":\"closed\"") => "case.closed",
        "status_changed" => "case.status_changed",
        "case_escalated" => "case.escalated",
        "case_edited" | "case_snoozed" => "case.updated",
        "signal_resolved" => "signal.resolved",
        _ => return None,
    })
}

/// Writes a case's timeline entries and queues the webhooks they trigger, in `conn`'s
/// transaction. One query for the subscriptions when an entry has a webhook type.
pub(crate) async fn record(conn: &impl Conn, events: Vec<case_event::Model>) -> Result<()> {
    let typed: Vec<(usize, &'static str)> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| event_type(e).map(|t| (i, t)))
        .collect();
    if !typed.is_empty() {
        enqueue(conn, &events, &typed).await?;
    }
    crate::signal::thread::enqueue(conn, &events).await?;
    repo::signal::add_case_events(conn, events).await?;
    Ok(())
}

async fn enqueue(
    conn: &impl Conn,
    events: &[case_event::Model],
    typed: &[(usize, &'static str)],
) -> Result<()> {
    let subscribers: Vec<(i64, Vec<String>)> = repo::webhook::enabled(conn)
        .await?
        .iter()
        .map(|s| (s.id, repo::webhook::event_types(s)))
        .collect();
    let wants = |types: &[String], t: &str| types.is_empty() || types.iter().any(|x| x == t);
    if !typed
        .iter()
        .any(|(_, t)| subscribers.iter().any(|(_, types)| wants(types, t)))
    {
        return Ok(());
    }
    let mut ids: Vec<i64> = typed.iter().map(|(i, _)| events[*i].case_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let cases = repo::signal::cases_by_ids(conn, &ids).await?;
    let tags = repo::tag::for_cases(conn, &ids).await?;
    let now = dispatch_core::now();
    let (mut deliveries, mut jobs) = (Vec::new(), Vec::new());
    // Each project read once, however many of its cases' entries the batch holds.
    let mut projects = std::collections::HashMap::new();
    for (n, (i, t)) in typed.iter().enumerate() {
        let e = &events[*i];
        let Some(c) = cases.iter().find(|c| c.id == e.case_id) else {
            continue;
        };
        let project = match projects.get(&c.project_id) {
            Some(p) => p,
            None => {
                let p = repo::project::get(conn, c.project_id).await?;
                projects.entry(c.project_id).or_insert(p)
            }
        };
        let labels: Vec<String> = tags
            .get(&c.id)
            .map(|t| t.iter().map(repo::tag::TagRow::label).collect())
            .unwrap_or_default();
        let body = payload(c, &labels, !project.members_only, e, t).to_string();
        let message_id = format!(
            "msg_case{}_{}_{}_{n}",
            c.id,
            e.kind,
            e.occurred_at.timestamp_micros()
        );
        for (sub, _) in subscribers.iter().filter(|(_, types)| wants(types, t)) {
            deliveries.push(NewDelivery {
                subscription_id: *sub,
                message_id: message_id.clone(),
                event_type: t.to_string(),
                payload: body.clone(),
            });
            jobs.push(crate::flows::case_webhook_job(
                dispatch_core::CaseId(c.id),
                dispatch_core::WebhookId(*sub),
                &message_id,
                now,
            ));
        }
    }
    repo::webhook::add_deliveries(conn, deliveries, now).await?;
    repo::job::enqueue(conn, jobs).await?;
    Ok(())
}

/// `{"type", "timestamp", "data": {"case", "event"}}`, the case with its `tags` as the case
/// API shows them. A members-only project's case carries only its id, status and project (as
/// a restricted incident's event does): no title, no tags.
fn payload(c: &case::Model, tags: &[String], open: bool, e: &case_event::Model, t: &str) -> Value {
    let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(SecondsFormat::Micros, true);
    let (case, event) = if open {
        (
            json!({"id": c.id, "project_id": c.project_id, "definition_id": c.definition_id,
                "title": c.title, "status": c.status, "type": c.case_type,
                "priority": c.case_priority, "severity": c.case_severity,
                "assignee": c.assignee, "incident_id": c.incident_id,
                "resolution_reason": c.resolution_reason, "tags": tags,
                "created_at": time(c.created_at)}),
            json!({"kind": e.kind, "occurred_at": time(e.occurred_at), "actor": e.actor,
                "description": e.description,
                "details": serde_json::from_str::<Value>(&e.details).unwrap_or(Value::Null)}),
        )
    } else {
        (
            json!({"id": c.id, "project_id": c.project_id, "status": c.status}),
            json!({"kind": e.kind, "occurred_at": time(e.occurred_at), "actor": e.actor}),
        )
    };
    json!({"type": t, "timestamp": time(e.occurred_at), "data": {"case": case, "event": event}})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened() -> (case::Model, case_event::Model) {
        let c = case::Model {
            id: 3,
            project_id: 1,
            title: "HighErrorRate on payments".into(),
            status: "new".into(),
            ..Default::default()
        };
        let e = case_event::Model {
            case_id: 3,
            kind: "case_opened".into(),
            description: "Case opened by Errors".into(),
            details: "{}".into(),
            ..Default::default()
        };
        (c, e)
    }

    #[test]
    fn an_open_project_s_case_carries_its_tags() {
        let (c, e) = opened();
        let tags = ["db".to_string(), "team:payments".to_string()];
        let p = payload(&c, &tags, true, &e, "case.created");
        assert_eq!(p["data"]["case"]["tags"], json!(["db", "team:payments"]));
        assert_eq!(p["data"]["case"]["title"], "HighErrorRate on payments");
    }

    #[test]
    fn a_members_only_project_s_case_carries_no_tags() {
        let (c, e) = opened();
        let p = payload(
            &c,
            &["team:payments".to_string()],
            false,
            &e,
            "case.created",
        );
        assert_eq!(
            p["data"]["case"],
            json!({"id": 3, "project_id": 1, "status": "new"})
        );
        assert!(!p.to_string().contains("payments"), "{p}");
    }
}
