//! Outgoing webhooks end to end: subscriptions over the API, deliveries to a receiver running in
//! the test (which records every request and can be told to fail), signatures checked here with
//! the subscription's secret, retries through the job queue.

use crate::common::receiver::{Received, Receiver};
use crate::common::{error_fields, spawn_app, TestApp};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

/// Subscribes `url`; returns the subscription as answered (with its secret).
pub(crate) async fn subscribe(app: &TestApp, body: Value) -> Value {
    let r = app.post("/webhooks", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body
}

/// How many requests `rx` got, each with its own `webhook-id` (one message per event).
fn distinct_ids(rx: &Receiver) -> usize {
    let mut ids: Vec<_> = rx.requests().into_iter().map(|r| r.id).collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "one message per event, each delivered once");
    n
}

/// Checks a request the way a receiver following the spec would.
pub(crate) fn verifies(secret: &str, r: &Received) -> bool {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    let expected = BASE64.encode(mac.finalize().into_bytes());
    r.signature
        .split(' ')
        .filter_map(|s| s.split_once(','))
        .any(|(v, sig)| v == "v1" && sig == expected)
}

async fn deliveries(app: &TestApp, webhook_id: &Value) -> Value {
    let r = app.get(&format!("/webhooks/{webhook_id}/deliveries")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

#[tokio::test]
async fn a_status_change_subscriber_gets_one_signed_delivery_when_an_incident_turns_stable() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    let hook = subscribe(
        &app,
        json!({"url": rx.url, "event_types": ["incident.status_changed"], "description": "pager bridge"}),
    )
    .await;
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"), "{hook}");

    app.declare("Payments failing").await;
    app.call(Method::POST, "/incidents/INC-1/stable", None)
        .await;
    app.run_pending_jobs().await;

    let got = rx.requests();
    assert_eq!(got.len(), 1, "{got:#?}");
    let r = &got[0];
    assert!(verifies(secret, r), "the signature verifies: {r:?}");
    assert!(!verifies("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", r));
    assert_eq!(r.content_type, "application/json");
    assert!(r.id.starts_with("msg_") && !r.id.contains('.'), "{}", r.id);
    let sent: i64 = r.timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - sent).abs() < 300);
    let body = r.json();
    assert_eq!(body["type"], "incident.status_changed");
    assert_eq!(body["data"]["incident"]["name"], "INC-1");
    assert_eq!(body["data"]["incident"]["title"], "Payments failing");
    assert_eq!(body["data"]["incident"]["status"], "stable");
    assert_eq!(
        body["data"]["event"]["details"]["status"],
        json!({"before": "active", "after": "stable"})
    );
    assert_eq!(body["data"]["event"]["actor"], "admin@example.com");

    let d = deliveries(&app, &hook["id"]).await;
    assert_eq!(d["total"], 1);
    let d = &d["items"][0];
    assert_eq!(
        (&d["status"], &d["attempts"], &d["last_status_code"]),
        (&json!("delivered"), &json!(1), &json!(200))
    );
    assert_eq!(d["message_id"], r.id.as_str());
    assert_eq!(d["event_type"], "incident.status_changed");
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_message_on_the_third_attempt() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    let hook = subscribe(
        &app,
        json!({"url": rx.url, "event_types": ["incident.status_changed"]}),
    )
    .await;
    rx.fail_next(2);
    app.declare("Slow search").await;
    app.call(Method::POST, "/incidents/INC-1/stable", None)
        .await;
    app.run_pending_jobs().await;

    let got = rx.requests();
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got.iter()
            .all(|r| r.id == got[0].id && r.body == got[0].body),
        "every attempt sends the same message"
    );
    let secret = hook["secret"].as_str().unwrap();
    assert!(got.iter().all(|r| verifies(secret, r)));
    let d = deliveries(&app, &hook["id"]).await;
    assert_eq!(d["total"], 1);
    let d = &d["items"][0];
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["attempts"], 3);
    assert_eq!(d["last_status_code"], 200);
    assert_eq!(d["last_error"], Value::Null);
}

