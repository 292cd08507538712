//! The weekly report of a project (on by the project's `weekly_report` setting): the incidents
//! reported in the week with their status, priority, commander and cost, and the week's metrics with
//! their change from the week before. It goes to the project's notification targets (each
//! enabled e-mail or conversation rule) once per rule and week; restricted incidents, in the
//! list and in the figures, only to restricted-safe targets.

use super::digest::{periodic_targets, send_to_rule};
use crate::jobs::outcome::JobFailure;
use crate::metrics::{human, Figures};
use crate::{Engine, Result};
use chrono::{DateTime, Duration, Utc};
use dispatch_core::message::{Block, RichMessage};
use dispatch_core::Visibility;
use dispatch_store::model::{notification_rule, project};
use dispatch_store::repo;
use dispatch_store::repo::incident::{IncidentFilter, IncidentRow, Viewer};
use dispatch_store::repo::job::NewJob;
use std::collections::HashMap;

/// A figure and its change from the week before: `3 (+1)`, `40m (−5m)`, `—`.
fn delta(now: Option<f64>, before: Option<f64>, show: fn(f64) -> String) -> String {
    match (now, before) {
        (None, _) => "—".into(),
        (Some(n), None) => format!("{} (no figure the week before)", show(n)),
        (Some(n), Some(b)) => {
            let d = n - b;
            let sign = if d < 0.0 { "−" } else { "+" };
            format!("{} ({sign}{})", show(n), show(d.abs()))
        }
    }
}

fn count(v: f64) -> String {
    format!("{v}")
}

fn duration(v: f64) -> String {
    human(v.round() as i64)
}

/// The lines of the metrics, this week against the week before.
fn metric_lines(week: &Figures, before: &Figures) -> String {
    let n = |f: &Figures| Some(f.count as f64);
    [
        format!("Incidents reported: {}", delta(n(week), n(before), count)),
        format!(
            "Mean time to acknowledge: {}",
            delta(week.mtta_seconds, before.mtta_seconds, duration)
        ),
        format!(
            "Mean time to stable: {}",
            delta(week.mttm_seconds, before.mttm_seconds, duration)
        ),
        format!(
            "Mean time to close: {}",
            delta(week.mttr_seconds, before.mttr_seconds, duration)
        ),
        format!(
            "Open tasks: {}, overdue: {}",
            week.tasks_open, week.tasks_overdue
        ),
        format!(
            "Total cost: {}",
            delta(
                week.total_cost_cents.map(|c| c as f64),
                before.total_cost_cents.map(|c| c as f64),
                |c| money(c.round() as i64)
            )
        ),
    ]
    .join("\n")
}

/// An amount in cents (not negative) for people: `1,234.50`.
pub(crate) fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let units = dispatch_core::size::thousands((cents / 100).unsigned_abs());
    format!("{sign}{units}.{:02}", (cents % 100).abs())
}

