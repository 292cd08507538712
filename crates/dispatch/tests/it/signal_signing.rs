//! Per-source request signatures on the signal endpoints: a source with a secret takes only
//! requests signed over their body and a fresh timestamp, once; the bearer token is still
//! required; a source without one takes requests as before.

use crate::common::TestApp;
use crate::signals::{define, errors, notification};
use dispatch_core::signal::signature::sign;
use reqwest::StatusCode;
use serde_json::{json, Value};

const SECRET: &str = "am-signing-secret";

async fn app() -> TestApp {
    TestApp::builder()
        .web_options(dispatch_web::WebOptions {
            signal_secrets: vec![("default/alertmanager".into(), SECRET.into())],
            ..Default::default()
        })
        .spawn()
        .await
}

/// Posts a body to an endpoint with the admin's token and these signature headers.
async fn post(
    app: &TestApp,
    endpoint: &str,
    body: &str,
    headers: &[(&str, String)],
    token: bool,
) -> (StatusCode, Value) {
    let mut req = app
        .http
        .post(format!("{}/api/v1/signals/{endpoint}", app.base))
        .header("content-type", "application/json")
        .body(body.to_string());
    if token {
        req = req.bearer_auth(&app.token);
    }
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn signed(body: &str, at: i64) -> Vec<(&'static str, String)> {
    vec![
        ("x-dispatch-timestamp", at.to_string()),
        (
            "x-dispatch-signature",
            sign(SECRET.as_bytes(), at, body.as_bytes()),
        ),
    ]
}

#[tokio::test]
async fn a_source_with_a_secret_takes_only_fresh_correctly_signed_requests_once() {
    let app = app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let body = notification(vec![errors("h1")]).to_string();
    let now = chrono::Utc::now().timestamp();

    // Missing, wrong, stale: 401 naming the problem, nothing stored.
    let (s, b) = post(&app, "alertmanager", &body, &[], true).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b:#}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("x-dispatch-timestamp header is missing"),
        "{b:#}"
    );
    let mut wrong = signed(&body, now);
    wrong[1].1 = sign(b"another secret", now, body.as_bytes());
    let (s, b) = post(&app, "alertmanager", &body, &wrong, true).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("does not match the body"),
        "{b:#}"
    );
    let tampered = signed(&body, now);
    let other_body = notification(vec![errors("h2")]).to_string();
    let (s, _) = post(&app, "alertmanager", &other_body, &tampered, true).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "a signature holds for its own body only"
    );
    let (s, b) = post(&app, "alertmanager", &body, &signed(&body, now - 600), true).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more than 300 seconds"),
        "{b:#}"
    );
    assert_eq!(app.get("/cases").await.body["total"], 0, "nothing stored");

    // Signed but without the token: still 401.
    let good = signed(&body, now);
    let (s, _) = post(&app, "alertmanager", &body, &good, false).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Good: taken, once.
    let (s, b) = post(&app, "alertmanager", &body, &good, true).await;
    assert_eq!(s, StatusCode::OK, "{b:#}");
    assert_eq!(b["alerts"][0]["outcome"], "new_case");
    let (s, b) = post(&app, "alertmanager", &body, &good, true).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "a replay");
    assert!(
        b["error"]["message"].as_str().unwrap().contains("replay"),
        "{b:#}"
    );
    assert_eq!(app.get("/cases").await.body["total"], 1);

    // Another source (no secret) takes unsigned requests as before.
    define(
        &app,
        json!({"name": "Grafana", "source": "grafana", "match": {"alertname": "HighErrorRate"}}),
    )
    .await;
    let (s, b) = post(&app, "grafana", &body, &[], true).await;
    assert_eq!(s, StatusCode::OK, "{b:#}");
}
