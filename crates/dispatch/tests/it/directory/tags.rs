//! Tag types and tags of a project, and incidents carrying them.

use super::{bad_fields, spawn_app};
use crate::common::pages::{error_beside, signed_in};
use serde_json::{json, Value};

#[tokio::test]
async fn tag_types_and_tags_can_be_created_listed_and_used() {
    let app = spawn_app().await;
    let env = app
        .created(
            "/projects/default/tag-types",
            json!({"name": "env", "exclusive": true}),
        )
        .await;
    assert_eq!(
        (env["exclusive"].as_bool(), env["required"].as_bool()),
        (Some(true), Some(false))
    );
    let prod = app
        .created(
            "/projects/default/tags",
            json!({"name": "prod", "tag_type": "env"}),
        )
        .await;
    assert_eq!(prod["tag_type"], "env");
    let plain = app
        .created(
            "/projects/default/tags",
            json!({"name": "customer-facing", "tag_type": null}),
        )
        .await;
    assert_eq!(plain["tag_type"], Value::Null);

    let (_, tags) = app.get("/projects/default/tags").await;
    assert_eq!(tags, json!([plain, prod]));
    let (_, types) = app.get("/projects/default/tag-types").await;
    assert_eq!(types, json!([env]));

    let (status, body) = app
        .post(
            "/projects/default/tags",
            json!({"name": "x", "tag_type": "nope"}),
        )
        .await;
    assert_eq!(bad_fields(status, &body), ["tag_type"]);
    let (status, body) = app
        .post("/projects/default/tags", json!({"name": "env:staging"}))
        .await;
    assert_eq!(bad_fields(status, &body), ["name"]);
    let (status, body) = app
        .post("/projects/default/tag-types", json!({"name": ""}))
        .await;
    assert_eq!(bad_fields(status, &body), ["name"]);
    assert_eq!(
        app.post("/projects/default/tags", json!({"name": "prod"}))
            .await
            .0,
        409
    );
    assert_eq!(
        app.post("/projects/default/tag-types", json!({"name": "env"}))
            .await
            .0,
        409
    );

    let incident = app
        .created(
            "/incidents",
            json!({"title": "Checkout down", "description": "500s", "tags": ["env:prod"]}),
        )
        .await;
    assert_eq!(incident["tags"], json!(["env:prod"]));
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn type_and_name_must_name_a_tag_of_that_type_wherever_an_incident_takes_tags() {
    let app = spawn_app().await;
    app.make_tags(&["env", "team"], &["env:prod", "db"]).await;
    let message = |body: &Value| body["error"]["fields"][0]["message"].to_string();

    // Declared: `team:prod` is refused (prod is an env tag), naming the tag; nothing made.
    let (status, body) = app
        .post(
            "/incidents",
            json!({"title": "Checkout down", "description": "500s", "tags": ["team:prod"]}),
        )
        .await;
    assert_eq!(bad_fields(status, &body), ["tags"]);
    assert!(
        message(&body).contains("team:prod") && message(&body).contains("env:prod"),
        "names the tag and how to write it: {body}"
    );
    assert_eq!(app.get("/incidents").await.1["total"], 0);
    let incident = app
        .created(
            "/incidents",
            json!({"title": "Checkout down", "description": "500s", "tags": ["env:prod", "db"]}),
        )
        .await;
    assert_eq!(incident["tags"], json!(["db", "env:prod"]));

    // Edited over the API: `env:db` is refused (db has no type); the tags stay as they were.
    let (status, body) = app
        .patch("/incidents/INC-1", json!({"tags": ["env:db"]}))
        .await;
    assert_eq!(bad_fields(status, &body), ["tags"]);
    assert!(message(&body).contains("env:db"), "{body}");
    // A tag the project lacks is still made, of the type written.
    let (status, body) = app
        .patch("/incidents/INC-1", json!({"tags": ["prod", "team:search"]}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["tags"], json!(["env:prod", "team:search"]));

    // Edited from chat: the same refusal, the tags unchanged.
    let (status, body) = app
        .post(
            "/incidents/INC-1/commands",
            json!({"text": "/dispatch-edit-incident tags=env:search"}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("env:search"), "{body}");
    assert_eq!(
        app.get("/incidents/INC-1").await.1["tags"],
        json!(["env:prod", "team:search"])
    );

    // Reported on the form: the error beside the tags, no incident declared.
    let ann = signed_in(&app, "ann@example.com", "member").await;
    let p = ann
        .post(
            &app,
            "/report",
            &[
                ("title", "Search down"),
                ("description", "timeouts"),
                ("tags", "team:db"),
            ],
        )
        .await;
    assert_eq!(p.status, 422, "{}", p.html);
    let e = error_beside(&p.html, "r-tags").expect("beside the tags field");
    assert!(e.contains("team:db"), "{e}");
    assert_eq!(app.get("/incidents").await.1["total"], 1);
    app.run_pending_jobs().await;
}
