//! `dispatch bench`: latency of the main API calls beside floors measured in the same run.
//!
//! The bench seeds N incidents straight into the database, starts `dispatch serve` on it as a
//! child process, and measures over HTTP on loopback, one request at a time: declare, get by key,
//! a filtered list page and a text search. Each scenario's floor is measured in the same phase,
//! interleaved with it: `GET /healthz` (the HTTP round trip) plus the same database work done in
//! raw SQL (see [`floor`]). It also reports the server's start-up time and memory.

mod cluster;
mod floor;
mod minimal;
mod phase;
mod saga;
mod seed;
mod server;
pub mod signals;
mod sql;
mod stats;
mod words;

use anyhow::Context;
use dispatch_store::{Backend, Db};
use server::ServerProcess;
use stats::Report;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Bench options.
#[derive(Debug, Clone, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    /// Another bench than the API's.
    #[command(subcommand)]
    pub mode: Option<BenchMode>,
    /// Database to bench on (default: a temporary SQLite file).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Incidents to seed before measuring.
    #[arg(long, default_value_t = 10_000)]
    pub incidents: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Timed samples per scenario (each also times a healthz round trip and the raw SQL floor).
    #[arg(long, default_value_t = 1_000)]
    pub samples: usize,
    /// Untimed rounds per scenario before timing.
    #[arg(long, default_value_t = 100)]
    pub warmup: usize,
    /// Also time the same calls in-process on the engine, and the token lookup, to show where
    /// the time over the floor goes (HTTP and JSON, authentication, or the engine's queries).
    #[arg(long)]
    pub breakdown: bool,
}

/// The other benches.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchMode {
    /// Alert ingestion throughput with deduplication (`POST /api/v1/signals/alertmanager`
    /// from concurrent senders), beside floors measured in the same run; with
    /// `--kill-after`, what survives a `kill -9`.
    Signals(signals::SignalBenchArgs),
    /// Scale-out under a fault: replicas on one PostgreSQL behind HAProxy, the declare
    /// throughput with one and two, then a mixed load with one replica `kill -9`ed half-way,
    /// and what was promised checked afterwards (nothing acknowledged lost, no side effect
    /// twice, the scheduler once per period, live updates across replicas).
    Cluster(cluster::ClusterArgs),
}

