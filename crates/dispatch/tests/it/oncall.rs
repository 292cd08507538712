//! On-call end to end: a rotation picks the incident commander through a role policy, a High
//! priority pages them, and the page is acknowledged over the API.

use crate::common::{error_fields, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn the_on_call_of_a_service_commands_high_incidents_and_is_paged() {
    let app = spawn_app().await;
    let svc = app
        .post(
            "/projects/default/services",
            json!({"name": "payments-oncall"}),
        )
        .await;
    assert_eq!(svc.status, StatusCode::CREATED, "{:?}", svc.body);
    let sid = svc.body["id"].as_i64().unwrap();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let r = app
        .call(Method::PUT, &format!("/services/{sid}/rotation"), Some(json!({
            "members": ["ann@example.com", "bob@example.com"], "shift_hours": 168, "handoff_time": "00:00", "start_date": today, "time_zone": "UTC"
        })))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["current"]["email"], "ann@example.com");
    assert_eq!(r.body["next"]["email"], "bob@example.com");
    let p = app
        .post(
            "/projects/default/role-policies",
            json!({"role": "incident_commander", "priority": "high", "service_id": sid}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{:?}", p.body);
    app.post(
        "/projects/default/role-policies",
        json!({"role": "scribe", "email": "sam@example.com", "order": 5}),
    )
    .await;

    let low = app
        .post(
            "/incidents",
            json!({"title": "Minor glitch", "description": "d"}),
        )
        .await
        .body;
    assert_eq!(
        low["commander"]["email"], "admin@example.com",
        "the policy is for High only: the reporter commands"
    );
    let high = app.post("/incidents", json!({"title": "Payments down", "description": "all cards declined", "priority": "high"})).await.body;
    assert_eq!(high["commander"]["email"], "ann@example.com");
    let roles: Vec<_> = high["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["email"].clone(), p["roles"].clone()))
        .collect();
    assert!(
        roles.contains(&(json!("sam@example.com"), json!(["scribe"]))),
        "{roles:?}"
    );
    assert!(
        roles.contains(&(json!("ann@example.com"), json!(["incident_commander"]))),
        "{roles:?}"
    );
    let pages = app.get("/pages?status=triggered").await.body;
    assert_eq!(
        pages.as_array().unwrap().len(),
        1,
        "only the High incident pages: {pages}"
    );
    assert_eq!(pages[0]["email"], "ann@example.com");

    app.run_pending_jobs().await;
    let room = app.get("/incidents/INC-2/room").await.body;
    assert!(
        room["topic"].as_str().unwrap().starts_with("IC: ann |"),
        "{room}"
    );
    assert_eq!(
        room["members"].as_array().unwrap().len(),
        3,
        "reporter, commander and scribe are invited: {room}"
    );
    let paged = room["messages"].as_array().unwrap().iter().any(|m| {
        m["text"]
            .as_str()
            .unwrap()
            .starts_with("ann@example.com was paged")
    });
    assert!(paged, "the room is told of the page: {room}");
    let doc = &app.get("/incidents/INC-2/documents").await.body[0];
    assert!(doc["body"]
        .as_str()
        .unwrap()
        .contains("| Commander | ann <ann@example.com> |"));

    let mail = app.get("/outbox?to=ann@example.com").await.body;
    let subjects: Vec<_> = mail
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap().to_string())
        .collect();
    assert!(
        subjects
            .iter()
            .any(|s| s.starts_with("[PAGE] INC-2: Payments down")),
        "the page is mailed: {subjects:?}"
    );
    let dms = app.get("/messages/direct?email=ann@example.com").await.body;
    assert_eq!(
        dms.as_array().unwrap().len(),
        1,
        "the page is a direct message too: {dms}"
    );
    // The page's own page, with its Acknowledge button: a link a person can open.
    let dm = dms[0]["text"].as_str().unwrap();
    assert!(dm.contains("/pages/") && !dm.contains("/api/"), "{dm}");
    let id = pages[0]["id"].as_i64().unwrap();
    let ack = app
        .call(Method::POST, &format!("/pages/{id}/ack"), None)
        .await;
    assert_eq!(ack.body["status"], "acknowledged");
    let kinds: Vec<_> = app
        .get("/incidents/INC-2/timeline")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    for k in [
        "commander_paged",
        "page_acknowledged",
        "resource_created",
        "conversation_ready",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }
    assert_eq!(app.get("/pages?status=triggered").await.body, json!([]));
}

#[tokio::test]
async fn an_override_puts_someone_else_on_call_for_its_span() {
    let app = spawn_app().await;
    let sid = app
        .post("/projects/default/services", json!({"name": "db"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    app.call(
        Method::PUT,
        &format!("/services/{sid}/rotation"),
        Some(
            json!({"members": ["ann@example.com"], "shift_hours": 24, "start_date": "2026-01-01"}),
        ),
    )
    .await;
    let r = app
        .post(&format!("/services/{sid}/overrides"), json!({"email": "cover@example.com", "starts_at": "2030-05-01T00:00:00Z", "ends_at": "2030-05-02T00:00:00Z"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["current"]["email"], "cover@example.com");
    assert_eq!(r.body["current"]["overridden"], true);
    let later = app
        .get(&format!("/services/{sid}/oncall?at=2030-05-02T12:00:00Z"))
        .await;
    assert_eq!(later.body["current"]["email"], "ann@example.com");
    let bad = app.post(&format!("/services/{sid}/overrides"), json!({"email": "x@example.com", "starts_at": "2030-05-02T00:00:00Z", "ends_at": "2030-05-01T00:00:00Z"})).await;
    assert_eq!(error_fields(&bad.body), ["ends_at"]);
}

#[tokio::test]
async fn bad_rotations_and_policies_name_their_fields() {
    let app = spawn_app().await;
    let sid = app
        .post("/projects/default/services", json!({"name": "web"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let r = app
        .call(Method::PUT, &format!("/services/{sid}/rotation"), Some(json!({"members": [], "shift_hours": 0, "handoff_time": "9am", "time_zone": "Mars/Base"})))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&r.body),
        ["members", "shift_hours", "handoff_time", "time_zone"]
    );
    assert_eq!(
        app.call(
            Method::PUT,
            "/services/999/rotation",
            Some(json!({"members": ["a@example.com"]}))
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let p = app.post("/projects/default/role-policies", json!({"role": "observer", "priority": "urgent", "email": "a@example.com", "service_id": sid})).await;
    assert_eq!(error_fields(&p.body), ["role", "service_id", "priority"]);
    let none = app.get(&format!("/services/{sid}/oncall")).await;
    assert_eq!(
        none.body["current"],
        json!(null),
        "no rotation, nobody on call"
    );
}
