//! The test harness: one builder, [`TestApp::builder`] (with [`spawn_app`] as the shorthand for
//! its defaults), starts the whole server in-process on port 0 with a fresh database
//! ([`TestDb`]: a temporary SQLite file, or a new PostgreSQL database when
//! `DISPATCH_TEST_DATABASE_URL` points at a server, as CI sets it) and an admin API token.
//!
//! When a test ends (its [`TestApp`] is dropped and the test has not already failed), the harness
//! checks the job queue over a connection of its own: no job failed and none is left queued or
//! running. A test that means otherwise says so, with its reason, on the builder or the app:
//! [`TestApp::expect_failed_jobs`], [`TestApp::allow_pending_jobs`].

pub mod alertmanager;
pub mod pages;
pub mod receiver;
pub mod smtp;
pub mod synapse;

use dispatch_core::provider::{ProviderRegistry, Providers};
use dispatch_engine::accounts::session::SessionSettings;
use dispatch_engine::jobs::{Runner, RunnerOptions, TransportJob};
use dispatch_engine::Engine;
pub use dispatch_store::testing::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::{Arc, Mutex};

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
    jobs: Mutex<JobCheck>,
    /// Kept last so the database outlives the server and the end-of-test job check.
    pub db: TestDb,
}

/// What the end-of-test check accepts of the job queue.
#[derive(Clone, Copy, Debug, Default)]
struct JobCheck {
    /// Why some job must have failed (the test makes one fail); none may fail when `None`.
    failed: Option<&'static str>,
    /// Why jobs may be left queued or running; none may when `None`.
    pending: Option<&'static str>,
}

/// Starts the whole application on 127.0.0.1:0 with the built-in providers
/// (`TestApp::builder().spawn()`).
pub async fn spawn_app() -> TestApp {
    TestApp::builder().spawn().await
}

type ProvidersFn = Box<dyn FnOnce(Providers) -> Providers>;
type RegistryFn = Box<dyn FnOnce(&dispatch_store::Db, &mut ProviderRegistry)>;
type WebFn = Box<dyn FnOnce(&str) -> dispatch_web::WebOptions>;

/// How to start a [`TestApp`]: [`TestApp::builder`], then [`TestAppBuilder::spawn`].
#[must_use = "nothing starts until `spawn`"]
pub struct TestAppBuilder {
    providers: ProvidersFn,
    registry: RegistryFn,
    transport_jobs: Vec<Arc<dyn TransportJob>>,
    sessions: Option<SessionSettings>,
    web: WebFn,
    jobs: JobCheck,
}

impl TestApp {
    /// A builder for an application with the built-in providers, default web options and the
    /// end-of-test job check on.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            providers: Box::new(|p| p),
            registry: Box::new(|_, _| {}),
            transport_jobs: Vec::new(),
            sessions: None,
            web: Box::new(|_| dispatch_web::WebOptions::default()),
            jobs: JobCheck::default(),
        }
    }
}

impl TestAppBuilder {
    /// Changes the built-in providers (e.g. makes them fail); every project uses them.
    pub fn providers(mut self, change: impl FnOnce(Providers) -> Providers + 'static) -> Self {
        self.providers = Box::new(change);
        self
    }

    /// Changes the provider registry (made of the providers above) over the fresh database:
    /// adds providers for projects to choose, changes the defaults, or empties it (an engine
    /// that runs no jobs itself).
    pub fn registry(
        mut self,
        change: impl FnOnce(&dispatch_store::Db, &mut ProviderRegistry) + 'static,
    ) -> Self {
        self.registry = Box::new(change);
        self
    }

    /// Adds a transport's job handlers (e.g. Slack's) to the engine.
    pub fn transport_jobs(
        mut self,
        handlers: impl IntoIterator<Item = Arc<dyn TransportJob>>,
    ) -> Self {
        self.transport_jobs.extend(handlers);
        self
    }

    /// These web-session lifetimes.
    pub fn sessions(mut self, sessions: SessionSettings) -> Self {
        self.sessions = Some(sessions);
        self
    }

    /// These web options (transports such as Slack, the public URL, sign-in settings).
    pub fn web_options(mut self, options: dispatch_web::WebOptions) -> Self {
        self.web = Box::new(move |_| options);
        self
    }

    /// Web options with sign-in settings made for the server's base URL (known once it listens).
    pub fn auth(mut self, auth: impl FnOnce(&str) -> dispatch_web::WebAuth + 'static) -> Self {
        self.web = Box::new(move |base| dispatch_web::WebOptions {
            auth: auth(base),
            ..Default::default()
        });
        self
    }

