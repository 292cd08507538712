//! The taxonomies of a project: incident types, priorities and severities.

use super::{bad_fields, spawn_app, TestApp};
use serde_json::{json, Value};

/// The three taxonomy collections of the default project.
pub const KINDS: [&str; 3] = [
    "incident-types",
    "incident-priorities",
    "incident-severities",
];

/// The entries of a taxonomy collection.
pub async fn entries(app: &TestApp, project: &str, kind: &str) -> Vec<Value> {
    let (status, list) = app.get(&format!("/projects/{project}/{kind}")).await;
    assert_eq!(status, 200, "{list}");
    list.as_array().expect("a list").clone()
}

/// The slugs of the entries marked default.
pub async fn defaults(app: &TestApp, project: &str, kind: &str) -> Vec<String> {
    let all = entries(app, project, kind).await;
    all.iter()
        .filter(|e| e["default"] == true)
        .map(|e| e["slug"].as_str().unwrap().to_string())
        .collect()
}

pub fn slugs(list: &[Value]) -> Vec<&str> {
    list.iter().map(|e| e["slug"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn incident_types_can_be_created_read_and_changed() {
    let app = spawn_app().await;
    let t = app
        .created(
            "/projects/default/incident-types",
            json!({"name": "Security Breach", "default_visibility": "restricted", "exclude_from_metrics": true, "view_order": 5}),
        )
        .await;
    assert_eq!(
        t["slug"], "security-breach",
        "the slug derives from the name"
    );
    assert_eq!(t["default_visibility"], "restricted");
    assert_eq!(
        (
            t["default"].clone(),
            t["enabled"].clone(),
            t["exclude_from_review"].clone()
        ),
        (json!(false), json!(true), json!(false))
    );
    let path = format!("/projects/default/incident-types/{}", t["id"]);
    assert_eq!(app.get(&path).await, (200, t.clone()));

    let (status, changed) = app
        .patch(&path, json!({"description": "Data left the building", "enabled": false, "default_visibility": "open", "view_order": 1}))
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (
            changed["enabled"].clone(),
            changed["default_visibility"].clone()
        ),
        (json!(false), json!("open"))
    );
    assert_eq!(
        changed["exclude_from_metrics"], true,
        "absent fields are kept"
    );
    let list = entries(&app, "default", "incident-types").await;
    assert_eq!(slugs(&list), ["default", "security-breach"]);
    assert_eq!(list[1], changed);
}

#[tokio::test]
async fn bad_taxonomy_input_is_refused_naming_each_field() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/projects/default/incident-types",
            json!({"name": "", "default_visibility": "secret"}),
        )
        .await;
    assert_eq!(bad_fields(status, &body), ["default_visibility", "name"]);
    let (status, body) = app
        .patch(
            "/projects/default/incident-types/1",
            json!({"name": null, "slug": "Not A Slug"}),
        )
        .await;
    assert_eq!(bad_fields(status, &body), ["name", "slug"]);
    let (status, body) = app
        .post(
            "/projects/default/incident-priorities",
            json!({"name": "P0", "color": "red", "tactical_report_reminder_hours": 0}),
        )
        .await;
    assert_eq!(
        bad_fields(status, &body),
        ["color", "tactical_report_reminder_hours"]
    );
    let (status, body) = app
        .post(
            "/projects/default/incident-severities",
            json!({"view_order": "first"}),
        )
        .await;
    assert_eq!(bad_fields(status, &body), ["view_order"]);
    let (status, body) = app
        .post(
            "/projects/default/incident-severities",
            json!({"color": "#12"}),
        )
        .await;
    assert_eq!(bad_fields(status, &body), ["color", "name"]);
    assert_eq!(
        entries(&app, "default", "incident-types").await.len(),
        1,
        "nothing was written"
    );
    assert_eq!(
        entries(&app, "default", "incident-priorities").await.len(),
        3
    );
    assert_eq!(
        entries(&app, "default", "incident-severities").await.len(),
        5
    );
}

#[tokio::test]
async fn making_an_entry_the_default_clears_the_previous_default() {
    let app = spawn_app().await;
    for kind in KINDS {
        let before = defaults(&app, "default", kind).await;
        let urgent = app
            .created(
                &format!("/projects/default/{kind}"),
                json!({"name": "Urgent", "default": true}),
            )
            .await;
        assert_eq!(urgent["default"], true);
        assert_eq!(defaults(&app, "default", kind).await, ["urgent"], "{kind}");

        let old = entries(&app, "default", kind)
            .await
            .into_iter()
            .find(|e| e["slug"] == before[0].as_str())
            .unwrap();
        let (status, back) = app
            .patch(
                &format!("/projects/default/{kind}/{}", old["id"]),
                json!({"default": true}),
            )
            .await;
        assert_eq!(
            (status, back["default"].clone()),
            (200, json!(true)),
            "{back}"
        );
        assert_eq!(defaults(&app, "default", kind).await, before, "{kind}");
    }
}

#[tokio::test]
async fn the_default_entry_cannot_be_disabled_or_stop_being_the_default() {
    let app = spawn_app().await;
    for kind in KINDS {
        let default = entries(&app, "default", kind)
            .await
            .into_iter()
            .find(|e| e["default"] == true)
            .unwrap();
        let path = format!("/projects/default/{kind}/{}", default["id"]);
        let (status, body) = app
            .patch(&path, json!({"enabled": false, "name": "Renamed"}))
            .await;
        assert_eq!(bad_fields(status, &body), ["enabled"], "{kind}");
        let (status, body) = app.patch(&path, json!({"default": false})).await;
        assert_eq!(bad_fields(status, &body), ["default"], "{kind}");
        assert_eq!(
            app.get(&path).await.1,
            default,
            "{kind}: nothing was written"
        );

        let count = entries(&app, "default", kind).await.len();
        let (status, body) = app
            .post(
                &format!("/projects/default/{kind}"),
                json!({"name": "Off", "default": true, "enabled": false}),
            )
            .await;
        assert_eq!(bad_fields(status, &body), ["enabled"], "{kind}");
        assert_eq!(entries(&app, "default", kind).await.len(), count);
        assert_eq!(defaults(&app, "default", kind).await.len(), 1);
    }
}

