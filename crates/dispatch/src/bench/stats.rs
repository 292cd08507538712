//! Latency samples, nearest-rank percentiles, and the bench's report (one JSON line or a table).

use serde_json::{json, Map, Value};
use std::time::Duration;

/// Latencies of one measured operation, in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Samples(Vec<f64>);

impl Samples {
    /// An empty set with room for `n` samples.
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }

    /// Records one latency.
    pub fn push(&mut self, d: Duration) {
        self.0.push(d.as_secs_f64() * 1000.0);
    }

    /// Adds every sample of `other`.
    pub fn extend(&mut self, other: &Samples) {
        self.0.extend_from_slice(&other.0);
    }

    /// The nearest-rank percentile `p` (0–100) in milliseconds; 0 when there are no samples.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    /// The median.
    pub fn p50(&self) -> f64 {
        self.percentile(50.0)
    }

    /// The 99th percentile.
    pub fn p99(&self) -> f64 {
        self.percentile(99.0)
    }
}

/// What one scenario measured, interleaved: the API call, its floor's two parts (the HTTP round
/// trip and the minimal statement) and the API's statements replayed in raw SQL.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `declare`, `get`, `list` or `search`.
    pub name: &'static str,
    /// The API call over HTTP.
    pub api: Samples,
    /// `GET /healthz` round trips taken in the same phase.
    pub healthz: Samples,
    /// The operation's one minimal statement through the raw driver.
    pub minimal: Samples,
    /// The API's own statements replayed in raw SQL (a second figure: the design's database
    /// work without the ORM, HTTP and JSON; not a floor).
    pub raw: Samples,
    /// With `--breakdown`: the same call in-process on the engine.
    pub engine: Samples,
    /// With `--breakdown`: the bearer-token lookup every API request does.
    pub auth: Samples,
    /// The server's resident set right after the phase, MB.
    pub rss_after_mb: f64,
    /// Statements the server ran per API call (its `/metrics` counter around the phase).
    pub statements: f64,
}

impl Scenario {
    /// A scenario with room for `n` samples of each operation.
    pub fn new(name: &'static str, n: usize) -> Self {
        let s = || Samples::with_capacity(n);
        Self {
            name,
            api: s(),
            healthz: s(),
            minimal: s(),
            raw: s(),
            engine: s(),
            auth: s(),
            rss_after_mb: 0.0,
            statements: 0.0,
        }
    }

    /// Whether the in-process breakdown was measured.
    pub fn has_breakdown(&self) -> bool {
        !self.engine.0.is_empty()
    }

    /// The floor: the HTTP round trip's p50 plus the minimal statement's p50.
    pub fn floor_p50(&self) -> f64 {
        self.healthz.p50() + self.minimal.p50()
    }

    /// The second figure: the HTTP round trip plus the API's own statements in raw SQL.
    pub fn same_sql_p50(&self) -> f64 {
        self.healthz.p50() + self.raw.p50()
    }

    /// The API p50 over the floor.
    pub fn ratio(&self) -> f64 {
        let f = self.floor_p50();
        if f > 0.0 {
            self.api.p50() / f
        } else {
            f64::INFINITY
        }
    }
}

/// Everything the bench reports.
#[derive(Debug, Clone)]
pub struct Report {
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Incidents seeded before measuring.
    pub incidents: u64,
    /// Timed samples per scenario.
    pub samples: usize,
    /// Time to seed the database.
    pub seed_ms: f64,
    /// From spawning the server to its first `200` on `/healthz`.
    pub ready_ms: f64,
    /// Resident set after ready and a short idle.
    pub rss_idle_mb: f64,
    /// Peak resident set at the end.
    pub rss_peak_mb: f64,
    /// Statements per second of an idle replica (workers and scheduler on).
    pub idle_statements_per_s: f64,
    /// The scenarios in the order they ran.
    pub scenarios: Vec<Scenario>,
    /// Declare → all resources ready, and job throughput.
    pub saga: Option<SagaFigures>,
    /// Declares per second with one client and with several.
    pub throughput: Option<Throughput>,
}

/// Target: declare → ready p50 within this many times its floor.
pub const MAX_SAGA_RATIO: f64 = 3.0;

