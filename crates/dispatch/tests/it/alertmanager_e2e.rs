//! A real Prometheus Alertmanager notifying Dispatch (`POST /api/v1/signals/alertmanager`) end
//! to end: alerts pushed into Alertmanager arrive as a case, an alert Alertmanager sends again
//! is deduplicated into it, and a resolved alert resolves its instance.
//!
//! It reads the answers' `id`, `items`, `filter_action`, `case_id` and `status`/`resolved_at`
//! (see `tests/it/signals.rs` for the same endpoint without Alertmanager in between).

use crate::common::alertmanager::{Alert, Alertmanager, Webhook};
use crate::common::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::future::Future;
use std::time::{Duration, Instant};

/// A list answer's entries: a bare array, or `items` (or `data`) of a page.
fn items(v: &Value) -> Vec<Value> {
    v.as_array()
        .or_else(|| v["items"].as_array())
        .or_else(|| v["data"].as_array())
        .unwrap_or_else(|| panic!("not a list: {v:#}"))
        .clone()
}

/// Polls `probe` every 100 ms for up to 20 s until it returns `Some`; the failure message shows
/// what `probe` last saw (`last`) and Alertmanager's log (failed notifications show there).
async fn eventually<T, F, Fut>(am: &Alertmanager, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = (Option<T>, Value)>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (found, last) = probe().await;
        if let Some(found) = found {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within 20 s; last seen: {last:#}\nAlertmanager's log:\n{}",
            am.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The definition's instances, as `GET /signal-instances?definition=ID` answers them.
async fn instances(app: &TestApp, definition: &Value) -> Value {
    let r = app
        .get(&format!("/signal-instances?definition={definition}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    r.body
}

/// The default project's cases, as `GET /cases?project=default` answers them.
async fn cases(app: &TestApp) -> Value {
    let r = app.get("/cases?project=default").await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    r.body
}

fn is_resolved(instance: &Value) -> bool {
    instance["status"] == "resolved" || !instance["resolved_at"].is_null()
}

#[tokio::test]
async fn alerts_pushed_into_a_real_alertmanager_arrive_as_one_case_deduplicated_then_resolved() {
    let app = TestApp::builder().spawn().await;
    // The source's own token, as a service account's would be.
    let token = app
        .token_with("alertmanager@example.com", "admin", "write")
        .await;
    let r = app
        .post(
            "/projects/default/signal-definitions",
            json!({
                "name": "High error rate",
                "source": "alertmanager",
                "match": {"alertname": "HighErrorRate"},
                "create_case": true,
                "dedup_window_seconds": 3600,
            }),
        )
        .await;
    assert!(
        r.status == StatusCode::CREATED || r.status == StatusCode::OK,
        "create the definition: {} {:#}",
        r.status,
        r.body
    );
    let definition = r.body["id"].clone();
    assert!(
        !definition.is_null(),
        "the definition has an id: {:#}",
        r.body
    );

    // Grouped by service: both alerts below are one Alertmanager group (one notification), and
    // only the first matches the definition.
    let am = Alertmanager::start_grouped_by(
        &Webhook {
            url: format!("{}/api/v1/signals/alertmanager", app.base),
            bearer: Some(token),
        },
        &["service"],
    )
    .await;
    let errors = Alert::firing(&[
        ("alertname", "HighErrorRate"),
        ("service", "payments"),
        ("severity", "critical"),
    ])
    .annotation("summary", "5xx above 5% on payments");
    let latency = Alert::firing(&[("alertname", "HighLatency"), ("service", "payments")])
        .annotation("summary", "p99 above 2 s on payments");

    // The alert twice (as Prometheus re-sends it every evaluation): Alertmanager notifies it
    // once, and it becomes one instance with a new case.
    am.push_alerts(&[&errors]).await;
    am.push_alerts(&[&errors]).await;
    let first = eventually(&am, "the first instance", || async {
        let body = instances(&app, &definition).await;
        let list = items(&body);
        ((list.len() == 1).then(|| list[0].clone()), body)
    })
    .await;
    assert_eq!(first["filter_action"], "none", "{first:#}");
    let case_id = first["case_id"].clone();
    assert!(!case_id.is_null(), "the instance opened a case: {first:#}");

    // A second alert in the same group changes the group, so Alertmanager sends the group
    // again: the first alert (same fingerprint) is deduplicated into the same case, the second
    // matches no definition.
    am.push_alerts(&[&latency]).await;
    let both = eventually(&am, "the deduplicated instance", || async {
        let body = instances(&app, &definition).await;
        let list = items(&body);
        ((list.len() == 2).then_some(list), body)
    })
    .await;
    let dedup: Vec<&Value> = both
        .iter()
        .filter(|i| i["filter_action"] == "deduplicate")
        .collect();
    assert_eq!(dedup.len(), 1, "{both:#?}");
    assert!(
        both.iter().all(|i| i["case_id"] == case_id),
        "both on case {case_id}: {both:#?}"
    );
    let all_cases = items(&cases(&app).await);
    assert_eq!(all_cases.len(), 1, "one case: {all_cases:#?}");
    assert_eq!(all_cases[0]["id"], case_id, "{all_cases:#?}");

    // Resolved in Prometheus (a past endsAt): Alertmanager sends `resolved` for it, and its
    // instance is resolved.
    am.push_alerts(&[&errors.resolved()]).await;
    eventually(&am, "the resolved instance", || async {
        let body = instances(&app, &definition).await;
        let resolved = items(&body).iter().any(is_resolved);
        (resolved.then_some(()), body)
    })
    .await;
    assert_eq!(
        items(&cases(&app).await).len(),
        1,
        "resolving opens no case"
    );
    app.run_pending_jobs().await;
}
