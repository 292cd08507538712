//! Loads what providers are told about an incident.

use super::outcome::JobFailure;
use crate::{Engine, Result};
use dispatch_core::provider::{IncidentContext, Person, TimelineLine};
use dispatch_core::values::IncidentRef;
use dispatch_core::{IncidentId, ResourceKind};
use dispatch_store::model::resource;
use dispatch_store::repo;
use dispatch_store::repo::event::EventFilter;
use dispatch_store::repo::incident::Viewer;

/// The incident as providers see it now, without its timeline and reports (only documents show
/// them).
pub(crate) async fn load(engine: &Engine, incident_id: i64) -> Result<IncidentContext> {
    load_with(engine, incident_id, false).await
}

/// The incident as providers see it now, with its whole timeline and its latest reports: what
/// documents are filled from.
pub(crate) async fn load_for_documents(
    engine: &Engine,
    incident_id: i64,
) -> Result<IncidentContext> {
    load_with(engine, incident_id, true).await
}

async fn load_with(
    engine: &Engine,
    incident_id: i64,
    for_documents: bool,
) -> Result<IncidentContext> {
    let conn = engine.db().conn();
    let base_url = engine.base_url();
    // Only what a context carries: not the detail's runbooks. The row with its tags,
    // participants and resources (with the latest reports and cost for documents), in one
    // statement; the project's provider settings from the configuration this process keeps.
    // Every step of a declaration's saga reads it, so it leaves out the parts a context does
    // not use (see docs/operations.md, "Where PostgreSQL's time goes").
    let r = IncidentRef::Id(IncidentId(incident_id));
    let which = if for_documents {
        repo::detail::Parts::All
    } else {
        repo::detail::Parts::People
    };
    let (row, parts) = repo::detail::visible_with_parts(conn, Viewer::Everyone, &r, which)
        .await?
        .ok_or_else(|| crate::Error::NotFound(format!("incident {incident_id}")))?;
    let r = &row;
    let project = engine.project_config_by_id(r.project_id).await?;
    // Everyone who took part, whatever their role now (the review counts them).
    let people = parts.participants.len();
    let type_name = r.type_name.clone();
    let priority = r.priority_name.clone();
    let severity = r.severity_name.clone();
    let participants = parts
        .participants
        .iter()
        .filter_map(|p| {
            let roles: Vec<String> = p
                .roles
                .iter()
                .filter(|r| r.renounced_at.is_none())
                .map(|r| r.role.clone())
                .collect();
            (!roles.is_empty()).then(|| {
                (
                    Person {
                        email: p.individual.email.clone(),
                        name: p.individual.name.clone(),
                    },
                    roles,
                )
            })
        })
        .collect();
    let links = parts
        .resources
        .iter()
        .filter(|res| res.status == "ready" || res.status == "archived")
        .filter_map(|res| Some((res.kind.parse::<ResourceKind>().ok()?, res.link.clone()?)))
        .collect();
    let timeline = if for_documents {
        repo::event::list(conn, incident_id, &EventFilter::default())
            .await?
            .into_iter()
            .map(|e| TimelineLine {
                at: e.occurred_at,
                actor: e.actor,
                text: e.description,
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut report_fields = Vec::new();
    if for_documents {
        for rep in [&parts.last_tactical_report, &parts.last_executive_report]
            .into_iter()
            .flatten()
        {
            let details: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&rep.details).unwrap_or_default();
            for (k, v) in details {
                report_fields.push((k, v.as_str().unwrap_or_default().to_string()));
            }
        }
    }
    let (metrics, cost) = if for_documents {
        let cost = parts.total_cost_cents.map(crate::rules::weekly::money);
        (key_figures(r, people), cost)
    } else {
        (Vec::new(), None)
    };
    Ok(IncidentContext {
        id: r.id,
        name: r.name.clone(),
        project: r.project_slug.clone(),
        title: r.title.clone(),
        description: r.description.clone(),
        resolution: r.resolution.clone(),
        status: r.status.clone(),
        // Outside Dispatch (chat channels, documents), a members-only project's incidents are
        // kept private like restricted ones.
        visibility: if r.project_members_only {
            dispatch_core::Visibility::Restricted.as_str().to_string()
        } else {
            r.visibility.clone()
        },
        incident_type: type_name,
        priority,
        severity,
        commander: Person {
            email: r.commander_email.clone(),
            name: r.commander_name.clone(),
        },
        reporter: Person {
            email: r.reporter_email.clone(),
            name: r.reporter_name.clone(),
        },
        participants,
        links,
        timeline,
        report_fields,
        metrics,
        cost,
        tags: parts.tags.into_iter().map(|t| t.name).collect(),
        base_url,
        settings: dispatch_core::provider_settings::ProviderSettings::from_stored(
            &project.project.provider_settings,
        ),
    })
}

/// The conversation topic: who commands, and where the incident stands.
pub(crate) fn topic(ctx: &IncidentContext) -> String {
    format!(
        "IC: {} | Status: {} | Type: {} | Severity: {} | Priority: {}",
        ctx.commander.name, ctx.status, ctx.incident_type, ctx.severity, ctx.priority
    )
}

/// Every resource of the incident.
pub(crate) async fn resources(
    engine: &Engine,
    incident_id: i64,
) -> Result<Vec<resource::Model>, JobFailure> {
    Ok(
        repo::resource::for_incidents(engine.db().conn(), &[incident_id])
            .await?
            .remove(&incident_id)
            .unwrap_or_default(),
    )
}

/// The conversation's id when it exists; an error (retried) while it is still being created.
pub(crate) fn conversation(
    list: &[resource::Model],
) -> Result<Option<&resource::Model>, JobFailure> {
    match list.iter().find(|r| r.kind == "conversation") {
        Some(r) if r.status == "pending" => {
            Err(JobFailure("the conversation is not created yet".into()))
        }
        Some(r) if r.external_id.is_some() && (r.status == "ready" || r.status == "archived") => {
            Ok(Some(r))
        }
        _ => Ok(None),
    }
}

/// The incident's room for a post: `None` while it is being created, `Some(None)` when there is
/// none to post in (no conversation, failed, archived), else its id.
pub(crate) async fn conversation_of(
    engine: &Engine,
    incident_id: i64,
) -> Result<Option<Option<String>>, JobFailure> {
    let list = resources(engine, incident_id).await?;
    Ok(match conversation(&list) {
        Err(_) => None,
        Ok(Some(r)) if r.status == "ready" => Some(r.external_id.clone()),
        Ok(_) => Some(None),
    })
}

/// The review's key figures: when it was reported, how long it took to become stable and to
/// close (the metrics' time to mitigate and time to resolve, for this incident), and how many
/// people took part.
fn key_figures(r: &repo::incident::IncidentRow, people: usize) -> Vec<(String, String)> {
    let mut out = vec![(
        "Reported".to_string(),
        r.reported_at.format("%Y-%m-%d %H:%M UTC").to_string(),
    )];
    for (label, at) in [
        ("Time to stable", r.stable_at),
        ("Time to close", r.closed_at),
    ] {
        let value = at.map_or_else(|| "not yet".to_string(), |t| span(t - r.reported_at));
        out.push((label.to_string(), value));
    }
    out.push(("People who took part".to_string(), people.to_string()));
    out
}

/// A duration as people write it: `45 min`, `2 h 05 min`, `3 d 4 h`.
fn span(d: chrono::TimeDelta) -> String {
    let minutes = d.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins} min"),
        (0, h) => format!("{h} h {mins:02} min"),
        (d, h) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::span;
    use chrono::TimeDelta;

    #[test]
    fn spans_read_as_people_write_them() {
        assert_eq!(span(TimeDelta::minutes(45)), "45 min");
        assert_eq!(span(TimeDelta::minutes(125)), "2 h 05 min");
        assert_eq!(span(TimeDelta::minutes(3 * 1440 + 4 * 60 + 10)), "3 d 4 h");
        assert_eq!(span(TimeDelta::minutes(-5)), "0 min");
    }
}
