//! The job runner: claims runnable jobs, runs each with a timeout (then the next step of its flow
//! it handed on, without a claim), and retries failures with exponential backoff and jitter
//! until the job's attempts are spent. Woken in-process when a command enqueues jobs, and polls
//! as a fallback (other replicas, scheduled retries).

use super::dispatch::run;
use super::outcome::{taking_next, JobFailure};
use super::provision;
use crate::{Engine, Result};
use chrono::Duration as ChronoDuration;
use dispatch_core::job::JobKind;
use dispatch_store::model::job;
use dispatch_store::repo;
use std::time::Duration;
use tokio::sync::watch;

/// How the runner behaves.
#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// Most jobs claimed at once (never more than the free slots).
    pub batch: u64,
    /// Jobs run at once, each with the steps it hands on (1: one after the other, in claim
    /// order). Jobs wait mostly on the database's commits and on providers, so a few at once
    /// multiply a replica's job throughput; they are already safe to run side by side, as on
    /// different replicas.
    pub concurrency: usize,
    /// Longest a job may run.
    pub job_timeout: Duration,
    /// A running job whose claim is older than this is taken over (its worker died).
    pub lease: Duration,
    /// First retry delay; doubled each attempt, capped at `max_backoff`.
    pub backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// Longest sleep between looks at the queue when nothing wakes the runner. An idle runner
    /// sleeps until the next queued job is due (or a claim's lease runs out), or until it is
    /// woken: by a command of this process, or on PostgreSQL by any replica's enqueue (LISTEN);
    /// this is the fallback for what neither covers (a separate `dispatch worker` process on
    /// SQLite picks new jobs up within it).
    pub poll: Duration,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            batch: 16,
            concurrency: 1,
            job_timeout: Duration::from_secs(60),
            // Longer than any job may run, so a live claim is never taken over.
            lease: Duration::from_secs(120),
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(600),
            poll: Duration::from_secs(5),
        }
    }
}

/// Runs jobs for one process.
#[derive(Clone)]
pub struct Runner {
    engine: Engine,
    worker: String,
    options: RunnerOptions,
}

impl Runner {
    /// A runner named after the host and process.
    pub fn new(engine: Engine, options: RunnerOptions) -> Self {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        let worker = format!("{host}:{}:{:x}", std::process::id(), rand_suffix());
        Self {
            engine,
            worker,
            options,
        }
    }

    /// This runner's name, recorded on the jobs it claims.
    pub fn worker(&self) -> &str {
        &self.worker
    }

    /// Runs every job that is runnable now, and the ones they enqueue, until none is left.
    /// Returns how many ran. Tests and the bench drive the queue with this.
    pub async fn run_pending(&self) -> Result<usize> {
        self.pump(None).await
    }

    /// On SQLite (one process), jobs left `running` by a crash are requeued at once; on
    /// PostgreSQL another replica may be running them, so they wait for their lease to expire.
    /// Call once when the process starts, before any runner runs.
    pub async fn recover(&self) -> Result<u64> {
        if self.engine.db().backend() != dispatch_store::Backend::Sqlite {
            return Ok(0);
        }
        let txn = self.engine.db().write().await?;
        let n = repo::job::release_all_running(&*txn).await?;
        txn.commit().await?;
        if n > 0 {
            tracing::warn!(jobs = n, "requeued jobs a previous run left unfinished");
        }
        Ok(n)
    }

    /// Runs jobs until `shutdown` turns true; the job steps in progress are finished first.
    pub async fn run_until(&self, shutdown: watch::Receiver<bool>) {
        let listener = self.engine.listen_for_announcements();
        tracing::info!(worker = %self.worker, "job runner started");
        if let Err(e) = self.pump(Some(shutdown)).await {
            tracing::error!(error = %e, "the job runner stopped on an error");
        }
        if let Some(l) = listener {
            l.abort();
            self.engine.credentials_heard(false);
        }
        tracing::info!(worker = %self.worker, "job runner stopped");
    }

