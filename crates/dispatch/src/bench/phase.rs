//! One measured phase per scenario: the API call, `GET /healthz`, the operation's one minimal
//! statement through the raw driver (the floor, see [`super::minimal`]) and the API's own
//! statements replayed in raw SQL (a second figure, see [`floor`]), timed in rotating order in
//! every round so that machine noise hits all of them alike. The server's statement counter
//! (`/metrics`) is read around the phase for statements per call. With
//! `--breakdown`, each round also times the same call made in-process on the engine (no HTTP, no
//! JSON) and the bearer-token lookup every API request does.

use super::floor::{self, Declarer};
use super::minimal::Minimal;
use super::seed::Seeded;
use super::stats::Scenario;
use super::words::{Rng, SEARCH_WORDS};
use anyhow::Context;
use dispatch_core::commands::DeclareIncident;
use dispatch_core::values::{IncidentRef, IncidentTitle, LongText};
use dispatch_core::IncidentStatus;
use dispatch_engine::{Actor, Engine};
use dispatch_store::repo::incident::IncidentFilter;
use dispatch_store::Db;
use std::time::Instant;

/// Rows per page of the list and search scenarios.
const PER_PAGE: u64 = 50;
/// The list scenario reads one of the first pages.
const LIST_PAGES: u64 = 5;
const DESCRIPTION: &str =
    "Customers report timeouts when using checkout. Declared by dispatch bench.";

/// The scenarios, in the order they run: reads on the seeded data first, declarations last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `GET /api/v1/incidents/{key}`.
    Get,
    /// `GET /api/v1/incidents?status=active&per_page=50&page=…`.
    List,
    /// `GET /api/v1/incidents?q=…&per_page=50`.
    Search,
    /// The web UI's incidents page, `GET /incidents?status=active&per_page=50&page=…` (HTML).
    UiList,
    /// The web UI's incident page, `GET /incidents/{key}` (HTML).
    UiIncident,
    /// `POST /api/v1/incidents`.
    Declare,
}

impl Kind {
    /// Every scenario in run order.
    pub const ALL: [Kind; 6] = [
        Kind::Get,
        Kind::List,
        Kind::Search,
        Kind::UiList,
        Kind::UiIncident,
        Kind::Declare,
    ];

    /// The scenario's name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Get => "get",
            Kind::List => "list",
            Kind::Search => "search",
            Kind::UiList => "ui_list",
            Kind::UiIncident => "ui_incident",
            Kind::Declare => "declare",
        }
    }
}

/// What one round times.
#[derive(Debug, Clone, Copy)]
enum Op {
    Api,
    Healthz,
    Minimal,
    Raw,
    Engine,
    Auth,
}

/// Everything the operations need.
pub struct Ctx<'a> {
    /// The HTTP client (one keep-alive connection).
    pub http: reqwest::Client,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The bench's own database handle, for the API's statements replayed in raw SQL.
    pub db: &'a Db,
    /// The raw driver's connection, for the minimal statements.
    pub minimal: &'a Minimal,
    /// What the seeding produced.
    pub seeded: &'a Seeded,
    engine: Engine,
    actor: Option<Actor>,
}

impl<'a> Ctx<'a> {
    /// A context; with `breakdown`, the in-process engine is made ready too.
    pub async fn new(
        http: reqwest::Client,
        base: String,
        db: &'a Db,
        minimal: &'a Minimal,
        seeded: &'a Seeded,
        breakdown: bool,
    ) -> anyhow::Result<Self> {
        let engine = Engine::new(db.clone());
        let actor = match breakdown {
            false => None,
            true => Some(
                engine
                    .credentials()
                    .authenticate(&seeded.token)
                    .await?
                    .context("the bench token does not authenticate")?
                    .actor,
            ),
        };
        Ok(Self {
            http,
            base,
            db,
            minimal,
            seeded,
            engine,
            actor,
        })
    }