#[tokio::test]
async fn a_receiver_that_keeps_failing_ends_with_a_failed_delivery_and_job() {
    let app = spawn_app().await;
    app.expect_failed_jobs("the receiver keeps failing: the delivery job fails");
    let rx = Receiver::start().await;
    let hook = subscribe(
        &app,
        json!({"url": rx.url, "event_types": ["incident.incident_declared"]}),
    )
    .await;
    rx.fail_next(usize::MAX);
    app.declare("Disk full").await;
    app.run_pending_jobs().await;

    let d = deliveries(&app, &hook["id"]).await;
    let d = &d["items"][0];
    assert_eq!(d["status"], "failed");
    assert_eq!(d["attempts"], 8);
    assert_eq!(rx.requests().len(), 8);
    assert_eq!(d["last_status_code"], 500);
    assert!(
        d["last_error"].as_str().unwrap().contains("HTTP 500"),
        "{d}"
    );
    let failed = app.get("/jobs?state=failed").await.body;
    assert_eq!(failed.as_array().unwrap().len(), 1, "{failed}");
    assert_eq!(failed[0]["kind"], "deliver_webhook");
}

#[tokio::test]
async fn a_subscription_for_every_type_also_gets_the_declare_events() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    subscribe(&app, json!({"url": rx.url})).await;
    app.declare("Queue backlog").await;
    app.run_pending_jobs().await;

    let types = rx.types();
    assert_eq!(types[0], "incident.incident_declared", "{types:?}");
    assert_eq!(
        types
            .iter()
            .filter(|t| *t == "incident.role_assumed")
            .count(),
        2
    );
    assert!(types.contains(&"incident.resource_created".to_string()));
    assert!(types.contains(&"incident.conversation_ready".to_string()));
    let n = distinct_ids(&rx);
    let timeline = app.get("/incidents/INC-1/timeline").await.body;
    assert_eq!(
        timeline.as_array().unwrap().len(),
        n,
        "one message per event"
    );
}

#[tokio::test]
async fn a_runner_with_concurrency_delivers_to_a_slow_receiver_side_by_side() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    subscribe(&app, json!({"url": rx.url})).await;
    app.declare("Queue backlog").await;
    app.declare("Disk full").await;
    // Each delivery is held until three are in flight: one job after the other, every one
    // would wait out the hold alone.
    rx.hold_until(3);
    let runner = dispatch_engine::jobs::Runner::new(
        app.engine.clone(),
        dispatch_engine::jobs::RunnerOptions {
            concurrency: 4,
            ..crate::common::fast_runner()
        },
    );
    runner.run_pending().await.unwrap();
    assert!(rx.max_in_flight() >= 3, "{} at once", rx.max_in_flight());
    distinct_ids(&rx);
}

