//! The metrics of a set of incidents (`GET /api/v1/metrics`, the dashboard): counts, mean times
//! to acknowledge, mitigate and resolve, time in each status, tactical reports on time, open and
//! overdue tasks, participants per incident, cost — in all, and per week, type or priority. Each
//! figure's exact definition is in docs/metrics.md; [`compute`] is the one place they are
//! computed, from the dashboard's facts ([`repo::stats`]).

use crate::Result;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use dispatch_store::repo;
use dispatch_store::repo::incident::IncidentFilter;
use dispatch_store::repo::stats::IncidentFact;
use std::collections::{BTreeMap, HashMap};

/// How figures are broken down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// The week an incident was reported (weeks start on Monday, UTC).
    Week,
    /// Incident type.
    Type,
    /// Priority.
    Priority,
}

impl GroupBy {
    /// Every accepted name.
    pub const NAMES: &'static [&'static str] = &["week", "type", "priority"];

    /// Parses `week`, `type` or `priority`.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "week" => Self::Week,
            "type" => Self::Type,
            "priority" => Self::Priority,
            _ => return None,
        })
    }
}

/// What else is known of each incident besides its fact.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    /// Times it was acknowledged: page acknowledgements, commanders taking the role.
    pub acknowledged: Vec<DateTime<Utc>>,
    /// When its tactical reports were posted.
    pub reports: Vec<DateTime<Utc>>,
    /// Its open tasks' due times.
    pub open_tasks: Vec<Option<DateTime<Utc>>>,
    /// How many people take or took part.
    pub people: i64,
    /// Its costs' total in cents, once computed.
    pub cost_cents: Option<i64>,
}

/// Mean seconds in each status, over closed incidents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeInStatus {
    /// From reported to stable (to closed when it never was stable).
    pub active: Option<f64>,
    /// From stable to closed.
    pub stable: Option<f64>,
}

/// The figures of a set of incidents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Incidents.
    pub count: u64,
    /// Of which not closed.
    pub open: u64,
    /// Of which closed.
    pub closed: u64,
    /// Mean seconds from reported to acknowledged.
    pub mtta_seconds: Option<f64>,
    /// Mean seconds from reported to stable.
    pub mttm_seconds: Option<f64>,
    /// Mean seconds from reported to closed.
    pub mttr_seconds: Option<f64>,
    /// Mean time in each status.
    pub time_in_status: TimeInStatus,
    /// Tactical reports due by a cadence.
    pub tactical_reports: u64,
    /// Of which posted within the cadence.
    pub reports_on_time: u64,
    /// Open tasks.
    pub tasks_open: u64,
    /// Of which past their due time.
    pub tasks_overdue: u64,
    /// Mean participants per incident.
    pub participants_per_incident: Option<f64>,
    /// The costs' total, in cents, of the incidents costed so far (`None`: none was).
    pub total_cost_cents: Option<i64>,
    /// The mean cost, in cents, of the incidents costed so far.
    pub avg_cost_cents: Option<f64>,
}

/// The figures of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The week's Monday (`2026-11-30`), the type's or the priority's slug.
    pub key: String,
    /// For people: the week again, or the type's or priority's name.
    pub name: String,
    /// Its figures.
    pub figures: Figures,
}

/// Figures in all and per group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// Over every incident counted.
    pub totals: Figures,
    /// Per group, in key order (empty without a grouping).
    pub groups: Vec<Group>,
}

/// The Monday that starts the week of a time.
pub fn week_of(t: DateTime<Utc>) -> NaiveDate {
    let d = t.date_naive();
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// A duration for people: `2d 3h`, `3h 12m`, `40m`.
pub fn human(seconds: i64) -> String {
    let m = seconds.max(0) / 60;
    let (days, hours, mins) = (m / 1440, (m % 1440) / 60, m % 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {mins}m")
    } else {
        format!("{mins}m")
    }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0u32);
    for v in values {
        sum += v;
        n += 1;
    }
    (n > 0).then(|| sum / f64::from(n))
}

fn seconds(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds().max(0) as f64 / 1000.0
}

