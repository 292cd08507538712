//! PagerDuty end to end against the emulator: who is on call (escalation level 1, across pages,
//! the user's e-mail read from `/users/{id}`) commands a High incident, the page triggers one
//! PagerDuty incident keyed by the incident's name, a signed webhook acknowledgement lands on the
//! timeline (a badly signed one is refused), closing resolves it, 429s are waited out, and half
//! the calls failing still ends with exactly one PagerDuty incident.

use crate::common::TestApp;
use crate::emulators::pagerduty::{acknowledged_webhook, sign, PagerDuty, TOKEN};
use dispatch::config::Config;
use dispatch::oncall_config::PagerDutyConfig;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const ROUTING_KEY: &str = "R0UTINGKEY0payments0000000000001";
const SECRET: &str = "whsec-emulated";

/// The server's configuration pointing at the emulator, as `DISPATCH_PAGERDUTY_*` would set it.
fn config(pd: &PagerDuty, token: &str) -> Config {
    let mut cfg = Config {
        pagerduty: PagerDutyConfig {
            api_token: token.into(),
            from: "ops@example.com".into(),
            routing_keys: format!("payments-oncall={ROUTING_KEY}"),
            api_url: pd.url.clone(),
            events_url: pd.url.clone(),
            webhook_secret: SECRET.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    cfg.providers.insert("oncall".into(), "pagerduty".into());
    cfg
}

async fn spawn(pd: &PagerDuty, token: &str) -> TestApp {
    let cfg = config(pd, token);
    let webhook = cfg.pagerduty.webhook();
    TestApp::builder()
        .registry(move |_, r| {
            dispatch::server::add_oncall_providers(r, &cfg).expect("PagerDuty settings");
            cfg.apply_provider_defaults(r).expect("defaults");
        })
        .web_options(dispatch_web::WebOptions {
            pagerduty: webhook,
            ..Default::default()
        })
        .spawn()
        .await
}

/// A PagerDuty-backed service whose level-1 on-call is Ann, on the second page of `/oncalls`,
/// and a policy making them commander of High incidents. Returns the service id.
async fn payments_on_call(app: &TestApp, pd: &PagerDuty) -> i64 {
    pd.user("PU2", "Lee Level-Two", "lee@example.com");
    pd.user("PU1", "Ann", "ann@example.com");
    let (start, end) = ("2020-01-01T00:00:00Z", "2099-01-01T00:00:00Z");
    pd.on_call("PEP1", 2, "PU2", start, end);
    pd.on_call("PEP1", 1, "PU1", start, end);
    pd.max_limit(1);
    let svc = app
        .post(
            "/projects/default/services",
            json!({"name": "payments-oncall", "external_id": "PEP1"}),
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

async fn webhook(app: &TestApp, body: &Value, signature: &str) -> (StatusCode, Value) {
    let raw = body.to_string();
    let res = app
        .http
        .post(format!("{}/api/v1/providers/pagerduty/webhook", app.base))
        .header("content-type", "application/json")
        .header("x-pagerduty-signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn timeline_types(app: &TestApp, incident: &str) -> Vec<String> {
    app.get(&format!("/incidents/{incident}/timeline"))
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pagerduty_on_call_commands_pages_once_is_acknowledged_by_webhook_and_resolved_on_close() {
    let pd = PagerDuty::start(&[ROUTING_KEY]).await;
    let app = spawn(&pd, TOKEN).await;
    let sid = payments_on_call(&app, &pd).await;

    // Who is on call: level 1 only, found on the second page, the e-mail from `/users/{id}`.
    let view = app.get(&format!("/services/{sid}/oncall")).await;
    assert_eq!(view.status, StatusCode::OK, "{:?}", view.body);
    assert_eq!(view.body["current"]["email"], "ann@example.com");
    let asked: Vec<String> = pd.requests();
    let lookups: Vec<&String> = asked
        .iter()
        .filter(|r| r.starts_with("GET /oncalls?"))
        .collect();
    assert!(lookups.len() >= 2, "two pages read: {asked:?}");
    assert!(
        lookups[0].contains("escalation_policy_ids%5B%5D=PEP1")
            && lookups[0].contains("earliest=true")
            && lookups[0].contains("offset=0"),
        "{lookups:?}"
    );
    assert!(lookups[1].contains("offset=1"), "{lookups:?}");
    assert!(asked.contains(&"GET /users/PU1".to_string()), "{asked:?}");
    assert!(
        !asked.contains(&"GET /users/PU2".to_string()),
        "level 2 is not on call: {asked:?}"
    );

    let inc = declare_high(&app).await;
    assert_eq!(inc["commander"]["email"], "ann@example.com");
    let name = inc["name"].as_str().unwrap().to_string();
    app.run_pending_jobs().await;
    let incidents = pd.incidents();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0].key, name, "dedup_key is the incident's name");
    assert_eq!(incidents[0].alerts, 1, "triggered once");
    assert_eq!(incidents[0].routing_key, ROUTING_KEY);
    let trigger = &pd.events()[0];
    assert_eq!(trigger["event_action"], "trigger");
    assert_eq!(trigger["payload"]["severity"], "critical");
    assert!(trigger["payload"]["summary"]
        .as_str()
        .unwrap()
        .contains("Payments down"));
    assert!(trigger["links"][0]["href"]
        .as_str()
        .unwrap()
        .ends_with(&format!(":8080/incidents/{name}")));
    let sent = app
        .get(&format!("/incidents/{name}/timeline?type=page_sent"))
        .await
        .body;
    assert_eq!(sent[0]["details"]["provider"], "pagerduty", "{sent}");

    // A badly signed acknowledgement is refused and changes nothing.
    let ack = acknowledged_webhook(&name);
    let (status, _) = webhook(
        &app,
        &ack,
        &sign("not-the-secret", ack.to_string().as_bytes()),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = webhook(&app, &ack, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.get("/pages?status=triggered")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(!timeline_types(&app, &name)
        .await
        .contains(&"page_acknowledged".to_string()));

    // A signed one acknowledges the page, once.
    let (status, body) = webhook(&app, &ack, &sign(SECRET, ack.to_string().as_bytes())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["acknowledged"].as_array().unwrap().len(), 1, "{body}");
    let (_, again) = webhook(&app, &ack, &sign(SECRET, ack.to_string().as_bytes())).await;
    assert_eq!(
        again["acknowledged"],
        json!([]),
        "a redelivery changes nothing"
    );
    assert_eq!(app.get("/pages?status=triggered").await.body, json!([]));
    let acks: Vec<_> = timeline_types(&app, &name)
        .await
        .into_iter()
        .filter(|t| t == "page_acknowledged")
        .collect();
    assert_eq!(acks.len(), 1);
    // Other events, and incidents Dispatch does not know, are answered 200 and ignored.
    let other = acknowledged_webhook("SOMEONE-ELSES-KEY");
    let (status, body) = webhook(&app, &other, &sign(SECRET, other.to_string().as_bytes())).await;
    assert_eq!(
        (status, body["ignored"].is_string()),
        (StatusCode::OK, true)
    );

    // Closing resolves the PagerDuty incident.
    let r = app
        .call(Method::POST, &format!("/incidents/{name}/close"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    assert_eq!(pd.incidents()[0].status, "resolved");
    let resolve = pd.events().into_iter().last().unwrap();
    assert_eq!(
        (
            resolve["event_action"].clone(),
            resolve["dedup_key"].clone()
        ),
        (json!("resolve"), json!(name))
    );
}

#[tokio::test]
async fn pagerduty_rate_limits_are_waited_out_and_half_the_calls_failing_still_page_once() {
    let pd = PagerDuty::start(&[ROUTING_KEY]).await;
    let app = spawn(&pd, TOKEN).await;
    payments_on_call(&app, &pd).await;

    // 429 with Retry-After: the job step waits and sends again.
    let first = declare_high(&app).await;
    pd.rate_limit_next(1);
    app.run_pending_jobs().await;
    let enqueued = pd
        .requests()
        .iter()
        .filter(|r| *r == "POST /v2/enqueue")
        .count();
    assert_eq!(enqueued, 2, "the 429 was retried");
    assert_eq!(pd.incidents().len(), 1);
    assert_eq!(pd.incidents()[0].key, first["name"]);

    // Half of the Events API calls fail, one of them after PagerDuty did the work: the job
    // retries, and the dedup_key keeps it to one PagerDuty incident.
    pd.flaky(true);
    let second = declare_high(&app).await;
    let name = second["name"].as_str().unwrap();
    app.run_pending_jobs().await;
    let for_second: Vec<_> = pd
        .incidents()
        .into_iter()
        .filter(|i| i.key == name)
        .collect();
    assert_eq!(
        for_second.len(),
        1,
        "exactly one PagerDuty incident: {for_second:?}"
    );
    let triggers = pd
        .events()
        .iter()
        .filter(|e| e["dedup_key"] == name && e["event_action"] == "trigger")
        .count();
    assert!(
        triggers >= 2,
        "a lost answer made the job send again ({triggers})"
    );
    let sent = app
        .get(&format!("/incidents/{name}/timeline?type=page_sent"))
        .await
        .body;
    assert_eq!(
        sent.as_array().unwrap().len(),
        1,
        "one page on the timeline: {sent}"
    );
}

#[tokio::test]
async fn a_bad_pagerduty_token_or_routing_key_is_told_in_words_an_operator_can_act_on() {
    let pd = PagerDuty::start(&[ROUTING_KEY]).await;
    let app = spawn(&pd, "wrong-token").await;
    let sid = payments_on_call(&app, &pd).await;
    let view = app.get(&format!("/services/{sid}/oncall")).await;
    assert_eq!(view.status, StatusCode::BAD_GATEWAY, "{:?}", view.body);
    let message = view.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("401") && message.contains("DISPATCH_PAGERDUTY_API_TOKEN"),
        "{message}"
    );
    // Nobody is on call as far as Dispatch can tell: the reporter commands, nobody is paged.
    let inc = declare_high(&app).await;
    assert_eq!(inc["commander"]["email"], "admin@example.com");
    app.run_pending_jobs().await;
    assert!(pd.incidents().is_empty());

    // A routing key PagerDuty does not know: the page's job fails with PagerDuty's words.
    let other = PagerDuty::start(&["0THERKEY0000000000000000000000ab"]).await;
    let app = spawn(&other, TOKEN).await;
    payments_on_call(&app, &other).await;
    app.expect_failed_jobs("the emulator does not know the routing key");
    declare_high(&app).await;
    app.run_pending_jobs().await;
    let failed = app.get("/jobs?state=failed").await.body;
    let page = failed
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["kind"] == "page")
        .unwrap_or_else(|| panic!("the page job failed: {failed}"));
    let error = page["last_error"].as_str().unwrap();
    assert!(
        error.contains("400") && error.contains("'routing_key' is invalid"),
        "{error}"
    );
}

#[tokio::test]
async fn the_pagerduty_check_says_whether_the_token_works() {
    use dispatch_core::provider::OnCallProvider as _;
    use dispatch_providers::pagerduty::{PagerDuty as Client, PagerDutySettings};
    let pd = PagerDuty::start(&[ROUTING_KEY]).await;
    let client = |token: &str| {
        let mut s = PagerDutySettings::new(token, "ops@example.com");
        s.api_url = pd.url.clone();
        Client::new(s)
    };
    let ok = client(TOKEN).check().await.unwrap().unwrap();
    assert!(ok.contains("works"), "{ok}");
    let e = client("wrong").check().await.unwrap_err();
    assert!(e.message.contains("DISPATCH_PAGERDUTY_API_TOKEN"), "{e}");
}