/// The target: an API call's p50 within this many times its floor.
pub const MAX_RATIO: f64 = 3.0;
/// The target: statements per `get` and `list` call, authentication included.
pub const MAX_STATEMENTS: f64 = 3.0;
/// A web page's target: its p50 on the server, ms. Its floor is only the incident or list
/// query, while a page reads much more (timeline, room, tasks, reports), so the ratio is shown
/// but the verdict is this.
pub const MAX_PAGE_MS: f64 = 100.0;
/// Idle cost target: statements per second of a replica with nothing to do.
pub const MAX_IDLE_STATEMENTS_PER_S: f64 = 1.0;
/// Idle RSS target, MB.
pub const MAX_RSS_IDLE_MB: f64 = 32.0;
/// Start-up target on an existing database, ms.
pub const MAX_READY_MS: f64 = 200.0;

fn round3(x: f64) -> Value {
    json!((x * 1000.0).round() / 1000.0)
}

impl Report {
    /// Every `GET /healthz` sample of the run.
    fn healthz(&self) -> Samples {
        let mut all = Samples::default();
        for s in &self.scenarios {
            all.extend(&s.healthz);
        }
        all
    }

    /// The report as one JSON object.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        for s in &self.scenarios {
            let n = s.name;
            m.insert(format!("{n}_p50_ms"), round3(s.api.p50()));
            m.insert(format!("{n}_p99_ms"), round3(s.api.p99()));
            m.insert(format!("{n}_floor_p50_ms"), round3(s.floor_p50()));
            m.insert(format!("{n}_sql_floor_p50_ms"), round3(s.minimal.p50()));
            m.insert(format!("{n}_same_sql_p50_ms"), round3(s.same_sql_p50()));
            m.insert(format!("{n}_raw_p50_ms"), round3(s.raw.p50()));
            m.insert(format!("{n}_raw_p99_ms"), round3(s.raw.p99()));
            m.insert(
                format!("{n}_statements"),
                json!((s.statements * 100.0).round() / 100.0),
            );
            m.insert(format!("{n}_healthz_p50_ms"), round3(s.healthz.p50()));
            m.insert(format!("{n}_ratio"), round3(s.ratio()));
            m.insert(
                format!("{n}_rss_after_mb"),
                json!((s.rss_after_mb * 10.0).round() / 10.0),
            );
            if s.has_breakdown() {
                m.insert(format!("{n}_engine_p50_ms"), round3(s.engine.p50()));
                m.insert(format!("{n}_auth_p50_ms"), round3(s.auth.p50()));
            }
        }
        if let Some(g) = &self.saga {
            m.insert("resources_ready_p50_ms".into(), round3(g.ready.p50()));
            m.insert("resources_ready_p99_ms".into(), round3(g.ready.p99()));
            m.insert("resources_ready_floor_p50_ms".into(), round3(g.floor.p50()));
            m.insert(
                "resources_ready_ratio".into(),
                round3(g.ready.p50() / g.floor.p50().max(1e-9)),
            );
            m.insert("jobs_per_s".into(), json!(g.jobs_per_s.round()));
            m.insert("jobs_floor_per_s".into(), json!(g.floor_jobs_per_s.round()));
        }
        if let Some(t) = &self.throughput {
            let n = t.clients;
            m.insert(
                "declares_per_s_c1".into(),
                json!(t.declares_per_s_1.round()),
            );
            m.insert(
                format!("declares_per_s_c{n}"),
                json!(t.declares_per_s_n.round()),
            );
            m.insert(
                "declare_floor_per_s_c1".into(),
                json!(t.floor_per_s_1.round()),
            );
            m.insert(
                format!("declare_floor_per_s_c{n}"),
                json!(t.floor_per_s_n.round()),
            );
        }
        let h = self.healthz();
        m.insert("healthz_p50_ms".into(), round3(h.p50()));
        m.insert("healthz_p99_ms".into(), round3(h.p99()));
        m.insert(
            "rss_idle_mb".into(),
            json!((self.rss_idle_mb * 10.0).round() / 10.0),
        );
        m.insert(
            "rss_peak_mb".into(),
            json!((self.rss_peak_mb * 10.0).round() / 10.0),
        );
        m.insert(
            "ready_ms".into(),
            json!((self.ready_ms * 10.0).round() / 10.0),
        );
        m.insert(
            "idle_statements_per_s".into(),
            json!((self.idle_statements_per_s * 100.0).round() / 100.0),
        );
        m.insert("seed_ms".into(), json!(self.seed_ms.round()));
        m.insert("incidents".into(), json!(self.incidents));
        m.insert("samples".into(), json!(self.samples));
        m.insert("backend".into(), json!(self.backend));
        Value::Object(m)
    }

    /// The report as a table for people.
    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let verdict = |ok: bool| if ok { "ok" } else { "OVER" };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "dispatch bench: {} backend, {} incidents seeded in {:.1} s, {} samples per scenario",
            self.backend,
            self.incidents,
            self.seed_ms / 1000.0,
            self.samples
        );
        let _ = writeln!(
            out,
            "floor = GET /healthz p50 + the operation's one minimal statement through the raw driver (p50), \
             measured in the same phase\n\
             same SQL = GET /healthz p50 + the API's own statements replayed in raw SQL (a second figure, not a floor)\n\
             targets: API calls within {MAX_RATIO}x their floor, get and list in at most {MAX_STATEMENTS} statements; \
             web pages (ui_*) under {MAX_PAGE_MS} ms p50\n"
        );
        let _ = writeln!(
            out,
            "{:<11} {:>9} {:>9} {:>10} {:>9} {:>9} {:>7} {:>9} {:>6}",
            "scenario",
            "p50 ms",
            "p99 ms",
            "floor ms",
            "healthz",
            "min sql",
            "ratio",
            "same sql",
            "stmts"
        );
        for s in &self.scenarios {
            let r = s.ratio();
            let _ = writeln!(
                out,
                "{:<11} {:>9.3} {:>9.3} {:>10.3} {:>9.3} {:>9.3} {:>6.2}x {:>9.3} {:>6.2}  {}",
                s.name,
                s.api.p50(),
                s.api.p99(),
                s.floor_p50(),
                s.healthz.p50(),
                s.minimal.p50(),
                r,
                s.same_sql_p50(),
                s.statements,
                verdict(if s.name.starts_with("ui_") {
                    s.api.p50() <= MAX_PAGE_MS
                } else {
                    r <= MAX_RATIO
                        && (!matches!(s.name, "get" | "list") || s.statements <= MAX_STATEMENTS)
                })
            );
        }
        if self.scenarios.iter().any(Scenario::has_breakdown) {
            let _ = writeln!(
                out,
                "\nbreakdown (p50 ms): the API call = HTTP + JSON + token lookup + engine"
            );
            let _ = writeln!(
                out,
                "{:<11} {:>9} {:>9} {:>9} {:>12}",
                "scenario", "API", "engine", "auth", "HTTP+JSON"
            );
            for s in self.scenarios.iter().filter(|s| s.has_breakdown()) {
                let (api, engine, auth) = (s.api.p50(), s.engine.p50(), s.auth.p50());
                let rest = api - engine - auth;
                let _ = writeln!(
                    out,
                    "{:<11} {api:>9.3} {engine:>9.3} {auth:>9.3} {rest:>12.3}",
                    s.name
                );
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "ready     {:>9.1} ms  (target <= {MAX_READY_MS} ms)  {}",
            self.ready_ms,
            verdict(self.ready_ms <= MAX_READY_MS)
        );
        let _ = writeln!(
            out,
            "RSS idle {:>10.1} MB  (target <= {MAX_RSS_IDLE_MB} MB)  {}",
            self.rss_idle_mb,
            verdict(self.rss_idle_mb <= MAX_RSS_IDLE_MB)
        );
        let _ = writeln!(
            out,
            "idle     {:>10.2} statements/s  (a whole replica with nothing to do; target <= {MAX_IDLE_STATEMENTS_PER_S})  {}",
            self.idle_statements_per_s,
            verdict(self.idle_statements_per_s <= MAX_IDLE_STATEMENTS_PER_S)
        );
        let after: Vec<String> = self
            .scenarios
            .iter()
            .map(|s| format!("{} {:.1}", s.name, s.rss_after_mb))
            .collect();
        let _ = writeln!(
            out,
            "RSS peak {:>10.1} MB  (after each phase: {})",
            self.rss_peak_mb,
            after.join(", ")
        );
        if let Some(g) = &self.saga {
            let ratio = g.ready.p50() / g.floor.p50().max(1e-9);
            let _ = writeln!(
                out,
                "\ndeclare -> all resources ready (built-in providers, in-process): p50 {:.3} ms, p99 {:.3} ms, floor {:.3} ms, {:.2}x (target <= {MAX_SAGA_RATIO}x)  {}",
                g.ready.p50(),
                g.ready.p99(),
                g.floor.p50(),
                ratio,
                verdict(ratio <= MAX_SAGA_RATIO)
            );
            let _ = writeln!(
                out,
                "job throughput: {:.0} jobs/s (no-op job floor {:.0} jobs/s)",
                g.jobs_per_s, g.floor_jobs_per_s
            );
        }
        if let Some(t) = &self.throughput {
            let _ = writeln!(
                out,
                "declares/s acknowledged (sagas running meanwhile): 1 client {:.0}, {} clients {:.0}; \
                 declare floor (one insert transaction, raw driver): 1 caller {:.0}, {} callers {:.0}",
                t.declares_per_s_1,
                t.clients,
                t.declares_per_s_n,
                t.floor_per_s_1,
                t.clients,
                t.floor_per_s_n
            );
        }
        out
    }
}

