//! Response cost: what an incident cost in people's time, by one of two models (the exact
//! formulas are in docs/metrics.md, "Cost"):
//! - *classic*: each role a participant held, for as long as they held it (time past 24 hours
//!   counted at a third), weighted by the role, plus the review's hours;
//! - *activity*: when the incident's type has an enabled cost model, each thing a person did
//!   (a room message, a chat command, a page acknowledgement) stands for the model's response
//!   time for that kind, a person's overlapping response times counted once.
//!
//! Either way, hours × the project's hourly rate (`annual_employee_cost / business_year_hours`)
//! is stored as the incident's default cost type ("Response Cost"), by the `calculate_costs`
//! job: on schedule for every incident not closed, and when an incident closes.

mod catalog;

use crate::jobs::outcome::JobFailure;
use crate::{Engine, Result};
use chrono::{DateTime, Utc};
use dispatch_core::{IncidentStatus, ParticipantRole, ResourceKind, ValidationError};
use dispatch_store::model::{cost_model, incident_cost};
use dispatch_store::repo;
use dispatch_store::repo::job::NewJob;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// The job kind (a periodic job, also queued for one incident when it closes).
pub const JOB: &str = "calculate_costs";

/// The kinds of activity a cost model can price: (name, what it counts).
pub const ACTIVITY_KINDS: &[(&str, &str)] = &[
    (
        "room_message",
        "a message a person posted in the incident's room",
    ),
    (
        "command",
        "a command a person gave from a chat (room, Slack, Teams, Matrix), as recorded on the timeline",
    ),
    (
        "page_acknowledgement",
        "a page a person acknowledged",
    ),
];

/// A cost model's response time per activity kind, in seconds (kinds left out count nothing).
pub type Activities = BTreeMap<String, i64>;

/// Reads a cost model's stored activities.
pub fn activities_of(model: &cost_model::Model) -> Activities {
    serde_json::from_str(&model.activities).unwrap_or_default()
}

/// Parses activities given as `{kind: seconds}`; every bad entry is a field error named
/// `activities.<kind>`.
pub fn parse_activities(v: &serde_json::Value, e: &mut ValidationError) -> Activities {
    let mut out = Activities::new();
    let Some(map) = v.as_object() else {
        e.push(
            "activities",
            "must be an object of activity kind: response time in seconds",
        );
        return out;
    };
    for (kind, secs) in map {
        let field = format!("activities.{kind}");
        if !ACTIVITY_KINDS.iter().any(|(k, _)| k == kind) {
            let known: Vec<_> = ACTIVITY_KINDS.iter().map(|(k, _)| *k).collect();
            e.push(
                field,
                format!("unknown activity kind; known: {}", known.join(", ")),
            );
            continue;
        }
        match secs.as_i64() {
            Some(s) if (1..=86_400).contains(&s) => {
                out.insert(kind.clone(), s);
            }
            _ => e.push(field, "must be a whole number of seconds, 1-86400"),
        }
    }
    out
}

/// How much an hour in a role counts: commander 1; scribe and liaison 0.75; participant and
/// reporter 0.5; observer 0.
pub fn role_weight(role: ParticipantRole) -> f64 {
    match role {
        ParticipantRole::IncidentCommander => 1.0,
        ParticipantRole::Scribe | ParticipantRole::Liaison => 0.75,
        ParticipantRole::Participant | ParticipantRole::Reporter => 0.5,
        ParticipantRole::Observer => 0.0,
    }
}

/// Hours in a role as counted: the first 24 in full, the rest at a third (people sleep).
pub fn counted_hours(hours: f64) -> f64 {
    if hours > 24.0 {
        24.0 + (hours - 24.0) / 3.0
    } else {
        hours.max(0.0)
    }
}

/// One role held for a span of time.
#[derive(Debug, Clone)]
pub struct RoleSpan {
    /// Who held it.
    pub email: String,
    /// Which role.
    pub role: ParticipantRole,
    /// From when.
    pub from: DateTime<Utc>,
    /// Until when (already cut at the incident's close, or now).
    pub to: DateTime<Utc>,
}

/// What the classic model counts.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicHours {
    /// The roles' hours, counted and weighted.
    pub roles: f64,
    /// The review's: 1 hour of preparation plus half an hour per participant, when the
    /// incident has a review document; 0 otherwise.
    pub review: f64,
}