fn incident_lines(rows: &[IncidentRow], costs: &HashMap<i64, i64>) -> String {
    rows.iter()
        .map(|r| {
            let cost = costs
                .get(&r.id)
                .map_or_else(|| "not computed yet".into(), |c| money(*c));
            format!(
                "- {}: {} ({}, {} priority, IC {}, cost {cost})",
                r.name, r.title, r.status, r.priority_name, r.commander_email
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The report of `project` for the week ending at `until`, as `rule`'s target may read it; and
/// the incidents it names.
async fn report(
    engine: &Engine,
    project: &project::Model,
    rule: &notification_rule::Model,
    until: DateTime<Utc>,
) -> Result<(RichMessage, Vec<dispatch_core::IncidentId>)> {
    let since = until - Duration::days(7);
    let (visibilities, viewer) = if rule.restricted_safe {
        (vec![], Viewer::Everyone)
    } else {
        (vec![Visibility::Open], Viewer::OpenOnly)
    };
    let week = IncidentFilter {
        projects: vec![project.slug.clone()],
        visibilities,
        viewer,
        reported_from: Some(since),
        reported_to: Some(until),
        page: 1,
        per_page: 100,
        ..Default::default()
    };
    let before = IncidentFilter {
        reported_from: Some(since - Duration::days(7)),
        reported_to: Some(since),
        ..week.clone()
    };
    let (rows, total) = repo::incident::list(engine.db().conn(), &week).await?;
    let this = engine.incidents().metrics(&week, None).await?.totals;
    let previous = engine.incidents().metrics(&before, None).await?.totals;
    let mut blocks = vec![
        Block::Header {
            text: format!(
                "Weekly incident report: {}, {} to {}",
                project.name,
                since.format("%Y-%m-%d"),
                until.format("%Y-%m-%d")
            ),
        },
        Block::Section {
            text: format!("Incidents reported this week ({total})"),
        },
    ];
    if !rows.is_empty() {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let costs = engine.costs().totals(&ids).await?;
        let mut text = incident_lines(&rows, &costs);
        if total.count > rows.len() as u64 {
            text.push_str(&format!("\n… and {} more", total.count - rows.len() as u64));
        }
        blocks.push(Block::Section { text });
    }
    blocks.push(Block::Section {
        text: format!(
            "Metrics (change from the week before)\n{}",
            metric_lines(&this, &previous)
        ),
    });
    let about = rows
        .iter()
        .map(|r| dispatch_core::IncidentId(r.id))
        .collect();
    Ok((RichMessage::new(blocks), about))
}

/// The `weekly_report` periodic job for the week ending at `until`: every project with the
/// setting on, or only `only` (a project's slug, when asked for now, whatever its setting).
pub(crate) async fn run(
    engine: &Engine,
    until: DateTime<Utc>,
    only: Option<&str>,
) -> Result<(), JobFailure> {
    let mut jobs = Vec::new();
    let period = until.timestamp();
    for project in repo::project::list(engine.db().conn()).await? {
        let wanted = match only {
            Some(slug) => project.slug == slug,
            None => project.weekly_report,
        };
        if !wanted {
            continue;
        }
        for rule in periodic_targets(engine, Some(project.id)).await? {
            let (msg, about) = report(engine, &project, &rule, until).await?;
            let subject = format!(
                "Weekly incident report: {} (week to {})",
                project.name,
                until.format("%Y-%m-%d")
            );
            let key = format!("weekly:{}:{period}", rule.id);
            send_to_rule(engine, &rule, &key, subject, &msg, &about, &mut jobs).await?;
        }
    }
    let txn = engine.db().write().await?;
    repo::job::enqueue(&*txn, jobs).await?;
    txn.commit().await?;
    engine.wake_workers();
    Ok(())
}

impl crate::Projects<'_> {
    /// Queues the weekly report of the project `slug` for the week ending now, whether or not
    /// its setting is on (`POST /api/v1/projects/{slug}/weekly-report`).
    pub async fn send_weekly_report(self, slug: &str) -> Result<()> {
        let project = self.get(slug).await?;
        let now = dispatch_core::now();
        let txn = self.db().write().await?;
        repo::job::enqueue(
            &*txn,
            vec![NewJob {
                kind: "weekly_report".into(),
                payload: serde_json::json!({"occurrence": now, "project": project.slug}),
                run_at: now,
                idempotency_key: Some(format!(
                    "weekly-now:{}:{}",
                    project.id,
                    now.timestamp_micros()
                )),
                incident_id: None,
            }],
        )
        .await?;
        txn.commit().await?;
        self.wake_workers();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_with_thousands_and_cents() {
        assert_eq!(money(150_000), "1,500.00");
        assert_eq!(money(36_058), "360.58");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(123_456_789), "1,234,567.89");
        assert_eq!(money(-10_000_000), "-100,000.00");
    }

    #[test]
    fn deltas_say_up_down_or_nothing() {
        assert_eq!(delta(Some(3.0), Some(2.0), count), "3 (+1)");
        assert_eq!(delta(Some(600.0), Some(900.0), duration), "10m (−5m)");
        assert_eq!(delta(None, Some(1.0), duration), "—");
        assert_eq!(
            delta(Some(60.0), None, duration),
            "1m (no figure the week before)"
        );
    }
}