#[tokio::test]
async fn restricted_incidents_are_delivered_without_their_title() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    subscribe(&app, json!({"url": rx.url})).await;
    let r = app
        .post(
            "/incidents",
            json!({"title": "Merger leak", "description": "board deck shared", "visibility": "restricted"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.call(Method::POST, "/incidents/INC-1/stable", None)
        .await;
    app.run_pending_jobs().await;

    let got = rx.requests();
    assert!(rx.types().contains(&"incident.status_changed".to_string()));
    for r in &got {
        assert!(
            !r.body.contains("Merger") && !r.body.contains("board deck"),
            "{}",
            r.body
        );
        let incident = &r.json()["data"]["incident"];
        assert_eq!(incident["name"], "INC-1");
        assert_eq!(incident["visibility"], "restricted");
        assert_eq!(incident.as_object().unwrap().len(), 3, "{incident}");
    }
}

#[tokio::test]
async fn a_disabled_subscription_gets_nothing_and_a_deleted_one_is_gone() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    let hook = subscribe(&app, json!({"url": rx.url})).await;
    let path = format!("/webhooks/{}", hook["id"]);
    let r = app.patch(&path, json!({"enabled": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["enabled"], false);
    app.declare("Quiet one").await;
    app.run_pending_jobs().await;
    assert!(rx.requests().is_empty());
    assert_eq!(deliveries(&app, &hook["id"]).await["total"], 0);

    let r = app.call(Method::DELETE, &path, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
}

/// The secret column of a subscription, as stored.
async fn stored_secret(app: &TestApp, id: &Value) -> String {
    let sql = format!("SELECT secret FROM webhook_subscriptions WHERE id = {id}");
    dispatch_store::testing::column(app.engine.db(), &sql).await[0]
        .clone()
        .expect("the subscription's secret")
}

#[tokio::test]
async fn the_secret_is_shown_once_stored_sealed_and_never_returned_again() {
    let app = spawn_app().await;
    let hook = subscribe(&app, json!({"url": "https://example.com/hooks"})).await;
    let secret = hook["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret.len() > 30, "{hook}");
    assert_eq!(hook["secret_set"], true);
    assert_eq!(hook["enabled"], true);
    assert_eq!(hook["event_types"], json!([]));
    // At rest: sealed, with no part of the secret in the column.
    let stored = stored_secret(&app, &hook["id"]).await;
    assert!(stored.starts_with("enc:v1:"), "{stored}");
    let random = &secret["whsec_".len()..];
    assert!(!stored.contains(&random[..8]), "{stored}");
    let list = app.get("/webhooks").await.body;
    let one = app.get(&format!("/webhooks/{}", hook["id"])).await.body;
    for shown in [&list[0], &one] {
        assert!(shown.get("secret").is_none(), "{shown}");
        assert!(!shown.to_string().contains(&random[..8]), "{shown}");
        assert_eq!(shown["secret_set"], true);
    }
}

#[tokio::test]
async fn a_secret_stored_in_clear_by_an_older_version_still_signs_and_is_sealed_at_start() {
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    let hook = subscribe(
        &app,
        json!({"url": rx.url, "event_types": ["incident.status_changed"]}),
    )
    .await;
    // As an older version wrote it: the secret in clear.
    let legacy = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let sql = format!(
        "UPDATE webhook_subscriptions SET secret = '{legacy}' WHERE id = {}",
        hook["id"]
    );
    assert_eq!(
        dispatch_store::testing::execute(app.engine.db(), &sql).await,
        1
    );

    app.declare("Payments failing").await;
    app.call(Method::POST, "/incidents/INC-1/stable", None)
        .await;
    app.run_pending_jobs().await;
    assert!(
        verifies(legacy, &rx.requests()[0]),
        "a clear secret still signs"
    );

    assert_eq!(app.engine.secrets().seal_stored().await.unwrap(), 1);
    let stored = stored_secret(&app, &hook["id"]).await;
    assert!(
        stored.starts_with("enc:v1:") && !stored.contains("C2FVsBQI"),
        "{stored}"
    );
    assert_eq!(app.engine.secrets().seal_stored().await.unwrap(), 0, "once");
    app.call(Method::POST, "/incidents/INC-1/close", None).await;
    app.call(Method::POST, "/incidents/INC-1/reopen", None)
        .await;
    app.run_pending_jobs().await;
    let got = rx.requests();
    assert!(got.len() >= 2, "{got:#?}");
    assert!(
        got.iter().all(|r| verifies(legacy, r)),
        "the sealed secret signs the same"
    );
}

#[tokio::test]
async fn a_server_started_with_another_secret_key_is_refused() {
    let app = spawn_app().await;
    let key = dispatch_core::secret::SecretKey::generate();
    let engine = app
        .engine
        .clone()
        .with_secret_key(dispatch_core::secret::SecretKey::parse(&key).unwrap());
    engine
        .secrets()
        .verify_key()
        .await
        .expect("the first start stores the check");
    engine
        .secrets()
        .verify_key()
        .await
        .expect("the same key passes");
    let other = app.engine.clone().with_secret_key(
        dispatch_core::secret::SecretKey::parse(&dispatch_core::secret::SecretKey::generate())
            .unwrap(),
    );
    let err = other.secrets().verify_key().await.unwrap_err().to_string();
    assert!(err.contains("DISPATCH_SECRET_KEY"), "{err}");
}

#[tokio::test]
async fn bad_urls_and_unknown_event_types_are_refused_naming_each_field() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/webhooks",
            json!({"url": "ftp://example.com", "event_types": ["incident.nope"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), ["url", "event_types"]);
    let r = app.post("/webhooks", json!({})).await;
    assert_eq!(error_fields(&r.body), ["url"]);
    let hook = subscribe(&app, json!({"url": "http://example.com/a"})).await;
    let r = app
        .patch(
            &format!("/webhooks/{}", hook["id"]),
            json!({"url": null, "event_types": ["status_changed"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), ["url", "event_types"]);
    assert_eq!(app.get("/webhooks/999").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_openapi_document_describes_the_webhook_routes() {
    let app = spawn_app().await;
    let doc = app
        .call_as(None, Method::GET, "/openapi.json", None)
        .await
        .body;
    for (path, methods) in [
        ("/api/v1/webhooks", &["get", "post"][..]),
        ("/api/v1/webhooks/{id}", &["get", "patch", "delete"]),
        ("/api/v1/webhooks/{id}/deliveries", &["get"]),
    ] {
        for m in methods {
            assert!(doc["paths"][path][m].is_object(), "{m} {path}");
        }
    }
    let created = doc["components"]["schemas"]["WebhookCreatedOut"].to_string();
    assert!(
        created.contains("secret") && created.contains("WebhookOut"),
        "{created}"
    );
}
