//! Teams and on-call services of a project.

use super::{bad_fields, spawn_app};
use serde_json::{json, Value};

#[tokio::test]
async fn teams_can_be_created_read_changed_and_deleted() {
    let app = spawn_app().await;
    let sre = app
        .created(
            "/projects/default/teams",
            json!({"name": "SRE", "email": "SRE@example.com"}),
        )
        .await;
    assert_eq!(sre["email"], "sre@example.com");
    assert_eq!(sre["description"], "");
    let path = format!("/teams/{}", sre["id"]);
    assert_eq!(app.get(&path).await, (200, sre.clone()));

    let (status, body) = app
        .post(
            "/projects/default/teams",
            json!({"name": "", "email": "nope"}),
        )
        .await;
    assert_eq!(bad_fields(status, &body), ["email", "name"]);
    let (status, body) = app
        .post("/projects/default/teams", json!({"name": "SRE"}))
        .await;
    assert_eq!(status, 409, "{body}");

    let (status, changed) = app
        .patch(&path, json!({"email": null, "description": "Keeps it up"}))
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["email"], Value::Null);
    assert_eq!(changed["description"], "Keeps it up");
    assert_eq!(changed["name"], "SRE");
    let (status, body) = app.patch(&path, json!({"email": "bad@"})).await;
    assert_eq!(bad_fields(status, &body), ["email"]);

    let (_, list) = app.get("/projects/default/teams").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(app.delete(&path).await.0, 204);
    assert_eq!(app.get(&path).await.0, 404);
    assert_eq!(app.delete(&path).await.0, 404);
    assert_eq!(app.get("/projects/default/teams").await.1, json!([]));
}

#[tokio::test]
async fn a_team_that_participants_point_at_cannot_be_deleted() {
    let app = spawn_app().await;
    let team = app
        .created("/projects/default/teams", json!({"name": "SRE"}))
        .await;
    app.created(
        "/incidents",
        json!({"title": "Disk full", "description": "db-1 is out of space"}),
    )
    .await;
    let sql = format!("UPDATE participants SET team_id = {}", team["id"]);
    // Point the participants at the team.
    dispatch_store::testing::execute(app.engine.db(), &sql).await;
    let path = format!("/teams/{}", team["id"]);
    let (status, body) = app.delete(&path).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(app.get(&path).await.0, 200, "the team is still there");
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn services_can_be_created_read_changed_and_deleted() {
    let app = spawn_app().await;
    let built_in = app
        .created(
            "/projects/default/services",
            json!({"name": "Payments on-call"}),
        )
        .await;
    assert_eq!(built_in["provider"], "dispatch");
    assert_eq!(built_in["is_active"], true);
    assert_eq!(built_in["external_id"], Value::Null);
    let pd = app
        .created(
            "/projects/default/services",
            json!({"name": "Database", "provider": "pagerduty", "external_id": "P123", "description": "DB rotation"}),
        )
        .await;
    let path = format!("/services/{}", pd["id"]);
    assert_eq!(app.get(&path).await, (200, pd.clone()));

    let (status, changed) = app
        .patch(&path, json!({"is_active": false, "external_id": null}))
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (changed["is_active"].clone(), changed["external_id"].clone()),
        (json!(false), Value::Null)
    );
    assert_eq!(changed["provider"], "pagerduty");

    let (status, body) = app
        .post(
            "/projects/default/services",
            json!({"name": " ", "provider": "Pager Duty"}),
        )
        .await;
    assert_eq!(bad_fields(status, &body), ["name", "provider"]);
    let (status, body) = app.patch(&path, json!({"is_active": null})).await;
    assert_eq!(bad_fields(status, &body), ["is_active"]);
    let (status, _) = app
        .post("/projects/default/services", json!({"name": "Database"}))
        .await;
    assert_eq!(status, 409);

    let (_, list) = app.get("/projects/default/services").await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Database", "Payments on-call"]);
    assert_eq!(app.delete(&path).await.0, 204);
    assert_eq!(app.get(&path).await.0, 404);
}