/// A scratch directory, removed when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> anyhow::Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir =
            std::env::temp_dir().join(format!("dispatch-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Self(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Closes the bench's database handle; answers the backend's name for the report.
async fn close(db: Db) -> anyhow::Result<&'static str> {
    let name = match db.backend() {
        Backend::Postgres => "postgres",
        Backend::Sqlite => "sqlite",
    };
    db.close().await?;
    Ok(name)
}

/// How long the idle replica is watched.
const IDLE_WINDOW: Duration = Duration::from_secs(10);

/// Statements per second a whole replica (API, workers, scheduler) runs with nothing to do,
/// read from its `/metrics` counter over [`IDLE_WINDOW`] after it settled.
async fn idle_statements(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    log: &Path,
) -> anyhow::Result<f64> {
    let spawned = Instant::now();
    let mut replica = ServerProcess::spawn_replica(url, log)?;
    replica.wait_ready(http, spawned).await?;
    // Start-up work (queued jobs of the declare phase, the scheduler's first tick) settles first.
    tokio::time::sleep(Duration::from_secs(3)).await;
    // A read of the counter runs statements of its own: two reads back to back measure them, and
    // the closing read's are taken off.
    let first = phase::statements(http, &replica.base, token).await?;
    let before = phase::statements(http, &replica.base, token).await?;
    let scrape = before - first;
    tokio::time::sleep(IDLE_WINDOW).await;
    let after = phase::statements(http, &replica.base, token).await?;
    replica.stop().await?;
    Ok((after - before - scrape).max(0.0) / IDLE_WINDOW.as_secs_f64())
}

/// Runs the bench.
/// Clients at once in the throughput figure.
const CLIENTS: usize = 8;

/// Acknowledged declares per second through the API with one client and with [`CLIENTS`] at
/// once (the server's workers running the sagas meanwhile, as in production), beside the
/// declare floor's transactions per second with as many callers on the raw driver. Each of the
/// four phases runs 5 ms per sample asked for, between half a second and five seconds.
async fn throughput(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    url: &str,
    db: &Db,
    seeded: &seed::Seeded,
    samples: usize,
) -> anyhow::Result<stats::Throughput> {
    let time = Duration::from_millis((samples as u64).saturating_mul(5).clamp(500, 5_000));
    let (one, _) = cluster::declare_rate(http, base, token, 1, time).await;
    let (many, _) = cluster::declare_rate(http, base, token, CLIENTS, time).await;
    // SQLite has one writer whatever the design: its floor's callers queue for one connection.
    let connections = match db.backend() {
        Backend::Sqlite => 1,
        Backend::Postgres => CLIENTS as u32,
    };
    let floor = minimal::Minimal::open(url, db, seeded.reporter_id, connections).await?;
    let floor_one = floor.declare_rate(1, time).await?;
    let floor_many = floor.declare_rate(CLIENTS, time).await?;
    floor.close().await;
    Ok(stats::Throughput {
        clients: CLIENTS,
        declares_per_s_1: one,
        declares_per_s_n: many,
        floor_per_s_1: floor_one,
        floor_per_s_n: floor_many,
    })
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.mode {
        Some(BenchMode::Signals(a)) => return signals::run(a).await,
        Some(BenchMode::Cluster(a)) => return cluster::run(a).await,
        None => {}
    }
    anyhow::ensure!(args.samples > 0, "--samples must be at least 1");
    let scratch = ScratchDir::new()?;
    let url = match &args.database_url {
        Some(u) => crate::config::normalise_database_url(u),
        None => format!("sqlite://{}", scratch.path().join("bench.db").display()),
    };
    eprintln!(
        "bench: seeding {} incidents into {}",
        args.incidents,
        dispatch_store::db::redact(&url)
    );
    let started = Instant::now();
    let db = Db::connect(&url)
        .await
        .context("cannot open the database")?;
    let seeded = seed::seed(&db, args.incidents)
        .await
        .context("cannot seed the database")?;
    let seed_ms = started.elapsed().as_secs_f64() * 1000.0;
    eprintln!(
        "bench: seeded in {:.1} s; starting the server",
        seed_ms / 1000.0
    );

    let http = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(4)
        .timeout(Duration::from_secs(60))
        .build()?;
    let spawned = Instant::now();
    let mut server = ServerProcess::spawn(&url, &scratch.path().join("serve.log"))?;
    let ready = server.wait_ready(&http, spawned).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle_mb = server.memory_mb("VmRSS")?;
    eprintln!(
        "bench: ready in {:.1} ms, idle RSS {rss_idle_mb:.1} MB",
        ready.as_secs_f64() * 1000.0
    );

    let minimal = minimal::Minimal::open(&url, &db, seeded.reporter_id, 1).await?;
    let ctx = phase::Ctx::new(
        http.clone(),
        server.base.clone(),
        &db,
        &minimal,
        &seeded,
        args.breakdown,
    )
    .await?;
    let mut scenarios = Vec::new();
    for kind in phase::Kind::ALL {
        eprintln!("bench: {}", kind.name());
        match ctx.measure(kind, args.samples, args.warmup).await {
            Ok(mut s) => {
                s.rss_after_mb = server.memory_mb("VmRSS")?;
                scenarios.push(s);
            }
            Err(e) => return Err(e.context(format!("the bench failed{}", server.log_tail()))),
        }
    }
    eprintln!("bench: declares per second, 1 and {CLIENTS} clients at once");
    let throughput = throughput(
        &http,
        &server.base,
        &seeded.token,
        &url,
        &db,
        &seeded,
        args.samples,
    )
    .await?;
    let rss_peak_mb = server.memory_mb("VmHWM")?;
    server.stop().await?;
    minimal.close().await;
    eprintln!("bench: declare to every resource ready, and job throughput");
    let declarer = floor::Declarer {
        id: seeded.reporter_id,
        email: &seeded.reporter_email,
        prefix: &seeded.key_prefix,
    };
    let saga = saga::measure(&db, &seeded.token, &declarer, args.samples.min(300)).await?;
    // After the saga drained the queue the declare phase left.
    eprintln!("bench: statements an idle replica runs (workers and scheduler on)");
    let idle_statements_per_s =
        idle_statements(&http, &url, &seeded.token, &scratch.path().join("idle.log")).await?;
    let backend = close(db).await?;

    let report = Report {
        backend,
        incidents: args.incidents,
        samples: args.samples,
        seed_ms,
        ready_ms: ready.as_secs_f64() * 1000.0,
        rss_idle_mb,
        rss_peak_mb,
        idle_statements_per_s,
        scenarios,
        saga: Some(saga),
        throughput: Some(throughput),
    };
    if args.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    Ok(())
}
