//! A case's thread in its conversation target. When a case opens and its definition names a
//! conversation target, a durable `sync_case_thread` job posts the case's message there (title,
//! priority, status, assignee, signal count, entities, a link to the case page, and the actions
//! as buttons); later changes update that message in place and are told as replies in its
//! thread. Alerts arriving on the case are gathered: at most one update per case per
//! [`WINDOW_SECONDS`], however many arrive. Each post and reply is keyed, so a retried job never
//! posts twice. The built-in provider keeps the case's own room; Slack a message in a channel.

use crate::jobs::outcome::{finish_in, JobFailure};
use crate::Result;
use dispatch_core::job::SyncCaseThread;
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::provider::ThreadRef;
use dispatch_core::signal::{CaseStatus, Entity};
use dispatch_store::model::{case, case_event, case_thread, job};
use dispatch_store::repo;
use dispatch_store::Conn;

/// Alerts on a case are told in its thread at most once per this many seconds.
pub const WINDOW_SECONDS: i64 = 5;

/// Timeline kinds that are alerts arriving or settling (gathered per window); every other kind
/// is a person's or the incident's move, told at once.
const GATHERED: &[&str] = &[
    "signal_received",
    "signal_deduplicated",
    "signal_resolved",
    "signal_acknowledged",
];

