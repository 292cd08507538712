//! How a job handler ends: [`JobFailure`] for a retry, or completion — its events and
//! follow-up jobs recorded and the job marked done in one transaction. Handlers (here and in
//! [`crate::rules`], [`crate::reminders`], [`crate::scheduler`]) use this without naming the
//! dispatcher in [`crate::jobs`].

use crate::changes::Events;
use crate::record::save_with_events;
use crate::{Engine, Result};
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

tokio::task_local! {
    /// Where a job run by a runner that takes follow-ups leaves the next step it enqueued
    /// claimed (see [`Events::then`]); the runner runs it once the job succeeded.
    static NEXT: std::cell::RefCell<Option<job::Model>>;
}

/// Runs `f` (a job) so that the next step it hands on is claimed for this runner; answers what
/// `f` answered and that step (to run only when `f` succeeded: its transaction committed).
pub(crate) async fn taking_next<T>(
    f: impl std::future::Future<Output = T>,
) -> (T, Option<job::Model>) {
    NEXT.scope(std::cell::RefCell::new(None), async {
        let out = f.await;
        (out, NEXT.with(|n| n.borrow_mut().take()))
    })
    .await
}

/// Enqueues the next step of `job`'s flow: claimed by `job`'s worker when the runner takes
/// follow-ups (no other runner is woken for it, and no claim is spent on it), else queued.
async fn hand_on(
    txn: &dispatch_store::WriteTxn,
    job: &job::Model,
    next: repo::job::NewJob,
) -> Result<(), JobFailure> {
    let in_runner = NEXT.try_with(|_| ()).is_ok();
    match job.locked_by.as_deref().filter(|_| in_runner) {
        Some(worker) => {
            let claimed =
                repo::job::enqueue_claimed(&**txn, next, worker, dispatch_core::now()).await?;
            if claimed.is_some() {
                let _ = NEXT.try_with(|n| *n.borrow_mut() = claimed);
            }
        }
        None => repo::job::enqueue(&**txn, vec![next]).await?,
    }
    Ok(())
}

/// [`complete`] inside a transaction the job already holds (to save its result in it too).
pub(crate) async fn complete_in(
    txn: &dispatch_store::WriteTxn,
    job: &job::Model,
    incident_id: i64,
    mut events: Events,
) -> Result<(), JobFailure> {
    let next = events.take_next();
    if !events.is_empty() {
        let current =
            repo::incident::lock(&**txn, &IncidentRef::Id(IncidentId(incident_id))).await?;
        save_with_events(&**txn, &current, current.clone(), events).await?;
    }
    // After the incident's lock, as every writer of the incident takes it first.
    if let Some(next) = next {
        hand_on(txn, job, next).await?;
    }
    finish_in(txn, job).await
}
