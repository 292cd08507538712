//! The orchestration engine end to end with the built-in providers: the declare saga, stable and
//! close flows, and what happens when a provider fails.

use crate::common::{fast_runner, spawn_app, TestApp};
use async_trait::async_trait;
use dispatch_core::provider::{
    Created, IncidentContext, ProviderError, ProviderResult, ResourceProvider,
};
use dispatch_engine::jobs::Runner;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

fn resources(incident: &Value) -> Vec<(String, String)> {
    let mut r: Vec<_> = incident["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_string(),
                r["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    r.sort();
    r
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<_> = list
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn declaring_brings_every_resource_to_ready_and_sets_up_the_room() {
    let app = spawn_app().await;
    let declared = app.post("/incidents", json!({"title": "Payments failing", "description": "5xx on checkout", "priority": "high"})).await.body;
    assert!(
        resources(&declared).iter().all(|(_, s)| s == "pending"),
        "the call returns before any provider runs"
    );
    assert_eq!(resources(&declared).len(), 6);
    assert!(app.run_pending_jobs().await >= 7);
    let i = app.get("/incidents/INC-1").await.body;
    assert_eq!(
        resources(&i),
        pairs(&[
            ("conference", "ready"),
            ("conversation", "ready"),
            ("document", "ready"),
            ("group", "ready"),
            ("storage", "ready"),
            ("ticket", "ready")
        ])
    );
    let group = app.get("/incidents/INC-1/group").await.body;
    assert_eq!(group["name"], "inc-1-responders");
    assert_eq!(group["members"], json!(["admin@example.com"]));
    let room = app.get("/incidents/INC-1/room").await.body;
    assert_eq!(room["name"], "inc-1-payments-failing");
    assert_eq!(
        room["topic"],
        "IC: admin | Status: active | Type: Default | Severity: Undetermined | Priority: High"
    );
    let titles: Vec<_> = room["bookmarks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Conference",
            "Incident document",
            "Participant group",
            "Storage",
            "Ticket"
        ]
    );
    assert_eq!(room["members"], json!(["admin@example.com"]));
    assert!(
        room["messages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("INC-1: Payments failing"),
        "{room}"
    );
    let docs = app.get("/incidents/INC-1/documents").await.body;
    let body = docs[0]["body"].as_str().unwrap();
    assert!(body.starts_with("# INC-1: Payments failing"), "{body}");
    assert!(
        body.contains("| Priority | High |")
            && body.contains("5xx on checkout")
            && !body.contains("{{"),
        "{body}"
    );
    let kinds: Vec<_> = app
        .get("/incidents/INC-1/timeline")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "resource_created").count(), 6);
    assert!(kinds.contains(&"conversation_ready".to_string()));
    assert_eq!(
        app.get("/incidents/INC-1/timeline/verify").await.body["valid"],
        true
    );
}

#[tokio::test]
async fn updates_refresh_the_topic_and_the_document() {
    let app = spawn_app().await;
    app.declare("Slow search").await;
    app.run_pending_jobs().await;
    app.patch(
        "/incidents/INC-1",
        json!({"severity": "critical", "description": "p99 at 9 s"}),
    )
    .await;
    app.post(
        "/incidents/INC-1/roles",
        json!({"email": "bea@example.com", "role": "incident_commander"}),
    )
    .await;
    app.run_pending_jobs().await;
    let room = app.get("/incidents/INC-1/room").await.body;
    assert_eq!(
        room["topic"],
        "IC: bea | Status: active | Type: Default | Severity: Critical | Priority: Low"
    );
    assert_eq!(
        room["members"],
        json!(["admin@example.com", "bea@example.com"])
    );
    let doc = &app.get("/incidents/INC-1/documents").await.body[0];
    assert!(doc["body"].as_str().unwrap().contains("p99 at 9 s"));
}

#[tokio::test]
async fn stable_adds_the_review_document_and_close_archives_the_room() {
    let app = spawn_app().await;
    app.declare("Disk full").await;
    app.run_pending_jobs().await;
    app.call(Method::POST, "/incidents/INC-1/stable", None)
        .await;
    app.run_pending_jobs().await;
    let i = app.get("/incidents/INC-1").await.body;
    assert!(resources(&i).contains(&("review_document".into(), "ready".into())));
    let docs = app.get("/incidents/INC-1/documents").await.body;
    let review = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "review_document")
        .unwrap()
        .clone();
    assert!(
        review["body"]
            .as_str()
            .unwrap()
            .contains("marked stable INC-1"),
        "the review carries the timeline: {review}"
    );
    let body = review["body"].as_str().unwrap();
    for part in [
        "## Key figures",
        "- Time to stable: ",
        "- Time to close: not yet",
        "- People who took part: 1",
        "- Response cost: not computed yet",
        "## Participants",
    ] {
        assert!(body.contains(part), "the review has {part:?}: {body}");
    }
    let room = app.get("/incidents/INC-1/room").await.body;
    assert!(room["bookmarks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["title"] == "Post-incident review"));

    app.call(Method::POST, "/incidents/INC-1/close", None).await;
    app.run_pending_jobs().await;
    let i = app.get("/incidents/INC-1").await.body;
    assert!(resources(&i).contains(&("conversation".into(), "archived".into())));
    assert_eq!(
        app.get("/incidents/INC-1/room").await.body["archived"],
        true
    );
    let docs = app.get("/incidents/INC-1/documents").await.body;
    assert!(docs
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["read_only"] == true));
    let post = app
        .post("/incidents/INC-1/room/messages", json!({"text": "anyone?"}))
        .await;
    assert_eq!(post.status, StatusCode::CONFLICT);

    app.call(Method::POST, "/incidents/INC-1/reopen", None)
        .await;
    app.run_pending_jobs().await;
    assert_eq!(
        app.get("/incidents/INC-1/room").await.body["archived"],
        false
    );
    let post = app
        .post(
            "/incidents/INC-1/room/messages",
            json!({"text": "back on it"}),
        )
        .await;
    assert_eq!(post.status, StatusCode::CREATED);
    assert_eq!(post.body["author"], "admin@example.com");
}

#[tokio::test]
async fn closing_an_active_incident_also_creates_the_review_document() {
    let app = spawn_app().await;
    app.declare("Brief blip").await;
    app.call(Method::POST, "/incidents/INC-1/close", None).await;
    app.run_pending_jobs().await;
    let i = app.get("/incidents/INC-1").await.body;
    assert!(resources(&i).contains(&("review_document".into(), "ready".into())));
    assert!(
        resources(&i).contains(&("conversation".into(), "archived".into())),
        "{:?}",
        resources(&i)
    );
}

/// A ticket provider that fails a given number of times, then works; counts its calls.
struct Flaky {
    failures_left: AtomicUsize,
    calls: Arc<AtomicUsize>,
}

#[async_trait]
impl ResourceProvider for Flaky {
    fn slug(&self) -> &'static str {
        "flaky-ticket"
    }

    async fn create(&self, key: &str, ctx: &IncidentContext) -> ProviderResult<Created> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.failures_left.load(Ordering::SeqCst) > 0 {
            self.failures_left.fetch_sub(1, Ordering::SeqCst);
            return Err(ProviderError::new(
                "flaky-ticket",
                "503 Service Unavailable",
            ));
        }
        Ok(Created {
            external_id: format!("T-{}", ctx.id),
            link: Some(format!("https://tickets.example.com/{key}")),
            ..Default::default()
        })
    }
}

