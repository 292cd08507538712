//! `dispatch bench cluster`: scale-out under a fault.
//!
//! The bench starts `--replicas` whole replicas (`dispatch serve`: API, workers and scheduler)
//! on one PostgreSQL database behind a real reverse proxy (HAProxy from the system's packages:
//! round robin, health checks on `/healthz`), and
//!
//! 1. measures declares per second through the proxy with one replica up, then with two (the
//!    speed-up);
//! 2. runs a mixed load through the proxy for `--duration` — declares, chat commands, room
//!    messages and incident page views — and `kill -9`s one replica half-way, restarting it on
//!    its port two seconds later;
//! 3. checks that live updates cross replicas: an incident page's event stream held open on one
//!    replica receives a room message posted on another;
//! 4. once the job queue has drained, checks what was promised: every acknowledged declare is
//!    stored, every saga finished, no side effect happened twice (a room, document or group made
//!    twice for one incident, a webhook event delivered under two delivery ids, a saga step's
//!    event delivered twice), every declare's webhook arrived, and the scheduler (a two-second
//!    schedule during the run) fired once per period.
//!
//! On SQLite (one process) it runs one replica without a proxy and kills it the same way.

use super::server::{self, free_port, ServerProcess};
use super::signals::parse_duration;
use super::sql::{rows, scalar};
use super::ScratchDir;
use anyhow::{bail, Context};
use dispatch_store::{Backend, Db};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `dispatch bench cluster` options.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// The database, an empty one: `postgres://…` for several replicas; SQLite (the default, a
    /// temporary file) runs one replica.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Replicas behind the proxy during the mixed load (at least 2 on PostgreSQL).
    #[arg(long, default_value_t = 3)]
    pub replicas: usize,
    /// How long the mixed load runs; one replica is killed half-way.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub duration: Duration,
    /// How long each declare throughput phase (one replica, then two) runs.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub scale_time: Duration,
    /// Clients sending at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Every replica's extra settings: a short job lease (twice the timeout), so that the killed
/// replica's claimed jobs are taken over within seconds; the clean-up schedule every two
/// seconds, so that a period fired twice would show.
const REPLICA_ENV: &[(&str, &str)] = &[
    ("DISPATCH_JOB_TIMEOUT_SECONDS", "5"),
    ("DISPATCH_SCHEDULE_CLEANUP_JOBS", "*/2 * * * * *"),
    ("DISPATCH_LOG", "warn"),
];
/// The period of that schedule.
const SCHEDULE_PERIOD: Duration = Duration::from_secs(2);
/// The events the bench's webhook subscription receives.
const HOOK_EVENTS: [&str; 2] = ["incident.incident_declared", "incident.resource_created"];

/// One replica: its port and log survive a restart.
struct Replica {
    port: u16,
    log: PathBuf,
    process: Option<ServerProcess>,
}

impl Replica {
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts it (again) and waits until it answers; answers how long that took.
    async fn start(&mut self, url: &str, http: &reqwest::Client) -> anyhow::Result<Duration> {
        let spawned = Instant::now();
        let mut p = ServerProcess::spawn_replica_at(url, &self.log, self.port, REPLICA_ENV)?;
        let ready = p.wait_ready(http, spawned).await?;
        self.process = Some(p);
        Ok(ready)
    }
}

/// HAProxy in front of the replicas; killed when dropped.
struct Proxy {
    _child: tokio::process::Child,
    base: String,
}

/// The HAProxy binary on `PATH` or in the system directories.
fn haproxy_binary() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|d| d.join("haproxy"))
        .find(|p| p.is_file())
        .context(
            "HAProxy is not installed (apt-get install haproxy; scripts/test-setup installs it)",
        )
}

/// HAProxy's configuration: round robin over `ports`, health checks on `/healthz`; a request
/// is retried on another replica only when it could not be sent (a connection refused), never
/// once a replica may have acted on it.
fn haproxy_config(listen: u16, ports: &[u16]) -> String {
    let mut cfg = format!(
        "global\n  maxconn 4096\n\ndefaults\n  mode http\n  timeout connect 2s\n  \
         timeout client 120s\n  timeout server 120s\n  retries 3\n  option redispatch\n  \
         retry-on conn-failure\n\nfrontend dispatch\n  bind 127.0.0.1:{listen}\n  \
         default_backend replicas\n\nbackend replicas\n  balance roundrobin\n  \
         option httpchk GET /healthz\n  default-server inter 300ms fall 2 rise 2\n"
    );
    for (i, port) in ports.iter().enumerate() {
        cfg.push_str(&format!("  server r{} 127.0.0.1:{port} check\n", i + 1));
    }
    cfg
}

