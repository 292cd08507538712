//! Jobs: the only way out to providers. Each job kind lives in its own file; the runner claims
//! jobs, runs them with a timeout, and retries with backoff until they succeed or give up.

pub(crate) mod context;
mod conversation;
mod email;
mod group;
mod notify;
mod provision;
mod runner;
mod transport;
mod webhook;

pub(crate) use conversation::conversation_of;
pub use runner::{Runner, RunnerOptions};

use crate::incident::{save_with_events, Events};
use crate::{Engine, Result};
use dispatch_core::job::{Job, JobKind};
use dispatch_core::provider::{Choices, Named};
use dispatch_core::values::IncidentRef;
use dispatch_core::IncidentId;
use dispatch_store::model::{job, resource};
use dispatch_store::repo;
use std::sync::Arc;

/// The provider that made `r`: work on an existing resource goes to it, whatever its project
/// chooses now (a project that moves to another provider keeps its older incidents working).
pub(crate) fn made_by<T: ?Sized + Named>(
    choices: &Choices<T>,
    r: &resource::Model,
) -> Result<Arc<T>, JobFailure> {
    choices.find(&r.provider).cloned().map_err(|e| {
        JobFailure(format!(
            "the {} was made by a provider this server lacks: {e}",
            r.kind
        ))
    })
}

/// Why a job did not finish; the runner retries it or, after the last attempt, fails it.
#[derive(Debug, Clone)]
pub struct JobFailure(pub String);

impl<E: std::fmt::Display> From<E> for JobFailure {
    fn from(e: E) -> Self {
        JobFailure(e.to_string())
    }
}

/// Work a transport acknowledged at once and handed to the job queue (e.g. a Slack slash
/// command, which Slack wants answered within three seconds). The transport registers one
/// handler per job kind on the engine; the runner calls it like any other job, with retries.
#[async_trait::async_trait]
pub trait TransportJob: Send + Sync {
    /// The job kind it handles, e.g. `slack_command`.
    fn kind(&self) -> &'static str;
    /// Handles one job's payload; an error is retried with backoff.
    async fn run(&self, engine: &Engine, payload: serde_json::Value) -> Result<(), String>;
}

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
        // Only mail may be about no incident.
        return match decoded {
            Job::SendEmail(p) => email::send(engine, job, p).await,
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
        Job::DeliverWebhook(p) => webhook::run(engine, job, incident_id, &p).await,
        Job::Page(p) => notify::page(engine, job, incident_id, p.page_id).await,
        Job::DirectMessage(p) => notify::direct_message(engine, job, incident_id, p).await,
        Job::MailGroup(p) => group::mail(engine, job, incident_id, p).await,
        Job::Engage(_) => crate::rules::engagement::run(engine, job, incident_id).await,
        Job::Welcome(p) => crate::rules::welcome::run(engine, job, incident_id, p).await,
        Job::Notify(p) => crate::rules::notification::run(engine, job, incident_id, p).await,
    }
}

/// Records the job's timeline events and follow-up jobs, and marks it succeeded — all in one
/// transaction, so a crash before the commit re-runs the (idempotent) job instead of losing it.
pub(crate) async fn complete(
    engine: &Engine,
    job: &job::Model,
    incident_id: i64,
    events: Events,
) -> Result<(), JobFailure> {
    let txn = engine.db().write().await?;
    complete_in(&txn, job, incident_id, events).await?;
    txn.commit().await?;
    engine.wake_workers();
    Ok(())
}

/// Marks a job that concerns no incident succeeded — or one that found nothing to do, without
/// touching its incident (so it never waits on the incident's lock; the declare saga runs beside).
pub(crate) async fn complete_without_incident(
    engine: &Engine,
    job: &job::Model,
) -> Result<(), JobFailure> {
    let txn = engine.db().write().await?;
    finish_in(&txn, job).await?;
    txn.commit().await?;
    Ok(())
}

/// Marks the job succeeded inside a transaction it holds; fails when its claim expired.
pub(crate) async fn finish_in(
    txn: &dispatch_store::WriteTxn,
    job: &job::Model,
) -> Result<(), JobFailure> {
    if !repo::job::finish(&**txn, job, Ok(())).await? {
        return Err(JobFailure(
            "the job's claim expired before it finished".into(),
        ));
    }
    Ok(())
}

/// [`complete`] inside a transaction the job already holds (to save its result in it too).
pub(crate) async fn complete_in(
    txn: &dispatch_store::WriteTxn,
    job: &job::Model,
    incident_id: i64,
    events: Events,
) -> Result<(), JobFailure> {
    if !events.is_empty() {
        let current =
            repo::incident::lock(&**txn, &IncidentRef::Id(IncidentId(incident_id))).await?;
        save_with_events(&**txn, &current, current.clone(), events).await?;
    }
    finish_in(txn, job).await
}

impl Engine {
    /// Jobs in a state (all when `None`), newest first.
    pub async fn jobs(
        &self,
        state: Option<&str>,
        viewer: crate::access::Viewer,
        limit: u64,
    ) -> Result<Vec<job::Model>> {
        Ok(repo::job::list_for(self.db().conn(), state, viewer, limit).await?)
    }

    /// The failed jobs of an incident, newest first, each with the resource kind it was
    /// provisioning (when it was a provisioning job): what a retry button retries.
    pub async fn failed_jobs(
        &self,
        incident_id: i64,
    ) -> Result<Vec<(job::Model, Option<dispatch_core::ResourceKind>)>> {
        let jobs = repo::job::failed_of_incident(self.db().conn(), incident_id).await?;
        Ok(jobs
            .into_iter()
            .map(|j| {
                let kind = (j.kind == dispatch_core::job::Provision::KIND)
                    .then(|| provision::target(&j).map(|(_, k)| k))
                    .flatten();
                (j, kind)
            })
            .collect())
    }

    /// Puts a failed job back in the queue; a resource it failed goes back to pending.
    pub async fn retry_job(&self, id: i64) -> Result<job::Model> {
        let txn = self.db().write().await?;
        let j = repo::job::retry(&*txn, id).await?;
        if j.kind == dispatch_core::job::Provision::KIND {
            if let Some((incident_id, k)) = provision::target(&j) {
                if let Some(res) = repo::resource::find(&*txn, incident_id, k).await? {
                    let mut after = res.clone();
                    after.status = "pending".into();
                    after.updated_at = dispatch_core::now();
                    repo::resource::update(&*txn, &res, after).await?;
                }
            }
        }
        txn.commit().await?;
        self.wake_workers();
        Ok(j)
    }
}
