//! The scheduler fires each occurrence once, whichever replica ticks, and catches up after
//! downtime with one firing for the missed periods; report reminders come at each priority's
//! own cadence.

use crate::common::{at_hour, TestApp};
use chrono::{DateTime, Duration, Utc};
use dispatch_engine::scheduler::{Schedule, Scheduler};
use dispatch_engine::Engine;
use reqwest::StatusCode;
use serde_json::json;

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

/// How many reminders of `kind` (`tactical`, `executive`) the commander was mailed for `name`.
async fn reminded(app: &TestApp, name: &str, kind: &str) -> usize {
    app.mails_to("admin@example.com")
        .await
        .iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .unwrap_or_default()
                .contains(&format!("{kind} report due for {name}"))
        })
        .count()
}

#[tokio::test]
async fn tactical_and_executive_report_reminders_come_at_each_prioritys_own_cadence() {
    let app = TestApp::builder().spawn().await;
    for (name, tactical, executive) in [
        ("Fast", json!(2), json!(4)),
        ("Slow", json!(8), json!(null)),
    ] {
        let r = app
            .post(
                "/projects/default/incident-priorities",
                json!({"name": name, "tactical_report_reminder_hours": tactical,
                    "executive_report_reminder_hours": executive}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    }
    // Both reported on the hour, two days ago; the clock is the scheduler's.
    let t: DateTime<Utc> = at_hour(dispatch_core::now(), -2, 6);
    let mut names = Vec::new();
    for priority in ["fast", "slow"] {
        let r = app
            .post(
                "/incidents",
                json!({"title": format!("{priority} one"), "description": "d",
                    "priority": priority, "reported_at": t}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
        names.push(r.body["name"].as_str().unwrap().to_string());
    }
    let (fast, slow) = (&names[0], &names[1]);
    app.run_pending_jobs().await;
    let s = Scheduler::new(
        app.engine.clone(),
        vec![Schedule::parse("report_reminders", "0 * * * *")
            .unwrap()
            .unwrap()],
    );
    s.tick(t).await.unwrap();
    // (hours after the report, fast's tactical and executive reminders so far, slow's tactical)
    let expected = [
        (1, 0, 0, 0),
        (2, 1, 0, 0),
        (3, 1, 0, 0),
        (4, 2, 1, 0),
        (6, 3, 1, 0),
        (8, 4, 2, 1),
        (9, 4, 2, 1),
        // Down from 9 h to 16 h: one firing catches up, one reminder of each that is due.
        (16, 5, 3, 2),
    ];
    for (hours, fast_tactical, fast_executive, slow_tactical) in expected {
        // Ten minutes past the hour: the scheduler fires that hour's occurrence.
        s.tick(t + Duration::hours(hours) + Duration::minutes(10))
            .await
            .unwrap();
        app.run_pending_jobs().await;
        assert_eq!(
            (
                reminded(&app, fast, "tactical").await,
                reminded(&app, fast, "executive").await,
                reminded(&app, slow, "tactical").await,
            ),
            (fast_tactical, fast_executive, slow_tactical),
            "after {hours} h"
        );
    }
    assert_eq!(
        reminded(&app, slow, "executive").await,
        0,
        "a priority without an executive cadence never reminds"
    );
}
