//! Projects: creation seeds the taxonomies, one project is the default, the key prefix is fixed
//! once incidents carry it.

use super::taxonomy::{defaults, entries, slugs, KINDS};
use super::{bad_fields, spawn_app};
use serde_json::{json, Value};

#[tokio::test]
async fn creating_a_project_seeds_its_default_taxonomies() {
    let app = spawn_app().await;
    let p = app
        .created(
            "/projects",
            json!({"name": "Security", "key_prefix": "sec"}),
        )
        .await;
    assert_eq!(
        (p["slug"].as_str(), p["key_prefix"].as_str()),
        (Some("security"), Some("SEC"))
    );
    assert_eq!(
        (p["default"].clone(), p["allow_self_join"].clone()),
        (json!(false), json!(true))
    );

    let types = entries(&app, "security", "incident-types").await;
    assert_eq!(slugs(&types), ["default"]);
    let priorities = entries(&app, "security", "incident-priorities").await;
    assert_eq!(slugs(&priorities), ["low", "medium", "high"]);
    let cadence: Vec<(Value, Value, Value)> = priorities
        .iter()
        .map(|p| {
            (
                p["tactical_report_reminder_hours"].clone(),
                p["executive_report_reminder_hours"].clone(),
                p["page_commander"].clone(),
            )
        })
        .collect();
    assert_eq!(
        cadence,
        [
            (json!(12), Value::Null, json!(false)),
            (json!(6), json!(12), json!(false)),
            (json!(2), json!(6), json!(true))
        ]
    );
    let severities = entries(&app, "security", "incident-severities").await;
    assert_eq!(
        slugs(&severities),
        ["undetermined", "low", "medium", "high", "critical"]
    );
    for kind in KINDS {
        assert_eq!(
            defaults(&app, "security", kind).await.len(),
            1,
            "{kind} has one default"
        );
    }

    let (status, all) = app.get("/taxonomies?project=security").await;
    assert_eq!(status, 200);
    assert_eq!(all["project"]["slug"], "security");
    assert_eq!(all["types"].as_array().unwrap().len(), 1);
    assert_eq!(all["priorities"].as_array().unwrap().len(), 3);
    assert_eq!(all["severities"].as_array().unwrap().len(), 5);
    let (_, projects) = app.get("/projects").await;
    assert_eq!(slugs(projects.as_array().unwrap()), ["default", "security"]);
}

#[tokio::test]
async fn projects_can_be_read_and_changed() {
    let app = spawn_app().await;
    let p = app
        .created(
            "/projects",
            json!({"slug": "sec", "name": "Security", "key_prefix": "SEC", "description": "Leaks"}),
        )
        .await;
    assert_eq!(app.get("/projects/sec").await, (200, p));
    let (status, changed) = app
        .patch("/projects/sec", json!({"name": "Security Operations", "allow_self_join": false, "key_prefix": "secops"}))
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["name"], "Security Operations");
    assert_eq!(changed["allow_self_join"], false);
    assert_eq!(
        changed["key_prefix"], "SECOPS",
        "the prefix may change while there are no incidents"
    );
    assert_eq!(changed["description"], "Leaks");
    let (_, cleared) = app
        .patch("/projects/sec", json!({"description": null}))
        .await;
    assert_eq!(cleared["description"], "");
    assert_eq!(app.get("/projects/sec").await.1, cleared);
}

#[tokio::test]
async fn a_clashing_project_slug_or_key_prefix_is_a_conflict() {
    let app = spawn_app().await;
    let (status, body) = app
        .post("/projects", json!({"name": "Default", "key_prefix": "OPS"}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let (status, _) = app
        .post("/projects", json!({"name": "Ops", "key_prefix": "inc"}))
        .await;
    assert_eq!(status, 409);
    app.created("/projects", json!({"name": "Ops", "key_prefix": "OPS"}))
        .await;
    let (status, _) = app.patch("/projects/ops", json!({"slug": "default"})).await;
    assert_eq!(status, 409);
    assert_eq!(app.get("/projects").await.1.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bad_project_input_is_refused_naming_each_field() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/projects",
            json!({"name": "", "key_prefix": "1X", "slug": "Bad Slug"}),
        )
        .await;
    assert_eq!(bad_fields(status, &body), ["key_prefix", "name", "slug"]);
    let (status, body) = app.post("/projects", json!({})).await;
    assert_eq!(bad_fields(status, &body), ["key_prefix", "name"]);
    let (status, body) = app
        .post(
            "/projects",
            json!({"name": "Ops", "key_prefix": "OPS", "default": "yes"}),
        )
        .await;
    assert_eq!(bad_fields(status, &body), ["default"]);
    let (status, body) = app
        .patch(
            "/projects/default",
            json!({"name": null, "key_prefix": "TOOLONGPREFIX"}),
        )
        .await;
    assert_eq!(bad_fields(status, &body), ["key_prefix", "name"]);
    let (_, projects) = app.get("/projects").await;
    assert_eq!(projects.as_array().unwrap().len(), 1, "nothing was written");
    assert_eq!(projects[0]["name"], "Default");
}

#[tokio::test]
async fn making_another_project_the_default_moves_the_flag() {
    let app = spawn_app().await;
    let p = app
        .created(
            "/projects",
            json!({"name": "Security", "key_prefix": "SEC", "default": true}),
        )
        .await;
    assert_eq!(p["default"], true);
    assert_eq!(app.get("/projects/default").await.1["default"], false);
    assert_eq!(
        app.get("/taxonomies").await.1["project"]["slug"],
        "security"
    );

    let (status, body) = app
        .patch("/projects/security", json!({"default": false}))
        .await;
    assert_eq!(bad_fields(status, &body), ["default"]);
    let (status, back) = app
        .patch("/projects/default", json!({"default": true}))
        .await;
    assert_eq!((status, back["default"].clone()), (200, json!(true)));
    assert_eq!(app.get("/projects/security").await.1["default"], false);
    assert_eq!(app.get("/taxonomies").await.1["project"]["slug"], "default");
}

#[tokio::test]
async fn the_key_prefix_is_fixed_once_a_project_has_incidents() {
    let app = spawn_app().await;
    app.created(
        "/incidents",
        json!({"title": "Disk full", "description": "db-1"}),
    )
    .await;
    let (status, body) = app
        .patch("/projects/default", json!({"key_prefix": "OPS"}))
        .await;
    assert_eq!(bad_fields(status, &body), ["key_prefix"]);
    let (status, same) = app
        .patch(
            "/projects/default",
            json!({"key_prefix": "inc", "name": "Main"}),
        )
        .await;
    assert_eq!(
        (status, same["name"].as_str()),
        (200, Some("Main")),
        "{same}"
    );
    app.run_pending_jobs().await;
}
