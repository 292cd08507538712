//! Importing incidents: the incident rows (numbered in their Dispatch project), their
//! participants and the roles they held (the commander's included), and their timeline, hashed
//! onto each incident's chain. What happened in them (tasks, reports, feedback, links) is in
//! [`super::activity`].

use super::setup::project_of;
use super::{Ctx, Outcome};
use crate::model::{incident, participant, participant_role, project};
use crate::repo::event::{self, ChainHead, NewEvent};
use crate::repo::{self, rows, taxonomy};
use dispatch_core::{EventSource, Transport};
use std::collections::HashMap;

/// Source participant id → (source incident, source individual).
pub(crate) type Participants = HashMap<i64, (i64, i64)>;

/// Imports the incidents, then their participants, roles and timelines, then their activity.
pub(crate) async fn run(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let mut people: Participants = HashMap::new();
    for r in ctx
        .src
        .rows("SELECT id, incident_id, individual_contact_id FROM {s}.participant WHERE incident_id IS NOT NULL ORDER BY id")
        .await?
    {
        people.insert(
            r.int("id")?.unwrap_or_default(),
            (
                r.int("incident_id")?.unwrap_or_default(),
                r.int("individual_contact_id")?.unwrap_or_default(),
            ),
        );
    }
    incidents(ctx, &people).await?;
    participants(ctx, &people).await?;
    roles(ctx).await?;
    events(ctx).await?;
    super::activity::run(ctx, &people).await?;
    Ok(())
}

/// The Dispatch individual a source participant is.
pub(crate) fn person(
    ctx: &Ctx<'_>,
    people: &Participants,
    participant: Option<i64>,
) -> Option<i64> {
    participant
        .and_then(|p| people.get(&p))
        .and_then(|(_, i)| ctx.target("individual", *i))
}

/// The original's status and visibility words (`Active`, `Restricted`) as Dispatch's.
fn lower_or(v: Option<String>, allowed: &[&str], default: &str) -> String {
    v.map(|s| s.to_lowercase())
        .filter(|s| allowed.contains(&s.as_str()))
        .unwrap_or_else(|| default.to_string())
}

async fn incidents(ctx: &mut Ctx<'_>, people: &Participants) -> anyhow::Result<()> {
    let rows = ctx.src.rows("SELECT id, name, title, description, resolution, status, visibility, incident_type_id, incident_priority_id, incident_severity_id, commander_id, reporter_id, project_id, reported_at, stable_at, closed_at, created_at, updated_at FROM {s}.incident ORDER BY id").await?;
    ctx.begin("incident", rows.len() as i64).await?;
    let conn = ctx.conn();
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let key = r.text("name")?;
        let project_id = project_of(ctx, r.int("project_id")?)?;
        let commander = person(ctx, people, r.int("commander_id")?);
        let reporter = person(ctx, people, r.int("reporter_id")?);
        let (Some(commander), Some(reporter)) = (commander.or(reporter), reporter.or(commander))
        else {
            ctx.skip(format!(
                "incident {key}: it has neither a commander nor a reporter with an e-mail address"
            ));
            continue;
        };
        let tax = |kind: &'static str, col: &str| -> anyhow::Result<Option<i64>> {
            Ok(r.int(col)?.and_then(|id| ctx.target(kind, id)))
        };
        let type_id = match tax("incident_type", "incident_type_id")? {
            Some(id) => id,
            None => taxonomy::types::default(conn, project_id).await?.id,
        };
        let priority_id = match tax("incident_priority", "incident_priority_id")? {
            Some(id) => id,
            None => taxonomy::priorities::default(conn, project_id).await?.id,
        };
        let severity_id = match tax("incident_severity", "incident_severity_id")? {
            Some(id) => id,
            None => taxonomy::severities::default(conn, project_id).await?.id,
        };
        let before = ctx.existing::<incident::Model>("incident", sid).await?;
        let reported_at = r.at("reported_at")?.unwrap_or(ctx.now);
        let base = match &before {
            Some(b) => b.clone(),
            None => {
                let number = repo::project::next_incident_number(conn, project_id).await?;
                let p: project::Model = repo::project::get(conn, project_id).await?;
                let name = format!("{}-{number}", p.key_prefix);
                let head = ChainHead::genesis(&name);
                incident::Model {
                    project_id,
                    number,
                    name,
                    event_seq: head.seq,
                    last_event_hash: head.hash,
                    ..Default::default()
                }
            }
        };
        let after = incident::Model {
            title: r.text("title")?,
            description: r.text("description")?,
            resolution: r.opt("resolution")?,
            status: lower_or(r.opt("status")?, &["active", "stable", "closed"], "active"),
            visibility: lower_or(r.opt("visibility")?, &["open", "restricted"], "open"),
            type_id,
            priority_id,
            severity_id,
            commander_id: commander,
            reporter_id: reporter,
            reported_at,
            stable_at: r.at("stable_at")?,
            closed_at: r.at("closed_at")?,
            created_at: r.at("created_at")?.unwrap_or(reported_at),
            updated_at: r.at("updated_at")?.unwrap_or(reported_at),
            ..base
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("incident", sid, saved.id, outcome).await?;
    }
    Ok(())
}

