//! Importing what happened in incidents: tags, tasks (with their assignees), status reports,
//! feedback, and the original's resources (conference, conversation, ticket, groups, storage and
//! documents) as external links on the incident.

use super::incidents::{person, Participants};
use super::{Ctx, Outcome};
use crate::model::{feedback, report, resource, task};
use crate::repo;
use dispatch_core::ResourceKind;

/// Imports every kind of incident activity.
pub(crate) async fn run(ctx: &mut Ctx<'_>, people: &Participants) -> anyhow::Result<()> {
    incident_tags(ctx).await?;
    tasks(ctx, people).await?;
    reports(ctx, people).await?;
    feedback(ctx, people).await?;
    resources(ctx).await?;
    Ok(())
}

async fn incident_tags(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    let rows = ctx
        .src
        .rows(
            "SELECT incident_id, tag_id FROM {s}.assoc_incident_tags ORDER BY incident_id, tag_id",
        )
        .await?;
    ctx.begin("incident_tag", rows.len() as i64).await?;
    for r in &rows {
        let (inc, tag) = (
            r.int("incident_id")?.unwrap_or_default(),
            r.int("tag_id")?.unwrap_or_default(),
        );
        let (Some(incident_id), Some(tag_id)) =
            (ctx.target("incident", inc), ctx.target("tag", tag))
        else {
            ctx.skip(format!(
                "tag {tag} of incident {inc}: the incident or the tag was not imported"
            ));
            continue;
        };
        let mut ids = repo::tag::ids_for_incident(ctx.conn(), incident_id).await?;
        let outcome = if ids.contains(&tag_id) {
            Outcome::Unchanged
        } else {
            ids.push(tag_id);
            repo::tag::set_for_incident(ctx.conn(), incident_id, &ids).await?;
            Outcome::Created
        };
        ctx.mapped("incident_tag", inc * 1_000_000 + tag, tag_id, outcome)
            .await?;
    }
    Ok(())
}

async fn tasks(ctx: &mut Ctx<'_>, people: &Participants) -> anyhow::Result<()> {
    let rows = ctx.src.rows("SELECT id, incident_id, description, status, priority, creator_id, owner_id, resolve_by, resolved_at, created_at, updated_at FROM {s}.task ORDER BY id").await?;
    let assignees = ctx
        .src
        .rows("SELECT task_id, participant_id FROM {s}.task_assignees")
        .await?;
    ctx.begin("task", rows.len() as i64).await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let Some(incident_id) = r
            .int("incident_id")?
            .and_then(|i| ctx.target("incident", i))
        else {
            ctx.skip(format!("task {sid}: it belongs to no imported incident"));
            continue;
        };
        let before = ctx.existing::<task::Model>("task", sid).await?;
        let created = r.at("created_at")?.unwrap_or(ctx.now);
        let base = before.clone().unwrap_or_else(|| task::Model {
            incident_id,
            source: "incident".into(),
            ..Default::default()
        });
        let status = r.text("status")?.to_lowercase();
        let priority = r.text("priority")?.to_lowercase();
        let after = task::Model {
            description: r.text("description")?,
            status: if status == "resolved" {
                status
            } else {
                "open".into()
            },
            priority: if ["low", "medium", "high"].contains(&priority.as_str()) {
                priority
            } else {
                "medium".into()
            },
            creator_id: person(ctx, people, r.int("creator_id")?),
            owner_id: person(ctx, people, r.int("owner_id")?),
            resolve_by: r.at("resolve_by")?,
            resolved_at: r.at("resolved_at")?,
            created_at: created,
            updated_at: r.at("updated_at")?.unwrap_or(created),
            ..base
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        let mut who: Vec<i64> = vec![];
        for a in &assignees {
            if a.int("task_id")? == Some(sid) {
                who.extend(person(ctx, people, a.int("participant_id")?));
            }
        }
        who.sort();
        who.dedup();
        let mut had = repo::task::assignees(ctx.conn(), &[saved.id])
            .await?
            .remove(&saved.id)
            .unwrap_or_default();
        had.sort();
        let outcome = if had != who {
            repo::task::set_assignees(ctx.conn(), saved.id, &who).await?;
            if outcome == Outcome::Unchanged {
                Outcome::Updated
            } else {
                outcome
            }
        } else {
            outcome
        };
        ctx.mapped("task", sid, saved.id, outcome).await?;
    }
    Ok(())
}

async fn reports(ctx: &mut Ctx<'_>, people: &Participants) -> anyhow::Result<()> {
    let rows = ctx.src.rows("SELECT id, incident_id, type, participant_id, details::text AS details, created_at FROM {s}.report ORDER BY id").await?;
    ctx.begin("report", rows.len() as i64).await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let Some(incident_id) = r
            .int("incident_id")?
            .and_then(|i| ctx.target("incident", i))
        else {
            ctx.skip(format!("report {sid}: it belongs to no imported incident"));
            continue;
        };
        let kind = if r.text("type")?.to_lowercase().contains("executive") {
            "executive"
        } else {
            "tactical"
        };
        let before = ctx.existing::<report::Model>("report", sid).await?;
        let after = report::Model {
            id: before.as_ref().map(|b| b.id).unwrap_or_default(),
            incident_id,
            kind: kind.into(),
            author_id: person(ctx, people, r.int("participant_id")?),
            details: r.opt("details")?.unwrap_or_else(|| "{}".into()),
            created_at: r.at("created_at")?.unwrap_or(ctx.now),
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("report", sid, saved.id, outcome).await?;
    }
    Ok(())
}

