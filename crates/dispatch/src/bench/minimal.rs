//! The design-independent floors: for each operation, the one minimal statement that any design
//! would have to run, through the raw driver (sqlx, the driver under the ORM) on a connection of
//! its own — no ORM, no models, no token lookup, no JSON. Added to a `GET /healthz` round trip
//! (the HTTP floor on the same listener stack), it is what an API call is compared with.
//!
//! - get: the incident's row by its key (a unique index);
//! - list: one page of the status index range, newest first;
//! - search: one page of the full-text query;
//! - declare: one transaction inserting the incident's row.

use anyhow::Context;
use chrono::Utc;
use dispatch_store::{Backend, Db};
use sea_orm::sqlx::postgres::{PgPool, PgPoolOptions};
use sea_orm::sqlx::sqlite::{SqlitePool, SqlitePoolOptions};
use sea_orm::ConnectionTrait;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The incident's own columns (PostgreSQL's stored search document left out, as the API does).
macro_rules! columns {
    () => {
        "id, project_id, number, name, title, description, resolution, status, visibility, \
         type_id, priority_id, severity_id, commander_id, reporter_id, reported_at, stable_at, \
         closed_at, created_at, updated_at, event_seq, last_event_hash"
    };
}
const GET: &str = concat!("SELECT ", columns!(), " FROM incidents WHERE name = $1");
/// The page's bounds follow as numbers in the text (a plan PostgreSQL can reuse).
const LIST: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM incidents WHERE status = $1 ORDER BY reported_at DESC, id DESC"
);
const SEARCH_SQLITE: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM incidents WHERE id IN \
    (SELECT rowid FROM incidents_fts WHERE incidents_fts MATCH $1) \
    ORDER BY reported_at DESC, id DESC"
);
/// The GIN index's column (migration 000250).
const SEARCH_POSTGRES: &str = concat!(
    "SELECT ",
    columns!(),
    " FROM incidents WHERE search_vector @@ to_tsquery('simple', $1) \
    ORDER BY reported_at DESC, id DESC"
);
const INSERT: &str = "INSERT INTO incidents (project_id, number, name, title, description, \
    status, visibility, type_id, priority_id, severity_id, commander_id, reporter_id, reported_at, \
    created_at, updated_at, event_seq, last_event_hash) \
    VALUES ($1, $2, $3, $4, $5, 'active', 'open', $6, $7, $8, $9, $9, $10, $10, $10, 0, '')";

/// The raw driver's pool.
#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The floors' statements, ready to run.
#[derive(Clone)]
pub struct Minimal {
    pool: Pool,
    /// The default project and its default type, priority and severity.
    refs: [i64; 4],
    reporter_id: i64,
    /// Numbers for the floor's inserted incidents, far above the seeded ones.
    next: Arc<AtomicI64>,
}

/// Runs the query built by `$bind` from `$q` on whichever pool it is; answers the rows read.
macro_rules! fetch {
    ($pool:expr, $sql:expr, |$q:ident| $bind:expr) => {
        match $pool {
            Pool::Sqlite(p) => {
                let $q = sea_orm::sqlx::query($sql);
                $bind.fetch_all(p).await.map(|r| r.len())
            }
            Pool::Postgres(p) => {
                let $q = sea_orm::sqlx::query($sql);
                $bind.fetch_all(p).await.map(|r| r.len())
            }
        }
    };
}

