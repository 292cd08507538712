//! A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`) for the signal tests:
//! started on a free 127.0.0.1 port with one webhook receiver, fed through its API v2
//! (`POST /api/v2/alerts`), killed when dropped.
//!
//! The tests install nothing: without the binary [`Alertmanager::start`] fails saying how to
//! install it (`scripts/test-setup`, which `.ci/run` runs, does), like the e-mail tests without
//! aiosmtpd. To leave these tests out on purpose, run `cargo test -- --skip alertmanager` (cargo
//! then counts them as filtered out, never as passed).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to install the server, for the message a test fails with when it is missing.
const INSTALL: &str = "apt-get install -y --no-install-recommends prometheus-alertmanager \
                       (scripts/test-setup does it, and .ci/run runs scripts/test-setup)";

/// The Alertmanager binary on `PATH`: Debian's `prometheus-alertmanager`, or upstream's
/// `alertmanager`.
pub fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["prometheus-alertmanager", "alertmanager"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

/// Where Alertmanager sends its notifications: one webhook receiver, `send_resolved: true`.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// The receiver's URL.
    pub url: String,
    /// Sent as `Authorization: Bearer …` (`http_config.authorization.credentials`) when set.
    pub bearer: Option<String>,
}

/// A running Alertmanager: its own config, storage directory and port; killed when dropped.
pub struct Alertmanager {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    log: PathBuf,
    dir: PathBuf,
    process: Process,
    http: reqwest::Client,
}