/// The saga's figures: declare → every resource ready, and job throughput.
#[derive(Debug, Clone)]
pub struct SagaFigures {
    /// Declare → all resources ready, per incident.
    pub ready: Samples,
    /// The saga's floor, per incident.
    pub floor: Samples,
    /// Jobs per second while draining the queue the declare scenario left.
    pub jobs_per_s: f64,
    /// No-op jobs per second through the same claim and finish.
    pub floor_jobs_per_s: f64,
}

/// Acknowledged declares per second, and the declare floor's transactions per second.
#[derive(Debug, Clone)]
pub struct Throughput {
    /// Clients at once in the second figure.
    pub clients: usize,
    /// Through the API, one client.
    pub declares_per_s_1: f64,
    /// Through the API, `clients` at once.
    pub declares_per_s_n: f64,
    /// The declare floor (one insert transaction on the raw driver), one caller.
    pub floor_per_s_1: f64,
    /// The declare floor, `clients` callers at once.
    pub floor_per_s_n: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(ms: &[u64]) -> Samples {
        let mut s = Samples::default();
        for m in ms {
            s.push(Duration::from_millis(*m));
        }
        s
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let s = samples(&[5, 1, 4, 2, 3]);
        assert_eq!(s.p50(), 3.0);
        assert_eq!(s.p99(), 5.0);
        assert_eq!(s.percentile(20.0), 1.0);
        assert_eq!(Samples::default().p50(), 0.0);
    }

