//! The incident's participant group: its members kept in step with the people who hold a role
//! in the incident, and mail to the group (`mail_group`).

use super::context;
use super::outcome::{complete, made_by, JobFailure};
use crate::changes::Events;
use crate::flows;
use crate::Engine;
use dispatch_core::event::TimelineEvent;
use dispatch_core::provider::{Email, IncidentContext};
use dispatch_store::model::{job, resource};
use dispatch_store::repo;

/// The group resource, when it exists.
fn group(list: &[resource::Model]) -> Option<&resource::Model> {
    list.iter().find(|r| r.kind == "group")
}

/// Brings the group's members in line with the incident's people (those holding a role). A
/// closed incident's group keeps its members, so its people stay reachable; a group still being
/// created is left to the declare saga (its set-up step syncs it again). Safe to repeat.
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
    let mut wanted: Vec<String> = ctx
        .participants
        .iter()
        .map(|(p, _)| p.email.to_lowercase())
        .collect();
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
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    provider.add_members(id, &added).await?;
    provider.remove_members(id, &removed).await?;
    events.push_event(TimelineEvent::GroupMembersChanged {
        added,
        removed,
        provider: provider.slug().to_string(),
    });
    Ok(())
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
            let ctx = context::load(engine.db().conn(), incident_id, &engine.base_url()).await?;
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
