//! Opsgenie end to end against the emulator: the schedule's on-call commands a High incident,
//! the page creates one alert whose alias is the incident's name (the asynchronous request
//! followed up until processed), closing closes it, 429s are waited out, and half the alert
//! calls failing still ends with exactly one alert.

use crate::common::TestApp;
use crate::emulators::opsgenie::{Opsgenie, KEY};
use dispatch::config::Config;
use dispatch::oncall_config::OpsgenieConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const SCHEDULE: &str = "d875alp4-9b4e-4219-alp3-0c26936d18de";

async fn spawn(og: &Opsgenie, key: &str) -> TestApp {
    let mut cfg = Config {
        opsgenie: OpsgenieConfig {
            api_key: key.into(),
            region: "eu".into(),
            api_url: og.url.clone(),
        },
        ..Default::default()
    };
    cfg.providers.insert("oncall".into(), "opsgenie".into());
    TestApp::builder()
        .registry(move |_, r| {
            dispatch::server::add_oncall_providers(r, &cfg).expect("Opsgenie settings");
            cfg.apply_provider_defaults(r).expect("defaults");
        })
        .spawn()
        .await
}

/// An Opsgenie-backed service (its schedule has Ann on call) commanding High incidents.
async fn payments_on_call(app: &TestApp, og: &Opsgenie) -> i64 {
    og.schedule(SCHEDULE, "payments_schedule", &["ann@example.com"]);
    let svc = app
        .post(
            "/projects/default/services",
            json!({"name": "payments-oncall", "external_id": SCHEDULE}),
        )
        .await;
    assert_eq!(svc.status, StatusCode::CREATED, "{:?}", svc.body);
    let sid = svc.body["id"].as_i64().unwrap();
    let p = app
        .post(
            "/projects/default/role-policies",
            json!({"role": "incident_commander", "priority": "high", "service_id": sid}),
        )
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{:?}", p.body);
    sid
}

async fn declare_high(app: &TestApp) -> Value {
    let r = app
        .post(
            "/incidents",
            json!({"title": "Payments down", "description": "cards declined", "priority": "high"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn opsgenie_on_call_commands_and_the_page_is_one_alert_closed_on_close() {
    let og = Opsgenie::start().await;
    og.processing_polls(2);
    let app = spawn(&og, KEY).await;
    let sid = payments_on_call(&app, &og).await;
    let view = app.get(&format!("/services/{sid}/oncall")).await;
    assert_eq!(
        view.body["current"]["email"], "ann@example.com",
        "{:?}",
        view.body
    );
    let asked = og.requests();
    assert!(
        asked.iter().any(
            |r| r.starts_with(&format!("GET /v2/schedules/{SCHEDULE}/on-calls?"))
                && r.contains("flat=true")
                && r.contains("scheduleIdentifierType=id")
        ),
        "{asked:?}"
    );

    let inc = declare_high(&app).await;
    assert_eq!(inc["commander"]["email"], "ann@example.com");
    let name = inc["name"].as_str().unwrap().to_string();
    app.run_pending_jobs().await;
    let alerts = og.alerts();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].alias, name);
    assert_eq!(alerts[0].count, 1);
    assert_eq!(
        alerts[0].body["responders"],
        json!([{"type": "schedule", "id": SCHEDULE}])
    );
    assert!(alerts[0].body["message"]
        .as_str()
        .unwrap()
        .contains("Payments down"));
    let status_reads = og
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET /v2/alerts/requests/"))
        .count();
    assert!(
        status_reads >= 3,
        "the request was followed up until processed ({status_reads})"
    );
    let sent = app
        .get(&format!("/incidents/{name}/timeline?type=page_sent"))
        .await
        .body;
    assert_eq!(sent[0]["details"]["provider"], "opsgenie", "{sent}");
    assert_eq!(
        sent[0]["details"]["external_id"],
        json!(alerts[0].id),
        "{sent}"
    );

    let r = app
        .call(Method::POST, &format!("/incidents/{name}/close"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    assert_eq!(og.alerts()[0].status, "closed");
    assert!(og.requests().contains(&format!(
        "POST /v2/alerts/{name}/close?identifierType=alias"
    )));
}

#[tokio::test]
async fn opsgenie_rate_limits_are_waited_out_and_half_the_calls_failing_still_make_one_alert() {
    let og = Opsgenie::start().await;
    let app = spawn(&og, KEY).await;
    payments_on_call(&app, &og).await;
    declare_high(&app).await;
    og.rate_limit_next(1);
    app.run_pending_jobs().await;
    assert_eq!(og.alerts().len(), 1);
    let creates = og
        .requests()
        .iter()
        .filter(|r| *r == "POST /v2/alerts")
        .count();
    assert_eq!(creates, 2, "the 429 was retried");

    og.flaky(true);
    let second = declare_high(&app).await;
    let name = second["name"].as_str().unwrap();
    app.run_pending_jobs().await;
    let alerts: Vec<_> = og
        .alerts()
        .into_iter()
        .filter(|a| a.alias == name)
        .collect();
    assert_eq!(alerts.len(), 1, "exactly one alert: {alerts:?}");
    assert!(
        alerts[0].count >= 2,
        "a lost answer made the job send again"
    );
}

#[tokio::test]
async fn a_bad_opsgenie_key_names_the_setting() {
    let og = Opsgenie::start().await;
    let app = spawn(&og, "wrong").await;
    let sid = payments_on_call(&app, &og).await;
    let view = app.get(&format!("/services/{sid}/oncall")).await;
    assert_eq!(view.status, StatusCode::BAD_GATEWAY, "{:?}", view.body);
    let message = view.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("DISPATCH_OPSGENIE_API_KEY") && message.contains("Could not authenticate"),
        "{message}"
    );
}

#[tokio::test]
async fn the_opsgenie_check_says_whether_the_key_works() {
    use dispatch_core::provider::OnCallProvider as _;
    use dispatch_providers::opsgenie::{Opsgenie as Client, OpsgenieSettings};
    let og = Opsgenie::start().await;
    let client = |key: &str| {
        let mut s = OpsgenieSettings::for_region(key, "us").unwrap();
        s.api_url = og.url.clone();
        Client::new(s)
    };
    let ok = client(KEY).check().await.unwrap().unwrap();
    assert!(ok.contains("\"opsgenie\""), "{ok}");
    let e = client("wrong").check().await.unwrap_err();
    assert!(e.message.contains("DISPATCH_OPSGENIE_API_KEY"), "{e}");
}
