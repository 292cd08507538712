//! The dispatcher: decodes a claimed job and hands it to its handler — the periodic jobs of
//! [`crate::scheduler`], a transport's handler, or the job kinds here and in [`crate::rules`].
//! The one module that names every handler; nothing below it names it back.

use super::outcome::{complete_without_incident, JobFailure};
use super::{conversation, email, group, notify, provision, stakeholders, storage, webhook};
use crate::Engine;
use dispatch_core::job::Job;
use dispatch_store::model::job;

/// Runs one claimed job. On success the job has recorded its result and marked itself done in
/// one transaction.
pub(crate) async fn run(engine: &Engine, job: &job::Model) -> Result<(), JobFailure> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload)?;
    if crate::scheduler::PERIODIC
        .iter()
        .any(|(name, _)| *name == job.kind)
    {
        let at = serde_json::from_value(payload["occurrence"].clone())
            .unwrap_or_else(|_| dispatch_core::now());
        return crate::scheduler::run(engine, job, at).await;
    }
    if let Some(handler) = engine.transport_job(&job.kind) {
        handler.run(engine, payload).await.map_err(JobFailure)?;
        return complete_without_incident(engine, job).await;
    }
    let decoded = Job::decode(&job.kind, &job.payload)
        .ok_or_else(|| JobFailure(format!("unknown job kind {:?}", job.kind)))?
        .map_err(|e| JobFailure(e.to_string()))?;
    let Some(incident_id) = decoded.incident_id() else {
        // Only mail and case webhooks may be about no incident.
        return match decoded {
            Job::SendEmail(p) => email::send(engine, job, p).await,
            Job::DeliverWebhook(p) => webhook::run(engine, job, None, &p).await,
            Job::SyncCaseThread(p) => crate::signal::thread::sync(engine, job, p.case_id).await,
            other => Err(JobFailure(format!(
                "the {} job names no incident",
                other.kind()
            ))),
        };
    };
    match decoded {
        Job::Provision(p) => provision::run(engine, job, incident_id, p.kind).await,
        Job::SetupConversation(_) => conversation::setup(engine, job, incident_id).await,
        Job::Announce(p) => {
            conversation::announce(engine, job, incident_id, &p.text, &p.key, p.message).await
        }
        Job::Refresh(_) => conversation::refresh(engine, job, incident_id).await,
        Job::Archive(p) => conversation::archive(engine, job, incident_id, p.archive).await,
        Job::SendEmail(p) => email::send(engine, job, p).await,
        Job::DeliverWebhook(p) => webhook::run(engine, job, Some(incident_id), &p).await,
        Job::Page(p) => notify::page(engine, job, incident_id, p.page_id).await,
        Job::ResolvePages(_) => notify::resolve_pages(engine, job, incident_id).await,
        Job::DirectMessage(p) => notify::direct_message(engine, job, incident_id, p).await,
        Job::MailGroup(p) => group::mail(engine, job, incident_id, p).await,
        Job::MailStakeholders(p) => stakeholders::mail(engine, job, incident_id, p).await,
        Job::Engage(_) => crate::rules::engagement::run(engine, job, incident_id).await,
        Job::Welcome(p) => crate::rules::welcome::run(engine, job, incident_id, p).await,
        Job::Notify(p) => crate::rules::notification::run(engine, job, incident_id, p).await,
        Job::PostToTarget(p) => crate::rules::notification::post(engine, job, incident_id, p).await,
        Job::SyncCaseThread(p) => crate::signal::thread::sync(engine, job, p.case_id).await,
        Job::StoreFile(p) => storage::store_file(engine, job, incident_id, p.file_id).await,
    }
}
