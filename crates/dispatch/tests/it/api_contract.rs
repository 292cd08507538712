//! The API's contract with its clients: bodies are read strictly (a field the API does not know
//! is refused, named), and the OpenAPI document names its server and every answer an operation
//! can give, so that generated clients and fuzzers get it right.

use crate::common::pages::signed_in;
use crate::common::{error_fields, spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn a_misspelt_field_is_refused_with_its_name_and_nothing_is_written() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/incidents",
            json!({"title": "Checkout errors", "description": "d", "priorty": "high", "x": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(r.body["error"]["code"], "validation_failed");
    let mut fields = error_fields(&r.body);
    fields.sort();
    assert_eq!(fields, ["priorty", "x"]);
    let message = r.body["error"]["fields"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("unknown field; known: ") && message.contains("priority"),
        "the message lists the known fields: {message}"
    );
    assert_eq!(app.get("/incidents").await.body["total"], 0);

    // PATCH bodies too.
    app.declare("Slow search").await;
    let r = app
        .patch("/incidents/INC-1", json!({"titel": "Fast search"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(error_fields(&r.body), ["titel"]);
    assert_eq!(
        app.get("/incidents/INC-1").await.body["title"],
        "Slow search"
    );
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_wrongly_typed_field_is_still_named() {
    let app = spawn_app().await;
    let r = app
        .post("/incidents", json!({"title": 42, "description": "d"}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(error_fields(&r.body), ["title"]);
    let r = app.post("/incidents", json!(["not", "an", "object"])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(error_fields(&r.body), ["body"]);
    assert_eq!(
        r.body["error"]["fields"][0]["message"],
        "must be a JSON object"
    );
}

#[tokio::test]
async fn free_form_parts_of_a_body_take_any_key() {
    let app = spawn_app().await;
    app.declare("Checkout errors").await;
    let r = app
        .post(
            "/incidents/INC-1/timeline",
            json!({"description": "Paged the DBA", "details": {"pager": "x1", "anything": [1, 2]}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["details"]["anything"], json!([1, 2]));
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn forms_keep_their_extra_fields_like_the_csrf_token() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;
    // The session's form sends `_csrf` besides the fields; a button may send its own name.
    let p = admin
        .post(
            &app,
            "/settings/teams?project=default",
            &[("name", "Database"), ("save", "Save")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let teams = app.get("/projects/default/teams").await.body;
    assert_eq!(teams[0]["name"], "Database");
}

async fn document(app: &crate::common::TestApp) -> Value {
    let doc = app.call_as(None, Method::GET, "/openapi.json", None).await;
    assert_eq!(doc.status, StatusCode::OK);
    doc.body
}

#[tokio::test]
async fn the_document_names_the_configured_public_url_as_its_server_or_else_slash() {
    let app = spawn_app().await;
    assert_eq!(document(&app).await["servers"], json!([{"url": "/"}]));
    let public = TestApp::builder()
        .web_options(dispatch_web::WebOptions {
            public_url: Some("https://dispatch.example.com/".into()),
            ..Default::default()
        })
        .spawn()
        .await;
    assert_eq!(
        document(&public).await["servers"],
        json!([{"url": "https://dispatch.example.com"}])
    );
}

/// The operation's answer for a status, with `$ref`s to shared responses followed.
fn answer<'a>(doc: &'a Value, op: &'a Value, status: &str) -> Option<&'a Value> {
    let r = op["responses"].get(status)?;
    match r["$ref"].as_str() {
        Some(to) => {
            let name = to
                .strip_prefix("#/components/responses/")
                .expect("a response");
            doc["components"]["responses"].get(name)
        }
        None => Some(r),
    }
}

#[tokio::test]
async fn every_operation_documents_the_error_answers_it_can_give_in_the_envelope() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let at = format!("{} {path}", method.to_uppercase());
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let takes = |place: &str| params.iter().any(|p| p["in"] == place);
            let security = op.get("security").unwrap_or(&doc["security"]);
            let signed_in = security.as_array().is_some_and(|s| !s.is_empty());
            let mut want = vec![];
            if signed_in {
                want.push("401");
            }
            if op.get("requestBody").is_some() || takes("query") {
                want.push("422");
            }
            if takes("path") {
                want.push("404");
            }
            for status in want {
                let a = answer(&doc, op, status)
                    .unwrap_or_else(|| panic!("{at} does not document {status}"));
                let schema = &a["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/ErrorBody",
                    "{at}: {status} is not the error envelope"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} operations");
    // The sign-in and the document itself need no credential, and say so.
    assert_eq!(doc["paths"]["/auth/login"]["post"]["security"], json!([]));
    let create = &doc["paths"]["/api/v1/incidents"]["post"]["responses"];
    for status in ["400", "401", "403", "413", "415", "422"] {
        assert!(create.get(status).is_some(), "POST /incidents: {status}");
    }
}

#[tokio::test]
async fn a_nul_character_is_refused_wherever_it_comes_not_a_server_error() {
    // PostgreSQL stores no NUL in text: left to the database, each of these was a 500.
    let app = spawn_app().await;
    app.declare("Checkout errors").await;
    let r = app
        .post(
            "/incidents",
            json!({"title": "a\u{0}b", "description": "d"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(error_fields(&r.body), ["title"]);
    let r = app.get("/notification-rules?project=de%00fault").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(error_fields(&r.body), ["project"]);
    let r = app.get("/incidents/INC-1%00").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    assert_eq!(app.get("/incidents").await.body["total"], 1);
    app.run_pending_jobs().await;
}
