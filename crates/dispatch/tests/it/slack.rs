//! Slack's requests reach Dispatch only signed: unsigned, wrongly signed and stale requests get
//! 401 and leave nothing behind; a signed request is acknowledged at once and its work enqueued,
//! once per Slack invocation even when Slack redelivers it.

use crate::common::urlencode;

use crate::common::TestApp;
use dispatch_slack::signature::sign;
use reqwest::StatusCode;
use serde_json::{json, Value};

const SECRET: &str = "test-signing-secret";

async fn app() -> TestApp {
    TestApp::builder()
        .web_options(dispatch_web::WebOptions {
            slack: Some(dispatch_slack::transport::SlackSettings {
                signing_secret: SECRET.into(),
            }),
            ..Default::default()
        })
        .allow_pending_jobs("Slack's requests are only enqueued here; slack_day runs them")
        .spawn()
        .await
}

/// POSTs `body` to `/api/v1/slack/{path}` signed with `secret` at `ts` (now when `None`).
async fn slack(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: &str,
    ts: Option<i64>,
    secret: Option<&str>,
) -> (StatusCode, String) {
    let ts = ts
        .unwrap_or_else(|| chrono::Utc::now().timestamp())
        .to_string();
    let mut req = app
        .http
        .post(format!("{}/api/v1/slack/{path}", app.base))
        .header("content-type", content_type)
        .body(body.to_string());
    if let Some(secret) = secret {
        req = req
            .header("x-slack-request-timestamp", &ts)
            .header("x-slack-signature", sign(secret, &ts, body.as_bytes()));
    }
    let res = req.send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn queued(app: &TestApp, kind: &str) -> usize {
    let jobs = app.get("/jobs?state=queued").await.body;
    jobs["jobs"]
        .as_array()
        .or(jobs.as_array())
        .map(|a| a.iter().filter(|j| j["kind"] == kind).count())
        .unwrap_or(0)
}

#[tokio::test]
async fn only_fresh_correctly_signed_requests_are_accepted() {
    let app = app().await;
    let ev = r#"{"type":"url_verification","token":"x","challenge":"chal-42"}"#;
    let json_type = "application/json";
    let (s, body) = slack(&app, "events", json_type, ev, None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(body.contains("signature"), "{body}");
    let (s, _) = slack(&app, "events", json_type, ev, None, Some("wrong")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let old = chrono::Utc::now().timestamp() - 600;
    let (s, _) = slack(&app, "events", json_type, ev, Some(old), Some(SECRET)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, body) = slack(&app, "events", json_type, ev, None, Some(SECRET)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["challenge"],
        "chal-42"
    );

    let form = "command=%2Fdispatch-list-incidents&text=&user_id=U1&channel_id=C1&trigger_id=t1";
    let form_type = "application/x-www-form-urlencoded";
    let (s, _) = slack(&app, "commands", form_type, form, None, Some("wrong")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = slack(
        &app,
        "interactions",
        form_type,
        "payload=%7B%7D",
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(
        queued(&app, "slack_command").await,
        0,
        "refused requests enqueue nothing"
    );
    let (s, _) = slack(&app, "commands", form_type, form, None, Some(SECRET)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(queued(&app, "slack_command").await, 1);
}

#[tokio::test]
async fn a_redelivered_event_is_enqueued_once_and_malformed_payloads_are_refused() {
    let app = app().await;
    let ev = json!({"type": "event_callback", "event_id": "Ev1",
        "event": {"type": "reaction_added", "reaction": "stopwatch"}})
    .to_string();
    for _ in 0..3 {
        let (s, _) = slack(&app, "events", "application/json", &ev, None, Some(SECRET)).await;
        assert_eq!(s, StatusCode::OK);
    }
    assert_eq!(queued(&app, "slack_event").await, 1);
    let (s, _) = slack(
        &app,
        "events",
        "application/json",
        "{not json",
        None,
        Some(SECRET),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let no_id = json!({"type": "event_callback", "event": {}}).to_string();
    let (s, _) = slack(
        &app,
        "events",
        "application/json",
        &no_id,
        None,
        Some(SECRET),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let form_type = "application/x-www-form-urlencoded";
    let (s, _) = slack(
        &app,
        "interactions",
        form_type,
        "payload=%7Bnope",
        None,
        Some(SECRET),
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(queued(&app, "slack_event").await, 1);
    assert_eq!(queued(&app, "slack_interaction").await, 0);
}

#[tokio::test]
async fn a_modal_missing_required_fields_answers_with_errors_and_enqueues_nothing() {
    let app = app().await;
    let form_type = "application/x-www-form-urlencoded";
    let view = |values: Value| {
        json!({"type": "view_submission", "trigger_id": "tv", "user": {"id": "U1"},
            "view": {"callback_id": "dispatch-status-report", "private_metadata": "C1",
                "state": {"values": values}}})
    };
    let encode = |v: Value| format!("payload={}", urlencode(&v.to_string()));
    let partial = view(json!({"conditions": {"conditions": {"value": "Bad"}}}));
    let (s, body) = slack(
        &app,
        "interactions",
        form_type,
        &encode(partial),
        None,
        Some(SECRET),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["response_action"], "errors");
    assert!(body["errors"]["actions"]
        .as_str()
        .unwrap()
        .contains("required"));
    assert!(body["errors"]["needs"].is_string());
    assert_eq!(queued(&app, "slack_interaction").await, 0);
    let full = view(json!({
        "conditions": {"conditions": {"value": "Bad"}},
        "actions": {"actions": {"value": "Rollback"}},
        "needs": {"needs": {"value": "None"}},
    }));
    let (s, body) = slack(
        &app,
        "interactions",
        form_type,
        &encode(full),
        None,
        Some(SECRET),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.is_empty(),
        "a valid submission closes the modal: {body}"
    );
    assert_eq!(queued(&app, "slack_interaction").await, 1);
}

#[tokio::test]
async fn without_a_signing_secret_every_slack_request_is_refused() {
    let app = crate::common::spawn_app().await;
    let ts = chrono::Utc::now().timestamp().to_string();
    let res = app
        .http
        .post(format!("{}/api/v1/slack/events", app.base))
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", sign(SECRET, &ts, b"{}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("not configured"));
}

#[tokio::test]
async fn socket_mode_envelopes_become_the_same_jobs_once() {
    let app = app().await;
    let emu = dispatch_slack::emulator::Emulator::new("xoxb-t");
    emu.set_app_token("xapp-t");
    let url = emu.spawn().await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let engine = app.engine.clone();
    let task = tokio::spawn(dispatch_slack::socket::run(
        dispatch_slack::SlackApi::new(&url, "xapp-t"),
        move |e| {
            let engine = engine.clone();
            async move { dispatch_slack::transport::take_envelope(&engine, e).await }
        },
        stopped,
    ));
    let event =
        json!({"type": "event_callback", "event_id": "EvS", "event": {"type": "reaction_added"}});
    emu.socket_send("events_api", event.clone());
    emu.socket_send("events_api", event);
    emu.socket_send(
        "slash_commands",
        json!({"command": "/dispatch-list-incidents", "text": "", "trigger_id": "tS"}),
    );
    // A form submitted with a required field empty: the acknowledgement carries the errors
    // (Slack shows them in the form, as over HTTP) and nothing runs.
    emu.socket_send(
        "interactive",
        json!({"type": "view_submission", "user": {"id": "U1"},
            "view": {"callback_id": "dispatch-status-report", "private_metadata": "C1",
                "state": {"values": {"conditions": {"conditions": {"value": "Bad"}}}}}}),
    );
    for _ in 0..300 {
        if emu.socket_acks().len() == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let acks = emu.socket_acks();
    assert_eq!(acks.len(), 4, "every envelope is acknowledged");
    let form = acks
        .iter()
        .find(|a| a["payload"].is_object())
        .expect("the submission's acknowledgement answers with the errors");
    assert_eq!(form["payload"]["response_action"], "errors");
    assert!(form["payload"]["errors"]["actions"]
        .as_str()
        .unwrap()
        .contains("required"));
    assert_eq!(queued(&app, "slack_interaction").await, 0);
    assert_eq!(
        queued(&app, "slack_event").await,
        1,
        "a redelivered event runs once"
    );
    assert_eq!(queued(&app, "slack_command").await, 1);
    stop.send(true).unwrap();
    task.await.unwrap();
}
