//! The orchestration figures: declare → every resource ready with the built-in providers, and
//! job throughput, each beside a floor measured in the same run. Measured in-process on the
//! engine and its job runner (the HTTP part of a declare is measured by the declare scenario).
//!
//! Floors: a declare saga is the declare transaction and seven job steps (six resources and the
//! room's set-up); its floor is the raw declare floor plus seven times one step's bare database
//! work (claim the job; in one transaction mark the resource ready, append an event, move the
//! incident's chain head, finish the job, enqueue the next). The throughput floor runs no-op
//! jobs through the same claim and finish as real ones.

use super::floor;
use super::stats::{SagaFigures, Samples};
use dispatch_engine::jobs::{Runner, RunnerOptions};
use dispatch_engine::Engine;
use dispatch_store::repo::job::{self, NewJob};
use dispatch_store::Db;
use sea_orm::{ConnectionTrait, Statement};
use std::time::{Duration, Instant};

fn runner(engine: &Engine) -> Runner {
    Runner::new(
        engine.clone(),
        RunnerOptions {
            // As `serve` runs them.
            concurrency: usize::try_from(crate::config::Config::default().job_concurrency)
                .unwrap_or(1),
            backoff: Duration::ZERO,
            max_backoff: Duration::ZERO,
            ..RunnerOptions::default()
        },
    )
}

/// Drains the queue, then times `samples` declare sagas and their floors, then the no-op floor.
pub async fn measure(
    db: &Db,
    token: &str,
    who: &floor::Declarer<'_>,
    samples: usize,
) -> anyhow::Result<SagaFigures> {
    let providers =
        crate::server::builtin_providers(db, dispatch_providers::BuiltinSettings::default());
    let engine = Engine::with_providers(db.clone(), providers);
    let actor = engine
        .credentials()
        .authenticate(token)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the bench token does not authenticate"))?
        .actor;
    let r = runner(&engine);

    let started = Instant::now();
    let drained = r.run_pending().await?;
    let jobs_per_s = drained as f64 / started.elapsed().as_secs_f64().max(1e-9);

    let mut ready = Samples::with_capacity(samples);
    let mut floor_samples = Samples::with_capacity(samples);
    for i in 0..samples {
        let t = Instant::now();
        let cmd = dispatch_core::commands::DeclareIncident::new(
            dispatch_core::values::IncidentTitle::parse("title", &format!("saga bench {i}"))?,
            dispatch_core::values::LongText::parse("description", "declare to ready")?,
        );
        engine.incidents().declare(&actor, cmd).await?;
        r.run_pending().await?;
        ready.push(t.elapsed());

        let t = Instant::now();
        let name = floor::declare(db, who, &format!("saga floor {i}"), "declare to ready").await?;
        for _ in 0..=dispatch_engine::flows::DECLARE_STEPS.len() {
            step_floor(db, &name).await?;
        }
        floor_samples.push(t.elapsed());
        // The floor's jobs are not the engine's to run: drop them before the next saga.
        db.conn()
            .execute_unprepared("DELETE FROM jobs WHERE state = 'queued' OR kind = 'noop'")
            .await?;
    }

    let floor_jobs_per_s = noop_floor(db, 500).await?;
    Ok(SagaFigures {
        ready,
        floor: floor_samples,
        jobs_per_s,
        floor_jobs_per_s,
    })
}

/// One saga step's bare database work for the incident `name`.
async fn step_floor(db: &Db, name: &str) -> anyhow::Result<()> {
    let now = dispatch_core::now();
    job::enqueue(
        db.conn(),
        vec![NewJob {
            kind: "noop".into(),
            payload: serde_json::json!({}),
            run_at: now,
            idempotency_key: None,
            incident_id: None,
        }],
    )
    .await?;
    let claimed = job::claim(db, "bench", 1, now, now - chrono::Duration::hours(1)).await?;
    let txn = db.write().await?;
    let backend = txn.get_database_backend();
    let q = |sql: &str, values: Vec<sea_orm::Value>| {
        Statement::from_sql_and_values(backend, sql, values)
    };
    txn.execute(q(
        "UPDATE resources SET status = 'ready', link = $1, updated_at = $2 WHERE id = (SELECT r.id FROM resources r JOIN incidents i ON i.id = r.incident_id WHERE i.name = $3 LIMIT 1)",
        vec!["https://example.com/x".into(), now.into(), name.into()],
    ))
    .await?;
    txn.execute(q(
        "INSERT INTO events (incident_id, seq, occurred_at, recorded_at, kind, source, transport, description, details, prev_hash, hash) \
         SELECT id, event_seq + 1, $1, $1, 'resource_created', 'dispatch', 'system', 'ready', '{}', last_event_hash, $2 FROM incidents WHERE name = $3",
        vec![now.into(), format!("{:064x}", now.timestamp_micros()).into(), name.into()],
    ))
    .await?;
    txn.execute(q(
        "UPDATE incidents SET event_seq = event_seq + 1, updated_at = $1 WHERE name = $2",
        vec![now.into(), name.into()],
    ))
    .await?;
    for j in &claimed {
        job::finish(&*txn, j, Ok(())).await?;
    }
    job::enqueue(
        &*txn,
        vec![NewJob {
            kind: "noop".into(),
            payload: serde_json::json!({}),
            run_at: now,
            idempotency_key: None,
            incident_id: None,
        }],
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// No-op jobs per second through the runner's claim (batches of 16) and finish.
async fn noop_floor(db: &Db, n: usize) -> anyhow::Result<f64> {
    let now = dispatch_core::now();
    let jobs = (0..n)
        .map(|_| NewJob {
            kind: "noop".into(),
            payload: serde_json::json!({}),
            run_at: now,
            idempotency_key: None,
            incident_id: None,
        })
        .collect();
    job::enqueue(db.conn(), jobs).await?;
    let started = Instant::now();
    let mut done = 0;
    loop {
        let now = dispatch_core::now();
        let claimed = job::claim(db, "bench", 16, now, now - chrono::Duration::hours(1)).await?;
        if claimed.is_empty() {
            break;
        }
        for j in &claimed {
            let txn = db.write().await?;
            job::finish(&*txn, j, Ok(())).await?;
            txn.commit().await?;
            done += 1;
        }
    }
    let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-9);
    db.conn()
        .execute_unprepared("DELETE FROM jobs WHERE kind = 'noop'")
        .await?;
    Ok(rate)
}
