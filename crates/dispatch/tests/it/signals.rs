//! Signals and cases over the API: definitions take Alertmanager alerts, the same alert again is
//! deduplicated into the first one's case, filters snooze (or only watch), a resolved alert
//! resolves, a bad body stores nothing, and a case escalates to an incident that closes it.

use crate::common::{error_fields, refused_on, spawn_app, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Creates a definition in the default project; panics unless 201.
pub(crate) async fn define(app: &TestApp, body: Value) -> Value {
    let r = app.post("/projects/default/signal-definitions", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    r.body
}

/// One Alertmanager alert.
pub(crate) fn alert(status: &str, labels: Value, fingerprint: &str) -> Value {
    json!({"status": status, "labels": labels,
        "annotations": {"summary": format!("{} on {}", labels["alertname"].as_str().unwrap_or("?"),
            labels["service"].as_str().unwrap_or("?"))},
        "startsAt": "2026-12-03T06:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph", "fingerprint": fingerprint})
}

/// An Alertmanager v4 notification carrying these alerts.
pub(crate) fn notification(alerts: Vec<Value>) -> Value {
    let status = if alerts.iter().any(|a| a["status"] == "firing") {
        "firing"
    } else {
        "resolved"
    };
    json!({"version": "4", "groupKey": "{}:{alertname=\"HighErrorRate\"}", "truncatedAlerts": 0,
        "status": status, "receiver": "dispatch", "groupLabels": {}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://alertmanager.example:9093", "alerts": alerts})
}

pub(crate) fn errors(fingerprint: &str) -> Value {
    alert(
        "firing",
        json!({"alertname": "HighErrorRate", "service": "payments", "severity": "critical", "instance": "pay-1:9100"}),
        fingerprint,
    )
}

/// Posts a notification; panics unless 200; answers the per-alert results.
pub(crate) async fn send(app: &TestApp, body: Value) -> Vec<Value> {
    let r = app.post("/signals/alertmanager", body).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(
        r.body["received"],
        r.body["alerts"].as_array().unwrap().len()
    );
    r.body["alerts"].as_array().unwrap().clone()
}

async fn instances(app: &TestApp, definition: &Value) -> Vec<Value> {
    let r = app
        .get(&format!("/signal-instances?definition={definition}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    r.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn the_same_alert_twice_is_one_case_with_one_deduplicated_instance() {
    let app = spawn_app().await;
    let def = define(
        &app,
        json!({"name": "High error rate", "source": "alertmanager",
            "match": {"alertname": "HighErrorRate"}, "create_case": true, "dedup_window_seconds": 3600,
            "entity_types": [{"name": "host", "label": "instance"}]}),
    )
    .await;
    assert_eq!(def["match"], json!({"alertname": "HighErrorRate"}));
    assert_eq!(def["match_text"], "alertname=\"HighErrorRate\"");

    let first = send(&app, notification(vec![errors("c0ffee")])).await;
    assert_eq!(first[0]["outcome"], "new_case", "{first:#?}");
    let case_id = first[0]["case_id"].clone();
    assert!(case_id.is_i64());
    let second = send(&app, notification(vec![errors("c0ffee")])).await;
    assert_eq!(second[0]["outcome"], "deduplicated", "{second:#?}");
    assert_eq!(second[0]["case_id"], case_id);
    assert_eq!(second[0]["duplicate_of"], first[0]["instance_id"]);

    let list = instances(&app, &def["id"]).await;
    assert_eq!(list.len(), 2);
    let actions: Vec<&str> = list
        .iter()
        .map(|i| i["filter_action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["deduplicate", "none"], "newest first");
    assert!(list.iter().all(|i| i["case_id"] == case_id));
    assert_eq!(
        list[1]["entities"],
        json!([{"type": "host", "value": "pay-1:9100"}])
    );
    assert_eq!(
        list[1]["raw"]["fingerprint"], "c0ffee",
        "the alert is kept as sent"
    );

    let cases = app.get("/cases?project=default").await;
    assert_eq!(cases.status, StatusCode::OK);
    assert_eq!(cases.body["total"], 1, "{:#}", cases.body);
    let case = app.get(&format!("/cases/{case_id}")).await.body;
    assert_eq!(case["status"], "new");
    assert_eq!(case["title"], "HighErrorRate on payments");
    assert_eq!(case["reporter"], "admin@example.com");
    let kinds: Vec<&str> = case["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["case_opened", "signal_received", "signal_deduplicated"]
    );
    assert_eq!(case["signals"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn two_copies_of_an_alert_in_one_notification_open_one_case() {
    let app = spawn_app().await;
    let def = define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let got = send(
        &app,
        notification(vec![errors("abc"), errors("abc"), errors("def")]),
    )
    .await;
    let outcomes: Vec<&str> = got.iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["new_case", "deduplicated", "new_case"]);
    assert_eq!(got[1]["case_id"], got[0]["case_id"]);
    assert_ne!(got[2]["case_id"], got[0]["case_id"]);
    assert_eq!(instances(&app, &def["id"]).await.len(), 3);
}

/// A large notification (an Alertmanager group of thousands of alerts) is written whole: on
/// SQLite, one insert of 2,500 instances would pass SQLite's limit of 32,766 parameters in one
/// statement (a 500, the alerts refused, and Alertmanager retrying forever).
#[tokio::test]
async fn a_notification_of_thousands_of_new_alerts_opens_a_case_for_each_and_repeats_join_them() {
    let app = spawn_app().await;
    let def = define(
        &app,
        json!({"name": "Errors", "source": "alertmanager",
        "match": {"alertname": "HighErrorRate"}, "create_case": true}),
    )
    .await;
    let many = |n: usize| notification((0..n).map(|i| errors(&format!("fp{i}"))).collect());
    let first = send(&app, many(2_500)).await;
    assert_eq!(first.len(), 2_500);
    assert!(
        first.iter().all(|a| a["outcome"] == "new_case"),
        "{:#}",
        first[0]
    );
    let mut cases: Vec<i64> = first
        .iter()
        .map(|a| a["case_id"].as_i64().unwrap())
        .collect();
    cases.sort_unstable();
    cases.dedup();
    assert_eq!(cases.len(), 2_500, "a case each");
    let again = send(&app, many(2_500)).await;
    assert!(again.iter().all(|a| a["outcome"] == "deduplicated"));
    assert!(first
        .iter()
        .zip(&again)
        .all(|(f, a)| a["case_id"] == f["case_id"] && a["duplicate_of"] == f["instance_id"]));
    let listed = app
        .get(&format!("/signal-instances?definition={}", def["id"]))
        .await;
    assert_eq!(listed.body["total"], 5_000, "{:#}", listed.body["total"]);
    assert_eq!(app.get("/cases?project=default").await.body["total"], 2_500);
}

#[tokio::test]
async fn the_same_alert_sent_by_many_senders_at_once_opens_one_case() {
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    // Sixteen requests at once, written in whatever groups the writer takes them: each sees
    // the ones written before it, so exactly one opens the case and repeats of one alert
    // inside a request are one timeline entry.
    let mut sends = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let (http, url, token) = (
            app.http.clone(),
            format!("{}/api/v1/signals/alertmanager", app.base),
            app.token.clone(),
        );
        let body = notification(vec![errors("storm"), errors("storm"), errors("storm")]);
        sends.spawn(async move {
            let r = http
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let body: Value = r.json().await.unwrap();
            body["alerts"].as_array().unwrap().clone()
        });
    }
    let answers: Vec<Vec<Value>> = sends.join_all().await;
    for answer in &answers {
        let index: Vec<u64> = answer
            .iter()
            .map(|a| a["index"].as_u64().unwrap())
            .collect();
        assert_eq!(
            index,
            [0, 1, 2],
            "each answer numbers its own alerts: {answer:#?}"
        );
    }
    let all: Vec<&Value> = answers.iter().flatten().collect();
    assert_eq!(all.len(), 48);
    let opened = all.iter().filter(|a| a["outcome"] == "new_case").count();
    assert_eq!(opened, 1, "{all:#?}");
    let case_id = &all.iter().find(|a| a["outcome"] == "new_case").unwrap()["case_id"];
    assert!(all.iter().all(|a| &a["case_id"] == case_id), "{all:#?}");
    let mut ids: Vec<i64> = all
        .iter()
        .map(|a| a["instance_id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 48, "every alert is an instance of its own");

    // Repeats written together are one timeline entry naming each instance: at most one per
    // request, and together every repeat once.
    let case = app.get(&format!("/cases/{case_id}")).await.body;
    let timeline = case["timeline"].as_array().unwrap();
    let repeats: Vec<&Value> = timeline
        .iter()
        .filter(|e| e["kind"] == "signal_deduplicated")
        .collect();
    assert!((1..=16).contains(&repeats.len()), "{timeline:#?}");
    let mut named: Vec<i64> = repeats
        .iter()
        .flat_map(|e| e["details"]["instance_ids"].as_array().unwrap().clone())
        .map(|i| i.as_i64().unwrap())
        .collect();
    let counted: u64 = repeats
        .iter()
        .map(|e| e["details"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 47);
    named.sort_unstable();
    named.dedup();
    assert_eq!(named.len(), 47, "every repeat is named once");

    // Each request is audited, in the transaction that stored its alerts.
    let audit = app.get("/audit?action=api.write&limit=100").await.body;
    let sends = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == "POST /api/v1/signals/alertmanager")
        .count();
    assert_eq!(sends, 16, "{audit:#?}");
}

#[tokio::test]
async fn repeats_keep_a_chain_open_past_its_first_alert_and_a_quiet_window_ends_it() {
    let app = spawn_app().await;
    define(
        &app,
        json!({"name": "Errors", "source": "alertmanager",
        "match": {"alertname": "HighErrorRate"}, "dedup_window_seconds": 2}),
    )
    .await;
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(1300));
    let first = send(&app, notification(vec![errors("flap")])).await;
    assert_eq!(first[0]["outcome"], "new_case");
    pause().await;
    let again = send(&app, notification(vec![errors("flap")])).await;
    assert_eq!(again[0]["outcome"], "deduplicated", "{again:#?}");
    pause().await;
    // 2.6 s after the first alert, 1.3 s after the last repeat: the chain is still open.
    let still = send(&app, notification(vec![errors("flap")])).await;
    assert_eq!(still[0]["outcome"], "deduplicated", "{still:#?}");
    assert_eq!(still[0]["case_id"], first[0]["case_id"]);
    assert_eq!(still[0]["duplicate_of"], first[0]["instance_id"]);
    // A window with nothing in it ends the chain: the next alert opens a case of its own.
    tokio::time::sleep(std::time::Duration::from_millis(2600)).await;
    let anew = send(&app, notification(vec![errors("flap")])).await;
    assert_eq!(anew[0]["outcome"], "new_case", "{anew:#?}");
    assert_ne!(anew[0]["case_id"], first[0]["case_id"]);
}

#[tokio::test]
async fn a_regex_matcher_in_the_text_form_picks_the_alerts_and_the_rest_match_nothing() {
    let app = spawn_app().await;
    define(
        &app,
        json!({"name": "Payments", "source": "alertmanager",
            "match": "alertname=\"HighErrorRate\", service=~\"pay.*\"", "create_case": false}),
    )
    .await;
    let other = alert(
        "firing",
        json!({"alertname": "HighErrorRate", "service": "repay"}),
        "f2",
    );
    let latency = alert(
        "firing",
        json!({"alertname": "HighLatency", "service": "payments"}),
        "f3",
    );
    let got = send(&app, notification(vec![errors("f1"), other, latency])).await;
    assert_eq!(
        got[0]["outcome"], "new_instance",
        "create_case false opens no case"
    );
    assert!(got[0]["case_id"].is_null());
    assert_eq!(got[1]["outcome"], "no_definition_matched");
    assert_eq!(got[2]["outcome"], "no_definition_matched");
    assert!(got[1]["instance_id"].is_null());
    let bad = app
        .post(
            "/projects/default/signal-definitions",
            json!({"name": "Bad", "source": "alertmanager", "match": "service=~\"(\""}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["match"]);
}

#[tokio::test]
async fn a_malformed_or_unauthenticated_webhook_stores_nothing() {
    let app = spawn_app().await;
    let def = define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let r = app
        .post(
            "/signals/alertmanager",
            json!({"version": "4", "alerts": "not a list"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), ["alerts"]);
    // One good alert and one with a bad status: the whole notification is refused.
    let mut bad = errors("x1");
    bad["status"] = json!("exploded");
    let r = app
        .post(
            "/signals/alertmanager",
            notification(vec![errors("x2"), bad]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), ["alerts[1].status"]);
    let r = app
        .call_as(
            None,
            Method::POST,
            "/signals/alertmanager",
            Some(notification(vec![errors("x3")])),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(instances(&app, &def["id"]).await.is_empty());
    assert_eq!(app.get("/cases").await.body["total"], 0);
}

#[tokio::test]
async fn instances_filter_by_status_and_filter_action_and_a_value_neither_knows_is_refused() {
    let app = spawn_app().await;
    let def = define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    send(&app, notification(vec![errors("v1")])).await;
    send(&app, notification(vec![errors("v1")])).await;
    let list = |query: &str| {
        let path = format!("/signal-instances?definition={}&{query}", def["id"]);
        let app = &app;
        async move { app.get(&path).await }
    };
    let dups = list("filter_action=deduplicate").await;
    assert_eq!(dups.status, StatusCode::OK, "{:#}", dups.body);
    assert_eq!(dups.body["total"], 1);
    assert_eq!(dups.body["items"][0]["filter_action"], "deduplicate");
    assert_eq!(list("status=firing,resolved").await.body["total"], 2);
    assert_eq!(list("status=resolved").await.body["total"], 0);
    assert_eq!(
        list("colour=red").await.status,
        StatusCode::OK,
        "a parameter it does not have is ignored, as the incident list does"
    );
    let bad = list("status=bogus&filter_action=none,maybe").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["status", "filter_action"]);
    assert_eq!(
        bad.body["error"]["fields"][0]["message"],
        "\"bogus\" is not valid; must be one of: firing, acknowledged, resolved"
    );
}

#[tokio::test]
async fn a_resolved_alert_resolves_its_instances_and_notes_it_on_the_case() {
    let app = spawn_app().await;
    let def = define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let first = send(&app, notification(vec![errors("r1")])).await;
    send(&app, notification(vec![errors("r1")])).await;
    let mut resolved = errors("r1");
    resolved["status"] = json!("resolved");
    let got = send(&app, notification(vec![resolved.clone()])).await;
    assert_eq!(got[0]["outcome"], "resolved", "{got:#?}");
    assert_eq!(got[0]["instances"].as_array().unwrap().len(), 2);
    assert_eq!(got[0]["case_id"], first[0]["case_id"]);
    let list = instances(&app, &def["id"]).await;
    assert!(
        list.iter()
            .all(|i| i["status"] == "resolved" && !i["resolved_at"].is_null()),
        "{list:#?}"
    );
    let case = app
        .get(&format!("/cases/{}", first[0]["case_id"]))
        .await
        .body;
    assert_eq!(
        case["timeline"].as_array().unwrap().last().unwrap()["kind"],
        "signal_resolved"
    );
    // Resolved again: nothing is firing any more.
    let again = send(&app, notification(vec![resolved])).await;
    assert_eq!(again[0]["outcome"], "nothing_firing");
    assert_eq!(app.get("/cases").await.body["total"], 1);
}

#[tokio::test]
async fn an_active_snooze_filter_opens_no_case_and_a_monitor_filter_only_records() {
    let app = spawn_app().await;
    define(
        &app,
        json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"},
        "entity_types": [{"name": "host", "label": "instance"}]}),
    )
    .await;
    let r = app
        .post(
            "/signal-filters",
            json!({"name": "Watch pay-1", "expression": "host=\"pay-1:9100\"", "mode": "monitor"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let monitor = r.body["id"].clone();
    let got = send(&app, notification(vec![errors("s1")])).await;
    assert_eq!(got[0]["outcome"], "new_case");
    assert_eq!(
        got[0]["monitored_by"], monitor,
        "monitor mode records what it would have done"
    );

    let r = app
        .post(
            "/signal-filters",
            json!({"name": "Maintenance", "expression": {"service": "payments"},
            "expires_at": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    assert_eq!(r.body["mode"], "active");
    let snooze = r.body["id"].clone();
    let got = send(&app, notification(vec![errors("s2")])).await;
    assert_eq!(got[0]["outcome"], "snoozed", "{got:#?}");
    assert_eq!(got[0]["filter_id"], snooze);
    assert!(got[0]["case_id"].is_null());
    let i = app
        .get(&format!(
            "/signal-instances?case=&definition={}",
            got[0]["definition_id"]
        ))
        .await;
    assert_eq!(
        i.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an empty case id is refused"
    );

    // Expired: the filter no longer acts.
    let r = app
        .patch(
            &format!("/signal-filters/{snooze}"),
            json!({"expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["mode"], "expired");
    let got = send(&app, notification(vec![errors("s3")])).await;
    assert_eq!(got[0]["outcome"], "new_case");
    let bad = app
        .post(
            "/signal-filters",
            json!({"name": "x", "expression": "a=", "mode": "sometimes"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["expression", "mode"]);
}

#[tokio::test]
async fn a_deduplicate_filter_in_monitor_mode_records_what_it_would_have_joined_and_changes_nothing(
) {
    let app = spawn_app().await;
    // Without a filter, no repeat is deduplicated: the definition's window is empty.
    let def = define(
        &app,
        json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"},
        "dedup_window_seconds": 0}),
    )
    .await;
    let r = app
        .post(
            "/signal-filters",
            json!({"name": "Payments repeats", "kind": "deduplicate", "expression": {"service": "payments"},
            "window_seconds": 3600, "mode": "monitor"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let watch = r.body["id"].clone();
    let first = send(&app, notification(vec![errors("m1")])).await;
    assert_eq!(first[0]["outcome"], "new_case", "{first:#?}");
    assert!(first[0]["monitored_by"].is_null(), "nothing to join yet");
    let again = send(&app, notification(vec![errors("m1")])).await;
    assert_eq!(
        again[0]["outcome"], "new_case",
        "processed as if the filter were not there: {again:#?}"
    );
    assert_ne!(again[0]["case_id"], first[0]["case_id"]);
    assert!(again[0]["filter_id"].is_null());
    assert_eq!(
        again[0]["monitored_by"], watch,
        "it would have deduplicated the repeat"
    );
    let stored = instances(&app, &def["id"]).await;
    assert_eq!(stored[0]["id"], again[0]["instance_id"]);
    assert_eq!(stored[0]["filter_action"], "none");
    assert_eq!(stored[0]["filter_id"], watch, "{:#}", stored[0]);
    assert!(stored[1]["filter_id"].is_null());

    // Made active, it deduplicates what it only watched.
    let r = app
        .patch(
            &format!("/signal-filters/{watch}"),
            json!({"mode": "active"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let joined = send(&app, notification(vec![errors("m1")])).await;
    assert_eq!(joined[0]["outcome"], "deduplicated", "{joined:#?}");
    assert_eq!(joined[0]["filter_id"], watch);
    assert_eq!(joined[0]["case_id"], again[0]["case_id"]);
}

#[tokio::test]
async fn definitions_and_filters_are_listed_filtered_and_paged_and_a_value_no_filter_knows_is_refused(
) {
    let app = spawn_app().await;
    for (name, source, enabled) in [
        ("Errors", "alertmanager", true),
        ("Grafana memory", "grafana", true),
        ("Old errors", "alertmanager", false),
    ] {
        define(
            &app,
            json!({"name": name, "source": source, "match": {"alertname": "X"}, "enabled": enabled}),
        )
        .await;
    }
    let names = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    let all = app.get("/signal-definitions?project=default").await;
    assert_eq!(all.status, StatusCode::OK, "{:#}", all.body);
    assert_eq!(all.body["total"], 3);
    assert_eq!(names(&all.body), ["Errors", "Grafana memory", "Old errors"]);
    let r = app
        .get("/signal-definitions?source=alertmanager&enabled=true")
        .await;
    assert_eq!(names(&r.body), ["Errors"]);
    let r = app.get("/signal-definitions?per_page=2&page=2").await;
    assert_eq!(
        (
            r.body["total"].clone(),
            r.body["page"].clone(),
            names(&r.body)
        ),
        (json!(3), json!(2), vec!["Old errors".to_string()])
    );
    let bad = app
        .get("/signal-definitions?source=nagios&per_page=0")
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["per_page", "source"]);
    let bad = app.get("/signal-definitions?enabled=maybe").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["enabled"]);
    assert_eq!(
        app.get("/signal-definitions?project=nowhere").await.status,
        StatusCode::NOT_FOUND
    );

    for body in [
        json!({"name": "Maintenance", "expression": {"service": "payments"}, "expires_at": "2099-01-01T00:00:00Z"}),
        json!({"name": "Watch", "expression": {"service": "payments"}, "mode": "monitor"}),
        json!({"name": "Repeats", "kind": "deduplicate", "expression": {"service": "payments"}}),
        json!({"name": "Last night", "expression": {"service": "payments"}, "expires_at": "2020-01-01T00:00:00Z"}),
    ] {
        let r = app.post("/signal-filters", body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    }
    let all = app.get("/signal-filters?project=default").await;
    assert_eq!(all.status, StatusCode::OK, "{:#}", all.body);
    assert_eq!(
        names(&all.body),
        ["Last night", "Maintenance", "Repeats", "Watch"]
    );
    let r = app.get("/signal-filters?kind=deduplicate").await;
    assert_eq!(names(&r.body), ["Repeats"]);
    let r = app.get("/signal-filters?mode=active").await;
    assert_eq!(
        names(&r.body),
        ["Maintenance", "Repeats"],
        "an expired one is not active"
    );
    let r = app.get("/signal-filters?mode=expired,monitor").await;
    assert_eq!(names(&r.body), ["Last night", "Watch"]);
    let r = app
        .get("/signal-filters?kind=snooze&per_page=1&page=3")
        .await;
    assert_eq!(r.body["total"], 3);
    assert_eq!(names(&r.body), ["Watch"]);
    let bad = app.get("/signal-filters?kind=mute&mode=sometimes").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["kind", "mode"]);
}

#[tokio::test]
async fn escalating_a_case_declares_an_incident_linked_both_ways_that_closes_the_case() {
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let got = send(&app, notification(vec![errors("e1")])).await;
    send(&app, notification(vec![errors("e1")])).await;
    let case_id = got[0]["case_id"].clone();
    let r = app
        .post(&format!("/cases/{case_id}/triage"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["status"], "triage");
    assert!(!r.body["triage_at"].is_null());

    let r = app
        .post(&format!("/cases/{case_id}/escalate"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let name = r.body["incident"]["name"].as_str().unwrap().to_string();
    assert_eq!(r.body["incident"]["title"], "HighErrorRate on payments");
    assert_eq!(r.body["case"]["status"], "escalated");
    assert_eq!(r.body["case"]["incident_id"], r.body["incident"]["id"]);
    let case = app.get(&format!("/cases/{case_id}")).await.body;
    assert_eq!(case["incident"], name.as_str());
    let again = app
        .post(&format!("/cases/{case_id}/escalate"), json!({}))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);

    let timeline = app.get(&format!("/incidents/{name}/timeline")).await;
    assert_eq!(timeline.status, StatusCode::OK);
    let text = timeline.body.to_string();
    assert!(text.contains("case_escalated"), "{text}");
    let copied = timeline
        .body
        .as_array()
        .or_else(|| timeline.body["items"].as_array())
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "case_event_copied")
        .count();
    assert_eq!(copied, 4, "opened, received, deduplicated, triage: {text}");

    let r = app
        .post(&format!("/incidents/{name}/close"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let case = app.get(&format!("/cases/{case_id}")).await.body;
    assert_eq!(case["status"], "closed", "{case:#}");
    assert_eq!(case["resolution_reason"], "escalated");
    assert!(!case["closed_at"].is_null());
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn cases_close_with_a_reason_and_filter_by_status_and_assignee() {
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let a = send(&app, notification(vec![errors("c1"), errors("c2")])).await;
    let (one, two) = (a[0]["case_id"].clone(), a[1]["case_id"].clone());
    let r = app.post(&format!("/cases/{one}/close"), json!({})).await;
    assert_eq!(error_fields(&r.body), ["resolution_reason"]);
    let r = app
        .post(
            &format!("/cases/{one}/close"),
            json!({"resolution_reason": "false_positive", "resolution": "Load test"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["resolution"], "Load test");
    let closed = app.get("/cases?status=closed").await.body;
    assert_eq!(closed["total"], 1);
    assert_eq!(closed["items"][0]["id"], one);
    let open = app
        .get("/cases?project=default&status=new,triage&per_page=1")
        .await
        .body;
    assert_eq!(open["total"], 1);
    assert_eq!(open["items"][0]["id"], two);
    assert_eq!(
        app.get("/cases?assignee=nobody@example.com").await.body["total"],
        0
    );
    assert_eq!(
        app.get("/cases?status=lost").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // A closed case's alert opens a new case.
    let again = send(&app, notification(vec![errors("c1")])).await;
    assert_eq!(again[0]["outcome"], "new_case");
    assert_ne!(again[0]["case_id"], one);
}

#[tokio::test]
async fn definitions_are_read_changed_and_deleted_per_project() {
    let app = spawn_app().await;
    let def = define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let id = def["id"].clone();
    let r = app
        .patch(
            &format!("/projects/default/signal-definitions/{id}"),
            json!({"match": "alertname=~\"High.*\"", "enabled": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["match"], "alertname=~\"High.*\"");
    assert_eq!(r.body["enabled"], false);
    let got = send(&app, notification(vec![errors("d1")])).await;
    assert_eq!(
        got[0]["outcome"], "no_definition_matched",
        "a disabled definition takes nothing"
    );
    let dup = app
        .post(
            "/projects/default/signal-definitions",
            json!({"name": "Errors", "source": "grafana"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&dup.body), ["name"]);
    let missing = app
        .post(
            "/projects/default/signal-definitions",
            json!({"source": "smoke-signals"}),
        )
        .await;
    assert_eq!(error_fields(&missing.body), ["name", "source"]);
    assert_eq!(
        app.get("/projects/default/signal-definitions")
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let del = app
        .call(
            Method::DELETE,
            &format!("/projects/default/signal-definitions/{id}"),
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get(&format!("/projects/default/signal-definitions/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let member = app.token_for("member@example.com").await;
    let r = app
        .call_as(
            Some(&member),
            Method::POST,
            "/projects/default/signal-definitions",
            Some(json!({"name": "x", "source": "generic"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_payloads_a_real_alertmanager_sent_open_then_resolve_their_cases() {
    use crate::common::alertmanager::fixture;
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let firing = send(&app, fixture("firing.json")).await;
    let outcomes: Vec<&str> = firing
        .iter()
        .map(|a| a["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["new_case", "new_case"],
        "two instances (pay-1, pay-2): {firing:#?}"
    );
    // The group again, pay-1 resolved: pay-1 resolves, pay-2 is the same alert again.
    let partly = send(&app, fixture("partly-resolved.json")).await;
    assert_eq!(partly[0]["outcome"], "resolved");
    assert_eq!(partly[0]["case_id"], firing[0]["case_id"]);
    assert_eq!(partly[1]["outcome"], "deduplicated");
    assert_eq!(partly[1]["case_id"], firing[1]["case_id"]);
    let resolved = send(&app, fixture("resolved.json")).await;
    assert_eq!(resolved[0]["outcome"], "resolved");
    assert_eq!(
        resolved[0]["instances"].as_array().unwrap().len(),
        2,
        "pay-2's first and repeat"
    );
    let open = app.get("/signal-instances?project=default").await.body;
    assert!(
        open["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["status"] == "resolved"),
        "{open:#}"
    );
}

/// Grafana's documented webhook body (the webhook notifier page's example), trimmed of nothing
/// Dispatch reads.
fn grafana_sample() -> Value {
    json!({"receiver": "My Super Webhook", "status": "firing", "orgId": 1,
      "alerts": [
        {"status": "firing", "labels": {"alertname": "High memory usage", "team": "blue", "zone": "us-1"},
         "annotations": {"description": "The system has high memory usage",
           "runbook_url": "https://myrunbook.com/runbook/1234", "summary": "This alert was triggered for zone us-1"},
         "startsAt": "2021-10-12T09:51:03.157076+02:00", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit", "fingerprint": "c6eadffa33fcdf37",
         "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
         "dashboardURL": "", "panelURL": "", "values": {"B": 44.23943737541908, "C": 1}},
        {"status": "firing", "labels": {"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
         "annotations": {"description": "The system has high CPU usage",
           "runbook_url": "https://myrunbook.com/runbook/1234", "summary": "This alert was triggered for zone eu-1"},
         "startsAt": "2021-10-12T09:56:03.157076+02:00", "endsAt": "0001-01-01T00:00:00Z",
         "generatorURL": "https://play.grafana.org/alerting/d1rdpdv7k/edit", "fingerprint": "bc97ff14869b13e3",
         "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1",
         "dashboardURL": "", "panelURL": "", "values": {"B": 44.23943737541908, "C": 1}}],
      "groupLabels": {}, "commonLabels": {"team": "blue"}, "commonAnnotations": {},
      "externalURL": "https://play.grafana.org/", "version": "1", "groupKey": "{}:{}", "truncatedAlerts": 0,
      "title": "[FIRING:2]  (blue)", "state": "alerting",
      "message": "**Firing**\n\nLabels:\n - alertname = T2\n - team = blue\n - zone = us-1\n"})
}

#[tokio::test]
async fn grafanas_documented_webhook_body_opens_cases_for_the_definitions_of_the_grafana_source() {
    let app = spawn_app().await;
    let def = define(
        &app,
        json!({"name": "Blue team memory", "source": "grafana",
        "match": "team=\"blue\", alertname=~\"High memory.*\""}),
    )
    .await;
    define(
        &app,
        json!({"name": "Alertmanager only", "source": "alertmanager", "match": {"team": "blue"}}),
    )
    .await;
    let r = app.post("/signals/grafana", grafana_sample()).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let got = r.body["alerts"].as_array().unwrap();
    assert_eq!(got[0]["outcome"], "new_case");
    assert_eq!(got[0]["definition_id"], def["id"]);
    assert_eq!(got[0]["fingerprint"], "c6eadffa33fcdf37");
    assert_eq!(
        got[1]["outcome"], "no_definition_matched",
        "CPU is not memory; the other definition is Alertmanager's"
    );
    let list = instances(&app, &def["id"]).await;
    assert_eq!(list[0]["source"], "grafana");
    assert_eq!(
        list[0]["raw"]["values"]["C"], 1,
        "Grafana's own fields are kept"
    );
    assert_eq!(list[0]["title"], "This alert was triggered for zone us-1");
}

#[tokio::test]
async fn pagerduty_events_trigger_acknowledge_and_resolve_by_dedup_key() {
    let app = spawn_app().await;
    let def = define(
        &app,
        json!({"name": "Postgres", "source": "pagerduty", "match": {"component": "postgres"}}),
    )
    .await;
    // The Events API v2 documentation's sample trigger.
    let trigger = json!({"payload": {"summary": "Example alert on host1.example.com",
        "timestamp": "2015-07-17T08:42:58.315+0000",
        "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
        "severity": "info", "component": "postgres", "group": "prod-datapipe", "class": "deploy",
        "custom_details": {"ping time": "1500ms", "load avg": 0.75}},
        "routing_key": "samplekeyhere", "dedup_key": "samplekeyhere", "images": [{"src": "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png", "href": "https://example.com/", "alt": "Example text"}],
        "links": [{"href": "https://example.com/", "text": "Link text"}],
        "event_action": "trigger", "client": "Example Monitoring Service", "client_url": "https://example.com"});
    let r = app.post("/signals/pagerduty", trigger).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    assert_eq!(r.body["status"], "success");
    assert_eq!(r.body["message"], "Event processed");
    assert_eq!(r.body["dedup_key"], "samplekeyhere");
    assert_eq!(r.body["alerts"][0]["outcome"], "new_case");
    let case_id = r.body["alerts"][0]["case_id"].clone();
    let list = instances(&app, &def["id"]).await;
    assert!(
        list[0]["raw"].get("routing_key").is_none(),
        "the routing key is not kept"
    );
    assert_eq!(list[0]["labels"]["load avg"], "0.75");

    let ack = app.post("/signals/pagerduty", json!({"routing_key": "samplekeyhere", "dedup_key": "samplekeyhere", "event_action": "acknowledge"})).await;
    assert_eq!(ack.status, StatusCode::ACCEPTED, "{:#}", ack.body);
    assert_eq!(ack.body["alerts"][0]["outcome"], "acknowledged");
    assert_eq!(
        instances(&app, &def["id"]).await[0]["status"],
        "acknowledged"
    );
    let resolve = app.post("/signals/pagerduty", json!({"routing_key": "samplekeyhere", "dedup_key": "samplekeyhere", "event_action": "resolve"})).await;
    assert_eq!(
        resolve.body["alerts"][0]["outcome"], "resolved",
        "{:#}",
        resolve.body
    );
    assert_eq!(resolve.body["alerts"][0]["case_id"], case_id);
    assert_eq!(instances(&app, &def["id"]).await[0]["status"], "resolved");

    let bad = app
        .post(
            "/signals/pagerduty",
            json!({"routing_key": "k", "event_action": "trigger",
        "payload": {"summary": "s", "source": "x", "severity": "sev1"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["payload.severity"]);
    let bad = app
        .post(
            "/signals/pagerduty",
            json!({"routing_key": "k", "event_action": "explode"}),
        )
        .await;
    assert_eq!(error_fields(&bad.body), ["event_action"]);
    let bad = app
        .post("/signals/pagerduty", json!({"routing_key": "k"}))
        .await;
    assert_eq!(error_fields(&bad.body), ["event_action"]);
}

#[tokio::test]
async fn a_generic_body_is_read_through_the_definitions_field_paths() {
    let app = spawn_app().await;
    let def = define(&app, json!({"name": "Checks", "source": "generic", "match": {"env": "prod"},
        "fields": {"title": "check.name", "fingerprint": "check.id", "labels": "tags", "link": "links[0]",
            "severity": "level", "status": "state"}})).await;
    assert_eq!(def["fields"]["title"], "check.name");
    let body = json!([
        {"check": {"name": "Disk full", "id": "disk-db1"}, "tags": {"env": "prod", "host": "db1"},
         "links": ["https://checks.example/disk-db1"], "level": "high", "state": "alerting"},
        {"check": {"name": "Disk full", "id": "disk-dev1"}, "tags": {"env": "dev"}, "state": "alerting"}]);
    let r = app.post("/signals/generic", body).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["alerts"][0]["outcome"], "new_case");
    assert_eq!(r.body["alerts"][0]["fingerprint"], "disk-db1");
    assert_eq!(r.body["alerts"][1]["outcome"], "no_definition_matched");
    let list = instances(&app, &def["id"]).await;
    assert_eq!(list[0]["title"], "Disk full");
    assert_eq!(list[0]["severity"], "high");
    assert_eq!(list[0]["link"], "https://checks.example/disk-db1");
    let ok = app
        .post(
            "/signals/generic",
            json!({"check": {"id": "disk-db1"}, "tags": {"env": "prod"}, "state": "ok"}),
        )
        .await;
    assert_eq!(ok.body["alerts"][0]["outcome"], "resolved", "{:#}", ok.body);
    let bad = app.post("/signals/generic", json!([{"a": 1}, 2])).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), ["[1]"]);
    let bad = app
        .patch(
            &format!("/projects/default/signal-definitions/{}", def["id"]),
            json!({"fields": {"titel": "x"}}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_case_shows_the_cases_whose_signals_share_an_entity_and_metrics_count_the_outcomes() {
    let app = spawn_app().await;
    define(&app, json!({"name": "Any payments alert", "source": "alertmanager", "match": "service=\"payments\"",
        "entity_types": [{"name": "host", "label": "instance"}]})).await;
    let first = send(&app, notification(vec![errors("h1")])).await;
    let latency = alert(
        "firing",
        json!({"alertname": "HighLatency", "service": "payments", "instance": "pay-1:9100"}),
        "h2",
    );
    let elsewhere = alert(
        "firing",
        json!({"alertname": "HighLatency", "service": "payments", "instance": "pay-9:9100"}),
        "h3",
    );
    let second = send(&app, notification(vec![latency, elsewhere, errors("h1")])).await;
    assert_eq!(second[2]["outcome"], "deduplicated");
    let case = app
        .get(&format!("/cases/{}", second[0]["case_id"]))
        .await
        .body;
    assert_eq!(
        case["related_cases"],
        json!([first[0]["case_id"]]),
        "{case:#}"
    );
    let unrelated = app
        .get(&format!("/cases/{}", second[1]["case_id"]))
        .await
        .body;
    assert_eq!(unrelated["related_cases"], json!([]));

    let r = app
        .post(
            "/signal-filters",
            json!({"name": "Quiet", "expression": "host=\"pay-9:9100\""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let quiet = alert(
        "firing",
        json!({"alertname": "Other", "service": "payments", "instance": "pay-9:9100"}),
        "h4",
    );
    assert_eq!(
        send(&app, notification(vec![quiet])).await[0]["outcome"],
        "snoozed"
    );
    let m = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for series in [
        "dispatch_signals_deduplicated_total{source=\"alertmanager\"}",
        "dispatch_signals_snoozed_total{source=\"alertmanager\"}",
    ] {
        let n: f64 = m
            .lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{series} in {m}"));
        assert!(n >= 1.0, "{series}: {n}");
    }
}

#[tokio::test]
async fn a_sender_over_its_rate_gets_429_with_retry_after_and_nothing_of_that_request_is_stored() {
    use dispatch_web::api::signal_limit::SignalRate;
    let app = TestApp::builder()
        .web_options(dispatch_web::WebOptions {
            signal_rate: Some(SignalRate {
                per_second: 0.01,
                burst: 1,
            }),
            ..Default::default()
        })
        .spawn()
        .await;
    let def = define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    send(&app, notification(vec![errors("l1")])).await;
    let res = app
        .http
        .post(format!("{}/api/v1/signals/alertmanager", app.base))
        .bearer_auth(&app.token)
        .json(&notification(vec![errors("l2")]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=100).contains(&wait), "{wait}");
    assert_eq!(
        instances(&app, &def["id"]).await.len(),
        1,
        "the refused alert is not stored"
    );
    // Refused before its body is read: one that is not JSON, or not an object, is a 429 too.
    for body in ["{not json", "[]"] {
        let res = post_raw(&app, "alertmanager", body.to_string()).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(res.headers().contains_key("retry-after"), "{body}");
    }
    // No token: 401, as before, and it takes nothing from anyone's bucket.
    let r = app
        .call_as(
            None,
            Method::POST,
            "/signals/grafana",
            Some(notification(vec![errors("l4")])),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Another sender has its own bucket.
    let other = app
        .token_with("grafana@example.com", "member", "write")
        .await;
    let r = app
        .call_as(
            Some(&other),
            Method::POST,
            "/signals/alertmanager",
            Some(notification(vec![errors("l3")])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
}

/// Posts a body as sent, with the admin's token, to a signal endpoint.
async fn post_raw(app: &TestApp, endpoint: &str, body: String) -> reqwest::Response {
    app.http
        .post(format!("{}/api/v1/signals/{endpoint}", app.base))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_422_naming_the_body_and_one_over_a_megabyte_a_413() {
    let app = spawn_app().await;
    for endpoint in ["alertmanager", "grafana", "pagerduty", "generic"] {
        for body in ["{not json", "", "{\"version\": \"4\""] {
            let res = post_raw(&app, endpoint, body.to_string()).await;
            assert_eq!(
                res.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{endpoint} {body:?}"
            );
            let got: Value = res.json().await.unwrap();
            assert_eq!(error_fields(&got), ["body"], "{endpoint} {body:?}: {got:#}");
            let message = got["error"]["fields"][0]["message"].as_str().unwrap();
            assert!(
                message.starts_with("is not valid JSON: ") && !message.contains("Failed to parse"),
                "{endpoint} {body:?}: {message}"
            );
        }
        let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(1024 * 1024));
        let res = post_raw(&app, endpoint, big).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "{endpoint}");
    }
    // The rest of the API still answers 400 for a body that is not JSON.
    let res = app
        .http
        .post(format!("{}/api/v1/signal-filters", app.base))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn entity_types_read_by_a_json_path_find_their_value_in_the_raw_alert() {
    let app = spawn_app().await;
    let def = define(
        &app,
        json!({"name": "Postgres", "source": "pagerduty", "match": "",
        "entity_types": [{"name": "host", "path": "payload.source"},
            {"name": "ip", "path": "payload.custom_details.addresses[1]"}]}),
    )
    .await;
    let trigger = json!({"routing_key": "k", "event_action": "trigger", "dedup_key": "db1-disk",
        "payload": {"summary": "Disk full on db1", "source": "db1.example.com", "severity": "error",
            "custom_details": {"addresses": ["10.0.0.1", "10.0.0.2"]}}});
    let r = app.post("/signals/pagerduty", trigger).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:#}", r.body);
    let list = instances(&app, &def["id"]).await;
    assert_eq!(
        list[0]["entities"],
        json!([{"type": "host", "value": "db1.example.com"}, {"type": "ip", "value": "10.0.0.2"}]),
        "{:#}",
        list[0]
    );

    // A filter over the entity so found takes the next alert.
    let r = app
        .post(
            "/signal-filters",
            json!({"name": "db1 maintenance", "expression": "host=\"db1.example.com\""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let again = json!({"routing_key": "k", "event_action": "trigger", "dedup_key": "db1-cpu",
        "payload": {"summary": "CPU on db1", "source": "db1.example.com", "severity": "error"}});
    let r = app.post("/signals/pagerduty", again).await;
    assert_eq!(r.body["alerts"][0]["outcome"], "snoozed", "{:#}", r.body);
}

#[tokio::test]
async fn an_alert_resolved_in_the_request_that_fired_it_names_each_instance_once() {
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let first = send(&app, notification(vec![errors("q1")])).await;
    let mut resolved = errors("q1");
    resolved["status"] = json!("resolved");
    let got = send(&app, notification(vec![errors("q1"), resolved])).await;
    assert_eq!(got[0]["outcome"], "deduplicated", "{got:#?}");
    assert_eq!(got[1]["outcome"], "resolved", "{got:#?}");
    assert_eq!(
        got[1]["instances"],
        json!([first[0]["instance_id"], got[0]["instance_id"]]),
        "{got:#?}"
    );
}

#[tokio::test]
async fn a_definition_naming_a_case_type_priority_or_severity_the_project_lacks_is_refused() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/projects/default/signal-definitions",
            json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"},
                "case_type": "nope", "case_priority": "ultra", "case_severity": "zzz"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", r.body);
    assert_eq!(
        error_fields(&r.body),
        ["case_type", "case_priority", "case_severity"]
    );
    assert_eq!(
        app.get("/projects/default/signal-definitions").await.body,
        json!([]),
        "nothing is saved"
    );
    let def = define(
        &app,
        json!({"name": "Errors", "source": "alertmanager",
        "match": {"alertname": "HighErrorRate"}, "case_priority": "high"}),
    )
    .await;
    assert_eq!(def["case_priority"], "high");
    let r = app
        .patch(
            &format!("/projects/default/signal-definitions/{}", def["id"]),
            json!({"case_priority": "ultra"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", r.body);
    assert_eq!(error_fields(&r.body), ["case_priority"]);
}

/// A definition "Errors" of HighErrorRate alerts whose cases carry `tags`.
fn errors_with_tags(tags: Value) -> Value {
    json!({"name": "Errors", "source": "alertmanager",
        "match": {"alertname": "HighErrorRate"}, "tags": tags})
}

#[tokio::test]
async fn a_definition_naming_a_tag_the_project_lacks_is_a_422_on_tags_on_create_and_update() {
    let app = spawn_app().await;
    for name in ["payments", "db"] {
        let r = app
            .post("/projects/default/tags", json!({"name": name}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    }
    let r = app
        .post(
            "/projects/default/signal-definitions",
            errors_with_tags(json!(["payments", "paymnets"])),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", r.body);
    assert_eq!(error_fields(&r.body), ["tags"]);
    let message = r.body["error"]["fields"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("\"paymnets\"") && message.contains("db, payments"),
        "names the tag and the project's tags: {message}"
    );
    assert_eq!(
        app.get("/projects/default/signal-definitions").await.body,
        json!([]),
        "nothing is saved"
    );
    let tags = app.get("/projects/default/tags").await.body;
    assert!(
        !tags.to_string().contains("paymnets"),
        "no tag made: {tags:#}"
    );
    // A tag type the project lacks is named too; `type:name` of one it has is taken.
    let r = app
        .post(
            "/projects/default/signal-definitions",
            errors_with_tags(json!(["region:eu"])),
        )
        .await;
    assert_eq!(error_fields(&r.body), ["tags"], "{:#}", r.body);

    let def = define(&app, errors_with_tags(json!(["payments"]))).await;
    let path = format!("/projects/default/signal-definitions/{}", def["id"]);
    let r = app
        .patch(
            &path,
            json!({"tags": ["payments", "nope"], "case_priority": "ultra"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:#}", r.body);
    assert_eq!(
        error_fields(&r.body),
        ["case_priority", "tags"],
        "every mistake at once"
    );
    assert!(r.body.to_string().contains("nope"), "{:#}", r.body);
    let shown = app.get(&path).await.body;
    assert_eq!(shown["tags"], json!(["payments"]), "nothing is changed");
    assert_eq!(shown["case_priority"], Value::Null);
    let r = app.patch(&path, json!({"tags": ["db", "payments"]})).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["tags"], json!(["db", "payments"]));
    // A case opened by it starts with them.
    let got = send(&app, notification(vec![errors("tg1")])).await;
    let case = app.get(&format!("/cases/{}", got[0]["case_id"])).await.body;
    assert_eq!(case["tags"], json!(["db", "payments"]), "{case:#}");

    // A definition saved before tags were checked (here plain SQL, as an old version would
    // have stored it) still takes an edit of something else; a tag given anew is checked.
    let raw = app.db.open().await;
    let changed = dispatch_store::testing::execute(
        &raw,
        &format!(
            r#"UPDATE signal_definitions SET tags = '["payments", "gone"]' WHERE id = {}"#,
            def["id"]
        ),
    )
    .await;
    assert_eq!(changed, 1);
    let r = app.patch(&path, json!({"enabled": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["tags"], json!(["payments", "gone"]));
    let r = app
        .patch(&path, json!({"tags": ["payments", "gone", "nope"]}))
        .await;
    assert_eq!(error_fields(&r.body), ["tags"], "{:#}", r.body);
    assert!(!r.body.to_string().contains("gone"), "{:#}", r.body);
}

#[tokio::test]
async fn a_definition_s_type_and_name_tag_must_be_of_that_type_on_create_and_update() {
    let app = spawn_app().await;
    app.make_tags(&["env", "team"], &["env:prod", "payments"])
        .await;
    let r = app
        .post(
            "/projects/default/signal-definitions",
            errors_with_tags(json!(["team:prod"])),
        )
        .await;
    let message = refused_on(&r, "tags");
    assert!(
        message.contains("\"team:prod\"") && message.contains("env:prod"),
        "names the tag and how to write it: {message}"
    );
    let saved = app.get("/projects/default/signal-definitions").await.body;
    assert_eq!(saved, json!([]), "nothing is saved");

    let def = define(&app, errors_with_tags(json!(["env:prod"]))).await;
    let path = format!("/projects/default/signal-definitions/{}", def["id"]);
    let r = app
        .patch(&path, json!({"tags": ["env:prod", "env:payments"]}))
        .await;
    let message = refused_on(&r, "tags");
    assert!(message.contains("\"env:payments\""), "{message}");
    assert_eq!(app.get(&path).await.body["tags"], json!(["env:prod"]));
    let r = app
        .patch(&path, json!({"tags": ["prod", "payments"]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["tags"], json!(["prod", "payments"]));
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_refused_as_the_body() {
    let app = spawn_app().await;
    for endpoint in ["alertmanager", "grafana", "pagerduty"] {
        for body in [json!([]), json!([{"status": "firing"}, 2]), json!("x")] {
            let r = app
                .post(&format!("/signals/{endpoint}"), body.clone())
                .await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{endpoint} {body}"
            );
            assert_eq!(
                error_fields(&r.body),
                ["body"],
                "{endpoint} {body}: {:#}",
                r.body
            );
            assert_eq!(
                r.body["error"]["fields"][0]["message"], "must be a JSON object",
                "{endpoint} {body}"
            );
        }
    }
}