impl Proxy {
    async fn start(dir: &Path, ports: &[u16], http: &reqwest::Client) -> anyhow::Result<Self> {
        let bin = haproxy_binary()?;
        let listen = free_port()?;
        let cfg = dir.join("haproxy.cfg");
        std::fs::write(&cfg, haproxy_config(listen, ports))?;
        let log = std::fs::File::create(dir.join("haproxy.log"))?;
        let child = tokio::process::Command::new(bin)
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .context("cannot start HAProxy")?;
        let base = format!("http://127.0.0.1:{listen}");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(dir.join("haproxy.log")).unwrap_or_default();
                bail!("HAProxy did not answer within 15 s: {log}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(Self {
            _child: child,
            base,
        })
    }
}

/// What the webhook receiver got: (delivery id, event type, incident, event seq, resource kind).
type Receipt = (String, String, String, i64, String);

/// A webhook receiver on loopback (the subscriber's side), recording every delivery.
async fn receiver() -> anyhow::Result<(String, Arc<Mutex<Vec<Receipt>>>)> {
    let got: Arc<Mutex<Vec<Receipt>>> = Arc::default();
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let keep = keep.clone();
                async move {
                    let v: Value = serde_json::from_slice(&body).unwrap_or_default();
                    let id = headers
                        .get("webhook-id")
                        .and_then(|h| h.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    let s = |p: &str| {
                        v.pointer(p)
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string()
                    };
                    let seq = v.pointer("/data/event/seq").and_then(Value::as_i64);
                    keep.lock().unwrap_or_else(|e| e.into_inner()).push((
                        id,
                        s("/type"),
                        s("/data/incident/name"),
                        seq.unwrap_or(-1),
                        s("/data/event/details/kind"),
                    ));
                    axum::http::StatusCode::NO_CONTENT
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, got))
}

/// The kinds of request of the mixed load.
#[derive(Clone, Copy)]
enum Op {
    Declare,
    Command,
    Message,
    Page,
}

const OPS: [&str; 4] = ["declare", "command", "message", "page"];

/// The load's shared state.
struct Load {
    base: String,
    auth: String,
    stop: AtomicBool,
    /// Per [`OPS`]: answered with success, failed.
    ok: [AtomicU64; 4],
    failed: [AtomicU64; 4],
    /// Names of the acknowledged declares.
    declared: Mutex<Vec<String>>,
    /// Incidents declared (and their sagas run) before this load: the commands, room messages
    /// and page views go to them.
    warm: Vec<String>,
}

impl Load {
    fn new(base: String, token: &str, warm: Vec<String>) -> Arc<Self> {
        Arc::new(Self {
            warm,
            base,
            auth: format!("Bearer {token}"),
            stop: AtomicBool::new(false),
            ok: Default::default(),
            failed: Default::default(),
            declared: Mutex::default(),
        })
    }

    fn declares(&self) -> u64 {
        self.ok[0].load(Ordering::Relaxed)
    }
}