/// The classic model's hours.
pub fn classic(spans: &[RoleSpan], participants: usize, review: bool) -> ClassicHours {
    let roles = spans
        .iter()
        .map(|s| {
            let hours = (s.to - s.from).num_milliseconds().max(0) as f64 / 3_600_000.0;
            counted_hours(hours) * role_weight(s.role)
        })
        .sum();
    ClassicHours {
        roles,
        review: if review {
            1.0 + 0.5 * participants as f64
        } else {
            0.0
        },
    }
}

/// One priced activity: who, when, and its response time in seconds.
#[derive(Debug, Clone)]
pub struct Priced {
    /// Who did it.
    pub who: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The model's response time for its kind.
    pub seconds: i64,
}

/// A span of time: from, to.
type Span = (DateTime<Utc>, DateTime<Utc>);

/// The response seconds of each person: the union of their activities' spans `[at, at +
/// response time]`, so overlapping activities are not counted twice.
pub fn activity_seconds(activities: &[Priced]) -> BTreeMap<String, i64> {
    let mut by_person: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    for a in activities.iter().filter(|a| a.seconds > 0) {
        by_person
            .entry(a.who.to_lowercase())
            .or_default()
            .push((a.at, a.at + chrono::Duration::seconds(a.seconds)));
    }
    by_person
        .into_iter()
        .map(|(who, mut spans)| {
            spans.sort();
            let mut total = chrono::Duration::zero();
            let mut current: Option<Span> = None;
            for (from, to) in spans {
                current = match current {
                    Some((f, t)) if from <= t => Some((f, t.max(to))),
                    Some((f, t)) => {
                        total += t - f;
                        Some((from, to))
                    }
                    None => Some((from, to)),
                };
            }
            if let Some((f, t)) = current {
                total += t - f;
            }
            (who, total.num_seconds())
        })
        .collect()
}

/// Hours at the project's rate, in cents (rounded to the nearest cent).
pub fn cents(hours: f64, annual_employee_cost: i64, business_year_hours: i64) -> i64 {
    let rate = annual_employee_cost as f64 / business_year_hours.max(1) as f64;
    (hours * rate * 100.0).round() as i64
}

/// The job that computes one incident's costs now (queued when it closes).
pub(crate) fn job_for(incident_id: i64, at: DateTime<Utc>) -> NewJob {
    NewJob {
        kind: JOB.into(),
        payload: json!({"occurrence": at, "incident": incident_id}),
        run_at: at,
        idempotency_key: Some(format!("cost:{incident_id}:{}", at.timestamp_micros())),
        incident_id: Some(incident_id),
    }
}

/// The `calculate_costs` job: the incident its payload names, else every incident whose cost
/// is due (not closed, closed in the last seven days, or closed since it was last computed).
pub(crate) async fn run(
    engine: &Engine,
    job: &dispatch_store::model::job::Model,
) -> Result<(), JobFailure> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
    let ids = match payload["incident"].as_i64() {
        Some(id) => vec![id],
        None => {
            let recent = dispatch_core::now() - chrono::Duration::days(7);
            repo::cost::due(engine.db().conn(), recent).await?
        }
    };
    for id in ids {
        engine.costs().compute(id).await?;
    }
    let txn = engine.db().write().await?;
    crate::jobs::outcome::finish_in(&txn, job).await?;
    txn.commit().await?;
    Ok(())
}