/// A child process, killed when dropped (also when a test panics or is cancelled mid-start);
/// the other real servers' helpers use it too.
pub(crate) struct Process(pub(crate) Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Polls `/-/ready` for up to 15 s; false when the process exits or the time runs out.
async fn wait_ready(http: &reqwest::Client, url: &str, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        let ready = http.get(format!("{url}/-/ready")).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

impl Alertmanager {
    /// Starts Alertmanager notifying `webhook`, grouping by `alertname` with `group_wait` and
    /// `group_interval` of 1 s (so a notification comes about a second after a change) and a
    /// `repeat_interval` of a day (so an unchanged group is never notified again during a
    /// test), and waits until `/-/ready` answers. Fails naming the install command when the
    /// binary is missing.
    pub async fn start(webhook: &Webhook) -> Alertmanager {
        Alertmanager::start_grouped_by(webhook, &["alertname"]).await
    }

    /// [`Alertmanager::start`], grouping alerts by these labels instead (one notification
    /// carries every alert sharing their values).
    pub async fn start_grouped_by(webhook: &Webhook, group_by: &[&str]) -> Alertmanager {
        let binary = binary().unwrap_or_else(|| {
            panic!(
                "the Alertmanager tests need a real Prometheus Alertmanager \
                 (`prometheus-alertmanager` or `alertmanager` on PATH): {INSTALL}; \
                 to leave them out knowingly, run `cargo test -- --skip alertmanager`"
            )
        });
        let dir = std::env::temp_dir().join(format!(
            "dispatch-alertmanager-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let config = dir.join("alertmanager.yml");
        // JSON is YAML: no hand-quoting of the URL or the token.
        std::fs::write(
            &config,
            serde_json::to_string_pretty(&config_for(webhook, group_by)).unwrap(),
        )
        .unwrap();
        // The port is free when asked for; another process may take it before Alertmanager
        // binds it, so a start that fails is tried again on another port.
        let http = reqwest::Client::new();
        let log = dir.join("alertmanager.log");
        for _ in 0..3 {
            let port = free_port();
            let url = format!("http://127.0.0.1:{port}");
            let mut process = Process(
                Command::new(&binary)
                    .arg(format!("--config.file={}", config.display()))
                    .arg(format!("--storage.path={}", dir.join("data").display()))
                    .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                    .arg(format!("--web.external-url={url}"))
                    // Empty: no cluster, no gossip port.
                    .arg("--cluster.listen-address=")
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(std::fs::File::create(&log).unwrap())
                    .spawn()
                    .unwrap_or_else(|e| panic!("start {}: {e}", binary.display())),
            );
            if wait_ready(&http, &url, &mut process.0).await {
                return Alertmanager {
                    url,
                    log,
                    dir,
                    process,
                    http,
                };
            }
        }
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        let _ = std::fs::remove_dir_all(&dir);
        panic!("Alertmanager did not become ready; its log:\n{log}");
    }

    /// Pushes alerts through the API v2 (`POST /api/v2/alerts`), as Prometheus does; panics
    /// unless Alertmanager accepts them.
    pub async fn push_alerts(&self, alerts: &[&Alert]) {
        let body: Vec<Value> = alerts.iter().map(|a| a.to_json()).collect();
        let res = self
            .http
            .post(format!("{}/api/v2/alerts", self.url))
            .json(&body)
            .send()
            .await
            .expect("POST /api/v2/alerts");
        let status = res.status();
        let text = res.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "Alertmanager refused the alerts ({status}): {text}"
        );
    }

    /// What Alertmanager has logged so far (failed notifications show here), for a test's
    /// failure message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The running server's version (`GET /api/v2/status`, `versionInfo.version`).
    pub async fn version(&self) -> String {
        let status: Value = self
            .http
            .get(format!("{}/api/v2/status", self.url))
            .send()
            .await
            .expect("GET /api/v2/status")
            .json()
            .await
            .expect("the status is JSON");
        status["versionInfo"]["version"]
            .as_str()
            .unwrap_or_else(|| panic!("no versionInfo.version in {status}"))
            .to_string()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        // Stopped before its storage directory goes.
        let _ = self.process.0.kill();
        let _ = self.process.0.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The configuration: one route to one webhook receiver.
fn config_for(webhook: &Webhook, group_by: &[&str]) -> Value {
    let mut receiver = json!({"url": webhook.url, "send_resolved": true});
    if let Some(token) = &webhook.bearer {
        receiver["http_config"] =
            json!({"authorization": {"type": "Bearer", "credentials": token}});
    }
    json!({
        "route": {
            "receiver": "dispatch",
            "group_by": group_by,
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "24h",
        },
        "receivers": [{"name": "dispatch", "webhook_configs": [receiver]}],
    })
}

/// A port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One alert as Prometheus posts it to `POST /api/v2/alerts`. Alertmanager identifies an alert
/// by its labels (the fingerprint), so pushing the same labels again updates the same alert.
#[derive(Clone, Debug)]
pub struct Alert {
    /// Labels (`alertname`, `service`, …).
    pub labels: BTreeMap<String, String>,
    /// Annotations (`summary`, `runbook_url`, …).
    pub annotations: BTreeMap<String, String>,
    /// `startsAt`.
    pub starts_at: DateTime<Utc>,
    /// `endsAt`: `None` leaves it to Alertmanager (firing until its resolve timeout); a time
    /// in the past resolves the alert.
    pub ends_at: Option<DateTime<Utc>>,
}

impl Alert {
    /// A firing alert with these labels, starting now. (Alertmanager notifies a new group at
    /// once, without `group_wait`, when its first alert started longer than `group_wait` ago;
    /// starting now keeps the alerts pushed together in one notification.)
    pub fn firing(labels: &[(&str, &str)]) -> Alert {
        Alert {
            labels: pairs(labels),
            annotations: BTreeMap::new(),
            starts_at: Utc::now(),
            ends_at: None,
        }
    }

    /// The same alert with an annotation added.
    pub fn annotation(mut self, name: &str, value: &str) -> Alert {
        self.annotations.insert(name.into(), value.into());
        self
    }

    /// The same alert (labels, annotations, start), resolved now: its `endsAt` is in the past
    /// by the time Alertmanager reads it.
    pub fn resolved(&self) -> Alert {
        Alert {
            ends_at: Some(Utc::now()),
            ..self.clone()
        }
    }

    /// The API v2 body of this alert.
    pub fn to_json(&self) -> Value {
        let time = |t: &DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
        let mut alert = json!({
            "labels": self.labels,
            "annotations": self.annotations,
            "startsAt": time(&self.starts_at),
            "generatorURL": "http://prometheus.test:9090/graph",
        });
        if let Some(ends) = &self.ends_at {
            alert["endsAt"] = Value::String(time(ends));
        }
        alert
    }
}

fn pairs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The payload's maps of labels and annotations.
const FREE_FORM: [&str; 5] = [
    "labels",
    "annotations",
    "groupLabels",
    "commonLabels",
    "commonAnnotations",
];

/// The shape of a JSON value: every object's key set, recursively (arrays by their first
/// element; label and annotation maps only as "map"), for checking that a saved fixture still looks like what the real server sends.
pub fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    // Free-form maps: their keys are the test's labels, not the format.
                    let free = FREE_FORM.contains(&k.as_str()) && v.is_object();
                    (k.clone(), if free { json!("map") } else { shape(v) })
                })
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(a) => Value::Array(a.first().map(shape).into_iter().collect()),
        Value::String(_) => json!("string"),
        Value::Number(_) => json!("number"),
        Value::Bool(_) => json!("bool"),
        Value::Null => Value::Null,
    }
}

/// A saved Alertmanager payload from `tests/it/fixtures/alertmanager/`.
pub fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/alertmanager")
        .join(name);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}
