//! The load: `concurrency` senders posting Alertmanager notifications over keep-alive
//! connections until the alert budget or the time is used up. Each records its request
//! latencies, what the server answered for each alert, and the instance ids it was given.

use super::workload::{Mix, Sender};
use crate::bench::stats::Samples;
use anyhow::{bail, Context};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// When the load stops.
#[derive(Debug, Clone, Copy)]
pub enum Until {
    /// After this many alerts.
    Alerts(u64),
    /// At this instant.
    Deadline(Instant),
}

/// What every sender shares.
pub struct Shared {
    /// `http://127.0.0.1:PORT/api/v1/signals/alertmanager`.
    pub url: String,
    /// `Bearer …`.
    pub auth: String,
    /// Alerts still to send (with [`Until::Alerts`]).
    budget: AtomicI64,
    until: Until,
    /// Alerts answered 2xx so far, for the memory samples.
    pub accepted: AtomicU64,
    /// Whether the server is killed during the run: a request that fails then is sent again.
    pub may_fail: bool,
    /// Offered load (alerts per second): each notification is due when the alerts before it
    /// are, at this rate, and its latency counts from then (a late sender's wait included).
    /// `None`: every sender sends its next notification as soon as the last is answered.
    rate: Option<f64>,
    /// When the load started and the alerts scheduled so far, for [`Shared::rate`].
    start: Instant,
    scheduled: AtomicU64,
}

impl Shared {
    /// Shared state for a run.
    pub fn new(url: String, auth: String, until: Until, may_fail: bool, rate: Option<f64>) -> Self {
        let budget = match until {
            Until::Alerts(n) => i64::try_from(n).unwrap_or(i64::MAX),
            Until::Deadline(_) => i64::MAX,
        };
        Self {
            url,
            auth,
            budget: AtomicI64::new(budget),
            until,
            accepted: AtomicU64::new(0),
            may_fail,
            rate,
            start: Instant::now(),
            scheduled: AtomicU64::new(0),
        }
    }

    /// When a notification of `alerts` alerts is due: now without an offered rate.
    fn due(&self, alerts: usize) -> Instant {
        let Some(rate) = self.rate else {
            return Instant::now();
        };
        let before = self.scheduled.fetch_add(alerts as u64, Ordering::Relaxed);
        self.start + Duration::from_secs_f64(before as f64 / rate)
    }

    /// Takes up to `want` alerts from the budget; 0 when the run is over.
    fn claim(&self, want: usize) -> usize {
        if let Until::Deadline(d) = self.until {
            if Instant::now() >= d {
                return 0;
            }
        }
        let want = want as i64;
        let mut left = self.budget.load(Ordering::Relaxed);
        loop {
            if left <= 0 {
                return 0;
            }
            let take = want.min(left);
            match self.budget.compare_exchange_weak(
                left,
                left - take,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return take as usize,
                Err(now) => left = now,
            }
        }
    }
}

/// One sender's tally.
#[derive(Debug, Default)]
pub struct Tally {
    /// Latency of each request answered 2xx (the attempt that was answered).
    pub latencies: Samples,
    /// Requests answered 2xx.
    pub requests: u64,
    /// Alerts in them.
    pub alerts: u64,
    /// Of which firing (each must be stored as an instance).
    pub firing: u64,
    /// Requests that got no answer (the server was killed) and were sent again.
    pub retried: u64,
    /// Per-alert outcomes as answered (`new_case`, `deduplicated`, `resolved`, …).
    pub outcomes: BTreeMap<String, u64>,
    /// Every instance id answered.
    pub instance_ids: Vec<i64>,
}

impl Tally {
    /// Adds another sender's tally.
    pub fn merge(&mut self, o: Tally) {
        self.latencies.extend(&o.latencies);
        self.requests += o.requests;
        self.alerts += o.alerts;
        self.firing += o.firing;
        self.retried += o.retried;
        for (k, v) in o.outcomes {
            *self.outcomes.entry(k).or_default() += v;
        }
        self.instance_ids.extend(o.instance_ids);
    }
}

#[derive(Deserialize)]
struct Answer {
    received: usize,
    alerts: Vec<AlertAnswer>,
}

#[derive(Deserialize)]
struct AlertAnswer {
    outcome: String,
    instance_id: Option<i64>,
}

/// How long a request may go unanswered while the server restarts.
const RESTART_GRACE: Duration = Duration::from_secs(60);

/// Sender `id`'s loop: sends notifications until the run is over.
pub async fn sender(
    id: usize,
    mix: Mix,
    http: reqwest::Client,
    shared: Arc<Shared>,
) -> anyhow::Result<Tally> {
    let mut s = Sender::new(id, mix);
    let mut t = Tally::default();
    loop {
        let want = s.size();
        let got = shared.claim(want);
        if got == 0 {
            return Ok(t);
        }
        let n = s.build(got);
        let due = shared.due(got);
        tokio::time::sleep_until(due.into()).await;
        let first = Instant::now();
        let (answer, took) = loop {
            let sent = if shared.rate.is_some() {
                due
            } else {
                Instant::now()
            };
            let res = http
                .post(&shared.url)
                .header("authorization", &shared.auth)
                .header("content-type", "application/json")
                .body(n.body.clone())
                .send()
                .await;
            let failed = match res {
                Ok(r) if r.status().is_success() => {
                    let bytes = r.bytes().await;
                    match bytes {
                        Ok(b) => break (b, sent.elapsed()),
                        Err(e) => e.to_string(),
                    }
                }
                Ok(r) => {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    let retry = status.as_u16() == 429 || status.is_server_error();
                    if !(retry && shared.may_fail) {
                        bail!("sender {id}: {status}: {}", &text[..text.len().min(300)]);
                    }
                    format!("{status}")
                }
                Err(e) => e.to_string(),
            };
            if !shared.may_fail || first.elapsed() > RESTART_GRACE {
                bail!("sender {id}: the request failed: {failed}");
            }
            // The server was killed: send the same notification again, as Alertmanager does.
            t.retried += 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let a: Answer = serde_json::from_slice(&answer)
            .with_context(|| format!("sender {id}: an answer that is not the ingest's"))?;
        anyhow::ensure!(
            a.received == n.alerts && a.alerts.len() == n.alerts,
            "sender {id}: sent {} alerts, the answer names {}",
            n.alerts,
            a.alerts.len()
        );
        t.latencies.push(took);
        t.requests += 1;
        t.alerts += n.alerts as u64;
        t.firing += n.firing as u64;
        for r in a.alerts {
            if let Some(i) = r.instance_id {
                t.instance_ids.push(i);
            }
            match t.outcomes.get_mut(r.outcome.as_str()) {
                Some(c) => *c += 1,
                None => {
                    t.outcomes.insert(r.outcome, 1);
                }
            }
        }
        shared
            .accepted
            .fetch_add(n.alerts as u64, Ordering::Relaxed);
    }
}

/// Runs `concurrency` senders to the end and adds up their tallies.
pub async fn run(
    concurrency: usize,
    mix: Mix,
    http: &reqwest::Client,
    shared: &Arc<Shared>,
) -> anyhow::Result<Tally> {
    let mut tasks = tokio::task::JoinSet::new();
    for id in 0..concurrency {
        tasks.spawn(sender(id, mix, http.clone(), shared.clone()));
    }
    let mut all = Tally::default();
    while let Some(r) = tasks.join_next().await {
        all.merge(r.context("a sender panicked")??);
    }
    Ok(all)
}
