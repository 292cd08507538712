//! The configuration API end to end over HTTP: projects, taxonomies and tags, and the directory
//! (individuals, teams, services). Each test starts the whole app on port 0 with a fresh
//! database: a SQLite temp file, or a fresh PostgreSQL database when `DISPATCH_TEST_DATABASE_URL`
//! is set. The tests of each area live in `directory/`; this file holds the harness and the
//! checks that span every route.

#[path = "directory/people.rs"]
mod people;
#[path = "directory/projects.rs"]
mod projects;
#[path = "directory/tags.rs"]
mod tags;
#[path = "directory/taxonomy.rs"]
mod taxonomy;
#[path = "directory/teams.rs"]
mod teams;

use dispatch_engine::Engine;
use dispatch_store::Db;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

// ---------------------------------------------------------------------------------------------
// A small private harness (to be replaced by the shared `tests/common` one when both land).

/// A running app with a fresh database and an owner's API token.
pub struct TestApp {
    base: String,
    token: String,
    client: reqwest::Client,
    /// The engine behind the app, for setting up state the API cannot reach.
    pub engine: Engine,
    server: tokio::task::JoinHandle<()>,
    /// Removed when the app is dropped (declared last: fields drop in order).
    _database: FreshDatabase,
}

/// Where a test's database lives, so it can be removed when the test ends (even by a panic).
enum FreshDatabase {
    Sqlite(PathBuf),
    Postgres { admin_url: String, name: String },
}

/// A name no other test run uses: process id, time and a counter.
fn unique_name() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("test_{}_{nanos}_{n}", std::process::id())
}

/// A fresh empty database and its URL.
async fn fresh_database() -> (String, FreshDatabase) {
    let name = unique_name();
    match std::env::var("DISPATCH_TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.trim().is_empty() => {
            let admin = sea_orm::Database::connect(&admin_url)
                .await
                .expect("connect to PostgreSQL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create the test database");
            admin.close().await.ok();
            let (server, _) = admin_url
                .rsplit_once('/')
                .expect("the URL names a database");
            let url = format!("{server}/{name}");
            (url, FreshDatabase::Postgres { admin_url, name })
        }
        _ => {
            let path = std::env::temp_dir().join(format!("dispatch-{name}.db"));
            (
                format!("sqlite://{}", path.display()),
                FreshDatabase::Sqlite(path),
            )
        }
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        match self {
            FreshDatabase::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
            }
            FreshDatabase::Postgres { admin_url, name } => {
                // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived
                // thread with its own runtime drops the database (FORCE ends the app's sessions).
                let (url, sql) = (
                    admin_url.clone(),
                    format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                );
                let dropped = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(async {
                        let admin = sea_orm::Database::connect(&url).await?;
                        admin.execute_unprepared(&sql).await?;
                        admin.close().await
                    })
                    .map_err(std::io::Error::other)
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("could not drop test database {name}: {dropped:?}");
                }
            }
        }
    }
}

/// Starts the app on 127.0.0.1:0 over a fresh, migrated and seeded database.
pub async fn spawn_app() -> TestApp {
    let (url, database) = fresh_database().await;
    let db = Db::connect(&url).await.expect("open the test database");
    db.migrate().await.expect("migrate");
    dispatch_store::seed::ensure_defaults(&db)
        .await
        .expect("seed");
    let engine = Engine::new(db);
    let (token, _) = engine
        .create_token("admin@example.com", "tests", "owner")
        .await
        .expect("token");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let app = dispatch_web::app(engine.clone());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    let base = format!("http://{addr}/api/v1");
    TestApp {
        base,
        token,
        client: reqwest::Client::new(),
        engine,
        server,
        _database: database,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    /// Sends a request with the token; answers the status and the JSON body (`null` if none).
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.send(method, path, body, Some(&self.token)).await
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
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
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
