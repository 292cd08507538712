//! A real Matrix homeserver, Synapse (PyPI `matrix-synapse` in a venv), for the Matrix tests:
//! started per test on a free 127.0.0.1 port with SQLite, a configuration of its own (rate
//! limits raised, registration open without verification so a test registers its users through
//! the client-server API), and killed when dropped. People are [`MatrixUser`]s logged in through
//! the client-server API, as an Element user would be.
//!
//! The tests install nothing: without the venv [`Synapse::start`] fails saying to run
//! `scripts/test-setup` (which `.ci/run` runs). To leave these tests out knowingly, run
//! `cargo test -- --skip matrix` (counted as filtered out, never as passed).

use super::alertmanager::{free_port, Process};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where `scripts/test-setup` puts the venv (or `DISPATCH_SYNAPSE_VENV`).
pub fn venv() -> PathBuf {
    match std::env::var_os("DISPATCH_SYNAPSE_VENV") {
        Some(v) => v.into(),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
            .join(".cache/dispatch-synapse"),
    }
}

/// The password [`Synapse::register`] gives `name`.
pub fn password(name: &str) -> String {
    format!("{name}-password")
}

/// A running Synapse; killed (and its directory removed) when dropped.
pub struct Synapse {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    dir: PathBuf,
    log: PathBuf,
    process: Process,
    http: reqwest::Client,
}

fn unlimited() -> Value {
    json!({"per_second": 10000, "burst_count": 10000})
}

/// The homeserver's configuration (JSON is YAML).
fn config(dir: &std::path::Path, port: u16) -> Value {
    let path = |name: &str| dir.join(name).display().to_string();
    json!({
        "server_name": "localhost",
        "pid_file": path("homeserver.pid"),
        "listeners": [{
            "port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": false,
            "x_forwarded": false, "resources": [{"names": ["client"], "compress": false}],
        }],
        "database": {"name": "sqlite3", "args": {"database": path("homeserver.db")}},
        "media_store_path": path("media"),
        "signing_key_path": path("signing.key"),
        "report_stats": false,
        "macaroon_secret_key": "dispatch-tests-macaroon",
        "form_secret": "dispatch-tests-form",
        "trusted_key_servers": [],
        "suppress_key_server_warning": true,
        "enable_registration": true,
        "enable_registration_without_verification": true,
        "rc_message": unlimited(),
        "rc_registration": unlimited(),
        "rc_room_creation": unlimited(),
        "rc_login": {"address": unlimited(), "account": unlimited(), "failed_attempts": unlimited()},
        "rc_joins": {"local": unlimited(), "remote": unlimited()},
        "rc_invites": {"per_room": unlimited(), "per_user": unlimited(), "per_issuer": unlimited()},
    })
}

