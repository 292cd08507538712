//! The test harness: `spawn_app()` starts the whole server in-process on port 0 with a fresh
//! database ([`TestDb`]: a temporary SQLite file, or a new PostgreSQL database when
//! `DISPATCH_TEST_DATABASE_URL` points at a server, as CI sets it) and an admin API token.

pub mod pages;
pub mod receiver;
pub mod smtp;

use dispatch_core::provider::{ProviderRegistry, Providers};
use dispatch_engine::jobs::{Runner, RunnerOptions};
use dispatch_engine::Engine;
pub use dispatch_store::testing::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A running server with a fresh database and an admin token.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The admin's API token.
    pub token: String,
    /// The engine behind the server, for direct checks.
    pub engine: Engine,
    /// A keep-alive client.
    pub http: reqwest::Client,
    server: tokio::task::JoinHandle<()>,
    /// Kept last so the database outlives the server.
    pub db: TestDb,
}

/// Starts the whole application on 127.0.0.1:0 with the built-in providers.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|p| p).await
}

/// Like [`spawn_app`], with the built-in providers changed by `providers` (e.g. made to fail);
/// every project uses them.
pub async fn spawn_app_with(providers: impl FnOnce(Providers) -> Providers) -> TestApp {
    spawn_app_full(providers, dispatch_web::WebOptions::default()).await
}

/// Like [`spawn_app`], with sign-in settings made for the server's base URL, and these session
/// lifetimes.
pub async fn spawn_app_auth(
    auth: impl FnOnce(&str) -> dispatch_web::WebAuth,
    sessions: dispatch_engine::accounts::session::SessionSettings,
) -> TestApp {
    spawn_app_inner(
        |db| {
            let builtin = dispatch::server::builtin_providers(
                &db,
                dispatch_providers::BuiltinSettings::default(),
            );
            Engine::with_providers(db, builtin).with_session_settings(sessions)
        },
        |base| dispatch_web::WebOptions {
            auth: auth(base),
            ..Default::default()
        },
    )
    .await
}

/// Like [`spawn_app_with`], with transports turned on by `options` (e.g. Slack).
pub async fn spawn_app_full(
    providers: impl FnOnce(Providers) -> Providers,
    options: dispatch_web::WebOptions,
) -> TestApp {
    spawn_app_engine(
        |db| {
            let builtin = dispatch::server::builtin_providers(
                &db,
                dispatch_providers::BuiltinSettings::default(),
            );
            Engine::with_providers(db, providers(builtin))
        },
        options,
    )
    .await
}

/// Like [`spawn_app`], with every built-in provider in the registry and `change` adding others
/// (for projects to choose) or changing the defaults.
pub async fn spawn_app_with_registry(change: impl FnOnce(&mut ProviderRegistry)) -> TestApp {
    spawn_app_engine(
        move |db| {
            let mut registry = dispatch::server::builtin_registry(
                &db,
                dispatch_providers::BuiltinSettings::default(),
            );
            change(&mut registry);
            Engine::with_registry(db, registry)
        },
        dispatch_web::WebOptions::default(),
    )
    .await
}

/// Starts the application with the engine `make` builds over the fresh, seeded database.
pub async fn spawn_app_engine(
    make: impl FnOnce(dispatch_store::Db) -> Engine,
    options: dispatch_web::WebOptions,
) -> TestApp {
    spawn_app_inner(make, |_| options).await
}

