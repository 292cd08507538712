//! `provision`: create one resource of an incident with its provider, record it, and enqueue the
//! saga's next step — idempotent, so a retry or a crash never creates a second resource.

use super::context;
use super::outcome::{complete, complete_in, JobFailure};
use crate::changes::Events;
use crate::flows;
use crate::Engine;
use dispatch_core::event::TimelineEvent;
use dispatch_core::provider::Created;
use dispatch_core::values::IncidentRef;
use dispatch_core::{template, IncidentId, ResourceKind};
use dispatch_store::model::{job, resource};
use dispatch_store::repo;

/// The incident and resource kind a provision job is for.
pub(crate) fn target(job: &job::Model) -> Option<(i64, ResourceKind)> {
    use dispatch_core::job::JobKind;
    let p = dispatch_core::job::Provision::decode(&job.payload).ok()?;
    Some((p.incident_id, p.kind))
}

pub(crate) async fn run(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
    kind: ResourceKind,
) -> Result<(), JobFailure> {
    let conn = engine.db().conn();
    let existing = repo::resource::find(conn, incident_id, kind).await?;
    let now = dispatch_core::now();
    let mut events = Events::system(now);
    if let Some(next) = flows::next_step(dispatch_core::IncidentId(incident_id), kind, now) {
        events.then(next);
    }
    if existing
        .as_ref()
        .is_some_and(|r| r.status == "ready" || r.status == "archived")
    {
        return complete(engine, job, incident_id, events).await;
    }
    let is_document = matches!(
        kind,
        ResourceKind::Document | ResourceKind::ReviewDocument | ResourceKind::ExecutiveDocument
    );
    let ctx = if is_document {
        context::load_for_documents(engine, incident_id).await?
    } else {
        context::load(engine, incident_id).await?
    };
    let providers = engine.providers_of_project(Some(&ctx.project)).await?;
    let key = format!("{}/{}", ctx.name, kind);
    let (provider, created): (&str, Created) = match kind {
        ResourceKind::Ticket => (
            providers.ticket.slug(),
            providers.ticket.create(&key, &ctx).await?,
        ),
        ResourceKind::Storage => (
            providers.storage.slug(),
            providers.storage.create(&key, &ctx).await?,
        ),
        ResourceKind::Conference => (
            providers.conference.slug(),
            providers.conference.create(&key, &ctx).await?,
        ),
        ResourceKind::Conversation => (
            providers.conversation.slug(),
            providers.conversation.create(&key, &ctx).await?,
        ),
        ResourceKind::Document | ResourceKind::ReviewDocument | ResourceKind::ExecutiveDocument => {
            // The incident type's own template, else the built-in one.
            let type_id = repo::incident::get(conn, &IncidentRef::Id(IncidentId(incident_id)))
                .await?
                .type_id;
            let t = repo::taxonomy::types::get(conn, type_id).await?;
            let (own, builtin) = match kind {
                ResourceKind::ReviewDocument => (t.review_template, template::REVIEW_DOCUMENT),
                ResourceKind::ExecutiveDocument => {
                    (t.executive_template, template::EXECUTIVE_DOCUMENT)
                }
                _ => (t.incident_template, template::INCIDENT_DOCUMENT),
            };
            let tpl = own.unwrap_or_else(|| builtin.to_string());
            (
                providers.document.slug(),
                providers.document.create(&key, kind, &tpl, &ctx).await?,
            )
        }
        ResourceKind::Group => {
            // The incident's responders: everyone with a role in it, kept in step by refreshes.
            let name = format!("{}-responders", ctx.name.to_lowercase());
            let created = providers.group.create(&key, &name, &ctx).await?;
            let members: Vec<String> = ctx
                .participants
                .iter()
                .map(|(p, _)| p.email.clone())
                .collect();
            providers
                .group
                .add_members(&created.external_id, &members)
                .await?;
            (providers.group.slug(), created)
        }
    };
    let row = resource::Model {
        incident_id,
        kind: kind.as_str().into(),
        provider: provider.into(),
        external_id: Some(created.external_id.clone()),
        link: created.link.clone(),
        details: serde_json::to_string(&created.details).unwrap_or_else(|_| "{}".into()),
        status: "ready".into(),
        last_error: None,
        created_at: now,
        updated_at: now,
        ..Default::default()
    };
    events.push_event(TimelineEvent::ResourceCreated {
        kind,
        provider: provider.to_string(),
        external_id: created.external_id.clone(),
        link: created.link.clone(),
    });
    if matches!(
        kind,
        ResourceKind::ReviewDocument | ResourceKind::ExecutiveDocument
    ) {
        // Bookmark (and, the review, announce) it in the conversation.
        let unique = if kind == ResourceKind::ReviewDocument {
            "review"
        } else {
            "executive"
        };
        events.job(flows::refresh(
            dispatch_core::IncidentId(incident_id),
            Some(unique.into()),
            now,
        ));
    }
    // The resource, its events, the next step and the job's completion: one transaction.
    let txn = engine.db().write().await?;
    if let Some(to) = created.incident_name.as_deref().filter(|n| *n != ctx.name) {
        rename(&txn, incident_id, to, &mut events).await?;
    }
    save_resource(&txn, existing, row).await?;
    complete_in(&txn, job, incident_id, events).await?;
    txn.commit().await?;
    engine.wake_workers();
    Ok(())
}