    #[test]
    fn the_floor_is_healthz_plus_the_minimal_statement() {
        let s = Scenario {
            api: samples(&[6]),
            healthz: samples(&[1]),
            minimal: samples(&[2]),
            raw: samples(&[4]),
            statements: 2.5,
            ..Scenario::new("get", 1)
        };
        assert_eq!(s.floor_p50(), 3.0);
        assert_eq!(s.ratio(), 2.0);
        let r = Report {
            backend: "sqlite",
            incidents: 1,
            samples: 1,
            seed_ms: 1.0,
            ready_ms: 1.0,
            rss_idle_mb: 1.0,
            rss_peak_mb: 1.0,
            idle_statements_per_s: 0.5,
            scenarios: vec![s],
            saga: None,
            throughput: Some(Throughput {
                clients: 8,
                declares_per_s_1: 100.4,
                declares_per_s_n: 400.0,
                floor_per_s_1: 900.0,
                floor_per_s_n: 2500.0,
            }),
        };
        let j = r.to_json();
        assert_eq!(j["declares_per_s_c1"], json!(100.0));
        assert_eq!(j["declares_per_s_c8"], json!(400.0));
        assert_eq!(j["declare_floor_per_s_c8"], json!(2500.0));
        assert!(r.to_table().contains("8 clients 400"));
        assert_eq!(j["get_floor_p50_ms"], json!(3.0));
        assert_eq!(j["get_p50_ms"], json!(6.0));
        assert_eq!(j["get_same_sql_p50_ms"], json!(5.0));
        assert_eq!(j["get_statements"], json!(2.5));
        assert!(r.to_table().contains("get"));
    }
}