    /// Keeps up to `concurrency` claimed jobs running, each as a task of its own, and claims
    /// more as they finish: a slow job holds one slot, never the others (claiming a batch and
    /// waiting for all of it made every batch as slow as its slowest job). More are claimed once
    /// a quarter of the slots are free, or none is running, so a claim serves several jobs.
    ///
    /// With `shutdown`, runs until it turns true, sleeping while the queue is empty (see
    /// [`RunnerOptions::poll`]); a claim that fails is logged and tried again after the poll
    /// interval. Without, returns once nothing is running and nothing runnable is left (a failed
    /// claim is the error). Returns how many jobs ran.
    async fn pump(&self, mut shutdown: Option<watch::Receiver<bool>>) -> Result<usize> {
        let slots = self.options.concurrency.max(1);
        let refill = slots.div_ceil(4);
        let mut running = tokio::task::JoinSet::new();
        let mut ran = 0;
        // Whether the queue may hold runnable jobs this runner has not claimed.
        let mut more = true;
        loop {
            let stopping = shutdown.as_ref().is_some_and(|s| *s.borrow());
            let free = slots - running.len();
            if !stopping && more && (running.is_empty() || free >= refill) {
                let limit = (free as u64).min(self.options.batch.max(1));
                let now = dispatch_core::now();
                match repo::job::claim(
                    self.engine.db(),
                    &self.worker,
                    limit,
                    now,
                    now - self.lease(),
                )
                .await
                {
                    Ok(jobs) => {
                        more = jobs.len() as u64 == limit;
                        for j in jobs {
                            let me = self.clone();
                            let stop = shutdown.clone();
                            running.spawn(async move { me.run_one(j, now, stop).await });
                        }
                        if more && running.len() < slots {
                            continue;
                        }
                    }
                    Err(e) if shutdown.is_some() => {
                        tracing::error!(error = %e, "claiming jobs failed");
                        more = false;
                    }
                    Err(e) => {
                        while running.join_next().await.is_some() {}
                        return Err(e.into());
                    }
                }
            }
            if running.is_empty() && (stopping || shutdown.is_none()) {
                return Ok(ran);
            }
            // Wait for a job to finish, a wake-up, the next due job, or the shutdown.
            let idle = running.is_empty();
            let wait = if idle {
                self.idle_wait().await
            } else {
                self.options.poll
            };
            let listening = shutdown.is_some();
            let stop = async {
                match shutdown.as_mut() {
                    Some(s) if !stopping => {
                        let _ = s.changed().await;
                    }
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                Some(done) = running.join_next(), if !idle => {
                    match done {
                        Ok(n) => ran += n,
                        Err(e) => tracing::error!(error = %e, "a job's task failed"),
                    }
                    // It may have enqueued the next step of its flow.
                    more = true;
                }
                // Only the long-running runner takes the process's wake-ups: another may be
                // waiting for them.
                _ = self.engine.woken(), if listening => more = true,
                _ = tokio::time::sleep(wait) => more = true,
                _ = stop => {}
            }
        }
    }

    /// How long a claim holds.
    fn lease(&self) -> ChronoDuration {
        ChronoDuration::from_std(self.options.lease).unwrap_or(ChronoDuration::minutes(5))
    }

    /// How long an idle runner may sleep: until the next queued job is due or the oldest claim's
    /// lease runs out, at most [`RunnerOptions::poll`].
    async fn idle_wait(&self) -> Duration {
        let next = match repo::job::next_due(self.engine.db().conn()).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "reading the next due job failed");
                return self.options.poll;
            }
        };
        let lease = self.lease();
        let due = [next.queued, next.claimed.map(|t| t + lease)]
            .into_iter()
            .flatten()
            .min();
        due.and_then(|t| (t - dispatch_core::now()).to_std().ok())
            .map_or(self.options.poll, |d| d.min(self.options.poll))
    }

    /// Runs one claimed job, then the next step it handed on (claimed for this runner in the
    /// job's own transaction), and so on — unless the runner is stopping, when that step goes
    /// back to the queue. Answers how many jobs ran. A claim younger than half the lease cannot
    /// have been taken over (another worker waits a whole lease), so only an older one is
    /// renewed — and checked — before the job runs; the common case costs no extra write.
    async fn run_one(
        &self,
        j: job::Model,
        claimed_at: chrono::DateTime<chrono::Utc>,
        stop: Option<watch::Receiver<bool>>,
    ) -> usize {
        if dispatch_core::now() - claimed_at >= self.lease() / 2 && !self.still_held(&j).await {
            return 0;
        }
        let mut ran = 1;
        let mut next = self.run_claimed(j).await;
        while let Some(j) = next.take() {
            if stop.as_ref().is_some_and(|s| *s.borrow()) {
                self.release(&j).await;
                break;
            }
            ran += 1;
            next = self.run_claimed(j).await;
        }
        ran
    }

    /// Renews an old claim; false (logged) when it is lost or cannot be renewed.
    async fn still_held(&self, j: &job::Model) -> bool {
        match self.renew(j).await {
            Ok(true) => true,
            Ok(false) => {
                tracing::warn!(job.id = j.id, job.kind = %j.kind, "claim lost to another worker; not running it");
                false
            }
            Err(e) => {
                tracing::error!(job.id = j.id, error = %e, "renewing a claim failed");
                false
            }
        }
    }

    /// Hands a claimed job this runner will not run back to the queue.
    async fn release(&self, j: &job::Model) {
        let released = async {
            let txn = self.engine.db().write().await?;
            let held = repo::job::release(&*txn, j).await?;
            txn.commit().await?;
            Ok::<_, crate::Error>(held)
        }
        .await;
        if let Err(e) = released {
            tracing::error!(job.id = j.id, error = %e, "handing a job back failed; it waits for its claim to lapse");
        }
    }

    /// Runs a job whose claim is held, and records its failure for a retry. Answers the next
    /// step it handed on, claimed for this runner, when it succeeded.
    async fn run_claimed(&self, j: job::Model) -> Option<job::Model> {
        let t0 = std::time::Instant::now();
        let (outcome, next) = taking_next(async {
            match tokio::time::timeout(self.options.job_timeout, run(&self.engine, &j)).await {
                Ok(r) => r,
                Err(_) => Err(JobFailure(format!(
                    "timed out after {:?}",
                    self.options.job_timeout
                ))),
            }
        })
        .await;
        let elapsed = t0.elapsed();
        let Err(JobFailure(error)) = outcome else {
            crate::telemetry::job_attempt(&j.kind, elapsed, None);
            let elapsed_us = elapsed.as_micros() as u64;
            tracing::debug!(job.id = j.id, job.kind = %j.kind, elapsed_us, "job succeeded");
            return next;
        };
        // Whether the failed job's transaction committed its next step is unknown: hand it
        // back (nothing happens when it was not written).
        if let Some(n) = next {
            self.release(&n).await;
        }
        let last = j.attempts >= j.max_attempts;
        crate::telemetry::job_attempt(&j.kind, elapsed, Some(last));
        tracing::warn!(job.id = j.id, job.kind = %j.kind, attempt = j.attempts, last, error = %error, "job failed");
        let retry_at = (!last).then(|| dispatch_core::now() + self.backoff(j.attempts));
        let result = async {
            let txn = self.engine.db().write().await?;
            repo::job::finish(&*txn, &j, Err((&error, retry_at))).await?;
            txn.commit().await?;
            if j.kind == dispatch_core::job::Provision::KIND {
                if last {
                    provision::give_up(&self.engine, &j, &error).await?;
                } else {
                    provision::note_error(&self.engine, &j, &error).await?;
                }
            }
            Ok::<_, crate::Error>(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(job.id = j.id, error = %e, "recording a job failure failed");
        }
        None
    }

    /// Renews the claim on `j` before it runs; false when another worker took it over.
    async fn renew(&self, j: &job::Model) -> Result<bool> {
        let txn = self.engine.db().write().await?;
        let held = repo::job::renew(&*txn, j, dispatch_core::now()).await?;
        txn.commit().await?;
        Ok(held)
    }

    /// Exponential backoff with ±20% jitter.
    fn backoff(&self, attempts: i32) -> ChronoDuration {
        let base =
            self.options.backoff.as_millis() as f64 * 2f64.powi(attempts.saturating_sub(1).min(20));
        let capped = base.min(self.options.max_backoff.as_millis() as f64);
        let jitter = 0.8 + 0.4 * (rand_suffix() % 1000) as f64 / 1000.0;
        ChronoDuration::milliseconds((capped * jitter) as i64)
    }
}

/// A cheap random number (jitter and worker names need no cryptographic quality).
fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}