/// The figures of these incidents at `now` (for overdue tasks).
pub fn figures(
    facts: &[&IncidentFact],
    activity: &HashMap<i64, Activity>,
    now: DateTime<Utc>,
) -> Figures {
    let none = Activity::default();
    let of = |f: &IncidentFact| activity.get(&f.id).unwrap_or(&none);
    let closed: Vec<&&IncidentFact> = facts.iter().filter(|f| f.status == "closed").collect();
    let mut fig = Figures {
        count: facts.len() as u64,
        closed: closed.len() as u64,
        open: (facts.len() - closed.len()) as u64,
        mtta_seconds: mean(facts.iter().filter_map(|f| {
            of(f)
                .acknowledged
                .iter()
                .min()
                .map(|a| seconds(f.reported_at, *a))
        })),
        mttm_seconds: mean(
            facts
                .iter()
                .filter_map(|f| f.stable_at.map(|t| seconds(f.reported_at, t))),
        ),
        mttr_seconds: mean(
            facts
                .iter()
                .filter_map(|f| f.closed_at.map(|t| seconds(f.reported_at, t))),
        ),
        time_in_status: TimeInStatus {
            active: mean(closed.iter().filter_map(|f| {
                f.stable_at
                    .or(f.closed_at)
                    .map(|t| seconds(f.reported_at, t))
            })),
            stable: mean(
                closed
                    .iter()
                    .filter_map(|f| f.closed_at.map(|c| seconds(f.stable_at.unwrap_or(c), c))),
            ),
        },
        participants_per_incident: (!facts.is_empty())
            .then(|| facts.iter().map(|f| of(f).people as f64).sum::<f64>() / facts.len() as f64),
        avg_cost_cents: mean(
            facts
                .iter()
                .filter_map(|f| of(f).cost_cents.map(|c| c as f64)),
        ),
        total_cost_cents: facts
            .iter()
            .filter_map(|f| of(f).cost_cents)
            .reduce(|a, b| a + b),
        ..Figures::default()
    };
    for f in facts {
        let a = of(f);
        fig.tasks_open += a.open_tasks.len() as u64;
        fig.tasks_overdue += a
            .open_tasks
            .iter()
            .filter(|d| d.is_some_and(|d| d < now))
            .count() as u64;
        let Some(hours) = f.tactical_hours.filter(|h| *h > 0) else {
            continue;
        };
        let mut reports = a.reports.clone();
        reports.sort();
        let mut previous = f.reported_at;
        for r in reports {
            fig.tactical_reports += 1;
            if r - previous <= Duration::hours(i64::from(hours)) {
                fig.reports_on_time += 1;
            }
            previous = r;
        }
    }
    fig
}

/// The figures of these incidents in all and per group.
pub fn compute(
    facts: &[IncidentFact],
    activity: &HashMap<i64, Activity>,
    group_by: Option<GroupBy>,
    now: DateTime<Utc>,
) -> Metrics {
    let all: Vec<&IncidentFact> = facts.iter().collect();
    let mut groups: BTreeMap<String, (String, Vec<&IncidentFact>)> = BTreeMap::new();
    if let Some(by) = group_by {
        for f in facts {
            let (key, name) = match by {
                GroupBy::Week => {
                    let w = week_of(f.reported_at).format("%Y-%m-%d").to_string();
                    (w.clone(), w)
                }
                GroupBy::Type => (f.type_slug.clone(), f.type_name.clone()),
                GroupBy::Priority => (f.priority_slug.clone(), f.priority_name.clone()),
            };
            groups
                .entry(key)
                .or_insert_with(|| (name, vec![]))
                .1
                .push(f);
        }
    }
    Metrics {
        totals: figures(&all, activity, now),
        groups: groups
            .into_iter()
            .map(|(key, (name, facts))| Group {
                key,
                name,
                figures: figures(&facts, activity, now),
            })
            .collect(),
    }
}

