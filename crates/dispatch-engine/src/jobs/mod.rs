//! Jobs: the only way out to providers. Each job kind lives in its own file; the runner claims
//! jobs, runs them with a timeout, and retries with backoff until they succeed or give up.

pub(crate) mod context;
mod conversation;
mod dispatch;
mod email;
mod group;
mod notify;
pub(crate) mod outcome;
mod provision;
mod runner;
mod stakeholders;
mod storage;
mod transport;
mod webhook;

pub use outcome::JobFailure;
pub use runner::{Runner, RunnerOptions};

use crate::{Engine, Result};
use dispatch_core::job::JobKind;
use dispatch_store::model::job;
use dispatch_store::repo;

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

impl crate::Jobs<'_> {
    /// Jobs in a state (all when `None`), newest first.
    pub async fn list(
        self,
        state: Option<&str>,
        viewer: crate::access::Viewer,
        limit: u64,
    ) -> Result<Vec<job::Model>> {
        Ok(repo::job::list_for(self.db().conn(), state, viewer, limit).await?)
    }

    /// The failed jobs of an incident, newest first, each with the resource kind it was
    /// provisioning (when it was a provisioning job): what a retry button retries.
    pub async fn failed(
        self,
        incident_id: dispatch_core::IncidentId,
    ) -> Result<Vec<(job::Model, Option<dispatch_core::ResourceKind>)>> {
        let jobs = repo::job::failed_of_incident(self.db().conn(), incident_id.0).await?;
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
    pub async fn retry(self, id: dispatch_core::JobId) -> Result<job::Model> {
        let txn = self.db().write().await?;
        let j = repo::job::retry(&*txn, id.0).await?;
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
