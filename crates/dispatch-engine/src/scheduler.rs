//! The scheduler: periodic work from cron expressions in the configuration. It fires on one
//! replica at a time (a PostgreSQL advisory lock), remembers the last occurrence it fired, and
//! after downtime fires once for the missed periods — never twice for one occurrence (the job's
//! idempotency key is the schedule and the occurrence).

use crate::{Engine, Error, Result};
use chrono::{DateTime, Utc};
use croner::Cron;
use dispatch_store::repo;
use dispatch_store::repo::job::NewJob;
use std::time::Duration;
use tokio::sync::watch;

/// The periodic jobs the scheduler can run: (name, what it does).
pub const PERIODIC: &[(&str, &str)] = &[
    (
        "cleanup_jobs",
        "delete succeeded jobs older than seven days",
    ),
    crate::reminders::PERIODIC[0],
    crate::reminders::PERIODIC[1],
    crate::reminders::PERIODIC[2],
    (
        "daily_digest",
        "send each notification rule's digest: active incidents, and those that became stable or closed in the last day",
    ),
    (
        "weekly_report",
        "send the weekly report of each project that has it on to the project's notification rules' targets",
    ),
    (
        crate::cost::JOB,
        "compute the response cost of every incident not closed (and of those closed since it was last computed)",
    ),
];

/// One configured schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The periodic job's name (one of [`PERIODIC`]).
    pub name: String,
    cron: Cron,
}

impl Schedule {
    /// Parses `name = "cron expression"` from the configuration; a blank expression turns the
    /// schedule off (`None`). Five fields (minute precision) or six (with seconds).
    pub fn parse(name: &str, expr: &str) -> Result<Option<Self>, String> {
        if !PERIODIC.iter().any(|(n, _)| *n == name) {
            let known: Vec<_> = PERIODIC.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "unknown schedule {name:?}; known: {}",
                known.join(", ")
            ));
        }
        if expr.trim().is_empty() {
            return Ok(None);
        }
        let cron = Cron::new(expr.trim())
            .with_seconds_optional()
            .parse()
            .map_err(|e| format!("schedule {name}: {expr:?} is not a cron expression: {e}"))?;
        Ok(Some(Self {
            name: name.to_string(),
            cron,
        }))
    }

    fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&t, false).ok()
    }

    /// The latest occurrence after `last` and at or before `now`, if any.
    fn latest_due(&self, last: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut due = None;
        let mut t = last;
        for _ in 0..100_000 {
            match self.next_after(t) {
                Some(n) if n <= now => {
                    due = Some(n);
                    t = n;
                }
                _ => break,
            }
        }
        due
    }
}

/// Fires due schedules.
pub struct Scheduler {
    engine: Engine,
    schedules: Vec<Schedule>,
}

impl Scheduler {
    /// A scheduler for these schedules.
    pub fn new(engine: Engine, schedules: Vec<Schedule>) -> Self {
        Self { engine, schedules }
    }