/// One client: declares only, or the mix (half declares; commands, room messages and page
/// views on the incidents declared before, whose rooms the sagas have made), until told to
/// stop.
async fn client(load: Arc<Load>, http: reqwest::Client, id: usize, mixed: bool) {
    let mut n = 0u64;
    while !load.stop.load(Ordering::Relaxed) {
        n += 1;
        let op = match (mixed, load.warm.is_empty(), n % 10) {
            (false, _, _) | (_, true, _) | (_, _, 0..=4) => Op::Declare,
            (_, _, 5 | 6) => Op::Command,
            (_, _, 7 | 8) => Op::Message,
            _ => Op::Page,
        };
        let name = match load.warm.len() {
            0 => "",
            len => load.warm[(id * 7919 + n as usize) % len].as_str(),
        };
        let inc = format!("{}/api/v1/incidents/{name}", load.base);
        let req = match op {
            Op::Declare => http
                .post(format!("{}/api/v1/incidents", load.base))
                .json(&json!({
                    "title": format!("cluster bench {id}-{n}: checkout errors"),
                    "description": "declared by dispatch bench cluster",
                })),
            Op::Command => http
                .post(format!("{inc}/commands"))
                .json(&json!({"text": format!("/dispatch-create-task check the dashboards {n}")})),
            Op::Message => http
                .post(format!("{inc}/room/messages"))
                .json(&json!({"text": format!("client {id} message {n}")})),
            Op::Page => http.get(format!("{}/incidents/{name}", load.base)),
        };
        let slot = op as usize;
        let answer = req.header("authorization", &load.auth).send().await;
        let body = match answer {
            Ok(r) if r.status().is_success() => r.bytes().await.ok(),
            Ok(r) => {
                if load.failed[slot].load(Ordering::Relaxed) == 0 {
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    eprintln!("bench: a {} failed: {status} {text}", OPS[slot]);
                }
                None
            }
            Err(_) => None,
        };
        let Some(body) = body else {
            load.failed[slot].fetch_add(1, Ordering::Relaxed);
            continue;
        };
        load.ok[slot].fetch_add(1, Ordering::Relaxed);
        if let Op::Declare = op {
            let v: Value = serde_json::from_slice(&body).unwrap_or_default();
            if let Some(name) = v.get("name").and_then(Value::as_str) {
                load.declared
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(name.to_string());
            }
        }
    }
}

/// Runs `concurrency` clients for `time`; answers the load's state.
async fn run_load(
    http: &reqwest::Client,
    load: &Arc<Load>,
    concurrency: usize,
    mixed: bool,
    time: Duration,
) -> Vec<tokio::task::JoinHandle<()>> {
    let clients: Vec<_> = (0..concurrency)
        .map(|i| tokio::spawn(client(load.clone(), http.clone(), i, mixed)))
        .collect();
    tokio::time::sleep(time).await;
    clients
}

/// Stops the clients and waits for their last requests.
async fn stop_load(load: &Load, clients: Vec<tokio::task::JoinHandle<()>>) {
    load.stop.store(true, Ordering::Relaxed);
    for c in clients {
        let _ = c.await;
    }
}

/// Declares per second through `base` with `concurrency` clients for `time`.
pub(super) async fn declare_rate(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    concurrency: usize,
    time: Duration,
) -> (f64, Vec<String>) {
    let load = Load::new(base.to_string(), token, Vec::new());
    let started = Instant::now();
    let clients = run_load(http, &load, concurrency, false, time).await;
    stop_load(&load, clients).await;
    let rate = load.declares() as f64 / started.elapsed().as_secs_f64();
    let names = std::mem::take(&mut *load.declared.lock().unwrap_or_else(|e| e.into_inner()));
    (rate, names)
}

/// Holds an incident page's event stream open on `watch` (one replica), posts a room message
/// on `write` (another) and answers how long the message took to show in the stream, if it did
/// within ten seconds.
async fn live_across(
    http: &reqwest::Client,
    watch: &str,
    write: &str,
    token: &str,
    name: &str,
) -> anyhow::Result<Option<Duration>> {
    let mut stream = http
        .get(format!("{watch}/incidents/{name}/events"))
        .header("authorization", format!("Bearer {token}"))
        .timeout(Duration::from_secs(30))
        .send()
        .await?
        .error_for_status()
        .context("the incident page's event stream")?;
    // The stream's first events (the page as it is) come at once.
    let first = tokio::time::timeout(Duration::from_secs(5), stream.chunk()).await;
    anyhow::ensure!(
        matches!(first, Ok(Ok(Some(_)))),
        "the event stream sent nothing"
    );
    let marker = format!("cross-replica-{}", std::process::id());
    let posted = Instant::now();
    http.post(format!("{write}/api/v1/incidents/{name}/room/messages"))
        .header("authorization", format!("Bearer {token}"))
        .json(&json!({ "text": marker }))
        .send()
        .await?
        .error_for_status()
        .context("posting the room message on the other replica")?;
    let mut seen = String::new();
    let deadline = posted + Duration::from_secs(10);
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if seen.contains(&marker) {
                    return Ok(Some(posted.elapsed()));
                }
            }
            _ => break,
        }
    }
    Ok(None)
}

