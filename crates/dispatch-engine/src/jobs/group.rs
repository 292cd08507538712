//! The incident's participant group: its members kept in step with the people who hold a role
//! in the incident (and a provider's notifications group with its stakeholders), and mail to
//! the group (`mail_group`).

use super::context;
use super::outcome::{complete, made_by, JobFailure};
use crate::changes::Events;
use crate::flows;
use crate::rules::notification::{addresses, matching};
use crate::Engine;
use dispatch_core::event::TimelineEvent;
use dispatch_core::provider::{Email, IncidentContext, ParticipantGroupProvider};
use dispatch_core::GroupPurpose;
use dispatch_store::model::{job, resource};
use dispatch_store::repo;

/// The group resource, when it exists.
fn group(list: &[resource::Model]) -> Option<&resource::Model> {
    list.iter().find(|r| r.kind == "group")
}

/// Brings the group's members in line with the incident's people (those holding a role), and
/// a notifications group the provider keeps beside it with the incident's stakeholders
/// ([`stakeholders`]). A closed incident's groups keep their members, so its people stay
/// reachable; a group still being created is left to the declare saga (its set-up step syncs
/// it again). Safe to repeat.
pub(crate) async fn sync(
    engine: &Engine,
    ctx: &IncidentContext,
    list: &[resource::Model],
    events: &mut Events,
) -> Result<(), JobFailure> {
    let Some(g) = group(list).filter(|g| g.status == "ready") else {
        return Ok(());
    };
    let Some(id) = &g.external_id else {
        return Ok(());
    };
    if ctx.status == "closed" {
        return Ok(());
    }
    let provider = made_by(&engine.registry().group, g)?;
    let wanted: Vec<String> = ctx
        .participants
        .iter()
        .map(|(p, _)| p.email.clone())
        .collect();
    let (added, removed) = mirror(&*provider, id, wanted).await?;
    if !added.is_empty() || !removed.is_empty() {
        events.push_event(TimelineEvent::GroupMembersChanged {
            added,
            removed,
            provider: provider.slug().to_string(),
        });
    }
    // Dispatch's own notifications group is the list itself; a provider's copy of it (a
    // Google Group) is named in the group's details.
    let details: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&g.details).unwrap_or_default();
    if let Some(notifications) = details.get("notifications").filter(|n| !n.is_empty()) {
        let wanted = stakeholders(engine, ctx.id).await?;
        mirror(&*provider, notifications, wanted).await?;
    }
    Ok(())
}

/// Makes the members of the provider's group `id` exactly `wanted` (any case): what was
/// added and what removed.
async fn mirror(
    provider: &dyn ParticipantGroupProvider,
    id: &str,
    wanted: Vec<String>,
) -> Result<(Vec<String>, Vec<String>), JobFailure> {
    let mut wanted: Vec<String> = wanted.into_iter().map(|e| e.to_lowercase()).collect();
    wanted.sort();
    wanted.dedup();
    let current: Vec<String> = provider
        .members(id)
        .await?
        .into_iter()
        .map(|e| e.to_lowercase())
        .collect();
    let added: Vec<String> = wanted
        .iter()
        .filter(|e| !current.contains(e))
        .cloned()
        .collect();
    let removed: Vec<String> = current
        .iter()
        .filter(|e| !wanted.contains(e))
        .cloned()
        .collect();
    if !added.is_empty() {
        provider.add_members(id, &added).await?;
    }
    if !removed.is_empty() {
        provider.remove_members(id, &removed).await?;
    }
    Ok((added, removed))
}

/// The incident's stakeholders as a group of addresses: the members of its notifications
/// group and the addresses of the e-mail notification rules that match it, but for those who
/// unsubscribed from its mail.
async fn stakeholders(engine: &Engine, incident_id: i64) -> Result<Vec<String>, JobFailure> {
    let conn = engine.db().conn();
    let mut out = Vec::new();
    if let Some(g) =
        repo::participant_group::of_incident(conn, incident_id, GroupPurpose::Notifications).await?
    {
        out.extend(repo::participant_group::member_emails(conn, g.id).await?);
    }
    let (row, s) = crate::rules::subject(conn, incident_id).await?;
    let rules = repo::rules::list(conn, Some(row.project_id)).await?;
    for rule in matching(&rules, &row, row.project_members_only, &s) {
        if rule.target_kind == "email" {
            out.extend(addresses(&rule.target));
        }
    }
    let opted_out = repo::participant_group::opted_out(conn, incident_id).await?;
    out.retain(|e| !opted_out.contains(&e.to_lowercase()));
    Ok(out)
}

/// Mails the incident's group once (by `key`): the group provider names the recipients (the
/// group's own address, or its members), then a `send_email` job sends it. Waits (retries)
/// while the group is being created; with no group, the incident's people are mailed directly.
pub(crate) async fn mail(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
    payload: dispatch_core::job::MailGroup,
) -> Result<(), JobFailure> {
    let dispatch_core::job::MailGroup {
        key, subject, text, ..
    } = payload;
    let list = repo::resource::for_incidents(engine.db().conn(), &[incident_id])
        .await?
        .remove(&incident_id)
        .unwrap_or_default();
    let to = match group(&list) {
        Some(g) if g.status == "pending" => {
            return Err(JobFailure(
                "the participant group is not created yet".into(),
            ))
        }
        Some(g) if g.status == "ready" && g.external_id.is_some() => {
            made_by(&engine.registry().group, g)?
                .mail_recipients(g.external_id.as_deref().unwrap_or_default())
                .await?
        }
        _ => {
            let ctx = context::load(engine, incident_id).await?;
            ctx.participants.into_iter().map(|(p, _)| p.email).collect()
        }
    };
    let now = dispatch_core::now();
    let mut events = Events::system(now);
    if !to.is_empty() {
        let email = Email {
            to,
            subject,
            text,
            html: None,
            thread: None,
            unsubscribe: None,
        };
        events.job(flows::email_job(
            &key,
            Some(dispatch_core::IncidentId(incident_id)),
            &email,
            now,
        ));
    }
    complete(engine, job, incident_id, events).await
}