    /// A random seeded key; `salt` keeps the API's and the floor's choices apart.
    fn key(&self, round: usize, salt: u64) -> String {
        let s = self.seeded;
        let n = s.first
            + Rng::new(round as u64 * 4 + salt).below((s.last - s.first + 1).max(1) as u64) as i64;
        format!("{}-{n}", s.key_prefix)
    }

    /// Sends a request and reads the whole answer, which must be a success.
    async fn call(&self, req: reqwest::RequestBuilder) -> anyhow::Result<()> {
        let res = req.send().await?;
        let status = res.status();
        let body = res.bytes().await?;
        anyhow::ensure!(
            status.is_success(),
            "{status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        );
        Ok(())
    }

    /// The scenario's API call.
    async fn api(&self, kind: Kind, round: usize) -> anyhow::Result<()> {
        let url = |path: String| format!("{}/api/v1{path}", self.base);
        let auth = format!("Bearer {}", self.seeded.token);
        let req = match kind {
            Kind::Get => self
                .http
                .get(url(format!("/incidents/{}", self.key(round, 0)))),
            Kind::List => self.http.get(url(format!(
                "/incidents?status=active&per_page={PER_PAGE}&page={}",
                page(round)
            ))),
            Kind::Search => self.http.get(url(format!(
                "/incidents?q={}&per_page={PER_PAGE}",
                word(round)
            ))),
            // The pages take the same bearer token as the API.
            Kind::UiList => self.http.get(format!(
                "{}/incidents?status=active&per_page={PER_PAGE}&page={}",
                self.base,
                page(round)
            )),
            Kind::UiIncident => {
                self.http
                    .get(format!("{}/incidents/{}", self.base, self.key(round, 0)))
            }
            Kind::Declare => self
                .http
                .post(url("/incidents".into()))
                .header("content-type", "application/json")
                .body(
                    serde_json::json!({"title": title(round), "description": DESCRIPTION})
                        .to_string(),
                ),
        };
        self.call(req.header("authorization", auth)).await
    }

    /// The scenario's one minimal statement through the raw driver.
    async fn minimal(&self, kind: Kind, round: usize) -> anyhow::Result<()> {
        let m = self.minimal;
        match kind {
            Kind::Get | Kind::UiIncident => m.get(&self.key(round, 3)).await.map(drop),
            Kind::List | Kind::UiList => m.list("active", page(round), PER_PAGE).await.map(drop),
            Kind::Search => m.search(word(round), PER_PAGE).await.map(drop),
            Kind::Declare => m.declare(&title(round), DESCRIPTION).await,
        }
    }

    /// The server's statement counter.
    async fn statements(&self) -> anyhow::Result<f64> {
        statements(&self.http, &self.base, &self.seeded.token).await
    }

    /// The scenario's database work in raw SQL.
    async fn raw(&self, kind: Kind, round: usize) -> anyhow::Result<()> {
        match kind {
            Kind::Get | Kind::UiIncident => {
                floor::get(self.db, &self.key(round, 1)).await.map(drop)
            }
            Kind::List | Kind::UiList => {
                floor::list(self.db, Some("active"), None, page(round), PER_PAGE)
                    .await
                    .map(drop)
            }
            Kind::Search => floor::list(self.db, None, Some(word(round)), 1, PER_PAGE)
                .await
                .map(drop),
            Kind::Declare => {
                let s = self.seeded;
                let who = Declarer {
                    id: s.reporter_id,
                    email: &s.reporter_email,
                    prefix: &s.key_prefix,
                };
                floor::declare(self.db, &who, &title(round), DESCRIPTION)
                    .await
                    .map(drop)
            }
        }
    }

    /// The scenario's engine call, in-process.
    async fn engine(&self, kind: Kind, round: usize) -> anyhow::Result<()> {
        let filter = IncidentFilter {
            // The bench's API token is an admin's, who sees every incident.
            viewer: dispatch_store::repo::incident::Viewer::Everyone,
            page: 1,
            per_page: PER_PAGE,
            ..IncidentFilter::default()
        };
        match kind {
            Kind::Get | Kind::UiIncident => self
                .engine
                .incidents()
                .get(&IncidentRef::parse(&self.key(round, 2)))
                .await
                .map(drop)?,
            Kind::List | Kind::UiList => {
                let f = IncidentFilter {
                    statuses: vec![IncidentStatus::Active],
                    page: page(round),
                    ..filter
                };
                self.engine.incidents().list(&f).await.map(drop)?
            }
            Kind::Search => {
                let f = IncidentFilter {
                    text: Some(word(round).to_string()),
                    ..filter
                };
                self.engine.incidents().list(&f).await.map(drop)?
            }
            Kind::Declare => {
                let actor = self.actor.as_ref().context("no actor for the breakdown")?;
                let cmd = DeclareIncident::new(
                    IncidentTitle::parse("title", &title(round))?,
                    LongText::parse("description", DESCRIPTION)?,
                );
                self.engine
                    .incidents()
                    .declare(actor, cmd)
                    .await
                    .map(drop)?
            }
        }
        Ok(())
    }

    async fn run(&self, op: Op, kind: Kind, round: usize) -> anyhow::Result<()> {
        match op {
            Op::Api => self.api(kind, round).await,
            Op::Healthz => {
                self.call(self.http.get(format!("{}/healthz", self.base)))
                    .await
            }
            Op::Minimal => self.minimal(kind, round).await,
            Op::Raw => self.raw(kind, round).await,
            Op::Engine => self.engine(kind, round).await,
            Op::Auth => self
                .engine
                .credentials()
                .authenticate(&self.seeded.token)
                .await
                .map(drop)
                .map_err(Into::into),
        }
    }

    /// Runs one scenario's phase: `warmup` untimed rounds, then `samples` timed ones.
    pub async fn measure(
        &self,
        kind: Kind,
        samples: usize,
        warmup: usize,
    ) -> anyhow::Result<Scenario> {
        let mut ops = vec![Op::Api, Op::Healthz, Op::Minimal, Op::Raw];
        if self.actor.is_some() {
            ops.extend([Op::Engine, Op::Auth]);
        }
        let mut s = Scenario::new(kind.name(), samples);
        let before = self.statements().await?;
        let scrape = self.statements().await? - before;
        for round in 0..warmup + samples {
            for step in 0..ops.len() {
                let op = ops[(round + step) % ops.len()];
                let t = Instant::now();
                self.run(op, kind, round)
                    .await
                    .with_context(|| format!("{} ({op:?})", kind.name()))?;
                let d = t.elapsed();
                if round >= warmup {
                    match op {
                        Op::Api => s.api.push(d),
                        Op::Healthz => s.healthz.push(d),
                        Op::Minimal => s.minimal.push(d),
                        Op::Raw => s.raw.push(d),
                        Op::Engine => s.engine.push(d),
                        Op::Auth => s.auth.push(d),
                    }
                }
            }
        }
        // A read of the counter runs statements of its own (the queue gauges): the second read
        // before the phase measured them, and the closing read counts them once more.
        let counted = self.statements().await? - before - 2.0 * scrape;
        s.statements = counted.max(0.0) / (warmup + samples) as f64;
        Ok(s)
    }
}

/// The statement counter (`dispatch_db_statements_total` on `/metrics`) of the server at `base`.
pub async fn statements(http: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<f64> {
    let res = http
        .get(format!("{base}/metrics"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await?;
    let text = res.error_for_status()?.text().await?;
    text.lines()
        .find_map(|l| l.strip_prefix("dispatch_db_statements_total "))
        .and_then(|v| v.trim().parse().ok())
        .context("no dispatch_db_statements_total on /metrics")
}

fn page(round: usize) -> u64 {
    1 + round as u64 % LIST_PAGES
}

fn word(round: usize) -> &'static str {
    SEARCH_WORDS[round % SEARCH_WORDS.len()]
}

fn title(round: usize) -> String {
    format!("Bench latency spike in {} #{round}", word(round))
}