impl Synapse {
    /// Starts Synapse and waits (up to 60 s) until its client API answers. Fails saying how to
    /// install it when the venv is missing.
    pub async fn start() -> Synapse {
        let python = venv().join("bin/python");
        assert!(
            python.is_file() && venv().join("bin/synapse_homeserver").is_file(),
            "the Matrix tests need a real Synapse in {} (PyPI matrix-synapse): run \
             scripts/test-setup (.ci/run does); to leave them out knowingly, run \
             `cargo test -- --skip matrix`",
            venv().display()
        );
        let dir = std::env::temp_dir().join(format!(
            "dispatch-synapse-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(dir.join("media")).unwrap();
        // An ed25519 signing key: Synapse reads `ed25519 <version> <unpadded base64 seed>`.
        std::fs::write(
            dir.join("signing.key"),
            "ed25519 a_test QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY\n",
        )
        .unwrap();
        let http = reqwest::Client::new();
        let log = dir.join("synapse.log");
        for _ in 0..3 {
            let port = free_port();
            let url = format!("http://127.0.0.1:{port}");
            let file = dir.join("homeserver.yaml");
            std::fs::write(&file, config(&dir, port).to_string()).unwrap();
            let mut process = Process(
                Command::new(&python)
                    .args(["-m", "synapse.app.homeserver", "-c"])
                    .arg(&file)
                    .current_dir(&dir)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(&log).unwrap())
                    .spawn()
                    .unwrap_or_else(|e| panic!("start {}: {e}", python.display())),
            );
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = process.0.try_wait() {
                    break;
                }
                let ready = http
                    .get(format!("{url}/_matrix/client/versions"))
                    .send()
                    .await;
                if ready.is_ok_and(|r| r.status().is_success()) {
                    return Synapse {
                        url,
                        dir,
                        log,
                        process,
                        http,
                    };
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        panic!("Synapse did not become ready; its log:\n{text}");
    }

    /// Registers `name` with the password [`password`] gives (through the client-server API)
    /// and returns them logged in.
    pub async fn register(&self, name: &str) -> MatrixUser {
        let res = self
            .http
            .post(format!("{}/_matrix/client/v3/register", self.url))
            .json(&json!({
                "username": name,
                "password": password(name),
                "auth": {"type": "m.login.dummy"},
            }))
            .send()
            .await
            .expect("register");
        let status = res.status();
        let body: Value = res.json().await.unwrap_or_default();
        assert!(status.is_success(), "register {name}: {status} {body}");
        MatrixUser {
            id: body["user_id"].as_str().expect("user_id").to_string(),
            token: body["access_token"].as_str().expect("token").to_string(),
            url: self.url.clone(),
            http: self.http.clone(),
        }
    }

    /// What Synapse logged, for a failure message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        let _ = self.process.0.kill();
        let _ = self.process.0.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A person logged in to the homeserver, using the client-server API as a client app would.
pub struct MatrixUser {
    /// `@name:localhost`.
    pub id: String,
    /// The access token.
    pub token: String,
    url: String,
    http: reqwest::Client,
}

impl MatrixUser {
    /// Calls the client-server API; panics unless it succeeds.
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(
                method.clone(),
                format!("{}/_matrix/client/v3{path}", self.url),
            )
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("a Matrix call");
        let status = res.status();
        let body: Value = res.json().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "{method} {path} as {}: {status} {body}",
            self.id
        );
        body
    }

    /// Joins a room (by id or alias).
    pub async fn join(&self, room: &str) {
        let path = format!("/join/{}", dispatch_matrix::api::segment(room));
        self.call(reqwest::Method::POST, &path, Some(json!({})))
            .await;
    }

    /// Creates a room of its own; its id.
    pub async fn create_room(&self, name: &str) -> String {
        let body = self
            .call(
                reqwest::Method::POST,
                "/createRoom",
                Some(json!({"name": name, "preset": "private_chat"})),
            )
            .await;
        body["room_id"].as_str().expect("room_id").to_string()
    }

    /// Invites someone to a room.
    pub async fn invite(&self, room: &str, user: &str) {
        let path = format!("/rooms/{}/invite", dispatch_matrix::api::segment(room));
        self.call(reqwest::Method::POST, &path, Some(json!({"user_id": user})))
            .await;
    }

    /// Sends an event; its id.
    pub async fn send(&self, room: &str, kind: &str, content: Value) -> String {
        let txn = format!(
            "t{}",
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        );
        let path = format!(
            "/rooms/{}/send/{kind}/{txn}",
            dispatch_matrix::api::segment(room)
        );
        let body = self.call(reqwest::Method::PUT, &path, Some(content)).await;
        body["event_id"].as_str().expect("event_id").to_string()
    }

    /// Says `text` in a room; the message's event id.
    pub async fn say(&self, room: &str, text: &str) -> String {
        self.send(
            room,
            "m.room.message",
            json!({"msgtype": "m.text", "body": text}),
        )
        .await
    }

    /// Reacts to an event with `key`.
    pub async fn react(&self, room: &str, event: &str, key: &str) -> String {
        let content =
            json!({"m.relates_to": {"rel_type": "m.annotation", "event_id": event, "key": key}});
        self.send(room, "m.reaction", content).await
    }

    /// A room's state event (`Null` when absent or not visible).
    pub async fn state(&self, room: &str, kind: &str) -> Value {
        let res = self
            .http
            .get(format!(
                "{}/_matrix/client/v3/rooms/{}/state/{kind}/",
                self.url,
                dispatch_matrix::api::segment(room)
            ))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("a state read");
        res.json().await.unwrap_or_default()
    }

    /// The room's latest messages (up to 100), oldest first.
    pub async fn messages(&self, room: &str) -> Vec<Value> {
        let path = format!(
            "/rooms/{}/messages?dir=b&limit=100",
            dispatch_matrix::api::segment(room)
        );
        let body = self.call(reqwest::Method::GET, &path, None).await;
        let mut events: Vec<Value> = body["chunk"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e["type"] == "m.room.message")
            .collect();
        events.reverse();
        events
    }

    /// The rooms this user is invited to (a /sync).
    pub async fn invites(&self) -> Vec<String> {
        let body = self
            .call(reqwest::Method::GET, "/sync?timeout=0", None)
            .await;
        body["rooms"]["invite"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}
