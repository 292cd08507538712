//! The engine's metrics, recorded through the `metrics` facade: job attempts and failures (the
//! runner), the job queue's size (read when `/metrics` is scraped), and every provider call
//! (timed by the wrappers in [`metered`], put around each provider of the registry when the
//! engine is built). The binary installs the recorder that renders them; without one, recording
//! costs next to nothing.

pub(crate) mod metered;

use crate::Result;
use dispatch_store::repo;
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, Unit};
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

/// Job attempts started, by `kind`.
pub const JOB_ATTEMPTS: &str = "dispatch_job_attempts_total";
/// Job attempts that failed (timed out or returned an error), by `kind` and `last` (`true` when
/// the job gave up: it will not be retried).
pub const JOB_FAILURES: &str = "dispatch_job_failures_total";
/// How long job attempts took, by `kind` and `outcome` (`ok` or `error`).
pub const JOB_DURATION: &str = "dispatch_job_duration_seconds";
/// Jobs in the queue, by `kind` and `state`, when last scraped.
pub const JOB_QUEUE_DEPTH: &str = "dispatch_job_queue_depth";
/// How long the oldest due queued job has been waiting, by `kind` (0 when none is due).
pub const JOB_OLDEST_PENDING: &str = "dispatch_job_oldest_pending_age_seconds";
/// How long provider calls took, by `provider`, `capability` and `operation`.
pub const PROVIDER_DURATION: &str = "dispatch_provider_call_duration_seconds";
/// Provider calls that returned an error, by `provider`, `capability` and `operation`.
pub const PROVIDER_ERRORS: &str = "dispatch_provider_errors_total";

/// Statements this process has run on its database (queries and writes, in and out of
/// transactions; not `BEGIN`/`COMMIT`): `dispatch bench` reads it to report statements per request.
pub const DB_STATEMENTS: &str = "dispatch_db_statements_total";

/// Sets [`DB_STATEMENTS`] to the store's count (when `/metrics` is scraped).
pub fn record_db_statements() {
    counter!(DB_STATEMENTS).absolute(dispatch_store::db::statements_run());
}

/// Alerts received through the signal endpoints, by `source` and `outcome` (`new_case`,
/// `new_instance`, `deduplicated`, `snoozed`, `no_definition_matched`, `resolved`, …).
pub const SIGNALS_RECEIVED: &str = "dispatch_signals_received_total";
/// Alerts deduplicated into an earlier instance, by `source`.
pub const SIGNALS_DEDUPLICATED: &str = "dispatch_signals_deduplicated_total";
/// Alerts snoozed by a filter, by `source`.
pub const SIGNALS_SNOOZED: &str = "dispatch_signals_snoozed_total";

/// Describes the engine's series to the installed recorder (their `# HELP` lines). Call once,
/// after installing it.
pub fn describe() {
    describe_counter!(
        DB_STATEMENTS,
        "Statements run on the database (queries and writes; not BEGIN/COMMIT)."
    );
    describe_counter!(JOB_ATTEMPTS, "Job attempts started, by job kind.");
    describe_counter!(
        JOB_FAILURES,
        "Job attempts that failed, by job kind; last=\"true\" when the job gave up."
    );
    describe_histogram!(
        JOB_DURATION,
        Unit::Seconds,
        "Time job attempts took, by job kind and outcome."
    );
    describe_gauge!(
        JOB_QUEUE_DEPTH,
        "Jobs in the queue by kind and state (queued, running, succeeded, failed)."
    );
    describe_gauge!(
        JOB_OLDEST_PENDING,
        Unit::Seconds,
        "Age of the oldest queued job that is due, by job kind (0 when none is due)."
    );
    describe_histogram!(
        PROVIDER_DURATION,
        Unit::Seconds,
        "Time provider calls took, by provider slug, capability and operation."
    );
    describe_counter!(
        PROVIDER_ERRORS,
        "Provider calls that returned an error, by provider slug, capability and operation."
    );
    describe_counter!(
        SIGNALS_RECEIVED,
        "Alerts received through the signal endpoints, by source and outcome."
    );
    describe_counter!(
        SIGNALS_DEDUPLICATED,
        "Alerts deduplicated into an earlier instance, by source."
    );
    describe_counter!(SIGNALS_SNOOZED, "Alerts snoozed by a filter, by source.");
}

