//! Reminders, run by the scheduler: overdue tasks (one digest per assignee per day), tactical and
//! executive reports at the priority's cadence (put off with "remind me in N hours"), and a weekly
//! nudge to close incidents stable for a week or more. Each reminder has an idempotency key for
//! its period, recorded in the transaction that queues its mail and room message, so however
//! often the scheduler fires a reminder goes out once per period. Types marked
//! `exclude_from_reminders` get none.

use crate::changes::Events;
use crate::jobs::outcome::JobFailure;
use crate::record::save_with_events;
use crate::{flows, Actor, Engine, Result};
use chrono::{DateTime, Datelike, Duration, Utc};
use dispatch_core::event::TimelineEvent;
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, ReportKind};
use dispatch_store::model::{incident, job};
use dispatch_store::repo;
use dispatch_store::repo::reminder::NewReminder;
use dispatch_store::WriteTxn;
use std::collections::BTreeMap;

/// The periodic jobs of this module: (name, what it does).
pub const PERIODIC: &[(&str, &str)] = &[
    (
        "task_reminders",
        "mail each assignee of overdue tasks one digest a day",
    ),
    (
        "report_reminders",
        "remind commanders of tactical and executive reports at the priority's cadence",
    ),
    (
        "close_reminders",
        "remind commanders weekly of incidents stable for seven days or more",
    ),
];

/// The due times of report reminders: the first `cadence` after the last report (or the
/// declaration), then every `cadence`; a snooze later than the last report moves the first one
/// to the snooze's end. Returns the latest due time at or before `at`.
pub fn report_due(
    last: DateTime<Utc>,
    cadence: Duration,
    snoozed_until: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    if cadence <= Duration::zero() {
        return None;
    }
    let first = match snoozed_until {
        Some(s) if s > last => s,
        _ => last + cadence,
    };
    if at < first {
        return None;
    }
    let periods = (at - first).num_seconds() / cadence.num_seconds();
    Some(first + cadence * periods as i32)
}

/// Runs one reminder job for the scheduler's occurrence `at`, finishing the job in the
/// transaction that records what it sent.
pub(crate) async fn run(
    engine: &Engine,
    job: &job::Model,
    at: DateTime<Utc>,
) -> Result<(), JobFailure> {
    let txn = engine.db().write().await?;
    let sent = match job.kind.as_str() {
        "task_reminders" => tasks(engine, &txn, at).await?,
        "report_reminders" => reports(engine, &txn, at).await?,
        "close_reminders" => close(engine, &txn, at).await?,
        other => return Err(JobFailure(format!("unknown reminder {other}"))),
    };
    crate::jobs::outcome::finish_in(&txn, job).await?;
    txn.commit().await?;
    engine.wake_workers();
    tracing::info!(job.kind = %job.kind, sent, "reminders sent");
    Ok(())
}

/// Incidents in `status` whose type takes reminders.
async fn remindable(txn: &WriteTxn, status: &str) -> Result<Vec<incident::Model>> {
    let rows = repo::incident::rows_in_status(&**txn, status).await?;
    let mut out = Vec::new();
    for i in rows {
        if !repo::taxonomy::types::get(&**txn, i.type_id)
            .await?
            .exclude_from_reminders
        {
            out.push(i);
        }
    }
    Ok(out)
}

/// Mail and room message for one incident's reminder, with its timeline event.
async fn remind_incident(
    engine: &Engine,
    txn: &WriteTxn,
    inc: &incident::Model,
    key: &str,
    what: &str,
    message: RichMessage,
    at: DateTime<Utc>,
) -> Result<bool> {
    let ic = repo::individual::get(&**txn, inc.commander_id).await?;
    let claim = NewReminder {
        key,
        kind: what,
        incident_id: Some(inc.id),
        recipient: &ic.email,
    };
    if !repo::reminder::claim(&**txn, claim, at).await? {
        return Ok(false);
    }
    let now = dispatch_core::now();
    let mut events = Events::system(now);
    events.push_event(TimelineEvent::ReminderSent {
        kind: what.to_string(),
        to: ic.email.clone(),
        key: key.to_string(),
        headline: message.text.lines().next().unwrap_or(what).to_string(),
    });
    let subject = format!(
        "[{}] {}",
        inc.name,
        message
            .text
            .lines()
            .next()
            .unwrap_or(what)
            .trim_matches('*')
    );
    let mut blocks = message.blocks.clone();
    blocks.push(Block::Links {
        links: vec![(
            "Open the incident".into(),
            dispatch_core::links::incident(&engine.base_url(), &inc.name),
        )],
    });
    let mail =
        dispatch_core::email::render(vec![ic.email.clone()], subject, &RichMessage::new(blocks));
    events.job(flows::email_job(
        &format!("reminder:{key}"),
        Some(dispatch_core::IncidentId(inc.id)),
        &mail,
        now,
    ));
    events.job(flows::announce_message(
        dispatch_core::IncidentId(inc.id),
        &format!("reminder:{key}"),
        &message,
        now,
    ));
    let current = repo::incident::lock(&**txn, &IncidentRef::Id(IncidentId(inc.id))).await?;
    save_with_events(&**txn, &current, current.clone(), events).await?;
    Ok(true)
}