    /// Fires every schedule with an occurrence due at `now`, if this replica leads; returns how
    /// many fired. A schedule seen for the first time starts counting from `now`.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<usize> {
        Ok(self.tick_once(now).await?.unwrap_or(0))
    }

    /// [`Scheduler::tick`]; `None` when another replica leads (it is ticking now).
    async fn tick_once(&self, now: DateTime<Utc>) -> Result<Option<usize>> {
        if self.schedules.is_empty() {
            return Ok(Some(0));
        }
        let txn = self.engine.db().write().await?;
        if !repo::schedule::try_lead(&*txn).await? {
            return Ok(None);
        }
        let mut fired = 0;
        for s in &self.schedules {
            let Some(last) = repo::schedule::last_fire(&*txn, &s.name).await? else {
                repo::schedule::set_last_fire(&*txn, &s.name, now).await?;
                continue;
            };
            let Some(due) = s.latest_due(last, now) else {
                continue;
            };
            repo::job::enqueue(
                &*txn,
                vec![NewJob {
                    kind: s.name.clone(),
                    payload: serde_json::json!({"occurrence": due}),
                    run_at: dispatch_core::now(),
                    idempotency_key: Some(format!("schedule:{}:{}", s.name, due.timestamp())),
                    incident_id: None,
                }],
            )
            .await?;
            repo::schedule::set_last_fire(&*txn, &s.name, due).await?;
            fired += 1;
        }
        txn.commit().await?;
        if fired > 0 {
            self.engine.wake_workers();
        }
        Ok(Some(fired))
    }

    /// One tick of the loop; false when it must be tried again soon: it failed, or another
    /// replica was ticking (which may die before it commits).
    async fn tick_settled(&self, now: DateTime<Utc>) -> bool {
        match self.tick_once(now).await {
            Ok(fired) => fired.is_some(),
            Err(e) => {
                tracing::error!(error = %e, "scheduler tick failed");
                false
            }
        }
    }

    /// Ticks until `shutdown` turns true: once at start (a schedule seen for the first time
    /// starts counting, missed periods fire once), then only when an occurrence is due, sleeping
    /// until it (at most [`MAX_SLEEP`], so a clock step is noticed) — an idle replica runs no
    /// statement between occurrences.
    pub async fn run_until(&self, mut shutdown: watch::Receiver<bool>) {
        if self.schedules.is_empty() {
            return;
        }
        let mut ticked = dispatch_core::now();
        // After a failed tick (or one another replica led), the due occurrence is looked at
        // again a second later.
        let mut failed = !self.tick_settled(ticked).await;
        loop {
            let next = self
                .schedules
                .iter()
                .filter_map(|s| s.next_after(ticked))
                .min();
            let wait = next
                .and_then(|n| (n - dispatch_core::now()).to_std().ok())
                .unwrap_or(Duration::ZERO)
                .clamp(
                    Duration::from_millis(if failed { 1000 } else { 50 }),
                    MAX_SLEEP,
                );
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => break,
            }
            let now = dispatch_core::now();
            if next.is_some_and(|n| n <= now) {
                failed = !self.tick_settled(now).await;
                if !failed {
                    ticked = now;
                }
            }
        }
    }
}

/// The longest the scheduler sleeps before looking at the clock again.
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Runs a periodic job for its occurrence `at` (the scheduler's clock), finishing the job in the
/// transaction of its work.
pub(crate) async fn run(
    engine: &Engine,
    job: &dispatch_store::model::job::Model,
    at: DateTime<Utc>,
) -> Result<(), crate::jobs::outcome::JobFailure> {
    match job.kind.as_str() {
        "cleanup_jobs" => {
            let before = dispatch_core::now() - chrono::Duration::days(7);
            let txn = engine.db().write().await?;
            let n = repo::job::delete_succeeded_before(&*txn, before).await?;
            crate::jobs::outcome::finish_in(&txn, job).await?;
            txn.commit().await?;
            tracing::info!(deleted = n, "old succeeded jobs deleted");
            Ok(())
        }
        k if crate::reminders::PERIODIC.iter().any(|(n, _)| *n == k) => {
            crate::reminders::run(engine, job, at).await
        }
        "daily_digest" => {
            crate::rules::digest::run(engine, at).await?;
            let txn = engine.db().write().await?;
            crate::jobs::outcome::finish_in(&txn, job).await?;
            txn.commit().await?;
            Ok(())
        }
        crate::cost::JOB => crate::cost::run(engine, job).await,
        "weekly_report" => {
            // Asked for now (`POST /projects/{slug}/weekly-report`): that project only.
            let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
            let only = payload["project"].as_str();
            crate::rules::weekly::run(engine, at, only).await?;
            let txn = engine.db().write().await?;
            crate::jobs::outcome::finish_in(&txn, job).await?;
            txn.commit().await?;
            Ok(())
        }
        other => Err(Error::NotFound(format!("periodic job {other}")).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn missed_occurrences_collapse_into_the_latest_one() {
        let s = Schedule::parse("cleanup_jobs", "0 * * * *")
            .unwrap()
            .unwrap();
        let last = Utc.with_ymd_and_hms(2026, 11, 25, 10, 0, 0).unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 13, 30, 0).unwrap();
        assert_eq!(
            s.latest_due(last, now),
            Some(Utc.with_ymd_and_hms(2026, 11, 25, 13, 0, 0).unwrap())
        );
        assert_eq!(s.latest_due(now, now), None);
    }

    #[test]
    fn blank_is_off_and_bad_input_is_named() {
        assert!(Schedule::parse("cleanup_jobs", " ").unwrap().is_none());
        assert!(Schedule::parse("cleanup_jobs", "every hour")
            .unwrap_err()
            .contains("cleanup_jobs"));
        assert!(Schedule::parse("make_coffee", "* * * * *")
            .unwrap_err()
            .contains("known: cleanup_jobs, task_reminders"));
    }
}