impl Minimal {
    /// Opens a pool of `connections` connections of the raw driver on the bench's database.
    pub async fn open(
        url: &str,
        db: &Db,
        reporter_id: i64,
        connections: u32,
    ) -> anyhow::Result<Self> {
        let pool = match db.backend() {
            Backend::Sqlite => Pool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(connections)
                    .connect(url)
                    .await
                    .context("the floor cannot open the SQLite database")?,
            ),
            Backend::Postgres => Pool::Postgres(
                PgPoolOptions::new()
                    .max_connections(connections)
                    .connect(url)
                    .await
                    .context("the floor cannot open the PostgreSQL database")?,
            ),
        };
        let row = db
            .conn()
            .query_one(sea_orm::Statement::from_string(
                db.conn().get_database_backend(),
                "SELECT p.id, t.id, pr.id, s.id FROM projects p \
                 JOIN incident_types t ON t.project_id = p.id AND t.is_default \
                 JOIN incident_priorities pr ON pr.project_id = p.id AND pr.is_default \
                 JOIN incident_severities s ON s.project_id = p.id AND s.is_default \
                 WHERE p.is_default",
            ))
            .await?
            .context("no default project with a default type, priority and severity")?;
        let refs = [0, 1, 2, 3].map(|i| row.try_get_by_index::<i64>(i).unwrap_or_default());
        // Past every number taken, a floor opened earlier in the run included.
        let taken: i64 = db
            .conn()
            .query_one(sea_orm::Statement::from_string(
                db.conn().get_database_backend(),
                "SELECT COALESCE(MAX(number), 0) FROM incidents",
            ))
            .await?
            .map(|r| r.try_get_by_index(0))
            .transpose()?
            .unwrap_or(0);
        Ok(Self {
            pool,
            refs,
            reporter_id,
            next: Arc::new(AtomicI64::new(taken.max(999_999_999) + 1)),
        })
    }

    /// The incident's row by key. Returns the rows read.
    pub async fn get(&self, key: &str) -> anyhow::Result<usize> {
        Ok(fetch!(&self.pool, GET, |q| q.bind(key))?)
    }

    /// One page of the status index, newest first.
    pub async fn list(&self, status: &str, page: u64, per_page: u64) -> anyhow::Result<usize> {
        let offset = page.saturating_sub(1) * per_page;
        let sql = format!("{LIST} LIMIT {per_page} OFFSET {offset}");
        Ok(fetch!(&self.pool, &sql, |q| q.bind(status))?)
    }

    /// One page of the full-text query for `word` (a prefix, as the API's `q` searches).
    pub async fn search(&self, word: &str, per_page: u64) -> anyhow::Result<usize> {
        Ok(match &self.pool {
            Pool::Sqlite(_) => {
                let sql = format!("{SEARCH_SQLITE} LIMIT {per_page}");
                fetch!(&self.pool, &sql, |q| q.bind(format!("\"{word}\"*")))?
            }
            Pool::Postgres(_) => {
                let sql = format!("{SEARCH_POSTGRES} LIMIT {per_page}");
                fetch!(&self.pool, &sql, |q| q.bind(format!("{word}:*")))?
            }
        })
    }

    /// Declare floors per second (each [`Minimal::declare`]'s one transaction) from `clients`
    /// callers at once for `time`; the pool needs `clients` connections.
    pub async fn declare_rate(&self, clients: usize, time: Duration) -> anyhow::Result<f64> {
        let started = Instant::now();
        let deadline = started + time;
        let callers: Vec<_> = (0..clients)
            .map(|i| {
                let floor = self.clone();
                tokio::spawn(async move {
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        floor
                            .declare(&format!("floor {i}-{n}: checkout errors"), "declare floor")
                            .await?;
                        n += 1;
                    }
                    anyhow::Ok(n)
                })
            })
            .collect();
        let mut done = 0;
        for c in callers {
            done += c.await??;
        }
        Ok(done as f64 / started.elapsed().as_secs_f64())
    }

    /// One transaction inserting an incident's row.
    pub async fn declare(&self, title: &str, description: &str) -> anyhow::Result<()> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let name = format!("FLOOR-{n}");
        let [project, type_, priority, severity] = self.refs;
        let now = Utc::now();
        macro_rules! insert {
            ($p:expr) => {{
                let mut tx = $p.begin().await?;
                sea_orm::sqlx::query(INSERT)
                    .bind(project)
                    .bind(n)
                    .bind(&name)
                    .bind(title)
                    .bind(description)
                    .bind(type_)
                    .bind(priority)
                    .bind(severity)
                    .bind(self.reporter_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }};
        }
        match &self.pool {
            Pool::Sqlite(p) => insert!(p),
            Pool::Postgres(p) => insert!(p),
        }
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(self) {
        match self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}