impl crate::Costs<'_> {
    /// Computes and stores the response cost of the incident `incident_id`, by its type's
    /// cost model when it has an enabled one, else by the classic model.
    pub async fn compute(self, incident_id: i64) -> Result<incident_cost::Model> {
        let conn = self.db().conn();
        let incident = repo::incident::get(
            conn,
            &dispatch_core::values::IncidentRef::Id(dispatch_core::IncidentId(incident_id)),
        )
        .await?;
        let project = repo::project::get(conn, incident.project_id).await?;
        let itype = repo::taxonomy::types::get(conn, incident.type_id).await?;
        let model = match itype.cost_model_id {
            Some(id) => Some(repo::cost::model(conn, id).await?).filter(|m| m.enabled),
            None => None,
        };
        let now = dispatch_core::now();
        let closed = incident.status == IncidentStatus::Closed.as_str();
        let end = incident.closed_at.filter(|_| closed).unwrap_or(now);
        let (hours, details) = match &model {
            Some(m) => {
                let prices = activities_of(m);
                let mut priced = Vec::new();
                for (kind, list) in [
                    (
                        "room_message",
                        repo::cost::room_messages(conn, incident_id).await?,
                    ),
                    (
                        "command",
                        repo::cost::chat_commands(conn, incident_id).await?,
                    ),
                    (
                        "page_acknowledgement",
                        repo::cost::page_acknowledgements(conn, incident_id).await?,
                    ),
                ] {
                    let Some(seconds) = prices.get(kind).copied() else {
                        continue;
                    };
                    priced.extend(list.into_iter().filter(|a| a.at <= end).map(|a| Priced {
                        who: a.who,
                        at: a.at,
                        seconds,
                    }));
                }
                let people = activity_seconds(&priced);
                let seconds: i64 = people.values().sum();
                let hours = seconds as f64 / 3600.0;
                (
                    hours,
                    json!({"cost_model": m.name, "hours": hours, "people": people}),
                )
            }
            None => {
                let people = repo::participant::list(conn, incident_id).await?;
                let mut spans = Vec::new();
                for p in &people {
                    for r in &p.roles {
                        let Ok(role) = r.role.parse::<ParticipantRole>() else {
                            continue;
                        };
                        let to = r.renounced_at.unwrap_or(end).min(end);
                        spans.push(RoleSpan {
                            email: p.individual.email.clone(),
                            role,
                            from: r.assumed_at,
                            to,
                        });
                    }
                }
                let review = repo::resource::find(conn, incident_id, ResourceKind::ReviewDocument)
                    .await?
                    .is_some();
                let h = classic(&spans, people.len(), review);
                let roles: Vec<_> = spans
                    .iter()
                    .map(|s| {
                        json!({"email": s.email, "role": s.role.as_str(),
                            "hours": (s.to - s.from).num_seconds().max(0) as f64 / 3600.0})
                    })
                    .collect();
                (
                    h.roles + h.review,
                    json!({"hours": h.roles + h.review, "role_hours": h.roles,
                        "review_hours": h.review, "roles": roles}),
                )
            }
        };
        let mut details = details;
        details["hourly_rate"] =
            json!(project.annual_employee_cost as f64 / project.business_year_hours.max(1) as f64);
        let txn = self.db().write().await?;
        let cost_type = repo::cost::default_type(&*txn, project.id, now).await?;
        let row = incident_cost::Model {
            incident_id,
            cost_type_id: cost_type.id,
            amount_cents: cents(
                hours,
                project.annual_employee_cost,
                project.business_year_hours,
            ),
            model: if model.is_some() {
                "activity"
            } else {
                "classic"
            }
            .into(),
            details: details.to_string(),
            computed_at: now,
            ..Default::default()
        };
        repo::cost::save(&*txn, row.clone()).await?;
        txn.commit().await?;
        Ok(row)
    }

    /// The costs of an incident with their types, the default type's first.
    pub async fn of_incident(self, incident_id: i64) -> Result<Vec<repo::cost::CostView>> {
        Ok(repo::cost::of_incident(self.db().conn(), incident_id).await?)
    }

    /// The total cost in cents of each of these incidents that has any.
    pub async fn totals(self, incident_ids: &[i64]) -> Result<HashMap<i64, i64>> {
        Ok(repo::cost::totals(self.db().conn(), incident_ids).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn t(minutes: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn time_past_a_day_counts_a_third_and_roles_are_weighted() {
        assert_eq!(counted_hours(30.0), 26.0);
        assert_eq!(counted_hours(2.0), 2.0);
        let spans = [
            RoleSpan {
                email: "ic@x".into(),
                role: ParticipantRole::IncidentCommander,
                from: t(0),
                to: t(120),
            },
            RoleSpan {
                email: "p@x".into(),
                role: ParticipantRole::Participant,
                from: t(0),
                to: t(30 * 60),
            },
            RoleSpan {
                email: "o@x".into(),
                role: ParticipantRole::Observer,
                from: t(0),
                to: t(600),
            },
        ];
        // 2 h × 1 + (24 + 6 / 3) h × 0.5 + 10 h × 0 = 15 h; review 1 + 3 × 0.5 h.
        assert_eq!(
            classic(&spans, 3, true),
            ClassicHours {
                roles: 15.0,
                review: 2.5
            }
        );
        assert_eq!(classic(&spans, 3, false).review, 0.0);
        assert_eq!(cents(15.0, 50_000, 2080), 36_058);
    }

    #[test]
    fn a_persons_overlapping_activities_count_once() {
        let p = |who: &str, at, seconds| Priced {
            who: who.into(),
            at: t(at),
            seconds,
        };
        let got = activity_seconds(&[
            p("A@x", 0, 600),
            p("a@x", 5, 600),
            p("a@x", 60, 120),
            p("b@x", 1, 600),
        ]);
        // a: [0, 15 min] and [60, 62 min]; b: [1, 11 min].
        assert_eq!(got["a@x"], 17 * 60);
        assert_eq!(got["b@x"], 600);
    }
}