/// The incident takes the name its provider gave (a ticket's key); its old name keeps finding
/// it. A name another incident has (or had) is not taken: the incident keeps its own.
async fn rename(
    txn: &dispatch_store::WriteTxn,
    incident_id: i64,
    to: &str,
    events: &mut Events,
) -> Result<(), JobFailure> {
    let before = repo::incident::lock(&**txn, &IncidentRef::Id(IncidentId(incident_id))).await?;
    match repo::incident::rename(&**txn, &before, to).await? {
        Some(_) => {
            let mut changes = std::collections::BTreeMap::new();
            changes.insert(
                "name".to_string(),
                dispatch_core::event::Change::new(
                    serde_json::Value::from(before.name.clone()),
                    serde_json::Value::from(to),
                ),
            );
            events.push_event(TimelineEvent::IncidentUpdated {
                changes,
                stable_priority: None,
            });
            // Everything that shows the name (room, documents, the ticket's description) follows.
            events.job(flows::refresh(IncidentId(incident_id), None, events.at()));
        }
        None => tracing::warn!(
            incident = before.name,
            name = to,
            "the incident keeps its name: another incident has or had the ticket's key"
        ),
    }
    Ok(())
}

async fn save_resource(
    txn: &dispatch_store::WriteTxn,
    existing: Option<resource::Model>,
    mut row: resource::Model,
) -> Result<(), JobFailure> {
    match existing {
        Some(e) => {
            row.id = e.id;
            row.created_at = e.created_at;
            repo::resource::update(&**txn, &e, row).await?;
        }
        None => {
            repo::resource::insert(&**txn, row).await?;
        }
    }
    Ok(())
}

/// After the last attempt: the resource shows `failed` with the error, and the saga goes on
/// without it.
pub(crate) async fn give_up(engine: &Engine, job: &job::Model, error: &str) -> crate::Result<()> {
    let Some((incident_id, kind)) = target(job) else {
        return Ok(());
    };
    let txn = engine.db().write().await?;
    if let Some(res) = repo::resource::find(&*txn, incident_id, kind).await? {
        let mut after = res.clone();
        after.status = "failed".into();
        after.last_error = Some(error.to_string());
        after.updated_at = dispatch_core::now();
        repo::resource::update(&*txn, &res, after).await?;
    }
    let now = dispatch_core::now();
    let mut events = Events::system(now);
    events.push_event(TimelineEvent::ResourceFailed {
        kind,
        error: error.to_string(),
    });
    if let Some(next) = flows::next_step(dispatch_core::IncidentId(incident_id), kind, now) {
        events.job(next);
    }
    let current = repo::incident::lock(
        &*txn,
        &dispatch_core::values::IncidentRef::Id(dispatch_core::IncidentId(incident_id)),
    )
    .await?;
    crate::record::save_with_events(&*txn, &current, current.clone(), events).await?;
    txn.commit().await?;
    engine.wake_workers();
    Ok(())
}

/// Before a retry: the resource keeps `pending` but shows the last error.
pub(crate) async fn note_error(
    engine: &Engine,
    job: &job::Model,
    error: &str,
) -> crate::Result<()> {
    let Some((incident_id, kind)) = target(job) else {
        return Ok(());
    };
    let txn = engine.db().write().await?;
    if let Some(res) = repo::resource::find(&*txn, incident_id, kind).await? {
        let mut after = res.clone();
        after.last_error = Some(error.to_string());
        after.updated_at = dispatch_core::now();
        repo::resource::update(&*txn, &res, after).await?;
    }
    txn.commit().await?;
    Ok(())
}