#[tokio::test]
async fn priorities_and_severities_carry_their_own_settings() {
    let app = spawn_app().await;
    let p = app
        .created(
            "/projects/default/incident-priorities",
            json!({"name": "Critical", "color": "#E5484D", "page_commander": true,
                   "tactical_report_reminder_hours": 1, "executive_report_reminder_hours": 4}),
        )
        .await;
    assert_eq!(
        (p["color"].as_str(), p["page_commander"].as_bool()),
        (Some("#e5484d"), Some(true))
    );
    let path = format!("/projects/default/incident-priorities/{}", p["id"]);
    let (status, changed) = app
        .patch(
            &path,
            json!({"executive_report_reminder_hours": null, "color": null}),
        )
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (
            changed["executive_report_reminder_hours"].clone(),
            changed["color"].clone()
        ),
        (Value::Null, Value::Null)
    );
    assert_eq!(changed["tactical_report_reminder_hours"], 1);
    assert_eq!(app.get(&path).await.1, changed);

    let s = app
        .created(
            "/projects/default/incident-severities",
            json!({"name": "Catastrophic", "allowed_for_stable": false, "color": "#abc"}),
        )
        .await;
    assert_eq!(
        (s["color"].as_str(), s["allowed_for_stable"].as_bool()),
        (Some("#aabbcc"), Some(false))
    );
    let path = format!("/projects/default/incident-severities/{}", s["id"]);
    let (status, changed) = app
        .patch(
            &path,
            json!({"allowed_for_stable": true, "description": "Everything is down"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            changed["allowed_for_stable"].as_bool(),
            changed["description"].as_str()
        ),
        (Some(true), Some("Everything is down"))
    );
}

#[tokio::test]
async fn a_duplicate_taxonomy_slug_is_a_conflict() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/projects/default/incident-types",
            json!({"name": "Default"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("conflict")),
        "{body}"
    );
    let (status, _) = app
        .post(
            "/projects/default/incident-priorities",
            json!({"name": "High"}),
        )
        .await;
    assert_eq!(status, 409);
    let low = entries(&app, "default", "incident-severities")
        .await
        .into_iter()
        .find(|e| e["slug"] == "low")
        .unwrap();
    let (status, _) = app
        .patch(
            &format!("/projects/default/incident-severities/{}", low["id"]),
            json!({"slug": "high"}),
        )
        .await;
    assert_eq!(status, 409);
    app.created("/projects", json!({"name": "Ops", "key_prefix": "OPS"}))
        .await;
    app.created(
        "/projects/ops/incident-priorities",
        json!({"name": "Urgent"}),
    )
    .await;
    app.created(
        "/projects/default/incident-priorities",
        json!({"name": "Urgent"}),
    )
    .await;
}

#[tokio::test]
async fn taxonomy_entries_are_found_only_in_their_own_project() {
    let app = spawn_app().await;
    app.created("/projects", json!({"name": "Ops", "key_prefix": "OPS"}))
        .await;
    for kind in KINDS {
        let theirs = &entries(&app, "default", kind).await[0];
        let path = format!("/projects/ops/{kind}/{}", theirs["id"]);
        assert_eq!(app.get(&path).await.0, 404, "{path}");
        assert_eq!(
            app.patch(&path, json!({"name": "Mine"})).await.0,
            404,
            "{path}"
        );
        assert_eq!(
            app.get(&format!("/projects/default/{kind}/999999")).await.0,
            404
        );
        assert_eq!(
            app.get(&format!("/projects/default/{kind}/abc")).await.0,
            404
        );
        assert_eq!(app.get(&format!("/projects/nope/{kind}")).await.0, 404);
        assert_eq!(
            app.post(&format!("/projects/nope/{kind}"), json!({"name": "X"}))
                .await
                .0,
            404
        );
    }
    let theirs = &entries(&app, "default", "incident-types").await[0];
    assert_eq!(theirs["name"], "Default", "nothing was renamed");
}

#[tokio::test]
async fn making_an_entry_the_default_through_the_engine_keeps_one_default() {
    use dispatch_engine::data::model::{incident_priority, incident_severity, incident_type};
    let app = spawn_app().await;
    let project = app
        .engine
        .projects()
        .get("default")
        .await
        .expect("default project");
    let project = dispatch_core::ProjectId(project.id);
    for path in [
        "incident-types",
        "incident-priorities",
        "incident-severities",
    ] {
        let other = app
            .created(
                &format!("/projects/default/{path}"),
                json!({"name": "Other"}),
            )
            .await;
        let id = other["id"].as_i64().unwrap();
        let taxonomy = app.engine.taxonomy();
        match path {
            "incident-types" => {
                taxonomy
                    .make_default::<incident_type::Model>(project, id.into())
                    .await
            }
            "incident-priorities" => {
                taxonomy
                    .make_default::<incident_priority::Model>(project, id.into())
                    .await
            }
            _ => {
                taxonomy
                    .make_default::<incident_severity::Model>(project, id.into())
                    .await
            }
        }
        .expect("make default");
        assert_eq!(defaults(&app, "default", path).await, ["other"], "{path}");
    }
}
