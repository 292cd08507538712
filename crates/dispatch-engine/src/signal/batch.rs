//! Group commit for alert ingestion. An alert storm arrives as many small requests at once;
//! writing each in a transaction of its own makes them queue for the one writer and pay a
//! commit each. Instead each request, once read and matched, joins a queue; whichever request
//! holds the writer turn takes everything queued so far (up to [`MAX_ALERTS`]) and writes it in
//! one transaction, then answers each request after the commit. So a 2xx still means the
//! request's alerts are stored, and a request's alerts see every earlier request's (the same
//! fingerprint joins the same case however the requests were grouped).
//!
//! Consecutive requests from the same sender to the same project and source are written as
//! one (one read of the chains, one insert of instances, …), in arrival order, so the
//! statements per batch stay few however many requests it holds; each request's audit entry
//! is written in the batch's transaction.
//!
//! The batch is written by a task of its own, so a client that goes away mid-write cancels
//! nothing. If one request of a batch fails, the batch is rolled back and each request is
//! written again alone: the failing one gets its error, the others their answers.

use super::ingest::{write, Prepared};
use crate::{Engine, Error, Result};
use dispatch_core::signal::AlertResult;
use dispatch_store::{repo, Backend, StoreError};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Most alerts written in one transaction (a request larger than this is written alone).
pub const MAX_ALERTS: usize = 4_000;

/// Batches written side by side on PostgreSQL (one at a time on SQLite, which has one writer).
/// Batches that share a fingerprint still go one after the other
/// ([`repo::signal::lock_fingerprints`]); the others overlap their round trips and use both the
/// server's and the database's cores.
const LANES: u32 = 4;

type Reply = oneshot::Sender<Result<Vec<AlertResult>>>;

/// The queue of prepared requests and the writers' turns.
pub(crate) struct Batcher {
    pending: Mutex<Vec<(Prepared, Reply)>>,
    turns: Arc<tokio::sync::Semaphore>,
}

impl Default for Batcher {
    fn default() -> Self {
        Self {
            pending: Mutex::default(),
            turns: Arc::new(tokio::sync::Semaphore::new(LANES as usize)),
        }
    }
}

impl Batcher {
    /// Takes the queued requests from the front, up to [`MAX_ALERTS`] alerts (at least one).
    fn take(&self) -> Vec<(Prepared, Reply)> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let mut alerts = 0;
        let mut n = 0;
        for (p, _) in pending.iter() {
            if n > 0 && alerts + p.alerts() > MAX_ALERTS {
                break;
            }
            alerts += p.alerts();
            n += 1;
        }
        pending.drain(..n).collect()
    }
}

/// Queues a prepared request and answers it once the transaction that wrote it committed.
pub(crate) async fn submit(engine: &Engine, prepared: Prepared) -> Result<Vec<AlertResult>> {
    let batcher = engine.signal_batcher();
    // A writer's turn: one lane on PostgreSQL, all of them on SQLite.
    let lanes = match engine.db().backend() {
        Backend::Postgres => 1,
        Backend::Sqlite => LANES,
    };
    let (tx, mut rx) = oneshot::channel();
    batcher
        .pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((prepared, tx));
    loop {
        tokio::select! {
            biased;
            answer = &mut rx => return answer.unwrap_or_else(|_| Err(lost())),
            turn = batcher.turns.clone().acquire_many_owned(lanes) => {
                let Ok(turn) = turn else {
                    return Err(lost());
                };
                let batch = batcher.take();
                if batch.is_empty() {
                    continue;
                }
                let engine = engine.clone();
                let task = tokio::spawn(async move {
                    let written = write_batch(&engine, batch).await;
                    // The next batch may start; this one's requests are freed meanwhile.
                    drop(turn);
                    drop(written);
                });
                // A panic in the task drops the batch's replies: those requests get `lost`.
                let _ = task.await;
            }
        }
    }
}

/// The error a request gets when its batch never finished (a panic while writing it).
fn lost() -> Error {
    Error::Store(StoreError::other(
        "the alerts were not stored (the write was interrupted); send them again",
    ))
}

/// The batch's runs of requests that are written as one ([`Prepared::joins`]).
fn runs(batch: &[(Prepared, Reply)]) -> Vec<Vec<&Prepared>> {
    let mut runs: Vec<Vec<&Prepared>> = Vec::new();
    for (p, _) in batch {
        match runs.last_mut() {
            Some(run) if run[0].joins(p) => run.push(p),
            _ => runs.push(vec![p]),
        }
    }
    runs
}

/// Writes `runs` and their audit entries in one transaction.
async fn write_runs(
    engine: &Engine,
    runs: &[Vec<&Prepared>],
) -> Result<(Vec<Vec<AlertResult>>, bool)> {
    let txn = engine.db().write().await?;
    let mut keys: Vec<(i64, &str)> = runs
        .iter()
        .flatten()
        .flat_map(|p| p.fingerprints().map(move |f| (p.project_id(), f)))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    repo::signal::lock_fingerprints(&*txn, &keys).await?;
    let mut answers = Vec::new();
    let mut opened = false;
    for run in runs {
        let (results, new_cases) = write(&*txn, run).await?;
        answers.extend(results);
        opened |= new_cases;
    }
    let audits = runs
        .iter()
        .flatten()
        .filter_map(|p| p.audit.clone())
        .map(|mut e| {
            e.details = serde_json::json!({"status": "committed"});
            e
        })
        .collect();
    repo::audit::append_many(&*txn, audits, dispatch_core::now()).await?;
    txn.commit().await?;
    Ok((answers, opened))
}

/// Writes a batch in one transaction and answers each request; on a failure, writes each
/// request alone. Gives back the requests, for the caller to free once the turn is passed on.
async fn write_batch(engine: &Engine, batch: Vec<(Prepared, Reply)>) -> Vec<Prepared> {
    let together = write_runs(engine, &runs(&batch)).await;
    let mut written = Vec::with_capacity(batch.len());
    match together {
        Ok((answers, opened)) => {
            for ((p, reply), results) in batch.into_iter().zip(answers) {
                let _ = reply.send(Ok(results));
                written.push(p);
            }
            if opened {
                engine.wake_workers();
            }
        }
        Err(_) if batch.len() > 1 => {
            for (p, reply) in batch {
                let answer = write_runs(engine, &[vec![&p]]).await;
                if matches!(answer, Ok((_, true))) {
                    engine.wake_workers();
                }
                let _ = reply.send(answer.map(|(mut results, _)| results.remove(0)));
                written.push(p);
            }
        }
        Err(e) => {
            if let Some((p, reply)) = batch.into_iter().next() {
                let _ = reply.send(Err(e));
                written.push(p);
            }
        }
    }
    written
}