#[tokio::test]
async fn a_provider_that_fails_twice_then_succeeds_ends_with_exactly_one_resource() {
    let calls = Arc::new(AtomicUsize::new(0));
    let flaky = Arc::new(Flaky {
        failures_left: AtomicUsize::new(2),
        calls: calls.clone(),
    });
    let app = TestApp::builder()
        .providers(|mut p| {
            p.ticket = flaky;
            p
        })
        .spawn()
        .await;
    app.declare("Flaky vendor").await;
    app.run_pending_jobs().await;
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let i = app.get("/incidents/INC-1").await.body;
    let tickets: Vec<_> = i["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "ticket")
        .collect();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["status"], "ready");
    assert_eq!(tickets[0]["provider"], "flaky-ticket");
    assert_eq!(
        tickets[0]["error"],
        Value::Null,
        "the error is cleared once it works"
    );
    assert!(resources(&i).iter().all(|(_, s)| s == "ready"));
    let jobs = app.get("/jobs?state=succeeded").await.body;
    let ticket_job = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["payload"]["kind"] == "ticket")
        .unwrap()
        .clone();
    assert_eq!(ticket_job["attempts"], 3);
}

#[tokio::test]
async fn a_provider_that_keeps_failing_marks_its_resource_failed_and_a_retry_recovers_it() {
    let calls = Arc::new(AtomicUsize::new(0));
    let flaky = Arc::new(Flaky {
        failures_left: AtomicUsize::new(8),
        calls: calls.clone(),
    });
    let app = TestApp::builder()
        .providers(|mut p| {
            p.ticket = flaky;
            p
        })
        .spawn()
        .await;
    app.declare("Vendor down").await;
    app.run_pending_jobs().await;
    let i = app.get("/incidents/INC-1").await.body;
    let ticket = i["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "ticket")
        .unwrap()
        .clone();
    assert_eq!(ticket["status"], "failed");
    assert!(ticket["error"].as_str().unwrap().contains("503"));
    assert!(
        resources(&i)
            .iter()
            .filter(|(k, _)| k != "ticket")
            .all(|(_, s)| s == "ready"),
        "the saga went on without the ticket"
    );
    let failed = app.get("/jobs?state=failed").await.body;
    assert_eq!(failed.as_array().unwrap().len(), 1);
    let id = failed[0]["id"].as_i64().unwrap();
    let r = app
        .call(Method::POST, &format!("/jobs/{id}/retry"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["state"], "queued");
    assert_eq!(
        app.call(Method::POST, &format!("/jobs/{id}/retry"), None)
            .await
            .status,
        StatusCode::CONFLICT
    );
    app.run_pending_jobs().await;
    let i = app.get("/incidents/INC-1").await.body;
    assert!(
        resources(&i).iter().all(|(_, s)| s == "ready"),
        "{:?}",
        resources(&i)
    );
    assert_eq!(app.get("/jobs?state=failed").await.body, json!([]));
    assert_eq!(
        app.get("/jobs?state=sleeping").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

/// A runner that takes over every claim, as if each had outlived its lease.
fn short_lease_runner(app: &TestApp) -> Runner {
    Runner::new(
        app.engine.clone(),
        dispatch_engine::jobs::RunnerOptions {
            lease: std::time::Duration::ZERO,
            ..fast_runner()
        },
    )
}

#[tokio::test]
async fn a_job_claimed_by_a_worker_that_died_is_taken_over_after_its_lease() {
    let app = spawn_app().await;
    app.declare("Crash mid-saga").await;
    // A worker claims what the declaration queued (the saga's first step) and dies without
    // finishing it.
    let now = dispatch_core::now();
    let claimed = dispatch_store::repo::job::claim(
        app.engine.db(),
        "dead-worker",
        10,
        now,
        now - chrono::Duration::hours(1),
    )
    .await
    .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(app.run_pending_jobs().await, 0, "a live lease is respected");
    let short = short_lease_runner(&app);
    assert!(short.run_pending().await.unwrap() >= 7);
    let i = app.get("/incidents/INC-1").await.body;
    assert!(resources(&i).iter().all(|(_, s)| s == "ready"));
    assert_eq!(resources(&i).len(), 6, "no duplicate resource");
}

#[tokio::test]
async fn a_step_handed_on_to_a_worker_that_died_is_taken_over_after_its_lease() {
    use dispatch_core::{IncidentId, ResourceKind};
    use dispatch_store::repo::job;
    let app = spawn_app().await;
    let declared = app.declare("Crash between steps").await;
    let id = IncidentId(declared["id"].as_i64().unwrap());
    let page = format!("/incidents/{}", declared["name"].as_str().unwrap());
    // A worker ran the saga's first step, handed the second on to itself (claimed in the first
    // step's transaction) and died before running it.
    let now = dispatch_core::now();
    let second = dispatch_engine::flows::provision(id, ResourceKind::Group, now);
    let handed = job::enqueue_claimed(app.engine.db().conn(), second.clone(), "dead-worker", now)
        .await
        .unwrap()
        .expect("a new step is inserted");
    assert_eq!((handed.state.as_str(), handed.attempts), ("running", 1));
    assert_eq!(handed.locked_by.as_deref(), Some("dead-worker"));
    assert!(
        job::enqueue_claimed(app.engine.db().conn(), second, "dead-worker", now)
            .await
            .unwrap()
            .is_none(),
        "a step is handed on once"
    );
    // The first step runs again (it was queued); the second is not run twice while its claim
    // holds, so the saga waits there.
    assert_eq!(
        app.run_pending_jobs().await,
        1,
        "only the queued first step runs"
    );
    let i = app.get(&page).await.body;
    let ready = resources(&i)
        .into_iter()
        .filter(|(_, s)| s == "ready")
        .count();
    assert_eq!(ready, 1, "{:?}", resources(&i));
    let short = short_lease_runner(&app);
    // The group step, then the four after it and the room's set-up, engagement and notices.
    assert!(short.run_pending().await.unwrap() >= 6);
    let i = app.get(&page).await.body;
    assert!(
        resources(&i).iter().all(|(_, s)| s == "ready"),
        "{:?}",
        resources(&i)
    );
    assert_eq!(resources(&i).len(), 6, "no duplicate resource");
    assert_eq!(app.get("/jobs?state=failed").await.body, json!([]));
}

#[tokio::test]
async fn a_claimed_job_is_handed_back_only_by_its_worker() {
    use dispatch_store::repo::job;
    let app = spawn_app().await;
    let now = dispatch_core::now();
    let conn = app.engine.db().conn();
    let new = dispatch_engine::flows::provision(
        dispatch_core::IncidentId(app.declare("Handed back").await["id"].as_i64().unwrap()),
        dispatch_core::ResourceKind::Storage,
        now,
    );
    let claimed = job::enqueue_claimed(conn, new, "worker-a", now)
        .await
        .unwrap()
        .unwrap();
    let mut other = claimed.clone();
    other.locked_by = Some("worker-b".into());
    assert!(!job::release(conn, &other).await.unwrap(), "not worker-b's");
    assert!(job::release(conn, &claimed).await.unwrap());
    let back = job::get(conn, claimed.id).await.unwrap();
    assert_eq!((back.state.as_str(), back.attempts), ("queued", 0));
    assert_eq!(back.locked_by, None);
    assert!(
        !job::release(conn, &claimed).await.unwrap(),
        "released once"
    );
    assert!(app.run_pending_jobs().await >= 7, "queued again, it runs");
}

#[tokio::test]
async fn a_past_incident_can_be_declared_closed_and_goes_through_the_close_flow() {
    let app = spawn_app().await;
    let r = app
        .post("/incidents", json!({"title": "Last week's outage", "description": "back-filled", "status": "closed", "reported_at": "2026-11-18T10:00:00Z"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["status"], "closed");
    assert_eq!(r.body["reported_at"], "2026-11-18T10:00:00Z");
    assert!(r.body["stable_at"].is_string() && r.body["closed_at"].is_string());
    app.run_pending_jobs().await;
    let i = app.get("/incidents/INC-1").await.body;
    assert!(resources(&i).contains(&("review_document".into(), "ready".into())));
    assert!(
        resources(&i).contains(&("conversation".into(), "archived".into())),
        "{:?}",
        resources(&i)
    );
    let bad = app
        .post(
            "/incidents",
            json!({"title": "t", "description": "d", "status": "resolved"}),
        )
        .await;
    assert_eq!(crate::common::error_fields(&bad.body), ["status"]);
}

#[tokio::test]
async fn an_incident_type_with_its_own_template_gets_its_own_document() {
    let app = spawn_app().await;
    let t = app
        .post(
            "/projects/default/incident-types",
            json!({"name": "Security", "default_visibility": "open", "incident_template": "# {{ name }} (security)\n\nLead: {{commander}}\nUnknown: {{nope}}\n"}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{:?}", t.body);
    assert!(t.body["incident_template"]
        .as_str()
        .unwrap()
        .contains("(security)"));
    app.post(
        "/incidents",
        json!({"title": "Phishing wave", "description": "d", "type": "security"}),
    )
    .await;
    app.declare("Plain").await;
    app.run_pending_jobs().await;
    let sec = app.get("/incidents/INC-1/documents").await.body;
    assert_eq!(
        sec[0]["body"],
        "# INC-1 (security)\n\nLead: admin <admin@example.com>\nUnknown: {{nope}}\n"
    );
    let plain = app.get("/incidents/INC-2/documents").await.body;
    assert!(
        plain[0]["body"]
            .as_str()
            .unwrap()
            .starts_with("# INC-2: Plain"),
        "other types keep the built-in template"
    );
    let id = t.body["id"].as_i64().unwrap();
    let cleared = app
        .patch(
            &format!("/projects/default/incident-types/{id}"),
            json!({"incident_template": null}),
        )
        .await;
    assert_eq!(cleared.body["incident_template"], Value::Null);
}

#[tokio::test]
async fn a_patch_that_changes_fields_and_status_queues_one_refresh() {
    let app = spawn_app().await;
    app.declare("Both at once").await;
    app.run_pending_jobs().await;
    let r = app
        .patch(
            "/incidents/INC-1",
            json!({"severity": "high", "status": "stable"}),
        )
        .await;
    assert_eq!(r.body["status"], "stable");
    let queued = app.get("/jobs?state=queued").await.body;
    let refreshes = queued
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "refresh")
        .count();
    assert_eq!(refreshes, 1, "{queued}");
    app.run_pending_jobs().await;
    assert!(app.get("/incidents/INC-1/room").await.body["topic"]
        .as_str()
        .unwrap()
        .contains("Status: stable | Type: Default | Severity: High"));
}

/// What a saga step reads of an incident (its people: tags, participants with their roles,
/// resources) is what the whole read has of them; the latest reports are left out of it.
#[tokio::test]
async fn a_providers_read_of_an_incident_has_its_people_and_resources_and_no_reports() {
    use dispatch_store::repo::detail::{visible_with_parts, Parts};
    let app = spawn_app().await;
    let r = app
        .post(
            "/incidents",
            json!({"title": "Queue backlog", "description": "d", "tags": ["db"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    app.run_pending_jobs().await;
    let r = app
        .post(
            "/incidents/INC-1/roles",
            json!({"email": "sam@example.com", "role": "scribe"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let r = app
        .post(
            "/incidents/INC-1/reports",
            json!({"kind": "tactical", "conditions": "c", "actions": "a", "needs": "n"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);

    let db = dispatch_store::Db::connect(&app.db.url).await.unwrap();
    let at = dispatch_core::values::IncidentRef::parse("INC-1");
    let viewer = dispatch_store::repo::incident::Viewer::Everyone;
    let (row, all) = visible_with_parts(db.conn(), viewer, &at, Parts::All)
        .await
        .unwrap()
        .unwrap();
    let (same, people) = visible_with_parts(db.conn(), viewer, &at, Parts::People)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.id, row.title.as_str()), (same.id, "Queue backlog"));
    assert!(
        all.last_tactical_report.is_some(),
        "the whole read has the report"
    );
    assert!(people.last_tactical_report.is_none() && people.engagements.is_empty());
    let names = |p: &dispatch_store::repo::detail::IncidentParts| {
        (
            p.tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>(),
            p.participants
                .iter()
                .map(|v| (v.individual.email.clone(), v.roles.len()))
                .collect::<Vec<_>>(),
            p.resources
                .iter()
                .map(|r| (r.kind.clone(), r.status.clone()))
                .collect::<Vec<_>>(),
        )
    };
    let (tags, participants, resources) = names(&people);
    assert_eq!(tags, ["db"]);
    assert_eq!(participants.len(), 2, "{participants:?}");
    assert!(participants.contains(&("sam@example.com".to_string(), 1)));
    assert_eq!(resources.len(), 6, "{resources:?}");
    assert_eq!(names(&all), (tags, participants, resources));
    app.run_pending_jobs().await;
}
