//! `dispatch bench signals`: alert ingestion throughput with deduplication, beside floors
//! measured in the same run, the server's memory over the run, and (with `--kill-after`) what
//! survives a `kill -9`.
//!
//! The bench starts `dispatch serve` on a fresh database (a temporary SQLite file unless
//! `--database-url` names one), creates a definition that opens cases, and has
//! `--concurrency` senders post Alertmanager v4 notifications (10–50 alerts each, most of
//! them repeats that are deduplicated into the case their first copy opened) until
//! `--alerts` alerts or `--duration` is reached. Every instance id the server answered must be
//! stored afterwards.

mod floor;
mod load;
mod workload;

use super::server::{self, ServerProcess};
use super::sql::{rows, scalar};
use super::ScratchDir;
use anyhow::{bail, Context};
use dispatch_store::Db;
use load::{Shared, Tally, Until};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use workload::{Mix, Sender, BENCH_LABEL};

/// `dispatch bench signals` options.
#[derive(Debug, Clone, clap::Args)]
pub struct SignalBenchArgs {
    /// Database to bench on (default: a temporary SQLite file). Use an empty database: the
    /// bench creates its definitions in the default project.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Alerts to send (the run ends when they are all answered).
    #[arg(long, default_value_t = 200_000, conflicts_with = "duration")]
    pub alerts: u64,
    /// Send for this long instead of a number of alerts (`30s`, `2m`).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Senders posting at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Fewest alerts per notification.
    #[arg(long, default_value_t = 10)]
    pub min_batch: usize,
    /// Most alerts per notification.
    #[arg(long, default_value_t = 50)]
    pub max_batch: usize,
    /// Share of alerts that are new (a new fingerprint, which opens a case); the others repeat
    /// an alert the sender sent before and are deduplicated.
    #[arg(long, default_value_t = 0.1)]
    pub new_ratio: f64,
    /// Share of repeated alerts sent as resolved.
    #[arg(long, default_value_t = 0.02)]
    pub resolved_ratio: f64,
    /// Offer this many alerts per second instead of sending as fast as answers come (the
    /// senders stay at most `--concurrency` in flight); latencies count from when each
    /// notification was due, so a server that falls behind shows it.
    #[arg(long, value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// Kill the server with SIGKILL this long into the load (`5s`), restart it and go on; the
    /// senders send again what got no answer, as Alertmanager does.
    #[arg(long, value_parser = parse_duration)]
    pub kill_after: Option<Duration>,
    /// How long each floor is measured.
    #[arg(long, value_parser = parse_duration, default_value = "3s")]
    pub floor_time: Duration,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A positive number of alerts per second.
fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(r) if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err(format!(
            "{s:?} is not a positive number of alerts per second"
        )),
    }
}

