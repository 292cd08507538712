//! Crash safety: a worker killed with SIGKILL at any point of a declare saga leaves nothing lost
//! and nothing doubled once a worker runs again.

use crate::common::{actor_of, declare_on as declare, TestApp};
use dispatch_core::provider::ProviderRegistry;
use dispatch_core::values::IncidentRef;
use dispatch_engine::flows::DECLARE_STEPS;
use dispatch_engine::{Actor, Engine};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn worker(url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dispatch"))
        .args(["worker", "--database-url", url])
        .env("DISPATCH_JOB_TIMEOUT_SECONDS", "1")
        .env("DISPATCH_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a worker")
}

/// A fresh application whose engine has no providers (workers run elsewhere), its database
/// and its admin as an actor.
async fn setup() -> (TestApp, dispatch_store::Db, Actor) {
    let app = TestApp::builder()
        .registry(|_, r| *r = ProviderRegistry::default())
        .spawn()
        .await;
    let db = app.engine.db().clone();
    let actor = actor_of(&app.engine, &app.token).await;
    (app, db, actor)
}

#[tokio::test]
async fn a_worker_killed_mid_saga_is_resumed_without_duplicates_or_lost_steps() {
    let (app, db, actor) = setup().await;
    let (engine, url) = (&app.engine, &app.db.url);

    let mut names = Vec::new();
    for (i, kill_after_ms) in [0u64, 15, 40, 80, 150].into_iter().enumerate() {
        for j in 0..3 {
            names.push(declare(engine, &actor, &format!("crash {i}.{j}")).await);
        }
        let mut w = worker(url);
        tokio::time::sleep(Duration::from_millis(kill_after_ms)).await;
        w.kill().expect("SIGKILL the worker");
        w.wait().unwrap();
    }
    let mut w = worker(url);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = {
            let mut all = true;
            for n in &names {
                let d = engine
                    .incidents()
                    .get(&IncidentRef::parse(n))
                    .await
                    .unwrap();
                all &= d.resources.len() == DECLARE_STEPS.len()
                    && d.resources.iter().all(|r| r.status == "ready");
            }
            all
        };
        let queued = dispatch_store::repo::job::list(db.conn(), Some("queued"), 10)
            .await
            .unwrap()
            .len()
            + dispatch_store::repo::job::list(db.conn(), Some("running"), 10)
                .await
                .unwrap()
                .len();
        if done && queued == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sagas did not finish after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    w.kill().unwrap();
    w.wait().unwrap();

    use dispatch_store::testing::count;
    assert_eq!(
        count(&db, "participant_groups").await,
        names.len() as u64,
        "one participant group per incident"
    );
    assert_eq!(
        count(&db, "documents").await,
        names.len() as u64,
        "one document per incident"
    );
    assert_eq!(
        count(&db, "rooms").await,
        names.len() as u64,
        "one room per incident"
    );
    assert_eq!(
        count(&db, "room_messages").await,
        names.len() as u64,
        "one welcome per room"
    );
    for n in &names {
        let events = engine
            .timeline()
            .list(&IncidentRef::parse(n), &Default::default())
            .await
            .unwrap();
        let created = events
            .iter()
            .filter(|e| e.kind == "resource_created")
            .count();
        assert_eq!(
            created,
            DECLARE_STEPS.len(),
            "{n}: each resource recorded once"
        );
        assert_eq!(
            events
                .iter()
                .filter(|e| e.kind == "conversation_ready")
                .count(),
            1,
            "{n}"
        );
        assert!(engine
            .timeline()
            .verify(&IncidentRef::parse(n))
            .await
            .unwrap()
            .first_broken_seq
            .is_none());
    }
    assert!(
        dispatch_store::repo::job::list(db.conn(), Some("failed"), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn two_workers_on_one_queue_run_every_job_exactly_once() {
    let (app, db, actor) = setup().await;
    let (engine, url) = (&app.engine, &app.db.url);
    // PostgreSQL: two worker processes (replicas). SQLite is one process by design: two runners
    // in it share the queue the same way.
    let postgres = db.backend() == dispatch_store::Backend::Postgres;
    let mut procs = Vec::new();
    let mut tasks = Vec::new();
    if postgres {
        procs.push(worker(url));
        procs.push(worker(url));
    } else {
        let with = Engine::with_providers(
            db.clone(),
            dispatch::server::builtin_providers(&db, Default::default()),
        );
        for _ in 0..2 {
            let (tx, rx) = tokio::sync::watch::channel(false);
            let runner =
                dispatch_engine::jobs::Runner::new(with.clone(), crate::common::fast_runner());
            tasks.push((tx, tokio::spawn(async move { runner.run_until(rx).await })));
        }
    }
    let mut names = Vec::new();
    for i in 0..15 {
        names.push(declare(engine, &actor, &format!("replica {i}")).await);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let jobs = dispatch_store::repo::job::list(db.conn(), None, 1000)
            .await
            .unwrap();
        if jobs.len() >= names.len() * 6 && jobs.iter().all(|j| j.state == "succeeded") {
            assert!(
                jobs.iter().all(|j| j.attempts == 1),
                "a job ran twice: {:?}",
                jobs.iter().filter(|j| j.attempts != 1).collect::<Vec<_>>()
            );
            break;
        }
        assert!(Instant::now() < deadline, "the jobs did not all succeed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for mut p in procs {
        p.kill().unwrap();
        p.wait().unwrap();
    }
    for (tx, task) in tasks {
        tx.send(true).unwrap();
        task.await.unwrap();
    }
    use dispatch_store::testing::count;
    assert_eq!(count(&db, "documents").await, names.len() as u64);
    assert_eq!(count(&db, "room_messages").await, names.len() as u64);
}