async fn spawn_app_inner(
    make: impl FnOnce(dispatch_store::Db) -> Engine,
    options: impl FnOnce(&str) -> dispatch_web::WebOptions,
) -> TestApp {
    let test_db = TestDb::new().await;
    let db = test_db.open().await;
    dispatch_store::seed::ensure_defaults(&db)
        .await
        .expect("seed");
    let engine = make(db);
    let (token, _) = engine
        .create_token("admin@example.com", "test", "owner")
        .await
        .expect("token");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = dispatch_web::app_with(engine.clone(), options(&base))
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    TestApp {
        base,
        token,
        engine,
        http: reqwest::Client::new(),
        server,
        db: test_db,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A response: status and parsed JSON body (Null when empty or not JSON).
#[derive(Debug)]
pub struct Res {
    /// HTTP status.
    pub status: StatusCode,
    /// Body.
    pub body: Value,
}

/// Runner options for tests: no waiting between retries.
pub fn fast_runner() -> RunnerOptions {
    RunnerOptions {
        backoff: std::time::Duration::ZERO,
        max_backoff: std::time::Duration::ZERO,
        ..RunnerOptions::default()
    }
}

impl TestApp {
    /// Runs every runnable job (and those they enqueue) until the queue is idle; returns how many ran.
    pub async fn run_pending_jobs(&self) -> usize {
        Runner::new(self.engine.clone(), fast_runner())
            .run_pending()
            .await
            .expect("run jobs")
    }

    /// Calls `/api/v1{path}` as the admin.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Res {
        self.call_as(Some(&self.token), method, path, body).await
    }

    /// Calls `/api/v1{path}` with the given token (or none).
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Res {
        self.call_url(token, method, &format!("/api/v1{path}"), body)
            .await
    }

    /// Calls a path of the server (`/auth/login`, `/api/v1/…`) with the given token (or none).
    pub async fn call_url(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Res {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        Res {
            status,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        }
    }

    /// Sends a raw body with a content type.
    pub async fn raw(&self, method: Method, path: &str, content_type: &str, body: &str) -> Res {
        let res = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = res.status();
        Res {
            status,
            body: serde_json::from_str(&res.text().await.unwrap_or_default())
                .unwrap_or(Value::Null),
        }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Res {
        self.call(Method::GET, path, None).await
    }

    /// POST with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Res {
        self.call(Method::POST, path, Some(body)).await
    }

    /// PATCH with a JSON body.
    pub async fn patch(&self, path: &str, body: Value) -> Res {
        self.call(Method::PATCH, path, Some(body)).await
    }

    /// Declares an incident with a title and description; panics unless 201.
    pub async fn declare(&self, title: &str) -> Value {
        let r = self
            .post(
                "/incidents",
                serde_json::json!({"title": title, "description": "details"}),
            )
            .await;
        assert_eq!(
            r.status,
            StatusCode::CREATED,
            "declare failed: {:?}",
            r.body
        );
        r.body
    }

    /// A token for another person.
    pub async fn token_for(&self, email: &str) -> String {
        self.engine
            .create_token(email, "test", "member")
            .await
            .expect("token")
            .0
    }
}

impl TestApp {
    /// A token for a person with this organization role (`member`, `admin`, `manager`, `owner`)
    /// and token scope (`read`, `write`, `admin`).
    pub async fn token_with(&self, email: &str, role: &str, scope: &str) -> String {
        self.engine
            .create_token_for(
                email,
                "test",
                Some(role.parse().expect("role")),
                scope.parse().expect("scope"),
            )
            .await
            .expect("token")
            .0
    }
}

impl TestApp {
    /// Gives a person a role in an incident as the owner; panics unless 200.
    pub async fn give_role(&self, key: &str, email: &str, role: &str) {
        let r = self
            .post(
                &format!("/incidents/{key}/roles"),
                serde_json::json!({"email": email, "role": role}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{email} as {role}: {:?}", r.body);
    }

    /// The token's holder subscribes to the incident by e-mail; panics unless 200.
    pub async fn subscribe(&self, key: &str, token: &str) {
        let path = format!("/incidents/{key}/subscribe");
        let r = self.call_as(Some(token), Method::POST, &path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
    }

    /// Removes a person from an incident as the owner (their roles end); panics unless it worked.
    pub async fn remove_participant(&self, key: &str, email: &str) {
        let path = format!("/incidents/{key}/participants/{email}");
        let r = self.call(Method::DELETE, &path, None).await;
        assert!(r.status.is_success(), "{path}: {:?}", r.body);
    }

    /// The token's holder revokes it (their first token); panics unless 200.
    pub async fn revoke_own_token(&self, token: &str) {
        let mine = self
            .call_as(Some(token), Method::GET, "/tokens", None)
            .await;
        let path = format!("/tokens/{}", mine.body[0]["id"]);
        let r = self.call_as(Some(token), Method::DELETE, &path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
    }

    /// The user id of the person with this e-mail (they must be a user).
    pub async fn user_id(&self, email: &str) -> i64 {
        self.user(email).await["id"].as_i64().expect("an id")
    }

    /// A person created by the owner (`POST /users`) who chose `password` through their
    /// set-up link; answers the created user.
    pub async fn person_with_password(&self, email: &str, role: &str, password: &str) -> Value {
        let r = self
            .post("/users", serde_json::json!({"email": email, "role": role}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let link = r.body["setup_link"].as_str().expect("a set-up link");
        let done = self.choose_password(link, password).await;
        assert_eq!(done.status, StatusCode::NO_CONTENT, "{:?}", done.body);
        r.body
    }

    /// Chooses `password` through a set-up link (`POST /auth/setup` with the link's token).
    pub async fn choose_password(&self, link: &str, password: &str) -> Res {
        let token = link.split("token=").nth(1).expect("a token in the link");
        self.call_url(
            None,
            Method::POST,
            "/auth/setup",
            Some(serde_json::json!({"token": token, "password": password})),
        )
        .await
    }

    /// The user with this e-mail, as `GET /users` lists it.
    pub async fn user(&self, email: &str) -> Value {
        let users = self.get("/users").await.body;
        users
            .as_array()
            .expect("a list of users")
            .iter()
            .find(|u| u["email"] == email)
            .unwrap_or_else(|| panic!("no user {email}: {users}"))
            .clone()
    }
}

/// The field names of a 422 envelope.
pub fn error_fields(body: &Value) -> Vec<String> {
    body["error"]["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|f| f["field"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// A fixed hour (UTC) of the day `days` after `t`, so two scheduler ticks an hour apart share a
/// day and an ISO week.
pub fn at_hour(
    t: chrono::DateTime<chrono::Utc>,
    days: i64,
    hour: u32,
) -> chrono::DateTime<chrono::Utc> {
    (t + chrono::Duration::days(days))
        .date_naive()
        .and_time(chrono::NaiveTime::from_hms_opt(hour, 0, 0).unwrap())
        .and_utc()
}

/// Percent-encodes a form value (`application/x-www-form-urlencoded`).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
