//! The Alertmanager harness against the real server: alerts pushed into a real Prometheus
//! Alertmanager (`common::alertmanager`) reach a webhook receiver running in the test as
//! Alertmanager's version 4 payload — grouped, the same labels deduplicated into one alert, a
//! past `endsAt` resolving — with the configured bearer token. The payloads it sends are saved
//! under `tests/it/fixtures/alertmanager/` for the parser's tests; these tests check that the
//! saved ones still have the shape of what the running version sends.

use crate::common::alertmanager::{fixture, shape, Alert, Alertmanager, Webhook};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One notification the receiver got.
#[derive(Clone, Debug)]
struct Notification {
    /// When it arrived.
    at: Instant,
    /// `Authorization`, when sent.
    authorization: Option<String>,
    /// `Content-Type`.
    content_type: String,
    /// The body, parsed.
    body: Value,
    /// The body as sent.
    raw: String,
}

/// A webhook receiver on 127.0.0.1:0 recording every notification; stopped when dropped.
struct Inbox {
    url: String,
    got: Arc<Mutex<Vec<Notification>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Inbox {
    async fn start() -> Inbox {
        async fn receive(
            State(got): State<Arc<Mutex<Vec<Notification>>>>,
            headers: HeaderMap,
            body: Bytes,
        ) -> StatusCode {
            let header = |name: &str| {
                headers
                    .get(name)
                    .map(|v| v.to_str().expect("an ASCII header").to_string())
            };
            got.lock().unwrap().push(Notification {
                at: Instant::now(),
                authorization: header("authorization"),
                content_type: header("content-type").unwrap_or_default(),
                body: serde_json::from_slice(&body).expect("Alertmanager sends JSON"),
                raw: String::from_utf8(body.to_vec()).expect("UTF-8"),
            });
            StatusCode::OK
        }
        let got = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .route("/alertmanager", axum::routing::post(receive))
            .with_state(got.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/alertmanager", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Inbox { url, got, server }
    }

    fn all(&self) -> Vec<Notification> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (up to 15 s) until `n` notifications have arrived from `am`; returns the `n`th.
    async fn nth(&self, am: &Alertmanager, n: usize) -> Notification {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let all = self.all();
            if all.len() >= n {
                return all[n - 1].clone();
            }
            assert!(
                Instant::now() < deadline,
                "notification #{n} did not arrive in 15 s; got {all:#?}\nAlertmanager's log:\n{}",
                am.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `alerts[]` of a notification as (`instance` label, status, fingerprint), sorted.
fn by_instance(n: &Notification) -> Vec<(String, String, String)> {
    let mut alerts: Vec<_> = n.body["alerts"]
        .as_array()
        .unwrap_or_else(|| panic!("no alerts list: {}", n.body))
        .iter()
        .map(|a| {
            (
                a["labels"]["instance"].as_str().unwrap().to_string(),
                a["status"].as_str().unwrap().to_string(),
                a["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    alerts.sort();
    alerts
}

/// Checks that the saved fixture `name` has the shape of this real notification; first saves
/// the notification's body, byte for byte, as the fixture when
/// `DISPATCH_SAVE_ALERTMANAGER_FIXTURES` is set (to refresh them after an Alertmanager upgrade).
fn matches_fixture(name: &str, notification: &Notification) {
    let real = &notification.body;
    if std::env::var_os("DISPATCH_SAVE_ALERTMANAGER_FIXTURES").is_some() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/it/fixtures/alertmanager")
            .join(name);
        std::fs::write(&path, &notification.raw).unwrap();
    }
    assert_eq!(
        shape(&fixture(name)),
        shape(real),
        "the fixture {name} no longer has the shape of what Alertmanager sends; refresh it with \
         DISPATCH_SAVE_ALERTMANAGER_FIXTURES=1 (and note the version in its README). Real: {real:#}"
    );
}

fn high_error_rate(instance: &str) -> Alert {
    Alert::firing(&[
        ("alertname", "HighErrorRate"),
        ("service", "payments"),
        ("severity", "critical"),
        ("instance", instance),
    ])
    .annotation("summary", "5xx above 5% on payments")
}

#[tokio::test]
async fn a_real_alertmanager_notifies_grouped_deduplicated_then_resolved_alerts_with_its_token() {
    let inbox = Inbox::start().await;
    let am = Alertmanager::start(&Webhook {
        url: inbox.url.clone(),
        bearer: Some("dsp_alertmanager-test-token".into()),
    })
    .await;
    let version = am.version().await;
    let (one, two) = (high_error_rate("pay-1"), high_error_rate("pay-2"));

    // Two alerts of one group, then the first again with the same labels (Prometheus re-sends
    // firing alerts on every evaluation).
    let pushed = Instant::now();
    am.push_alerts(&[&one, &two]).await;
    am.push_alerts(&[&one]).await;
    let firing = inbox.nth(&am, 1).await;
    let firing_after = firing.at - pushed;

    assert_eq!(
        firing.authorization.as_deref(),
        Some("Bearer dsp_alertmanager-test-token")
    );
    assert_eq!(firing.content_type, "application/json");
    let body = &firing.body;
    assert_eq!(body["version"], "4", "{body:#}");
    assert_eq!(body["status"], "firing", "{body:#}");
    assert_eq!(body["receiver"], "dispatch", "{body:#}");
    assert_eq!(
        body["groupKey"], "{}:{alertname=\"HighErrorRate\"}",
        "{body:#}"
    );
    assert_eq!(body["groupLabels"], json!({"alertname": "HighErrorRate"}));
    assert_eq!(
        body["commonLabels"],
        json!({"alertname": "HighErrorRate", "service": "payments", "severity": "critical"}),
        "the instance differs, so it is not common"
    );
    assert_eq!(body["truncatedAlerts"], 0, "{body:#}");
    assert_eq!(body["externalURL"], am.url, "{body:#}");
    let alerts = by_instance(&firing);
    assert_eq!(
        alerts.iter().map(|a| (&*a.0, &*a.1)).collect::<Vec<_>>(),
        [("pay-1", "firing"), ("pay-2", "firing")],
        "the repeated alert is one alert: {body:#}"
    );
    let fingerprints: BTreeSet<&str> = alerts.iter().map(|a| &*a.2).collect();
    assert_eq!(fingerprints.len(), 2, "{body:#}");
    assert!(
        fingerprints
            .iter()
            .all(|f| f.len() == 16 && f.bytes().all(|b| b.is_ascii_hexdigit())),
        "a fingerprint is 16 hex digits: {fingerprints:?}"
    );
    for alert in body["alerts"].as_array().unwrap() {
        assert_eq!(alert["endsAt"], "0001-01-01T00:00:00Z", "{alert:#}");
        assert_eq!(alert["annotations"]["summary"], "5xx above 5% on payments");
        assert_eq!(alert["generatorURL"], "http://prometheus.test:9090/graph");
    }
    matches_fixture("firing.json", &firing);

    // The same alert once more changes nothing in the group: no second notification within
    // several group intervals.
    am.push_alerts(&[&one]).await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    assert_eq!(
        inbox.all().len(),
        1,
        "an unchanged group is not notified again: {:#?}",
        inbox.all()
    );

    // A past endsAt resolves the first: the group still fires, with the first resolved.
    let resolving = Instant::now();
    am.push_alerts(&[&one.resolved()]).await;
    let partly = inbox.nth(&am, 2).await;
    let partly_after = partly.at - resolving;
    assert_eq!(partly.body["status"], "firing", "{:#}", partly.body);
    let partly_alerts = by_instance(&partly);
    assert_eq!(
        partly_alerts,
        [
            ("pay-1".into(), "resolved".into(), alerts[0].2.clone()),
            ("pay-2".into(), "firing".into(), alerts[1].2.clone()),
        ],
        "the same labels keep their fingerprint: {:#}",
        partly.body
    );
    matches_fixture("partly-resolved.json", &partly);

    // Resolving the second resolves the group.
    am.push_alerts(&[&two.resolved()]).await;
    let resolved = inbox.nth(&am, 3).await;
    assert_eq!(resolved.body["status"], "resolved", "{:#}", resolved.body);
    assert_eq!(resolved.body["groupKey"], body["groupKey"]);
    assert_eq!(
        by_instance(&resolved),
        [("pay-2".into(), "resolved".into(), alerts[1].2.clone())],
        "{:#}",
        resolved.body
    );
    let ends_at = resolved.body["alerts"][0]["endsAt"].as_str().unwrap();
    assert_ne!(
        ends_at, "0001-01-01T00:00:00Z",
        "a resolved alert has ended"
    );
    assert_eq!(
        resolved.authorization.as_deref(),
        Some("Bearer dsp_alertmanager-test-token")
    );
    matches_fixture("resolved.json", &resolved);

    eprintln!(
        "Alertmanager {version}: firing notification {firing_after:?} after the push, \
         resolved {partly_after:?} after the push"
    );
}

#[tokio::test]
async fn a_real_alertmanager_grouping_by_service_and_without_credentials_sends_no_authorization() {
    let inbox = Inbox::start().await;
    let am = Alertmanager::start_grouped_by(
        &Webhook {
            url: inbox.url.clone(),
            bearer: None,
        },
        &["service"],
    )
    .await;
    let latency = Alert::firing(&[
        ("alertname", "HighLatency"),
        ("service", "payments"),
        ("instance", "pay-1"),
    ]);
    am.push_alerts(&[&high_error_rate("pay-1"), &latency]).await;
    let n = inbox.nth(&am, 1).await;
    assert_eq!(n.authorization, None, "{n:#?}");
    assert_eq!(n.body["status"], "firing", "{:#}", n.body);
    assert_eq!(
        n.body["groupKey"], "{}:{service=\"payments\"}",
        "{:#}",
        n.body
    );
    let mut names: Vec<&str> = n.body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["labels"]["alertname"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["HighErrorRate", "HighLatency"], "{:#}", n.body);
}