impl crate::Incidents<'_> {
    /// The metrics of the incidents matching the filter (its `viewer` decides which restricted
    /// incidents count; types left out of metrics never do), at most
    /// [`crate::stats::MAX_FACTS`] of them, newest first.
    pub async fn metrics(self, f: &IncidentFilter, group_by: Option<GroupBy>) -> Result<Metrics> {
        let facts = repo::stats::facts(self.db.conn(), f, crate::stats::MAX_FACTS).await?;
        let activity = self.activity(f).await?;
        Ok(compute(&facts, &activity, group_by, dispatch_core::now()))
    }

    /// The acknowledgements, tactical reports, open tasks and participants of the incidents
    /// matching the filter, by incident.
    pub(crate) async fn activity(self, f: &IncidentFilter) -> Result<HashMap<i64, Activity>> {
        let conn = self.db.conn();
        let mut activity: HashMap<i64, Activity> = HashMap::new();
        for a in repo::stats::acknowledgements(conn, f).await? {
            activity
                .entry(a.incident_id)
                .or_default()
                .acknowledged
                .push(a.at);
        }
        for r in repo::stats::tactical_reports(conn, f).await? {
            activity
                .entry(r.incident_id)
                .or_default()
                .reports
                .push(r.at);
        }
        for t in repo::stats::open_tasks(conn, f).await? {
            activity
                .entry(t.incident_id)
                .or_default()
                .open_tasks
                .push(t.resolve_by);
        }
        for p in repo::stats::participant_counts(conn, f).await? {
            activity.entry(p.incident_id).or_default().people = p.people;
        }
        for c in repo::stats::costs(conn, f).await? {
            activity.entry(c.incident_id).or_default().cost_cents = Some(c.cents);
        }
        Ok(activity)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn fact(
        id: i64,
        priority: &str,
        reported: i64,
        stable: Option<i64>,
        closed: Option<i64>,
    ) -> IncidentFact {
        IncidentFact {
            id,
            type_slug: "outage".into(),
            type_name: "Outage".into(),
            priority_slug: priority.into(),
            priority_name: priority.to_uppercase(),
            severity_name: "Low".into(),
            tactical_hours: Some(2),
            status: if closed.is_some() {
                "closed"
            } else if stable.is_some() {
                "stable"
            } else {
                "active"
            }
            .into(),
            reported_at: at(reported),
            stable_at: stable.map(at),
            closed_at: closed.map(at),
        }
    }

    #[test]
    fn means_count_only_the_incidents_that_reached_the_point() {
        let facts = vec![
            fact(1, "high", 0, Some(2), Some(4)),
            fact(2, "high", 0, None, Some(6)),
            fact(3, "low", 0, Some(1), None),
        ];
        let mut activity = HashMap::new();
        activity.insert(
            1,
            Activity {
                acknowledged: vec![at(1), at(0) + Duration::minutes(30)],
                reports: vec![at(3), at(1)],
                open_tasks: vec![Some(at(1)), None],
                people: 3,
                cost_cents: Some(1500),
            },
        );
        let m = compute(&facts, &activity, Some(GroupBy::Priority), at(10));
        let t = &m.totals;
        assert_eq!((t.count, t.open, t.closed), (3, 1, 2));
        assert_eq!(t.mtta_seconds, Some(1800.0));
        assert_eq!(t.mttm_seconds, Some(1.5 * 3600.0));
        assert_eq!(t.mttr_seconds, Some(5.0 * 3600.0));
        // Closed ones: 1 was active 2 h and stable 2 h; 2 was active 6 h and never stable.
        assert_eq!(t.time_in_status.active, Some(4.0 * 3600.0));
        assert_eq!(t.time_in_status.stable, Some(3600.0));
        // Reports at 1 h and 3 h against a 2 h cadence: both on time.
        assert_eq!((t.tactical_reports, t.reports_on_time), (2, 2));
        assert_eq!((t.tasks_open, t.tasks_overdue), (2, 1));
        assert_eq!(t.participants_per_incident, Some(1.0));
        assert_eq!(
            (t.total_cost_cents, t.avg_cost_cents),
            (Some(1500), Some(1500.0))
        );
        let keys: Vec<_> = m.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["high", "low"]);
        assert_eq!(m.groups[1].figures.mttr_seconds, None);
    }
}