/// Counts a signal request's alerts by outcome.
pub(crate) fn signals(source: &'static str, outcomes: &[&'static str]) {
    let mut by: std::collections::BTreeMap<&'static str, u64> = Default::default();
    for o in outcomes {
        *by.entry(o).or_default() += 1;
    }
    for (outcome, n) in by {
        counter!(SIGNALS_RECEIVED, "source" => source, "outcome" => outcome).increment(n);
        match outcome {
            "deduplicated" => counter!(SIGNALS_DEDUPLICATED, "source" => source).increment(n),
            "snoozed" => counter!(SIGNALS_SNOOZED, "source" => source).increment(n),
            _ => {}
        }
    }
}

/// Records one job attempt: its duration and, when it failed, the failure.
pub(crate) fn job_attempt(kind: &str, elapsed: Duration, failed: Option<bool>) {
    let kind = kind.to_string();
    counter!(JOB_ATTEMPTS, "kind" => kind.clone()).increment(1);
    let outcome = if failed.is_some() { "error" } else { "ok" };
    metrics::histogram!(JOB_DURATION, "kind" => kind.clone(), "outcome" => outcome)
        .record(elapsed.as_secs_f64());
    if let Some(last) = failed {
        counter!(JOB_FAILURES, "kind" => kind, "last" => if last { "true" } else { "false" })
            .increment(1);
    }
}

/// The label sets the queue gauges were last set for, so a group that emptied is reported as 0
/// rather than left at its last value.
struct Seen {
    /// `(kind, state)` of the depth gauge.
    depth: BTreeSet<(String, String)>,
    /// `kind` of the oldest-pending gauge.
    ages: BTreeSet<String>,
}

static LAST_SEEN: Mutex<Seen> = Mutex::new(Seen {
    depth: BTreeSet::new(),
    ages: BTreeSet::new(),
});

impl crate::Jobs<'_> {
    /// Reads the job queue's size per kind and state, and the age of its oldest due job per
    /// kind, into their gauges. `/metrics` calls it on every scrape (one grouped query). The
    /// queue is the database's, so every replica reports the same values.
    pub async fn record_queue_metrics(self) -> Result<()> {
        let counts = repo::job::queue_counts(self.db().conn()).await?;
        let now = dispatch_core::now();
        let mut depth = BTreeSet::new();
        let mut ages = BTreeSet::new();
        for c in &counts {
            gauge!(JOB_QUEUE_DEPTH, "kind" => c.kind.clone(), "state" => c.state.clone())
                .set(c.jobs as f64);
            depth.insert((c.kind.clone(), c.state.clone()));
            ages.insert(c.kind.clone());
        }
        // Every kind in the queue has an age: its oldest due queued job's, else 0.
        for kind in &ages {
            let age = counts
                .iter()
                .filter(|c| &c.kind == kind && c.state == "queued")
                .filter_map(|c| c.earliest_run_at)
                .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
                .fold(0.0, f64::max);
            gauge!(JOB_OLDEST_PENDING, "kind" => kind.clone()).set(age);
        }
        let mut last = LAST_SEEN.lock().unwrap_or_else(|e| e.into_inner());
        for (kind, state) in last.depth.difference(&depth) {
            gauge!(JOB_QUEUE_DEPTH, "kind" => kind.clone(), "state" => state.clone()).set(0.0);
        }
        for kind in last.ages.difference(&ages) {
            gauge!(JOB_OLDEST_PENDING, "kind" => kind.clone()).set(0.0);
        }
        // Zeroed groups stay known, so they are zeroed again (never left stale) next time too.
        last.depth.extend(depth);
        last.ages.extend(ages);
        Ok(())
    }
}
