//! Tag types and tags of a project, and incidents carrying them.

use super::{bad_fields, spawn_app};
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