/// Waits until no job is running or due (at most two minutes); answers whether it drained.
async fn drain(db: &Db) -> anyhow::Result<bool> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let now = dispatch_core::now();
        let busy = scalar(
            db.conn(),
            "SELECT COUNT(*) FROM jobs WHERE state = 'running' OR (state = 'queued' AND run_at <= ?)",
            vec![now.into()],
        )
        .await?;
        if busy == 0 {
            return Ok(true);
        }
        if Instant::now() > deadline {
            return Ok(false);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Declares per second of a phase of `time` that acknowledged `declares`, counted until the queue
/// has drained after it (their sagas finished).
async fn settled(db: &Db, declares: usize, time: Duration) -> anyhow::Result<f64> {
    let started = Instant::now();
    drain(db).await?;
    let drained = started.elapsed();
    eprintln!(
        "bench: {declares} declares; the queue drained {:.1} s after the phase",
        drained.as_secs_f64()
    );
    Ok(declares as f64 / (time + drained).as_secs_f64())
}

/// Rows beyond the first of each group: `SELECT … GROUP BY …` counts.
async fn excess(db: &Db, table: &str, by: &str) -> anyhow::Result<i64> {
    scalar(
        db.conn(),
        &format!(
            "SELECT CAST(COALESCE(SUM(n - 1), 0) AS BIGINT) FROM \
             (SELECT COUNT(*) AS n FROM {table} GROUP BY {by} HAVING COUNT(*) > 1) AS d"
        ),
        vec![],
    )
    .await
}

/// What the bench found.
#[derive(Debug, Default)]
struct Report {
    backend: &'static str,
    replicas: usize,
    concurrency: usize,
    declares_per_s_1: f64,
    declares_per_s_2: Option<f64>,
    /// Declares per second counted until their sagas had finished too (the phase plus the time
    /// the queue took to drain after it): what the replicas sustain, not only acknowledge.
    settled_per_s_1: f64,
    settled_per_s_2: Option<f64>,
    seconds: f64,
    requests: Vec<(&'static str, u64, u64)>,
    acknowledged: usize,
    lost: usize,
    sagas_unfinished: i64,
    drained: bool,
    duplicates: Vec<(&'static str, i64)>,
    webhook_redelivered: usize,
    webhooks_missing: usize,
    scheduler_fires: usize,
    scheduler_periods: f64,
    scheduler_double_fires: usize,
    killed_after_s: f64,
    restart_ms: f64,
    sse_cross_replica: Option<bool>,
    sse_latency_ms: Option<f64>,
}

impl Report {
    fn duplicate_side_effects(&self) -> i64 {
        self.duplicates.iter().map(|(_, n)| n).sum()
    }

    fn speedup(&self) -> Option<f64> {
        self.declares_per_s_2.map(|r| r / self.declares_per_s_1)
    }

    fn to_json(&self) -> Value {
        let r2 = |x: f64| (x * 100.0).round() / 100.0;
        let requests: serde_json::Map<String, Value> = self
            .requests
            .iter()
            .map(|(k, ok, failed)| (k.to_string(), json!({"ok": ok, "failed": failed})))
            .collect();
        let duplicates: serde_json::Map<String, Value> = self
            .duplicates
            .iter()
            .map(|(k, n)| (k.to_string(), json!(n)))
            .collect();
        json!({
            "backend": self.backend,
            "replicas": self.replicas,
            "concurrency": self.concurrency,
            "declares_per_s_1_replica": r2(self.declares_per_s_1),
            "declares_per_s_2_replicas": self.declares_per_s_2.map(r2),
            "speedup_1_to_2": self.speedup().map(r2),
            "settled_per_s_1_replica": r2(self.settled_per_s_1),
            "settled_per_s_2_replicas": self.settled_per_s_2.map(r2),
            "seconds": r2(self.seconds),
            "requests": requests,
            "acknowledged": self.acknowledged,
            "lost": self.lost,
            "sagas_unfinished": self.sagas_unfinished,
            "drained": self.drained,
            "duplicate_side_effects": self.duplicate_side_effects(),
            "duplicates": duplicates,
            "webhook_redelivered": self.webhook_redelivered,
            "webhooks_missing": self.webhooks_missing,
            "scheduler_fires": self.scheduler_fires,
            "scheduler_periods": r2(self.scheduler_periods),
            "scheduler_double_fires": self.scheduler_double_fires,
            "killed_after_s": r2(self.killed_after_s),
            "restart_ms": r2(self.restart_ms),
            "sse_cross_replica": self.sse_cross_replica,
            "sse_latency_ms": self.sse_latency_ms.map(r2),
        })
    }

    fn to_table(&self) -> String {
        let mut out = format!(
            "dispatch bench cluster: {} replica(s) on {}, {} clients\n",
            self.replicas, self.backend, self.concurrency
        );
        out.push_str(&format!(
            "declares/s through the proxy: 1 replica {:.0}",
            self.declares_per_s_1
        ));
        if let (Some(r2), Some(s)) = (self.declares_per_s_2, self.speedup()) {
            out.push_str(&format!(", 2 replicas {r2:.0} (x{s:.2}; target x1.6)"));
        }
        out.push_str(&format!(
            "\nsettled (sagas finished too): 1 replica {:.0}/s",
            self.settled_per_s_1
        ));
        if let Some(r2) = self.settled_per_s_2 {
            out.push_str(&format!(", 2 replicas {r2:.0}/s"));
        }
        out.push_str(&format!(
            "\nmixed load for {:.1} s, replica 2 killed -9 after {:.1} s and back in {:.0} ms:\n",
            self.seconds, self.killed_after_s, self.restart_ms
        ));
        for (k, ok, failed) in &self.requests {
            out.push_str(&format!("  {k:<8} {ok:>7} answered {failed:>5} failed\n"));
        }
        out.push_str(&format!(
            "acknowledged declares {}, lost {}, sagas unfinished {}, queue drained {}\n",
            self.acknowledged, self.lost, self.sagas_unfinished, self.drained
        ));
        out.push_str(&format!(
            "duplicate side effects {} ({}); webhook deliveries sent again under the same id {} \
             (a receiver drops them), declares without their webhook {}\n",
            self.duplicate_side_effects(),
            self.duplicates
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            self.webhook_redelivered,
            self.webhooks_missing
        ));
        out.push_str(&format!(
            "scheduler: {} fires in {:.1} periods, {} fired twice\n",
            self.scheduler_fires, self.scheduler_periods, self.scheduler_double_fires
        ));
        match (self.sse_cross_replica, self.sse_latency_ms) {
            (Some(true), Some(ms)) => {
                out.push_str(&format!("live update crossed replicas in {ms:.0} ms\n"))
            }
            (Some(_), _) => out.push_str("live update did NOT cross replicas\n"),
            (None, _) => out.push_str("live updates across replicas: one replica only\n"),
        }
        out
    }
}

/// Runs the bench.
pub async fn run(args: ClusterArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.replicas >= 1, "--replicas must be at least 1");
    anyhow::ensure!(args.concurrency >= 1, "--concurrency must be at least 1");
    let scratch = ScratchDir::new()?;
    let url = match &args.database_url {
        Some(u) => crate::config::normalise_database_url(u),
        None => format!("sqlite://{}", scratch.path().join("cluster.db").display()),
    };
    let db = Db::connect(&url)
        .await
        .context("cannot open the database")?;
    let postgres = db.backend() == Backend::Postgres;
    anyhow::ensure!(
        postgres || args.replicas == 1,
        "--replicas {} needs PostgreSQL (--database-url postgres://…): SQLite is for one process",
        args.replicas
    );
    anyhow::ensure!(
        !postgres || args.replicas >= 2,
        "--replicas must be at least 2 on PostgreSQL (one is killed)"
    );
    eprintln!(
        "bench: cluster of {} on {}",
        args.replicas,
        dispatch_store::db::redact(&url)
    );
    db.migrate().await?;
    dispatch_store::seed::ensure_defaults(&db).await?;
    let engine = dispatch_engine::Engine::new(db.clone());
    let (token, _) = engine
        .credentials()
        .create("cluster-bench@dispatch.local", "cluster bench", "admin")
        .await?;
    let http = server::load_client(args.concurrency)?;
    let mut replicas: Vec<Replica> = (0..args.replicas)
        .map(|i| {
            Ok(Replica {
                port: free_port()?,
                log: scratch.path().join(format!("replica{}.log", i + 1)),
                process: None,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    replicas[0].start(&url, &http).await?;

    let (hook_url, receipts) = receiver().await?;
    http.post(format!("{}/api/v1/webhooks", replicas[0].base()))
        .header("authorization", format!("Bearer {token}"))
        .json(&json!({"url": hook_url, "event_types": HOOK_EVENTS, "description": "cluster bench"}))
        .send()
        .await?
        .error_for_status()
        .context("creating the bench's webhook subscription")?;

    let ports: Vec<u16> = replicas.iter().map(|r| r.port).collect();
    let proxy = if postgres {
        Some(Proxy::start(scratch.path(), &ports, &http).await?)
    } else {
        None
    };
    let front = proxy
        .as_ref()
        .map_or_else(|| replicas[0].base(), |p| p.base.clone());
    let mut acknowledged: Vec<String> = Vec::new();

    // 1. Declares per second with one replica up, then two.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    eprintln!("bench: declares through the proxy, 1 replica");
    let (declares_per_s_1, names) =
        declare_rate(&http, &front, &token, args.concurrency, args.scale_time).await;
    // Each phase starts with the last one's sagas done.
    let settled_per_s_1 = settled(&db, names.len(), args.scale_time).await?;
    acknowledged.extend(names);
    let (declares_per_s_2, settled_per_s_2) = if args.replicas >= 2 {
        replicas[1].start(&url, &http).await?;
        // Two health checks (300 ms apart) bring it into the rotation.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        eprintln!("bench: declares through the proxy, 2 replicas");
        let (rate, names) =
            declare_rate(&http, &front, &token, args.concurrency, args.scale_time).await;
        let settled = settled(&db, names.len(), args.scale_time).await?;
        acknowledged.extend(names);
        (Some(rate), Some(settled))
    } else {
        (None, None)
    };
    for r in replicas.iter_mut().skip(2) {
        r.start(&url, &http).await?;
    }
    drain(&db).await?;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // 2. The mixed load, with a replica killed half-way.
    eprintln!(
        "bench: mixed load for {:.0} s; kill -9 half-way",
        args.duration.as_secs_f64()
    );
    let victim = if args.replicas >= 2 { 1 } else { 0 };
    let load = Load::new(front.clone(), &token, acknowledged.clone());
    let started = Instant::now();
    let schedule_from = dispatch_core::now();
    let half = args.duration / 2;
    let clients = run_load(&http, &load, args.concurrency, true, half).await;
    let killed_after_s = started.elapsed().as_secs_f64();
    if let Some(p) = replicas[victim].process.as_mut() {
        p.kill9().await?;
    }
    replicas[victim].process = None;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let restart = replicas[victim].start(&url, &http).await?;
    // 3. Live updates across replicas, while the load goes on.
    let (sse_cross_replica, sse_latency) = if args.replicas >= 2 {
        let name = acknowledged
            .first()
            .cloned()
            .context("no incident was declared")?;
        let watch = replicas[0].base();
        let write = replicas[args.replicas - 1].base();
        let latency = live_across(&http, &watch, &write, &token, &name).await?;
        (Some(latency.is_some()), latency)
    } else {
        (None, None)
    };
    let rest = args.duration.saturating_sub(started.elapsed());
    tokio::time::sleep(rest).await;
    stop_load(&load, clients).await;
    let seconds = started.elapsed().as_secs_f64();
    let schedule_to = dispatch_core::now();
    acknowledged.extend(std::mem::take(
        &mut *load.declared.lock().unwrap_or_else(|e| e.into_inner()),
    ));

    // 4. What was promised.
    eprintln!("bench: waiting for the job queue to drain");
    let drained = drain(&db).await?;
    drop(proxy);
    for r in replicas.iter_mut() {
        if let Some(p) = r.process.take() {
            p.stop().await?;
        }
    }
    let stored: HashSet<String> = rows(db.conn(), "SELECT name FROM incidents", vec![])
        .await?
        .iter()
        .filter_map(|r| r.try_get_by_index::<String>(0).ok())
        .collect();
    let lost = acknowledged.iter().filter(|n| !stored.contains(*n)).count();
    let sagas_unfinished = scalar(
        db.conn(),
        "SELECT COUNT(DISTINCT incident_id) FROM resources WHERE status <> 'ready'",
        vec![],
    )
    .await?;
    let mut duplicates = vec![
        ("room", excess(&db, "rooms", "incident_id").await?),
        (
            "document",
            excess(&db, "documents", "incident_id, kind").await?,
        ),
        (
            "group",
            excess(&db, "participant_groups", "incident_id, purpose").await?,
        ),
        (
            "resource",
            excess(&db, "resources", "incident_id, kind").await?,
        ),
    ];
    let got = receipts.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let ids: HashSet<&str> = got.iter().map(|r| r.0.as_str()).collect();
    let webhook_redelivered = got.len() - ids.len();
    // One delivery id per event; one declared event per incident, one resource event per kind.
    let mut per_event: HashMap<(&str, i64), HashSet<&str>> = HashMap::new();
    let mut per_step: HashMap<(&str, &str, &str), HashSet<i64>> = HashMap::new();
    for (id, kind, incident, seq, resource) in &got {
        per_event.entry((incident, *seq)).or_default().insert(id);
        per_step
            .entry((incident, kind, resource))
            .or_default()
            .insert(*seq);
    }
    let extra = |n: usize| n.saturating_sub(1) as i64;
    duplicates.push((
        "webhook_event",
        per_event.values().map(|s| extra(s.len())).sum(),
    ));
    duplicates.push((
        "saga_step_event",
        per_step.values().map(|s| extra(s.len())).sum(),
    ));
    let hooked: HashSet<&str> = got
        .iter()
        .filter(|r| r.1 == HOOK_EVENTS[0])
        .map(|r| r.2.as_str())
        .collect();
    let webhooks_missing = acknowledged
        .iter()
        .filter(|n| !hooked.contains(n.as_str()))
        .count();
    let fires = rows(
        db.conn(),
        "SELECT payload FROM jobs WHERE kind = 'cleanup_jobs' AND created_at >= ? AND created_at <= ?",
        vec![schedule_from.into(), schedule_to.into()],
    )
    .await?;
    let mut occurrences: HashMap<String, usize> = HashMap::new();
    for r in &fires {
        let payload: String = r
            .try_get_by_index::<String>(0)
            .or_else(|_| r.try_get_by_index::<Value>(0).map(|v| v.to_string()))?;
        let v: Value = serde_json::from_str(&payload).unwrap_or_default();
        *occurrences
            .entry(v["occurrence"].as_str().unwrap_or_default().to_string())
            .or_default() += 1;
    }
    let scheduler_double_fires = occurrences.values().map(|n| n.saturating_sub(1)).sum();
    let requests = OPS
        .iter()
        .enumerate()
        .map(|(i, k)| {
            (
                *k,
                load.ok[i].load(Ordering::Relaxed),
                load.failed[i].load(Ordering::Relaxed),
            )
        })
        .collect();
    let backend = super::close(db).await?;
    let report = Report {
        backend,
        replicas: args.replicas,
        concurrency: args.concurrency,
        declares_per_s_1,
        declares_per_s_2,
        settled_per_s_1,
        settled_per_s_2,
        seconds,
        requests,
        acknowledged: acknowledged.len(),
        lost,
        sagas_unfinished,
        drained,
        duplicates,
        webhook_redelivered,
        webhooks_missing,
        scheduler_fires: occurrences.len(),
        scheduler_periods: (schedule_to - schedule_from).num_milliseconds() as f64
            / SCHEDULE_PERIOD.as_millis() as f64,
        scheduler_double_fires,
        killed_after_s,
        restart_ms: restart.as_secs_f64() * 1000.0,
        sse_cross_replica,
        sse_latency_ms: sse_latency.map(|d| d.as_secs_f64() * 1000.0),
    };
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    if report.lost > 0 || report.duplicate_side_effects() > 0 || report.scheduler_double_fires > 0 {
        bail!(
            "{} acknowledged declares lost, {} duplicate side effects, {} double scheduler fires",
            report.lost,
            report.duplicate_side_effects(),
            report.scheduler_double_fires
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_balances_over_every_replica_with_health_checks() {
        let cfg = haproxy_config(9000, &[9001, 9002]);
        assert!(cfg.contains("bind 127.0.0.1:9000"));
        assert!(cfg.contains("server r1 127.0.0.1:9001 check"));
        assert!(cfg.contains("server r2 127.0.0.1:9002 check"));
        assert!(cfg.contains("option httpchk GET /healthz"));
        // Only a request that could not be sent is sent again.
        assert!(cfg.contains("retry-on conn-failure\n"));
    }
}
