//! The timeline: every command leaves an event, custom events and pins, and the hash chain
//! detects tampering.

use crate::common::{error_fields, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn every_change_lands_on_the_timeline_with_before_and_after_values() {
    let app = spawn_app().await;
    app.declare("Slow API").await;
    app.patch(
        "/incidents/INC-1",
        json!({"priority": "high", "title": "Slow API in us-east"}),
    )
    .await;
    let events = app.get("/incidents/INC-1/timeline").await.body;
    let events = events.as_array().unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "incident_declared",
            "role_assumed",
            "role_assumed",
            "incident_updated"
        ]
    );
    let update = &events[3]["details"];
    assert_eq!(
        update["priority"],
        json!({"before": "low", "after": "high"})
    );
    assert_eq!(
        update["title"],
        json!({"before": "Slow API", "after": "Slow API in us-east"})
    );
    let seqs: Vec<_> = events.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    let same = app
        .patch("/incidents/INC-1", json!({"priority": "high"}))
        .await;
    assert_eq!(same.status, StatusCode::OK);
    assert_eq!(
        app.get("/incidents/INC-1/timeline")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        4,
        "a no-op writes no event"
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn custom_events_keep_their_time_and_can_be_pinned() {
    let app = spawn_app().await;
    app.declare("Certificate expired").await;
    let r = app
        .post("/incidents/INC-1/timeline", json!({"description": "Alert fired in monitoring", "occurred_at": "2026-11-24T23:50:00Z"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["source"], "custom");
    assert_eq!(r.body["occurred_at"], "2026-11-24T23:50:00Z");
    let id = r.body["id"].as_i64().unwrap();
    let pinned = app
        .call(
            Method::POST,
            &format!("/incidents/INC-1/timeline/{id}/pin"),
            None,
        )
        .await;
    assert_eq!(pinned.body["pinned"], true);
    let only = app.get("/incidents/INC-1/timeline?pinned=true").await.body;
    assert_eq!(only.as_array().unwrap().len(), 1);
    let custom = app
        .get("/incidents/INC-1/timeline?source=custom")
        .await
        .body;
    assert_eq!(custom[0]["description"], "Alert fired in monitoring");
    let bad = app
        .post(
            "/incidents/INC-1/timeline",
            json!({"description": "", "occurred_at": "last tuesday"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["description", "occurred_at"]);
    let unpinned = app
        .call(
            Method::DELETE,
            &format!("/incidents/INC-1/timeline/{id}/pin"),
            None,
        )
        .await;
    assert_eq!(unpinned.body["pinned"], false);
    let v = app.get("/incidents/INC-1/timeline/verify").await;
    assert_eq!(
        v.body["valid"], true,
        "pinning is outside the chained content"
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn the_chain_verifies_and_detects_an_edited_or_deleted_event() {
    let app = spawn_app().await;
    app.declare("Data exposure").await;
    app.patch("/incidents/INC-1", json!({"severity": "critical"}))
        .await;
    app.call(Method::POST, "/incidents/INC-1/stable", None)
        .await;
    let v = app.get("/incidents/INC-1/timeline/verify").await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(
        v.body,
        json!({"valid": true, "events": 5, "first_broken_seq": null, "reason": null})
    );

    dispatch_store::testing::execute(
        app.engine.db(),
        "UPDATE events SET description = 'nothing happened' WHERE seq = 4",
    )
    .await;
    let v = app.get("/incidents/INC-1/timeline/verify").await;
    assert_eq!(v.body["valid"], false);
    assert_eq!(v.body["first_broken_seq"], 4);

    app.run_pending_jobs().await;

    let app = spawn_app().await;
    app.declare("Data exposure").await;
    app.call(Method::POST, "/incidents/INC-1/stable", None)
        .await;
    dispatch_store::testing::execute(app.engine.db(), "DELETE FROM events WHERE seq = 4").await;
    let v = app.get("/incidents/INC-1/timeline/verify").await;
    assert_eq!(
        v.body["valid"], false,
        "removing the newest event is detected by the head on the incident"
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn tasks_are_created_assigned_and_resolved_on_the_record() {
    let app = spawn_app().await;
    app.declare("Backups failing").await;
    let r = app
        .post("/incidents/INC-1/tasks", json!({"description": "Check the backup job logs", "assignees": ["erin@example.com"], "resolve_by": "2026-12-01"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["status"], "open");
    assert_eq!(r.body["assignees"][0]["email"], "erin@example.com");
    assert_eq!(r.body["owner"]["email"], "admin@example.com");
    let id = r.body["id"].as_i64().unwrap();
    let done = app
        .patch(
            &format!("/incidents/INC-1/tasks/{id}"),
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(done.body["status"], "resolved");
    assert!(done.body["resolved_at"].is_string());
    let list = app.get("/incidents/INC-1/tasks").await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    let kinds: Vec<_> = app
        .get("/incidents/INC-1/timeline")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert!(
        kinds.contains(&json!("task_created")) && kinds.contains(&json!("task_status_changed"))
    );
    let bad = app
        .post(
            "/incidents/INC-1/tasks",
            json!({"description": "x", "assignees": ["nope"], "priority": "urgent"}),
        )
        .await;
    assert_eq!(error_fields(&bad.body), ["assignees", "priority"]);
    assert_eq!(
        app.get("/incidents/INC-1/tasks/999").await.status,
        StatusCode::NOT_FOUND
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn reports_need_the_fields_of_their_kind() {
    let app = spawn_app().await;
    app.declare("Partial outage").await;
    let r = app
        .post("/incidents/INC-1/reports", json!({"kind": "tactical", "conditions": "EU down", "actions": "failing over", "needs": "DBA"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["details"]["needs"], "DBA");
    let bad = app
        .post(
            "/incidents/INC-1/reports",
            json!({"kind": "executive", "overview": "x"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["current_status", "next_steps"]);
    let bad = app.post("/incidents/INC-1/reports", json!({})).await;
    assert_eq!(error_fields(&bad.body), ["kind"]);
    let list = app.get("/incidents/INC-1/reports?kind=tactical").await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert_eq!(
        app.get("/incidents/INC-1/reports?kind=executive")
            .await
            .body,
        json!([])
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn files_are_attached_listed_and_downloaded_with_a_size_limit() {
    let app = spawn_app().await;
    app.declare("Log capture").await;
    let content = "x".repeat(2 * 1024 * 1024);
    let up = |name: &str, body: String| {
        app.http
            .post(format!(
                "{}/api/v1/incidents/INC-1/files?name={name}",
                app.base
            ))
            .bearer_auth(&app.token)
            .header("content-type", "text/plain")
            .body(body)
            .send()
    };
    let r = up("app.log", content.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let f: serde_json::Value = r.json().await.unwrap();
    assert_eq!(f["size"], 2 * 1024 * 1024);
    let list = app.get("/incidents/INC-1/files").await.body;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let got = app
        .http
        .get(format!("{}{}", app.base, f["link"].as_str().unwrap()))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(got.headers()["content-type"], "text/plain");
    assert_eq!(got.text().await.unwrap().len(), content.len());
    let big = up("huge.bin", "y".repeat(11 * 1024 * 1024)).await.unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let said: serde_json::Value = big.json().await.unwrap();
    assert_eq!(
        said["error"]["message"], "the body is too large (at most 10 MB)",
        "the upload error names the upload limit, not the API's"
    );
    let just_over = up("over.bin", "y".repeat(10 * 1024 * 1024 + 1))
        .await
        .unwrap();
    assert_eq!(just_over.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said: serde_json::Value = just_over.json().await.unwrap();
    assert_eq!(
        said["error"]["fields"][0]["message"],
        "the file is larger than 10 MB"
    );
    let bad = up("a/b", "z".into()).await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let kinds: Vec<_> = app
        .get("/incidents/INC-1/timeline")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert!(kinds.contains(&json!("file_attached")));
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn every_event_carries_its_typed_event_old_rows_too() {
    let app = spawn_app().await;
    app.declare("Checkout down").await;
    app.patch("/incidents/INC-1", json!({"severity": "critical"}))
        .await;
    app.give_role("INC-1", "bo@example.com", "scribe").await;
    let stable = app
        .call(Method::POST, "/incidents/INC-1/stable", None)
        .await;
    assert_eq!(stable.status, StatusCode::OK, "{:?}", stable.body);
    let events = app.get("/incidents/INC-1/timeline").await.body;
    let events = events.as_array().unwrap();
    let find = |kind: &str| {
        events
            .iter()
            .find(|e| e["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {events:?}"))
    };
    let admin = "admin@example.com";
    let declared_severity = &find("incident_declared")["details"]["severity"];
    assert_eq!(
        find("incident_updated")["event"],
        json!({"kind": "incident_updated", "by": admin,
            "changes": {"severity": {"from": declared_severity, "to": "critical"}}})
    );
    assert_eq!(
        find("participant_added")["event"],
        json!({"kind": "participant_added", "by": admin, "email": "bo@example.com"})
    );
    let status = find("status_changed");
    assert_eq!(
        status["event"],
        json!({"kind": "status_changed", "by": admin,
            "status": {"from": "active", "to": "stable"}})
    );
    assert_eq!(
        status["details"],
        json!({"status": {"before": "active", "after": "stable"}}),
        "the stored details stay as they were"
    );
    for e in events {
        assert_eq!(e["event"]["kind"], e["type"], "{e}");
        assert_eq!(e["event"]["by"], e["actor"], "{e}");
    }

    // Rows written by older versions: a kind this version does not know, and details that
    // do not fit their kind, render with their stored details.
    let last = events.len();
    dispatch_store::testing::execute(
        app.engine.db(),
        &format!(
            "UPDATE events SET kind = 'severity_bumped', details = '{{\"level\": 2}}' WHERE seq = {last}"
        ),
    )
    .await;
    dispatch_store::testing::execute(
        app.engine.db(),
        "UPDATE events SET details = '{\"who\": \"bo\"}' WHERE kind = 'participant_added'",
    )
    .await;
    let events = app.get("/incidents/INC-1/timeline").await.body;
    let events = events.as_array().unwrap();
    assert_eq!(
        events[last - 1]["event"],
        json!({"kind": "severity_bumped", "by": admin, "details": {"level": 2}})
    );
    let added = events
        .iter()
        .find(|e| e["type"] == "participant_added")
        .unwrap();
    assert_eq!(
        added["event"],
        json!({"kind": "participant_added", "by": admin, "details": {"who": "bo"}})
    );
    assert_eq!(added["details"], json!({"who": "bo"}));

    // The schema documents the typed event.
    let doc = app.get("/openapi.json").await.body;
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["EventOut"]["properties"]["event"]["$ref"],
        "#/components/schemas/TypedEvent"
    );
    assert_eq!(schemas["TypedEvent"]["required"], json!(["kind", "by"]));
    app.run_pending_jobs().await;
}