async fn participants(ctx: &mut Ctx<'_>, people: &Participants) -> anyhow::Result<()> {
    let reasons: HashMap<i64, Option<String>> = ctx
        .src
        .rows("SELECT id, added_reason FROM {s}.participant WHERE incident_id IS NOT NULL")
        .await?
        .iter()
        .map(|r| anyhow::Ok((r.int("id")?.unwrap_or_default(), r.opt("added_reason")?)))
        .collect::<anyhow::Result<_>>()?;
    let mut ids: Vec<i64> = people.keys().copied().collect();
    ids.sort();
    ctx.begin("participant", ids.len() as i64).await?;
    for sid in ids {
        let (inc, who) = people[&sid];
        let (Some(incident_id), Some(individual_id)) =
            (ctx.target("incident", inc), ctx.target("individual", who))
        else {
            ctx.skip(format!(
                "participant {sid}: its incident or person was not imported"
            ));
            continue;
        };
        let before = repo::participant::find(ctx.conn(), incident_id, individual_id).await?;
        let base = before.clone().unwrap_or_else(|| participant::Model {
            incident_id,
            individual_id,
            created_at: ctx.now,
            ..Default::default()
        });
        let after = participant::Model {
            added_reason: reasons
                .get(&sid)
                .cloned()
                .flatten()
                .or(base.added_reason.clone()),
            ..base
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("participant", sid, saved.id, outcome).await?;
    }
    Ok(())
}

/// The original's role names as Dispatch's.
fn role_name(s: &str) -> Option<&'static str> {
    Some(match s.to_lowercase().replace(' ', "_").as_str() {
        "incident_commander" | "commander" => "incident_commander",
        "reporter" => "reporter",
        "liaison" => "liaison",
        "scribe" => "scribe",
        "participant" => "participant",
        "observer" => "observer",
        _ => return None,
    })
}

async fn roles(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let rows = ctx.src.rows("SELECT id, participant_id, role, assumed_at, renounced_at FROM {s}.participant_role ORDER BY id").await?;
    ctx.begin("participant_role", rows.len() as i64).await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let Some(pid) = r
            .int("participant_id")?
            .and_then(|p| ctx.target("participant", p))
        else {
            ctx.skip(format!(
                "participant role {sid}: its participant was not imported"
            ));
            continue;
        };
        let Some(role) = role_name(&r.text("role")?) else {
            ctx.skip(format!(
                "participant role {sid}: the role {:?} has no Dispatch counterpart",
                r.text("role")?
            ));
            continue;
        };
        let p: participant::Model = rows::find(ctx.conn(), pid)
            .await?
            .ok_or_else(|| anyhow::anyhow!("participant {pid} vanished"))?;
        let before = ctx
            .existing::<participant_role::Model>("participant_role", sid)
            .await?;
        let after = participant_role::Model {
            id: before.as_ref().map(|b| b.id).unwrap_or_default(),
            participant_id: pid,
            incident_id: p.incident_id,
            role: role.into(),
            assumed_at: r.at("assumed_at")?.unwrap_or(ctx.now),
            renounced_at: r.at("renounced_at")?,
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("participant_role", sid, saved.id, outcome)
            .await?;
    }
    Ok(())
}

