//! The configuration API end to end over HTTP: projects, taxonomies and tags, and the directory
//! (individuals, teams, services), on the shared harness (`common`). The tests of each
//! area live in `directory/`; this file holds the checks that span every route.

mod people;
mod projects;
mod tags;
mod taxonomy;
mod teams;

use serde_json::{json, Value};

/// The shared harness, answering `(status, body)` pairs as these tests read them.
pub struct TestApp(crate::common::TestApp);

impl std::ops::Deref for TestApp {
    type Target = crate::common::TestApp;
    fn deref(&self) -> &crate::common::TestApp {
        &self.0
    }
}

/// Starts the app on 127.0.0.1:0 over a fresh, migrated and seeded database.
pub async fn spawn_app() -> TestApp {
    TestApp(crate::common::spawn_app().await)
}

impl TestApp {
    /// Sends a request with the token; answers the status and the JSON body (`null` if none).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send(method, path, body, Some(&self.0.token)).await
    }

    /// Sends a request with the given token, or none.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let r = self.0.call_as(token, method, path, body).await;
        (r.status.as_u16(), r.body)
    }

    /// GET.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call("GET", path, None).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("POST", path, Some(body)).await
    }

    /// PATCH with a JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.call("PATCH", path, Some(body)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.call("DELETE", path, None).await
    }

    /// POST that must answer 201; the created object.
    pub async fn created(&self, path: &str, body: Value) -> Value {
        let (status, out) = self.post(path, body).await;
        assert_eq!(status, 201, "POST {path}: {out}");
        out
    }
}

/// The fields a 422 names, sorted.
pub fn bad_fields(status: u16, body: &Value) -> Vec<String> {
    assert_eq!(status, 422, "expected a validation error, got {body}");
    assert_eq!(body["error"]["code"], "validation_failed");
    let mut fields: Vec<String> = body["error"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|f| f["field"].as_str().expect("field name").to_string())
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let app = spawn_app().await;
    let calls = [
        ("GET", "/projects"),
        ("POST", "/projects"),
        ("GET", "/taxonomies"),
        ("GET", "/projects/default/incident-types"),
        ("PATCH", "/projects/default/incident-priorities/1"),
        ("POST", "/projects/default/tags"),
        ("GET", "/individuals"),
        ("POST", "/individuals"),
        ("PATCH", "/individuals/1"),
        ("GET", "/projects/default/teams"),
        ("DELETE", "/teams/1"),
        ("DELETE", "/services/1"),
    ];
    for (method, path) in calls {
        for token in [None, Some("not-a-token")] {
            let (status, body) = app
                .send(method, path, Some(json!({"name": "x"})), token)
                .await;
            assert_eq!(status, 401, "{method} {path} with {token:?}");
            assert_eq!(body["error"]["code"], "unauthorized");
        }
    }
    let (_, people) = app.get("/individuals").await;
    assert_eq!(
        people["total"], 1,
        "only the token's owner exists: nothing was created"
    );
}

#[tokio::test]
async fn unknown_ids_and_projects_are_not_found() {
    let app = spawn_app().await;
    let calls = [
        ("GET", "/individuals/999999"),
        ("PATCH", "/individuals/999999"),
        ("GET", "/individuals/abc"),
        ("GET", "/teams/999999"),
        ("PATCH", "/teams/999999"),
        ("DELETE", "/teams/999999"),
        ("GET", "/services/999999"),
        ("PATCH", "/services/999999"),
        ("DELETE", "/services/999999"),
        ("GET", "/projects/nope"),
        ("PATCH", "/projects/nope"),
        ("GET", "/projects/nope/teams"),
        ("POST", "/projects/nope/teams"),
        ("POST", "/projects/nope/services"),
        ("GET", "/projects/nope/tags"),
        ("GET", "/taxonomies?project=nope"),
    ];
    for (method, path) in calls {
        let (status, body) = app.call(method, path, Some(json!({"name": "x"}))).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert_eq!(body["error"]["code"], "not_found");
    }
}

#[tokio::test]
async fn the_openapi_document_describes_the_directory_and_taxonomy_routes() {
    let app = spawn_app().await;
    let (status, doc) = app.send("GET", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    let expected = [
        ("/api/v1/projects", &["get", "post"][..]),
        ("/api/v1/projects/{slug}", &["get", "patch"]),
        ("/api/v1/taxonomies", &["get"]),
        (
            "/api/v1/projects/{slug}/incident-types/{id}",
            &["get", "patch"],
        ),
        (
            "/api/v1/projects/{slug}/incident-priorities",
            &["get", "post"],
        ),
        (
            "/api/v1/projects/{slug}/incident-severities/{id}",
            &["get", "patch"],
        ),
        ("/api/v1/projects/{slug}/tag-types", &["get", "post"]),
        ("/api/v1/projects/{slug}/tags", &["get", "post"]),
        ("/api/v1/individuals", &["get", "post"]),
        ("/api/v1/individuals/{id}", &["get", "patch"]),
        ("/api/v1/teams/{id}", &["get", "patch", "delete"]),
        ("/api/v1/services/{id}", &["get", "patch", "delete"]),
    ];
    for (path, methods) in expected {
        for m in methods {
            assert!(
                doc["paths"][path][m].is_object(),
                "{m} {path} is not in the OpenAPI document"
            );
        }
    }
}