/// Queues the thread updates the case timeline entries `events` call for, in their
/// transaction: one query for which of their cases have a conversation target.
pub(crate) async fn enqueue(conn: &impl Conn, events: &[case_event::Model]) -> Result<()> {
    let mut ids: Vec<i64> = events.iter().map(|e| e.case_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let targeted = repo::case_thread::with_target(conn, &ids).await?;
    if targeted.is_empty() {
        return Ok(());
    }
    let now = dispatch_core::now();
    let jobs = targeted
        .into_iter()
        .map(|case_id| {
            let gathered = events
                .iter()
                .filter(|e| e.case_id == case_id)
                .all(|e| GATHERED.contains(&e.kind.as_str()));
            let (unique, at) = if gathered {
                let window = now.timestamp().div_euclid(WINDOW_SECONDS) + 1;
                let at =
                    chrono::DateTime::from_timestamp(window * WINDOW_SECONDS, 0).unwrap_or(now);
                (format!("w{window}"), at)
            } else {
                (format!("t{}", now.timestamp_micros()), now)
            };
            crate::flows::new_job(
                &SyncCaseThread { case_id },
                Some(format!("sync_case_thread:{case_id}:{unique}")),
                at,
            )
        })
        .collect();
    repo::job::enqueue(conn, jobs).await?;
    Ok(())
}

/// The chat command lines of a case's buttons.
fn buttons(c: &case::Model) -> Vec<(String, String)> {
    let status: CaseStatus = c.status.parse().unwrap_or(CaseStatus::New);
    let id = c.id;
    let mut out = Vec::new();
    if status == CaseStatus::New {
        out.push(("Triage".into(), format!("/dispatch-case-triage #{id}")));
    }
    if status != CaseStatus::Closed {
        out.push((
            "Snooze 1h".into(),
            format!("/dispatch-case-snooze #{id} 1h"),
        ));
    }
    if status.may_become(CaseStatus::Escalated) {
        out.push(("Escalate".into(), format!("/dispatch-case-escalate #{id}")));
    }
    if status != CaseStatus::Closed {
        out.push(("Resolve".into(), format!("/dispatch-case-resolve #{id}")));
    }
    out
}

/// What the case's message shows besides the case row itself.
#[derive(Debug, Clone, Default)]
pub struct CaseFacts {
    /// How many signals it holds.
    pub signals: usize,
    /// The entities found in them (the first ten are shown).
    pub entities: Vec<Entity>,
    /// The incident it was escalated to (its name).
    pub incident: Option<String>,
    /// Until when its signal is snoozed, when a snooze made from it is still running.
    pub snoozed_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The end of the latest snooze made from the case (its `case_snoozed` event), if still ahead.
fn snoozed_until(
    events: &[case_event::Model],
    now: chrono::DateTime<chrono::Utc>,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let e = events.iter().rev().find(|e| e.kind == "case_snoozed")?;
    let details: serde_json::Value = serde_json::from_str(&e.details).ok()?;
    serde_json::from_value::<chrono::DateTime<chrono::Utc>>(details["expires_at"].clone())
        .ok()
        .filter(|t| *t > now)
}

/// The case's message: what it is, where it stands, and what may be done.
pub fn case_message(c: &case::Model, facts: &CaseFacts, base_url: &str) -> RichMessage {
    let (signals, entities, incident) = (facts.signals, &facts.entities, facts.incident.as_deref());
    let link = format!("{base_url}/cases/{}", c.id);
    let none = || "—".to_string();
    let mut fields = vec![
        ("Status".to_string(), c.status.clone()),
        (
            "Priority".to_string(),
            c.case_priority.clone().unwrap_or_else(none),
        ),
        (
            "Assignee".to_string(),
            c.assignee.clone().unwrap_or_else(none),
        ),
        ("Signals".to_string(), signals.to_string()),
    ];
    if !entities.is_empty() {
        let shown: Vec<String> = entities
            .iter()
            .take(10)
            .map(|e| format!("{}={}", e.kind, e.value))
            .collect();
        fields.push(("Entities".to_string(), shown.join(", ")));
    }
    if let Some(until) = facts.snoozed_until {
        fields.push((
            "Snoozed until".to_string(),
            until.format("%Y-%m-%d %H:%M UTC").to_string(),
        ));
    }
    if let Some(reason) = &c.resolution_reason {
        fields.push(("Resolution".to_string(), reason.clone()));
    }
    let mut blocks = vec![
        Block::Header {
            text: format!("Case {}: {}", c.id, c.title),
        },
        Block::Fields { fields },
    ];
    let mut links = vec![("Open the case".to_string(), link)];
    if let Some(inc) = incident {
        blocks.push(Block::Section {
            text: format!("Escalated to incident **{inc}**."),
        });
        links.push((
            format!("Incident {inc}"),
            format!("{base_url}/incidents/{inc}"),
        ));
    }
    blocks.push(Block::Links { links });
    let actions = buttons(c);
    if !actions.is_empty() {
        blocks.push(Block::Buttons { buttons: actions });
    }
    RichMessage::new(blocks)
}

/// One reply telling what happened on the case since the thread was last told; alerts are
/// counted rather than listed one by one.
fn reply(new: &[&case_event::Model], incident: Option<&str>, base_url: &str) -> RichMessage {
    let mut lines = Vec::new();
    let mut again = 0;
    for e in new {
        match e.kind.as_str() {
            "signal_deduplicated" => again += 1,
            "signal_received" | "case_opened" => {}
            "case_escalated" => {
                let inc = incident.unwrap_or("an incident");
                lines.push(format!(
                    "{} — [{inc}]({base_url}/incidents/{inc})",
                    e.description
                ));
            }
            _ => lines.push(e.description.clone()),
        }
    }
    if again > 0 {
        lines.push(format!(
            "{again} more alert{} arrived (deduplicated).",
            if again == 1 { "" } else { "s" }
        ));
    }
    RichMessage::plain(lines.join("\n"))
}

/// Brings case `case_id`'s thread up to date (the `sync_case_thread` job).
pub(crate) async fn sync(
    engine: &crate::Engine,
    job: &job::Model,
    case_id: i64,
) -> Result<(), JobFailure> {
    let conn = engine.db().conn();
    let c = repo::signal::case(conn, case_id).await?;
    let thread = repo::case_thread::get(conn, case_id).await?;
    let target = match &thread {
        Some(_) => None,
        None => match repo::case_thread::target(conn, &c).await? {
            Some(t) => Some(t),
            None => {
                let txn = engine.db().write().await?;
                finish_in(&txn, job).await?;
                txn.commit().await?;
                return Ok(());
            }
        },
    };
    let events = repo::signal::case_events(conn, case_id).await?;
    let instances = repo::signal::case_instances(conn, case_id).await?;
    let mut entities: Vec<Entity> = instances
        .iter()
        .flat_map(|i| serde_json::from_str::<Vec<Entity>>(&i.entities).unwrap_or_default())
        .collect();
    entities.sort_by(|a, b| (&a.kind, &a.value).cmp(&(&b.kind, &b.value)));
    entities.dedup();
    let incident = match c.incident_id {
        Some(i) => repo::incident::find(
            conn,
            &dispatch_core::values::IncidentRef::Id(dispatch_core::IncidentId(i)),
        )
        .await?
        .map(|r| r.name),
        None => None,
    };
    let base = engine.base_url();
    let now = dispatch_core::now();
    let facts = CaseFacts {
        signals: instances.len(),
        entities,
        snoozed_until: snoozed_until(&events, now),
        incident,
    };
    let message = case_message(&c, &facts, &base);
    let last = events.last().map(|e| e.id).unwrap_or(0);
    let row = match thread {
        None => {
            let cfg = engine.project_config_by_id(c.project_id).await?;
            let conv = engine.providers_for(&cfg)?.conversation;
            let target = target.expect("a target when there is no thread");
            let key = format!("case-{case_id}-message");
            let t = conv.post_case(case_id, &target, &key, &message).await?;
            case_thread::Model {
                case_id,
                provider: conv.slug().to_string(),
                channel: t.channel,
                message_ts: t.ts,
                last_event_id: last,
                created_at: now,
                updated_at: now,
            }
        }
        Some(th) => {
            let conv = engine
                .registry()
                .conversation
                .find(&th.provider)
                .cloned()
                .map_err(|e| JobFailure(format!("the case's thread: {e}")))?;
            let at = ThreadRef {
                channel: th.channel.clone(),
                ts: th.message_ts.clone(),
            };
            conv.update_case(&at, &message).await?;
            let new: Vec<&case_event::Model> =
                events.iter().filter(|e| e.id > th.last_event_id).collect();
            let told = reply(&new, facts.incident.as_deref(), &base);
            if let (Some(first), false) = (new.first(), told.text.is_empty()) {
                let key = format!("case-{case_id}-events-{}-{last}", first.id);
                conv.reply_case(&at, &key, &told).await?;
            }
            case_thread::Model {
                last_event_id: last.max(th.last_event_id),
                updated_at: now,
                ..th
            }
        }
    };
    let txn = engine.db().write().await?;
    repo::case_thread::save(&*txn, row).await?;
    finish_in(&txn, job).await?;
    txn.commit().await?;
    Ok(())
}