/// Timeline events are appended (never rewritten: the chain is append-only); an event imported
/// before is left as it is.
async fn events(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let rows = ctx.src.rows("SELECT e.id, e.incident_id, e.started_at, e.source, e.description, e.details::text AS details, e.pinned, i.email FROM {s}.event e LEFT JOIN {s}.individual_contact i ON i.id = e.individual_id WHERE e.incident_id IS NOT NULL ORDER BY e.incident_id, e.started_at, e.id").await?;
    // A case's events are imported with the case (see `super::signals`).
    let other = ctx
        .src
        .rows("SELECT count(*)::int AS n FROM {s}.event WHERE incident_id IS NULL AND case_id IS NULL")
        .await?
        .first()
        .map(|r| r.int("n"))
        .transpose()?
        .flatten()
        .unwrap_or(0);
    ctx.begin("event", rows.len() as i64).await?;
    if other > 0 {
        ctx.skip(format!(
            "{other} events of signals: Dispatch's timelines belong to incidents and cases"
        ));
    }
    let mut by_incident: Vec<(i64, Vec<&super::source::Row>)> = vec![];
    for r in &rows {
        let inc = r.int("incident_id")?.unwrap_or_default();
        match by_incident.last_mut() {
            Some((i, list)) if *i == inc => list.push(r),
            _ => by_incident.push((inc, vec![r])),
        }
    }
    for (inc, list) in by_incident {
        let Some(target) = ctx.target("incident", inc) else {
            continue;
        };
        let row: incident::Model = rows::find(ctx.conn(), target)
            .await?
            .ok_or_else(|| anyhow::anyhow!("incident {target} vanished"))?;
        let mut head = ChainHead {
            incident_name: row.name.clone(),
            seq: row.event_seq,
            hash: row.last_event_hash.clone(),
        };
        for r in list {
            let sid = r.int("id")?.unwrap_or_default();
            if let Some(id) = ctx.target("event", sid) {
                ctx.mapped("event", sid, id, Outcome::Unchanged).await?;
                continue;
            }
            let origin = r.text("source")?;
            let details = serde_json::from_str::<serde_json::Value>(&r.text("details")?)
                .unwrap_or(serde_json::Value::Null);
            let new = NewEvent {
                occurred_at: r.at("started_at")?.unwrap_or(row.reported_at),
                kind: "custom".into(),
                source: if origin == "Incident Participant" {
                    EventSource::Custom
                } else {
                    EventSource::Dispatch
                },
                actor: r.opt("email")?.map(|e| e.to_lowercase()),
                transport: Transport::System,
                description: r.text("description")?,
                details: serde_json::json!({
                    "imported_from": "netflix-dispatch",
                    "source": origin,
                    "details": details,
                }),
                pinned: r.flag("pinned", false)?,
            };
            let chained = event::chain(target, &mut head, vec![new], ctx.now);
            let mut written = None;
            for e in chained {
                written = Some(rows::insert(ctx.conn(), e).await?);
            }
            let id = written.map(|w| w.id).unwrap_or_default();
            ctx.mapped("event", sid, id, Outcome::Created).await?;
        }
        if head.seq != row.event_seq {
            let after = incident::Model {
                event_seq: head.seq,
                last_event_hash: head.hash,
                ..row.clone()
            };
            repo::incident::update(ctx.conn(), &row, after).await?;
        }
    }
    Ok(())
}