async fn reports(engine: &Engine, txn: &WriteTxn, at: DateTime<Utc>) -> Result<usize> {
    let list = remindable(txn, "active").await?;
    let ids: Vec<i64> = list.iter().map(|i| i.id).collect();
    let snoozes = repo::reminder::snoozes(&**txn, &ids).await?;
    let mut sent = 0;
    for kind in ReportKind::ALL {
        let last = repo::report::last_times(&**txn, &ids, kind.as_str()).await?;
        for inc in &list {
            let p = repo::taxonomy::priorities::get(&**txn, inc.priority_id).await?;
            let hours = match kind {
                ReportKind::Tactical => p.tactical_report_reminder_hours,
                ReportKind::Executive => p.executive_report_reminder_hours,
            };
            let Some(hours) = hours.filter(|h| *h > 0) else {
                continue;
            };
            let since = last.get(&inc.id).copied().unwrap_or(inc.reported_at);
            let snoozed = snoozes
                .iter()
                .find(|s| s.incident_id == inc.id && s.kind == kind.as_str())
                .map(|s| s.snoozed_until);
            let Some(due) = report_due(since, Duration::hours(hours.into()), snoozed, at) else {
                continue;
            };
            let key = format!("{kind}_report:{}:{}", inc.id, due.timestamp());
            let message = RichMessage::new(vec![
                Block::Header { text: format!("{kind} report due for {}", inc.name) },
                Block::Section {
                    text: format!(
                        "{}: {} has had no {kind} report for {hours} hour(s) (the {} priority's cadence). Post one with /dispatch-report-{kind}, or put this off with /dispatch-remind-me {kind} in 2 hours.",
                        inc.name, inc.title, p.name
                    ),
                },
                Block::Buttons {
                    buttons: vec![(
                        "Remind me in 2 hours".into(),
                        format!("/dispatch-remind-me {kind} in 2 hours"),
                    )],
                },
            ]);
            if remind_incident(
                engine,
                txn,
                inc,
                &key,
                &format!("{kind}_report"),
                message,
                at,
            )
            .await?
            {
                sent += 1;
            }
        }
    }
    Ok(sent)
}