/// The original's satisfaction words on Dispatch's 1–5 scale.
fn rating(s: &str) -> Option<i32> {
    let s = s.to_lowercase();
    Some(if s.starts_with("very satisfied") {
        5
    } else if s.starts_with("somewhat satisfied") {
        4
    } else if s.starts_with("neither") {
        3
    } else if s.starts_with("somewhat dissatisfied") {
        2
    } else if s.starts_with("very dissatisfied") {
        1
    } else {
        return s.parse().ok().filter(|n| (1..=5).contains(n));
    })
}

async fn feedback(ctx: &mut Ctx<'_>, people: &Participants) -> anyhow::Result<()> {
    let rows = ctx.src.rows("SELECT f.id, f.incident_id, f.rating, f.feedback, f.participant_id, f.created_at, f.updated_at FROM {s}.feedback f ORDER BY f.id").await?;
    ctx.begin("feedback", rows.len() as i64).await?;
    for r in &rows {
        let sid = r.int("id")?.unwrap_or_default();
        let incident_id = r
            .int("incident_id")?
            .and_then(|i| ctx.target("incident", i));
        let who = person(ctx, people, r.int("participant_id")?);
        let (Some(incident_id), Some(who), Some(stars)) =
            (incident_id, who, rating(&r.text("rating")?))
        else {
            ctx.skip(format!(
                "feedback {sid}: no imported incident, no participant or no rating Dispatch reads"
            ));
            continue;
        };
        let email = repo::individual::get(ctx.conn(), who).await?.email;
        let before = ctx.existing::<feedback::Model>("feedback", sid).await?;
        let created = r.at("created_at")?.unwrap_or(ctx.now);
        let after = feedback::Model {
            id: before.as_ref().map(|b| b.id).unwrap_or_default(),
            incident_id,
            email,
            rating: stars,
            comment: r.text("feedback")?,
            created_at: created,
            updated_at: r.at("updated_at")?.unwrap_or(created),
        };
        let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
        ctx.mapped("feedback", sid, saved.id, outcome).await?;
    }
    Ok(())
}

/// The original's resources, as (mapping kind, query, Dispatch kind from its resource type).
const RESOURCES: &[(&str, &str)] = &[
    ("conference", "SELECT id, incident_id, resource_type, resource_id, weblink, conference_challenge AS extra, created_at FROM {s}.conference"),
    ("conversation", "SELECT id, incident_id, resource_type, channel_id AS resource_id, weblink, NULL::text AS extra, created_at FROM {s}.conversation"),
    ("ticket", "SELECT id, incident_id, resource_type, resource_id, weblink, NULL::text AS extra, created_at FROM {s}.ticket"),
    ("group", "SELECT id, incident_id, resource_type, resource_id, weblink, email AS extra, created_at FROM {s}.\"group\""),
    ("storage", "SELECT id, incident_id, resource_type, resource_id, weblink, NULL::text AS extra, created_at FROM {s}.storage"),
    ("document", "SELECT id, incident_id, resource_type, resource_id, weblink, name AS extra, created_at FROM {s}.document"),
];

/// Which Dispatch resource a source resource is (`None`: it has no place on an incident).
fn resource_kind(table: &str, resource_type: &str) -> Option<ResourceKind> {
    let t = resource_type.to_lowercase();
    Some(match table {
        "conference" => ResourceKind::Conference,
        "conversation" => ResourceKind::Conversation,
        "ticket" => ResourceKind::Ticket,
        "storage" => ResourceKind::Storage,
        "group" if t.contains("notifications") => return None,
        "group" => ResourceKind::Group,
        _ if t.contains("review") => ResourceKind::ReviewDocument,
        _ if t.contains("executive") => ResourceKind::ExecutiveDocument,
        _ => ResourceKind::Document,
    })
}

async fn resources(ctx: &mut Ctx<'_>) -> anyhow::Result<()> {
    for (table, sql) in RESOURCES {
        let rows = ctx.src.rows(sql).await?;
        let kind_name: &'static str = table;
        ctx.begin(kind_name, rows.len() as i64).await?;
        let mut notifications = 0;
        let mut unattached = 0;
        for r in &rows {
            let sid = r.int("id")?.unwrap_or_default();
            let Some(incident_id) = r
                .int("incident_id")?
                .and_then(|i| ctx.target("incident", i))
            else {
                unattached += 1;
                continue;
            };
            let Some(kind) = resource_kind(table, &r.text("resource_type")?) else {
                notifications += 1;
                continue;
            };
            let before = repo::resource::find(ctx.conn(), incident_id, kind).await?;
            let created = r.at("created_at")?.unwrap_or(ctx.now);
            let mut details = serde_json::Map::new();
            if let Some(extra) = r.opt("extra")? {
                let label = match *table {
                    "conference" => "challenge",
                    "group" => "email",
                    _ => "name",
                };
                details.insert(label.into(), extra.into());
            }
            let base = before.clone().unwrap_or_else(|| resource::Model {
                incident_id,
                kind: kind.as_str().into(),
                created_at: created,
                updated_at: created,
                ..Default::default()
            });
            let after = resource::Model {
                provider: format!("netflix-dispatch:{}", r.text("resource_type")?),
                external_id: r.opt("resource_id")?,
                link: r.opt("weblink")?,
                status: "ready".into(),
                last_error: None,
                details: serde_json::Value::Object(details).to_string(),
                ..base
            };
            let (saved, outcome) = ctx.save(before.as_ref(), after).await?;
            ctx.mapped(kind_name, sid, saved.id, outcome).await?;
        }
        if notifications > 0 {
            ctx.skip(format!("{notifications} notifications groups: Dispatch keeps one group per incident (its tactical group); stakeholders go to the incident's notifications group instead"));
        }
        if unattached > 0 {
            ctx.skip(format!("{unattached} {table} rows that belong to no incident (templates, runbooks, cases): Dispatch keeps templates as text on incident types and links per incident"));
        }
    }
    Ok(())
}
