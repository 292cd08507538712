//! The scheduler fires each occurrence once, whichever replica ticks, and catches up after
//! downtime with one firing for the missed periods.

use crate::common::TestApp;
use chrono::Duration;
use dispatch_engine::scheduler::{Schedule, Scheduler};
use dispatch_engine::Engine;

#[tokio::test]
async fn two_replicas_fire_each_period_once_and_catch_up_after_downtime_once() {
    let app = TestApp::builder().spawn().await;
    let db = app.engine.db().clone();
    // Two replicas: on PostgreSQL each with its own connection pool; SQLite is one process.
    let other = if db.backend() == dispatch_store::Backend::Postgres {
        app.db.open().await
    } else {
        db.clone()
    };
    let every_second = || {
        vec![Schedule::parse("cleanup_jobs", "* * * * * *")
            .unwrap()
            .unwrap()]
    };
    let a = Scheduler::new(app.engine.clone(), every_second());
    let b = Scheduler::new(Engine::new(other), every_second());
    let fired = |db: dispatch_store::Db| async move {
        dispatch_store::repo::job::list(db.conn(), None, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|j| j.kind == "cleanup_jobs")
            .count()
    };

    let t0 = dispatch_core::now();
    assert_eq!(
        a.tick(t0).await.unwrap(),
        0,
        "the first tick starts counting"
    );
    for step in 1..=5 {
        let now = t0 + Duration::milliseconds(1000 * step + 300);
        let (x, y) = tokio::join!(a.tick(now), b.tick(now));
        assert_eq!(
            x.unwrap() + y.unwrap(),
            1,
            "exactly one replica fires the occurrence of second {step}"
        );
    }
    assert_eq!(fired(db.clone()).await, 5);
    // Down for a minute: one firing for everything missed, then back to one per second.
    let later = t0 + Duration::seconds(66);
    let (x, y) = tokio::join!(a.tick(later), b.tick(later));
    assert_eq!(x.unwrap() + y.unwrap(), 1);
    assert_eq!(
        a.tick(later).await.unwrap() + b.tick(later).await.unwrap(),
        0,
        "a second tick at the same time fires nothing"
    );
    assert_eq!(fired(db.clone()).await, 6);
    assert_eq!(app.run_pending_jobs().await, 6, "the periodic jobs run");
    assert!(
        dispatch_store::repo::job::list(db.conn(), Some("failed"), 10)
            .await
            .unwrap()
            .is_empty()
    );
}