    /// See [`TestApp::expect_failed_jobs`].
    pub fn expect_failed_jobs(mut self, reason: &'static str) -> Self {
        assert!(!reason.is_empty(), "say why jobs fail");
        self.jobs.failed = Some(reason);
        self
    }

    /// See [`TestApp::allow_pending_jobs`].
    pub fn allow_pending_jobs(mut self, reason: &'static str) -> Self {
        assert!(!reason.is_empty(), "say why jobs are left pending");
        self.jobs.pending = Some(reason);
        self
    }

    /// Starts the application with a fresh, seeded database and an admin token.
    pub async fn spawn(self) -> TestApp {
        let test_db = TestDb::new().await;
        let db = test_db.open().await;
        dispatch_store::seed::ensure_defaults(&db)
            .await
            .expect("seed");
        let builtin = dispatch::server::builtin_providers(
            &db,
            dispatch_providers::BuiltinSettings::default(),
        );
        let mut registry = ProviderRegistry::single((self.providers)(builtin));
        (self.registry)(&db, &mut registry);
        let mut engine = Engine::with_registry(db, registry);
        for handler in self.transport_jobs {
            engine = engine.with_transport_job(handler);
        }
        if let Some(sessions) = self.sessions {
            engine = engine.with_session_settings(sessions);
        }
        let (token, _) = engine
            .credentials()
            .create("admin@example.com", "test", "owner")
            .await
            .expect("token");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = dispatch_web::app_with(engine.clone(), (self.web)(&base))
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
            jobs: Mutex::new(self.jobs),
            db: test_db,
        }
    }
}

impl TestApp {
    /// The test makes a job fail on purpose (`reason` says which and why): the end-of-test check
    /// then asks that at least one job failed, instead of none.
    pub fn expect_failed_jobs(&self, reason: &'static str) {
        assert!(!reason.is_empty(), "say why jobs fail");
        self.jobs.lock().unwrap().failed = Some(reason);
    }

    /// The test leaves jobs queued or running on purpose (`reason` says why, e.g. it checks that
    /// a retry queued a job again): the end-of-test check then accepts them. A test that merely
    /// starts jobs runs them instead ([`TestApp::run_pending_jobs`]), so that they are proven to
    /// succeed.
    pub fn allow_pending_jobs(&self, reason: &'static str) {
        assert!(!reason.is_empty(), "say why jobs are left pending");
        self.jobs.lock().unwrap().pending = Some(reason);
    }

    /// The end-of-test check: what is wrong with the queue, `None` when nothing is.
    fn job_check_failure(&self) -> Option<String> {
        let check = *self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let url = self.db.url.clone();
        // Drop runs inside the test's runtime: a thread with a runtime of its own may block.
        let jobs = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for the job check")
                .block_on(dispatch_store::testing::jobs_not_succeeded(&url))
        })
        .join()
        .unwrap_or_else(|_| panic!("the end-of-test job check could not read the jobs"));
        let describe = |j: &dispatch_store::model::job::Model| {
            format!(
                "\n  #{} {} ({}, {} attempt(s), runs at {}): {}",
                j.id,
                j.kind,
                j.state,
                j.attempts,
                j.run_at,
                j.last_error.as_deref().unwrap_or("no error")
            )
        };
        let failed: Vec<_> = jobs.iter().filter(|j| j.state == "failed").collect();
        let pending: Vec<_> = jobs.iter().filter(|j| j.state != "failed").collect();
        let mut problems = String::new();
        match check.failed {
            None if !failed.is_empty() => {
                problems += "jobs failed (if the test means it, call `expect_failed_jobs`):";
                failed.iter().for_each(|j| problems += &describe(j));
                problems += "\n";
            }
            Some(reason) if failed.is_empty() => {
                problems += &format!("no job failed, though the test expects one to: {reason}\n");
            }
            _ => {}
        }
        if check.pending.is_none() && !pending.is_empty() {
            problems += "jobs left queued or running (run them with `run_pending_jobs`, or call \
                         `allow_pending_jobs` with the reason):";
            pending.iter().for_each(|j| problems += &describe(j));
            problems += "\n";
        }
        (!problems.is_empty()).then_some(problems)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        if std::thread::panicking() {
            return;
        }
        if let Some(problems) = self.job_check_failure() {
            panic!("at the end of the test, {problems}");
        }
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

    /// Makes tag types and then tags (`name`, or `type:name` for a tag of one of those types)
    /// in the default project; panics unless each is 201.
    pub async fn make_tags(&self, tag_types: &[&str], tags: &[&str]) {
        let types = tag_types.iter().map(|t| {
            (
                "/projects/default/tag-types",
                serde_json::json!({"name": t}),
            )
        });
        let tags = tags.iter().map(|t| {
            let body = match t.split_once(':') {
                Some((tt, name)) => serde_json::json!({"name": name, "tag_type": tt}),
                None => serde_json::json!({"name": t}),
            };
            ("/projects/default/tags", body)
        });
        for (path, body) in types.chain(tags) {
            let r = self.post(path, body).await;
            assert_eq!(r.status, StatusCode::CREATED, "POST {path}: {:#}", r.body);
        }
    }

    /// The mail Dispatch sent or kept for `to`, newest first (`GET /outbox?to=`).
    pub async fn mails_to(&self, to: &str) -> Vec<Value> {
        self.get(&format!("/outbox?to={to}"))
            .await
            .body
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// A token for another person.
    pub async fn token_for(&self, email: &str) -> String {
        self.engine
            .credentials()
            .create(email, "test", "member")
            .await
            .expect("token")
            .0
    }
}