/// `500ms`, `5s`, `2m`, or a number of seconds.
pub(super) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 500ms, 5s or 2m"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("{s:?}: the unit must be ms, s or m")),
    };
    if !(secs.is_finite() && secs >= 0.0) {
        return Err(format!("{s:?} is not a duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Memory samples taken over the load: (alerts answered so far, RSS MB).
#[derive(Debug, Default, Clone)]
struct Memory(Vec<(u64, f64)>);

impl Memory {
    /// RSS when `share` (0–1) of `total` alerts had been answered.
    fn at(&self, share: f64, total: u64) -> f64 {
        let goal = (share * total as f64) as u64;
        self.0
            .iter()
            .find(|(n, _)| *n >= goal)
            .or(self.0.last())
            .map_or(0.0, |(_, mb)| *mb)
    }
}

/// What the bench reports.
#[derive(Debug)]
struct Report {
    backend: &'static str,
    concurrency: usize,
    /// The offered rate (alerts/s), if the load was paced.
    rate: Option<f64>,
    mix: Mix,
    tally: Tally,
    seconds: f64,
    stored: i64,
    lost: usize,
    cases: i64,
    floor_http: floor::Rate,
    floor_insert: floor::Rate,
    floor_batch: usize,
    rss_idle_mb: f64,
    memory: Memory,
    rss_peak_mb: f64,
    killed: Option<Killed>,
}

/// What the kill did.
#[derive(Debug, Clone, Copy)]
struct Killed {
    at_s: f64,
    accepted_before: u64,
    restart_ms: f64,
}

/// Targets of the issue (on 2 cores).
const TARGET_ALERTS_PER_S: f64 = 10_000.0;
const TARGET_P99_MS: f64 = 20.0;

fn r3(x: f64) -> Value {
    json!((x * 1000.0).round() / 1000.0)
}

fn r1(x: f64) -> Value {
    json!((x * 10.0).round() / 10.0)
}

impl Report {
    fn alerts_per_s(&self) -> f64 {
        self.tally.alerts as f64 / self.seconds.max(1e-9)
    }

    fn requests_per_s(&self) -> f64 {
        self.tally.requests as f64 / self.seconds.max(1e-9)
    }

    fn floor_alerts_per_s(&self) -> f64 {
        self.floor_insert.per_second() * self.floor_batch as f64
    }

    fn rss(&self) -> (f64, f64, f64) {
        let n = self.tally.alerts;
        (
            self.memory.at(0.05, n),
            self.memory.at(0.5, n),
            self.memory.at(1.0, n),
        )
    }

    fn to_json(&self) -> Value {
        let t = &self.tally;
        let (start, mid, end) = self.rss();
        let mut v = json!({
            "backend": self.backend,
            "concurrency": self.concurrency,
            "min_batch": self.mix.min_batch,
            "max_batch": self.mix.max_batch,
            "new_ratio": self.mix.new_ratio,
            "seconds": r3(self.seconds),
            "requests": t.requests,
            "alerts_accepted": t.alerts,
            "firing_accepted": t.firing,
            "instances_answered": t.instance_ids.len(),
            "instances_stored": self.stored,
            "lost": self.lost,
            "cases": self.cases,
            "retried_requests": t.retried,
            "outcomes": t.outcomes,
            "alerts_per_s": self.alerts_per_s().round(),
            "requests_per_s": self.requests_per_s().round(),
            "p50_ms": r3(t.latencies.p50()),
            "p99_ms": r3(t.latencies.p99()),
            "max_ms": r3(t.latencies.percentile(100.0)),
            "floor_http_per_s": self.floor_http.per_second().round(),
            "floor_http_p50_ms": r3(self.floor_http.latencies.p50()),
            "floor_http_p99_ms": r3(self.floor_http.latencies.p99()),
            "floor_insert_batch": self.floor_batch,
            "floor_insert_txn_per_s": self.floor_insert.per_second().round(),
            "floor_insert_alerts_per_s": self.floor_alerts_per_s().round(),
            "floor_insert_p50_ms": r3(self.floor_insert.latencies.p50()),
            "floor_insert_p99_ms": r3(self.floor_insert.latencies.p99()),
            "rss_idle_mb": r1(self.rss_idle_mb),
            "rss_start_mb": r1(start),
            "rss_mid_mb": r1(mid),
            "rss_end_mb": r1(end),
            "rss_peak_mb": r1(self.rss_peak_mb),
        });
        if let Some(rate) = self.rate {
            v["offered_alerts_per_s"] = json!(rate);
        }
        if let Some(k) = self.killed {
            v["killed_at_s"] = r3(k.at_s);
            v["accepted_before_kill"] = json!(k.accepted_before);
            v["restart_ms"] = r1(k.restart_ms);
        }
        v
    }

    fn to_table(&self) -> String {
        use std::fmt::Write;
        let t = &self.tally;
        let verdict = |ok: bool| if ok { "ok" } else { "MISSED" };
        let (start, mid, end) = self.rss();
        let mut o = String::new();
        let _ = writeln!(
            o,
            "dispatch bench signals: {} backend, {} senders, {}-{} alerts per notification, {:.0}% new",
            self.backend,
            self.concurrency,
            self.mix.min_batch,
            self.mix.max_batch,
            self.mix.new_ratio * 100.0
        );
        let _ = writeln!(
            o,
            "sent {} alerts in {} requests over {:.1} s; outcomes: {}",
            t.alerts,
            t.requests,
            self.seconds,
            t.outcomes
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(rate) = self.rate {
            let _ = writeln!(
                o,
                "offered {rate:.0} alerts/s (latency counted from when each notification was due)"
            );
        }
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "ingest        {:>9.0} alerts/s  {:>7.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms   (targets >= {TARGET_ALERTS_PER_S:.0} alerts/s {}, p99 <= {TARGET_P99_MS} ms {})",
            self.alerts_per_s(),
            self.requests_per_s(),
            t.latencies.p50(),
            t.latencies.p99(),
            verdict(self.alerts_per_s() >= TARGET_ALERTS_PER_S),
            verdict(t.latencies.p99() <= TARGET_P99_MS),
        );
        let _ = writeln!(
            o,
            "floor: insert {:>9.0} alerts/s  {:>7.0} txn/s  p50 {:>7.3} ms  p99 {:>7.3} ms   (one transaction, one {}-row insert, raw driver)",
            self.floor_alerts_per_s(),
            self.floor_insert.per_second(),
            self.floor_insert.latencies.p50(),
            self.floor_insert.latencies.p99(),
            self.floor_batch
        );
        let _ = writeln!(
            o,
            "floor: HTTP   {:>9} {:>18.0} req/s  p50 {:>7.3} ms  p99 {:>7.3} ms   (GET /healthz)",
            "",
            self.floor_http.per_second(),
            self.floor_http.latencies.p50(),
            self.floor_http.latencies.p99()
        );
        let _ = writeln!(
            o,
            "\nRSS: idle {:.1} MB; at 5% of the alerts {start:.1} MB, at 50% {mid:.1} MB, at the end {end:.1} MB; peak {:.1} MB",
            self.rss_idle_mb, self.rss_peak_mb
        );
        let _ = writeln!(
            o,
            "durability: {} firing alerts accepted, {} instance ids answered, {} stored, {} answered but missing  {}",
            t.firing,
            t.instance_ids.len(),
            self.stored,
            self.lost,
            verdict(self.lost == 0 && self.stored >= t.instance_ids.len() as i64)
        );
        if let Some(k) = self.killed {
            let _ = writeln!(
                o,
                "kill -9 at {:.1} s (after {} alerts answered); back in {:.0} ms; {} requests sent again",
                k.at_s, k.accepted_before, k.restart_ms, t.retried
            );
        }
        let _ = writeln!(o, "cases opened: {}", self.cases);
        o
    }
}

/// The ids of the default project, the bench's definition and the floor's.
struct Setup {
    token: String,
    project_id: i64,
    definition_id: i64,
    floor_definition_id: i64,
}

/// Migrates, mints an admin token and creates the definitions over the API.
async fn setup(db: &Db, http: &reqwest::Client, base: &str) -> anyhow::Result<Setup> {
    let engine = dispatch_engine::Engine::new(db.clone());
    let (token, _) = engine
        .credentials()
        .create("bench@dispatch.local", "bench", "admin")
        .await?;
    let define = |body: Value| {
        let req = http
            .post(format!("{base}/api/v1/projects/default/signal-definitions"))
            .bearer_auth(&token)
            .json(&body);
        async move {
            let r = req.send().await?;
            let status = r.status();
            let v: Value = r.json().await?;
            anyhow::ensure!(status.is_success(), "creating a definition: {status} {v}");
            v["id"].as_i64().context("a definition without an id")
        }
    };
    // One that never matches the load, as real projects have many.
    define(json!({"name": "Disk almost full", "source": "alertmanager",
        "match": "alertname=\"DiskAlmostFull\"", "create_case": true}))
    .await?;
    let definition_id = define(json!({"name": "Bench alerts", "source": "alertmanager",
        "match": format!("{}=\"{}\", severity=~\"critical|warning\"", BENCH_LABEL.0, BENCH_LABEL.1),
        "create_case": true, "dedup_window_seconds": 3600,
        "entity_types": [{"name": "host", "label": "instance"}, {"name": "service", "label": "service"}]}))
    .await?;
    let floor_definition_id = define(json!({"name": "Bench floor (not matched)",
        "source": "alertmanager", "match": "alertname=\"BenchFloor\"", "enabled": false}))
    .await?;
    let project_id = scalar(
        db.conn(),
        "SELECT project_id FROM signal_definitions WHERE id = ?",
        vec![definition_id.into()],
    )
    .await?;
    Ok(Setup {
        token,
        project_id,
        definition_id,
        floor_definition_id,
    })
}

/// The floor's rows: one typical notification's alerts as the server stores them.
fn floor_rows(mix: Mix) -> anyhow::Result<Vec<floor::Row>> {
    let mut s = Sender::new(9_999, mix);
    let size = (mix.min_batch + mix.max_batch) / 2;
    let n = s.build(size);
    let v: Value = serde_json::from_str(&n.body)?;
    let alerts = v["alerts"].as_array().context("no alerts")?;
    Ok(alerts
        .iter()
        .map(|a| floor::Row {
            fingerprint: a["fingerprint"].as_str().unwrap_or("fp").to_string(),
            title: a["annotations"]["summary"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            labels: a["labels"].to_string(),
            raw: a.to_string(),
        })
        .collect())
}

/// When the kill comes: the load's start, and how long into it.
struct KillAt {
    started: Instant,
    after: Duration,
}

/// Kills the server `at.after` into the load and starts it again on the same port.
async fn kill_and_restart(
    server: &mut ServerProcess,
    (url, log): (&str, &std::path::Path),
    http: &reqwest::Client,
    shared: &Shared,
    at: KillAt,
    pid: &AtomicU32,
) -> anyhow::Result<Killed> {
    let KillAt { started, after } = at;
    tokio::time::sleep(after).await;
    let accepted_before = shared.accepted.load(Ordering::Relaxed);
    let at_s = started.elapsed().as_secs_f64();
    server.kill9().await?;
    let port = server.port();
    let respawned = Instant::now();
    let mut fresh = ServerProcess::spawn_at(url, log, port)?;
    fresh.wait_ready(http, respawned).await?;
    let restart_ms = respawned.elapsed().as_secs_f64() * 1000.0;
    pid.store(fresh.pid(), Ordering::Relaxed);
    *server = fresh;
    eprintln!("bench: killed the server at {at_s:.1} s, back in {restart_ms:.0} ms");
    Ok(Killed {
        at_s,
        accepted_before,
        restart_ms,
    })
}

/// Every answered instance id that is not stored.
async fn missing(db: &Db, definition_id: i64, answered: &mut [i64]) -> anyhow::Result<usize> {
    let stored: Vec<i64> = rows(
        db.conn(),
        "SELECT id FROM signal_instances WHERE definition_id = ? ORDER BY id",
        vec![definition_id.into()],
    )
    .await?
    .iter()
    .map(|r| r.try_get_by_index::<i64>(0))
    .collect::<Result<_, _>>()?;
    answered.sort_unstable();
    Ok(answered
        .iter()
        .filter(|id| stored.binary_search(id).is_err())
        .count())
}

/// Runs the signal bench.
pub async fn run(args: SignalBenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    anyhow::ensure!(
        args.min_batch >= 1 && args.min_batch <= args.max_batch,
        "--min-batch must be at least 1 and at most --max-batch"
    );
    anyhow::ensure!(
        (0.0..=1.0).contains(&args.new_ratio) && (0.0..=1.0).contains(&args.resolved_ratio),
        "--new-ratio and --resolved-ratio are shares between 0 and 1"
    );
    let mix = Mix {
        min_batch: args.min_batch,
        max_batch: args.max_batch,
        new_ratio: args.new_ratio,
        resolved_ratio: args.resolved_ratio,
    };
    let scratch = ScratchDir::new()?;
    let url = match &args.database_url {
        Some(u) => crate::config::normalise_database_url(u),
        None => format!("sqlite://{}", scratch.path().join("signals.db").display()),
    };
    eprintln!("bench: signals on {}", dispatch_store::db::redact(&url));
    let db = Db::connect(&url)
        .await
        .context("cannot open the database")?;
    db.migrate().await?;
    dispatch_store::seed::ensure_defaults(&db).await?;
    let http = server::load_client(args.concurrency)?;
    let log = scratch.path().join("serve.log");
    let spawned = Instant::now();
    let mut server = ServerProcess::spawn(&url, &log)?;
    server.wait_ready(&http, spawned).await?;
    let base = server.base.clone();
    let s = setup(&db, &http, &base)
        .await
        .map_err(|e| e.context(format!("the bench's set-up failed{}", server.log_tail())))?;

    eprintln!("bench: floors ({} s each)", args.floor_time.as_secs_f64());
    let floor_http = floor::http(&http, &base, args.concurrency, args.floor_time).await?;
    let rows = floor_rows(mix)?;
    let floor_batch = rows.len();
    let floor_insert = floor::insert(
        &db,
        floor::InsertFloor {
            project_id: s.project_id,
            definition_id: s.floor_definition_id,
            rows,
        },
        args.concurrency,
        args.floor_time,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle_mb = server.memory_mb("VmRSS")?;

    let until = match args.duration {
        Some(d) => Until::Deadline(Instant::now() + d),
        None => Until::Alerts(args.alerts),
    };
    eprintln!("bench: sending ({until:?}, {} senders)", args.concurrency);
    let shared = Arc::new(Shared::new(
        format!("{base}/api/v1/signals/alertmanager"),
        format!("Bearer {}", s.token),
        until,
        args.kill_after.is_some(),
        args.rate,
    ));
    let pid = Arc::new(AtomicU32::new(server.pid()));
    // Memory over the load: (alerts answered so far, RSS) every 200 ms.
    let memory = Arc::new(std::sync::Mutex::new(Memory::default()));
    let sampler = {
        let (shared, pid, memory) = (shared.clone(), pid.clone(), memory.clone());
        tokio::spawn(async move {
            loop {
                let n = shared.accepted.load(Ordering::Relaxed);
                if let Ok(mb) = server::memory_mb(pid.load(Ordering::Relaxed), "VmRSS") {
                    memory
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                        .push((n, mb));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let started = Instant::now();
    let load = load::run(args.concurrency, mix, &http, &shared);
    let (tally, killed) = match args.kill_after {
        None => (load.await, None),
        Some(after) => {
            let kill = kill_and_restart(
                &mut server,
                (&url, &log),
                &http,
                &shared,
                KillAt { started, after },
                &pid,
            );
            let (tally, killed) = tokio::join!(load, kill);
            (tally, Some(killed?))
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    sampler.abort();
    let mut tally =
        tally.map_err(|e| e.context(format!("the load failed{}", server.log_tail())))?;
    let mut memory = memory.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Ok(mb) = server.memory_mb("VmRSS") {
        memory.0.push((tally.alerts, mb));
    }
    let rss_peak_mb = server.memory_mb("VmHWM")?;
    server.stop().await?;

    let stored = scalar(
        db.conn(),
        "SELECT COUNT(*) FROM signal_instances WHERE definition_id = ?",
        vec![s.definition_id.into()],
    )
    .await?;
    let cases = scalar(
        db.conn(),
        "SELECT COUNT(*) FROM cases WHERE definition_id = ?",
        vec![s.definition_id.into()],
    )
    .await?;
    let lost = missing(&db, s.definition_id, &mut tally.instance_ids).await?;
    let backend = super::close(db).await?;
    let report = Report {
        backend,
        concurrency: args.concurrency,
        rate: args.rate,
        mix,
        tally,
        seconds,
        stored,
        lost,
        cases,
        floor_http,
        floor_insert,
        floor_batch,
        rss_idle_mb,
        memory,
        rss_peak_mb,
        killed,
    };
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    if report.lost > 0 || report.stored < report.tally.instance_ids.len() as i64 {
        bail!(
            "{} answered alerts are not stored ({} answered, {} stored)",
            report.lost,
            report.tally.instance_ids.len(),
            report.stored
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn memory_is_read_at_shares_of_the_run() {
        let m = Memory(vec![(0, 10.0), (500, 20.0), (1000, 30.0)]);
        assert_eq!(m.at(0.0, 1000), 10.0);
        assert_eq!(m.at(0.5, 1000), 20.0);
        assert_eq!(m.at(1.0, 1000), 30.0);
        assert_eq!(Memory::default().at(0.5, 10), 0.0);
    }
}