async fn close(engine: &Engine, txn: &WriteTxn, at: DateTime<Utc>) -> Result<usize> {
    let week = at.iso_week();
    let mut sent = 0;
    for inc in remindable(txn, "stable").await? {
        let Some(stable_at) = inc.stable_at.filter(|s| *s <= at - Duration::days(7)) else {
            continue;
        };
        let key = format!("close:{}:{}-W{:02}", inc.id, week.year(), week.week());
        let days = (at - stable_at).num_days();
        let message = RichMessage::new(vec![
            Block::Header { text: format!("{} has been stable for {days} days", inc.name) },
            Block::Section {
                text: format!(
                    "{}: {} is stable since {}. If the review is done, close it with /dispatch-mark-closed.",
                    inc.name,
                    inc.title,
                    stable_at.format("%Y-%m-%d")
                ),
            },
        ]);
        if remind_incident(engine, txn, &inc, &key, "close", message, at).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

async fn tasks(engine: &Engine, txn: &WriteTxn, at: DateTime<Utc>) -> Result<usize> {
    let filter = repo::task::TaskFilter {
        due_before: Some(at),
        limit: 10_000,
        ..Default::default()
    };
    let overdue = repo::task::find(&**txn, &filter).await?;
    let assignees =
        repo::task::assignees(&**txn, &overdue.iter().map(|t| t.id).collect::<Vec<_>>()).await?;
    // Assignee → (incident key, task) lines, for incidents still open whose type takes reminders.
    let mut by_person: BTreeMap<i64, Vec<(String, String)>> = BTreeMap::new();
    let mut incidents: BTreeMap<i64, Option<incident::Model>> = BTreeMap::new();
    for t in &overdue {
        if let std::collections::btree_map::Entry::Vacant(slot) = incidents.entry(t.incident_id) {
            let inc =
                repo::incident::row(&**txn, &IncidentRef::Id(IncidentId(t.incident_id))).await?;
            let takes = inc.status != "closed"
                && !repo::taxonomy::types::get(&**txn, inc.type_id)
                    .await?
                    .exclude_from_reminders;
            slot.insert(takes.then_some(inc));
        }
        let Some(inc) = &incidents[&t.incident_id] else {
            continue;
        };
        let due = t
            .resolve_by
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default();
        for person in assignees.get(&t.id).into_iter().flatten() {
            by_person.entry(*person).or_default().push((
                format!("{} #{}: {}", inc.name, t.id, t.description),
                format!("due {due}"),
            ));
        }
    }
    let day = at.format("%Y-%m-%d");
    let now = dispatch_core::now();
    let mut sent = 0;
    for (person, lines) in by_person {
        let who = repo::individual::get(&**txn, person).await?;
        let key = format!("tasks:{}:{day}", who.email);
        let claim = NewReminder {
            key: &key,
            kind: "tasks",
            incident_id: None,
            recipient: &who.email,
        };
        if !repo::reminder::claim(&**txn, claim, at).await? {
            continue;
        }
        let n = lines.len();
        let message = RichMessage::new(vec![
            Block::Header { text: format!("You have {n} overdue task(s)") },
            Block::Fields { fields: lines },
            Block::Context {
                text: format!(
                    "Resolve them in the incident with /dispatch-resolve-task N, or see them all at {}",
                    dispatch_core::links::my_tasks(&engine.base_url())
                ),
            },
        ]);
        let mail = dispatch_core::email::render(
            vec![who.email.clone()],
            format!("Dispatch: {n} overdue task(s)"),
            &message,
        );
        repo::job::enqueue(
            &**txn,
            vec![flows::email_job(
                &format!("reminder:{key}"),
                None,
                &mail,
                now,
            )],
        )
        .await?;
        sent += 1;
    }
    Ok(sent)
}

impl crate::Reports<'_> {
    /// "Remind me in N hours": no `kind` report reminder for the incident before then.
    pub async fn snooze_reminder(
        self,
        actor: &Actor,
        r: &IncidentRef,
        kind: ReportKind,
        hours: u32,
    ) -> Result<DateTime<Utc>> {
        let txn = self.db().write().await?;
        let current = repo::incident::lock(&*txn, r).await?;
        let now = dispatch_core::now();
        let until = now + Duration::hours(hours.into());
        repo::reminder::snooze(&*txn, current.id, kind.as_str(), until, &actor.email).await?;
        let mut events = Events::new(actor, now);
        events.push_event(TimelineEvent::ReminderSnoozed {
            kind,
            until,
            hours: hours.into(),
        });
        save_with_events(&*txn, &current, current.clone(), events).await?;
        txn.commit().await?;
        Ok(until)
    }
}

#[cfg(test)]
mod tests {
    use super::report_due;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn report_reminders_fall_due_each_cadence_and_a_snooze_moves_the_next_one() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap();
        let h = Duration::hours;
        assert_eq!(report_due(t0, h(2), None, t0 + h(1)), None);
        assert_eq!(report_due(t0, h(2), None, t0 + h(2)), Some(t0 + h(2)));
        assert_eq!(report_due(t0, h(2), None, t0 + h(5)), Some(t0 + h(4)));
        assert_eq!(
            report_due(t0, h(2), Some(t0 + h(3)), t0 + h(2)),
            None,
            "snoozed"
        );
        assert_eq!(
            report_due(t0, h(2), Some(t0 + h(3)), t0 + h(4)),
            Some(t0 + h(3))
        );
        assert_eq!(
            report_due(t0, h(2), Some(t0 - h(1)), t0 + h(2)),
            Some(t0 + h(2)),
            "an old snooze is ignored"
        );
    }
}
