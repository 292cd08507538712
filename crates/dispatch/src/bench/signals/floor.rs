//! The signal bench's floors, measured in the same run and independent of how ingestion is
//! built: a minimal HTTP round trip on the server's own listener stack (`GET /healthz`, the
//! same middleware, no database), and the least a durable request must do in the database —
//! one transaction holding one multi-row insert of the request's instances — issued through
//! the raw driver (sqlx, no ORM), by the same number of concurrent clients.

use crate::bench::stats::Samples;
use anyhow::Context;
use chrono::{DateTime, Utc};
use dispatch_store::{Backend, Db};
use sea_orm::sqlx;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Operations done by concurrent clients over a fixed time.
#[derive(Debug, Default)]
pub struct Rate {
    /// Latency of each operation.
    pub latencies: Samples,
    /// Operations done.
    pub ops: u64,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl Rate {
    /// Operations per second.
    pub fn per_second(&self) -> f64 {
        self.ops as f64 / self.seconds.max(1e-9)
    }
}

/// Runs `op` from `concurrency` tasks for `dur` and times every call.
async fn drive<F, Fut>(concurrency: usize, dur: Duration, op: F) -> anyhow::Result<Rate>
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let started = Instant::now();
    let end = started + dur;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..concurrency as u64 {
        let op = op.clone();
        tasks.spawn(async move {
            let mut s = Samples::default();
            let mut n = 0u64;
            while Instant::now() < end {
                let t = Instant::now();
                op(c << 32 | n).await?;
                s.push(t.elapsed());
                n += 1;
            }
            anyhow::Ok((s, n))
        });
    }
    let mut rate = Rate::default();
    while let Some(r) = tasks.join_next().await {
        let (s, n) = r.context("a floor client panicked")??;
        rate.latencies.extend(&s);
        rate.ops += n;
    }
    rate.seconds = started.elapsed().as_secs_f64();
    Ok(rate)
}

/// `GET /healthz` from `concurrency` clients for `dur`.
pub async fn http(
    http: &reqwest::Client,
    base: &str,
    concurrency: usize,
    dur: Duration,
) -> anyhow::Result<Rate> {
    let url = format!("{base}/healthz");
    let http = http.clone();
    drive(concurrency, dur, move |_| {
        let (http, url) = (http.clone(), url.clone());
        async move {
            let r = http.get(&url).send().await?;
            anyhow::ensure!(r.status().is_success(), "healthz answered {}", r.status());
            r.bytes().await?;
            Ok(())
        }
    })
    .await
}

/// One instance row as the floor writes it.
#[derive(Debug, Clone)]
pub struct Row {
    /// The alert's fingerprint (the floor makes each unique).
    pub fingerprint: String,
    /// Its title.
    pub title: String,
    /// Its labels, JSON.
    pub labels: String,
    /// The alert as received, JSON.
    pub raw: String,
}

const COLUMNS: &str = "project_id, definition_id, source, fingerprint, status, title, labels, entities, raw, filter_action, received_at";
const WIDTH: usize = 11;

/// The multi-row insert of `rows` rows, with the backend's placeholders.
fn insert_sql(backend: Backend, rows: usize) -> String {
    let mut n = 0;
    let groups: Vec<String> = (0..rows)
        .map(|_| {
            let one: Vec<String> = (0..WIDTH)
                .map(|_| {
                    n += 1;
                    match backend {
                        Backend::Postgres => format!("${n}"),
                        Backend::Sqlite => "?".to_string(),
                    }
                })
                .collect();
            format!("({})", one.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO signal_instances ({COLUMNS}) VALUES {}",
        groups.join(", ")
    )
}

/// Binds one batch and runs it in its own transaction (same code for both drivers).
macro_rules! insert_batch {
    ($pool:expr, $sql:expr, $rows:expr, $project:expr, $definition:expr, $round:expr, $now:expr) => {{
        let mut tx = $pool.begin().await?;
        let mut q = sqlx::query($sql);
        for (i, r) in $rows.iter().enumerate() {
            q = q
                .bind($project)
                .bind($definition)
                .bind("alertmanager")
                .bind(format!("{}-{}-{i}", r.fingerprint, $round))
                .bind("firing")
                .bind(r.title.as_str())
                .bind(r.labels.as_str())
                .bind("[]")
                .bind(r.raw.as_str())
                .bind("none")
                .bind($now);
        }
        q.execute(&mut *tx).await?;
        tx.commit().await?;
    }};
}

/// What the insert floor writes with.
pub struct InsertFloor {
    /// The project of the rows.
    pub project_id: i64,
    /// The definition the rows are filed under (one the load does not use).
    pub definition_id: i64,
    /// One request's alerts.
    pub rows: Vec<Row>,
}

/// `concurrency` clients each committing one transaction per request-sized batch, for `dur`.
/// On SQLite the writers take turns on one lock, as the server's do.
pub async fn insert(
    db: &Db,
    floor: InsertFloor,
    concurrency: usize,
    dur: Duration,
) -> anyhow::Result<Rate> {
    let backend = db.backend();
    let sql: Arc<str> = insert_sql(backend, floor.rows.len()).into();
    let floor = Arc::new(floor);
    let lock = Arc::new(Mutex::new(()));
    match backend {
        Backend::Sqlite => {
            let pool = db.conn().get_sqlite_connection_pool().clone();
            drive(concurrency, dur, move |round| {
                let (pool, sql, f, lock) = (pool.clone(), sql.clone(), floor.clone(), lock.clone());
                async move {
                    let now: DateTime<Utc> = dispatch_core::now();
                    let _turn = lock.lock().await;
                    insert_batch!(
                        pool,
                        &*sql,
                        f.rows,
                        f.project_id,
                        f.definition_id,
                        round,
                        now
                    );
                    Ok(())
                }
            })
            .await
        }
        Backend::Postgres => {
            let pool = db.conn().get_postgres_connection_pool().clone();
            drive(concurrency, dur, move |round| {
                let (pool, sql, f) = (pool.clone(), sql.clone(), floor.clone());
                async move {
                    let now: DateTime<Utc> = dispatch_core::now();
                    insert_batch!(
                        pool,
                        &*sql,
                        f.rows,
                        f.project_id,
                        f.definition_id,
                        round,
                        now
                    );
                    Ok(())
                }
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_insert_has_one_placeholder_per_value() {
        let pg = insert_sql(Backend::Postgres, 2);
        assert!(pg.ends_with("($12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"));
        let lite = insert_sql(Backend::Sqlite, 3);
        assert_eq!(lite.matches('?').count(), 3 * WIDTH);
        assert_eq!(COLUMNS.split(", ").count(), WIDTH);
    }
}