/// An app with the vendor providers `cfg` configures, and its `[providers]` defaults.
pub async fn spawn_with_vendors(cfg: dispatch::config::Config) -> TestApp {
    TestApp::builder()
        .registry(move |_, r| {
            dispatch::server::add_vendor_providers(r, &cfg).expect("vendor settings");
            cfg.apply_provider_defaults(r).expect("defaults");
        })
        .spawn()
        .await
}

impl TestApp {
    /// The incident's resource of `kind` as the API shows it (`Null` when it has none).
    pub async fn resource(&self, incident: &str, kind: &str) -> Value {
        let detail = self.get(&format!("/incidents/{incident}")).await.body;
        detail["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["kind"] == kind)
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// A token for a person with this organization role (`member`, `admin`, `manager`, `owner`)
    /// and token scope (`read`, `write`, `admin`).
    pub async fn token_with(&self, email: &str, role: &str, scope: &str) -> String {
        self.engine
            .credentials()
            .create_for(
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

/// The message of a 422 that names only `field` (once); panics on any other answer.
pub fn refused_on(r: &Res, field: &str) -> String {
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", r.body);
    assert_eq!(error_fields(&r.body), [field], "{:#}", r.body);
    r.body["error"]["fields"][0]["message"]
        .as_str()
        .expect("a message")
        .to_string()
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

/// An incident as providers see it, active, with nothing around it yet: for calling a
/// provider directly (as a retried job would).
pub fn incident_context(name: &str, title: &str) -> dispatch_core::provider::IncidentContext {
    let ic = dispatch_core::provider::Person {
        email: "ic@example.com".into(),
        name: "Ida".into(),
    };
    dispatch_core::provider::IncidentContext {
        id: 1,
        name: name.into(),
        project: "default".into(),
        title: title.into(),
        description: String::new(),
        resolution: None,
        status: "active".into(),
        visibility: "open".into(),
        incident_type: "Default".into(),
        priority: "High".into(),
        severity: "Major".into(),
        commander: ic.clone(),
        reporter: ic,
        participants: vec![],
        links: vec![],
        timeline: vec![],
        report_fields: vec![],
        metrics: vec![],
        cost: None,
        tags: vec![],
        base_url: "https://dispatch.example.com".into(),
        settings: Default::default(),
    }
}

/// Declares an incident `title` through the engine (no HTTP) and answers its key.
pub async fn declare_on(engine: &Engine, actor: &dispatch_engine::Actor, title: &str) -> String {
    let cmd = dispatch_core::commands::DeclareIncident::new(
        dispatch_core::values::IncidentTitle::parse("title", title).unwrap(),
        dispatch_core::values::LongText::parse("description", "declared by a test").unwrap(),
    );
    engine
        .incidents()
        .declare(actor, cmd)
        .await
        .unwrap()
        .row
        .name
}

/// The actor `token` authenticates as on `engine`.
pub async fn actor_of(engine: &Engine, token: &str) -> dispatch_engine::Actor {
    engine
        .credentials()
        .authenticate(token)
        .await
        .unwrap()
        .expect("the token authenticates")
        .actor
}
