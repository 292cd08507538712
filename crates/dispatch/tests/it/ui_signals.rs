//! The signal and case pages over HTTP, as a browser without JavaScript uses them: definitions
//! with their alerts per hour and latest alerts, filters, the case list with its triage
//! filters, and the case page with the moves the caller may make. Changing needs what the API
//! needs (a member reads, sees no button they may not press, and is refused when they post
//! anyway); a form's mistakes come back beside their fields with nothing saved.

use crate::common::pages::{error_beside, signed_in, wait_for};
use crate::common::{spawn_app, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// An Alertmanager notification of one firing alert.
fn notification(alertname: &str, host: &str, fingerprint: &str) -> Value {
    json!({"version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing",
        "receiver": "dispatch", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [{"status": "firing",
            "labels": {"alertname": alertname, "service": "payments", "instance": host},
            "annotations": {"summary": format!("{alertname} on {host}")},
            "startsAt": "2026-12-03T06:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph", "fingerprint": fingerprint}]})
}

/// Sends an alert through the API; answers its result.
async fn send(app: &TestApp, alertname: &str, host: &str, fingerprint: &str) -> Value {
    let r = app
        .post(
            "/signals/alertmanager",
            notification(alertname, host, fingerprint),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    r.body["alerts"][0].clone()
}

/// A definition of HighErrorRate alerts with the host entity, made through the API.
async fn define(app: &TestApp) -> Value {
    let r = app
        .post(
            "/projects/default/signal-definitions",
            json!({"name": "High error rate", "source": "alertmanager",
                "match": {"alertname": "HighErrorRate"}, "create_case": true,
                "entity_types": [{"name": "host", "label": "instance"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    r.body
}

#[tokio::test]
async fn an_admin_defines_a_signal_on_the_form_and_the_list_shows_its_alerts_per_hour() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;
    let p = admin.get(&app, "/incidents").await;
    assert!(p.html.contains(r#"href="/signals""#), "Signals in the nav");
    assert!(p.html.contains(r#"href="/cases""#), "Cases in the nav");

    let form = admin
        .get(&app, "/projects/default/signal-definitions/new")
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.html);
    for id in [
        "s-match",
        "s-entity_types",
        "s-dedup_window_seconds",
        "s-service_id",
    ] {
        assert!(form.html.contains(&format!(r#"id="{id}""#)), "{id}");
    }
    // The tags a definition gives its cases are the project's.
    for name in ["payments", "errors"] {
        let r = app
            .post("/projects/default/tags", json!({"name": name}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    }
    let p = admin
        .post(
            &app,
            "/projects/default/signal-definitions",
            &[
                ("name", "High error rate"),
                ("owner", "payments team"),
                ("source", "alertmanager"),
                ("match", r#"alertname="HighErrorRate", service=~"pay.*""#),
                ("enabled", "on"),
                ("create_case", "on"),
                ("entity_types", "host: label=instance"),
                ("dedup_window_seconds", "600"),
                ("tags", "payments, errors"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    assert_eq!(p.location.as_deref(), Some("/signals?project=default"));
    let defs = app.get("/projects/default/signal-definitions").await.body;
    let def = &defs[0];
    assert_eq!(def["owner"], "payments team");
    assert_eq!(def["dedup_window_seconds"], 600);
    assert_eq!(
        def["entity_types"],
        json!([{"name": "host", "label": "instance"}])
    );
    assert_eq!(def["tags"], json!(["payments", "errors"]));

    let first = send(&app, "HighErrorRate", "pay-1:9100", "f1").await;
    send(&app, "HighErrorRate", "pay-1:9100", "f1").await;
    let list = admin.get(&app, "/signals").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.html.contains("High error rate"), "{}", list.html);
    assert!(
        list.html.contains("2 in the last 24 hours") && list.html.contains("2 stored"),
        "{}",
        list.html
    );
    // One bar (the current hour) holding both alerts, with its count on hover.
    assert_eq!(list.html.matches("<rect ").count(), 1, "{}", list.html);
    assert!(list.html.contains("<title>2 alerts 1–0 hours ago</title>"));
    assert!(list.html.contains("HighErrorRate on pay-1:9100"));
    assert!(list
        .html
        .contains(&format!(r#"href="/cases/{}""#, first["case_id"])));
    assert!(list.html.contains("deduplicate"), "the repeat's action");

    // The edit form starts from the stored definition (entity types one per line).
    let edit = admin
        .get(
            &app,
            &format!("/projects/default/signal-definitions/{}", def["id"]),
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK);
    assert!(edit.html.contains("host: label=instance"), "{}", edit.html);
    assert!(
        edit.html.contains("alertname=&#34;HighErrorRate&#34;"),
        "{}",
        edit.html
    );
    let p = admin
        .post(
            &app,
            &format!("/projects/default/signal-definitions/{}/disable", def["id"]),
            &[],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let shown = app
        .get(&format!(
            "/projects/default/signal-definitions/{}",
            def["id"]
        ))
        .await;
    assert_eq!(shown.body["enabled"], false);
    assert!(admin
        .get(&app, "/signals")
        .await
        .html
        .contains(">disabled<"));
}

#[tokio::test]
async fn a_definition_form_shows_each_mistake_beside_its_field_and_saves_nothing() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;
    let p = admin
        .post(
            &app,
            "/projects/default/signal-definitions",
            &[
                ("name", "Broken"),
                ("source", "alertmanager"),
                ("match", r#"alertname=~"((""#),
                ("entity_types", "host label instance"),
                ("dedup_window_seconds", "soon"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    let window = error_beside(&p.html, "s-dedup_window_seconds").expect("beside the window");
    assert!(window.contains("whole number"), "{window}");
    assert!(error_beside(&p.html, "s-name").is_none());
    // What was typed is kept.
    assert!(p.html.contains("host label instance"), "{}", p.html);

    let p = admin
        .post(
            &app,
            "/projects/default/signal-definitions",
            &[
                ("name", "Broken"),
                ("source", "alertmanager"),
                ("match", r#"alertname=~"((""#),
                ("entity_types", "host: regex=(("),
                ("dedup_window_seconds", "-5"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    for id in ["s-match", "s-entity_types", "s-dedup_window_seconds"] {
        assert!(error_beside(&p.html, id).is_some(), "{id}: {}", p.html);
    }
    // A tag the project lacks is named beside the tags, what was typed kept; so is `type:name`
    // for a tag of another type (or of none).
    let with_tags = |tags: &'static str| {
        let (admin, app) = (&admin, &app);
        async move {
            let form = [
                ("name", "Errors"),
                ("source", "alertmanager"),
                ("match", r#"alertname="HighErrorRate""#),
                ("tags", tags),
            ];
            let p = admin
                .post(app, "/projects/default/signal-definitions", &form)
                .await;
            assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
            let beside = error_beside(&p.html, "s-tags").expect("beside the tags");
            assert!(beside.contains(tags), "{beside}");
            assert!(p.html.contains(&format!(r#"value="{tags}""#)), "{}", p.html);
        }
    };
    with_tags("payments").await;
    app.make_tags(&["team"], &["payments"]).await;
    with_tags("team:payments").await;
    assert_eq!(
        app.get("/projects/default/signal-definitions").await.body,
        json!([])
    );
}

#[tokio::test]
async fn filters_are_listed_for_everyone_and_changed_by_admins_with_errors_on_the_form() {
    let app = spawn_app().await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;
    let member = signed_in(&app, "mia@example.com", "member").await;
    let p = admin
        .post(
            &app,
            "/signal-filters?project=default",
            &[
                ("name", "Maintenance"),
                ("kind", "snooze"),
                ("expression", "service="),
                ("mode", "active"),
                ("expires_at", "tomorrow-ish"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(
        error_beside(&p.html, "s-expression").is_some(),
        "{}",
        p.html
    );
    assert!(
        error_beside(&p.html, "s-expires_at").is_some(),
        "{}",
        p.html
    );
    assert_eq!(app.get("/signal-filters").await.body["items"], json!([]));
    let p = admin
        .post(
            &app,
            "/signal-filters?project=default",
            &[
                ("name", "Maintenance"),
                ("kind", "snooze"),
                ("expression", r#"service="payments""#),
                ("mode", "monitor"),
                ("expires_at", "2030-01-01T00:00:00Z"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let id = app.get("/signal-filters").await.body["items"][0]["id"].clone();

    let list = member.get(&app, "/signal-filters").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.html.contains("Maintenance") && list.html.contains("monitor"));
    assert!(
        !list.html.contains("New filter"),
        "a member cannot make one"
    );
    assert!(!list.html.contains("/delete"), "nor delete one");
    let admin_list = admin.get(&app, "/signal-filters").await;
    assert!(admin_list.html.contains("New filter"));
    for path in ["/signal-filters/new", &format!("/signal-filters/{id}")] {
        let p = member.get(&app, path).await;
        assert_eq!(p.status, StatusCode::FORBIDDEN, "{path}");
    }
    let p = member
        .post(&app, &format!("/signal-filters/{id}/delete"), &[])
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let p = member
        .get(&app, "/projects/default/signal-definitions/new")
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);

    let p = admin
        .post(
            &app,
            &format!("/signal-filters/{id}"),
            &[
                ("name", "Maintenance"),
                ("kind", "snooze"),
                ("expression", r#"service="payments""#),
                ("mode", "inactive"),
                ("expires_at", ""),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let f = app.get(&format!("/signal-filters/{id}")).await.body;
    assert_eq!(f["mode"], "inactive");
    assert_eq!(f["expires_at"], Value::Null, "an emptied expiry clears it");
}

#[tokio::test]
async fn the_case_list_filters_by_status_priority_text_and_mine_and_pages() {
    let app = spawn_app().await;
    define(&app).await;
    let member = signed_in(&app, "mia@example.com", "member").await;
    for i in 0..27 {
        send(
            &app,
            "HighErrorRate",
            &format!("pay-{i}:9100"),
            &format!("fp{i}"),
        )
        .await;
    }
    let p = member.get(&app, "/cases").await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("27 cases"), "{}", p.html);
    assert!(p.html.contains("Page 1 of 2"));
    assert!(p.html.contains(r#"href="/cases?page=2""#), "{}", p.html);
    let p2 = member.get(&app, "/cases?page=2").await;
    assert_eq!(p2.html.matches(r#"<td><a href="/cases/"#).count(), 2);

    let p = member.get(&app, "/cases?q=pay-13&status=new,triage").await;
    assert!(p.html.contains("1 case<"), "{}", p.html);
    assert!(p.html.contains("HighErrorRate on pay-13:9100"));
    let p = member.get(&app, "/cases?q=nothing+like+it").await;
    assert!(p.html.contains("No case matches"));
    let p = member.get(&app, "/cases?mine=on").await;
    assert!(p.html.contains("0 cases"), "nobody assigned: {}", p.html);
    let p = member.get(&app, "/cases?priority=high").await;
    assert!(p.html.contains("0 cases"), "{}", p.html);

    let p = member.get(&app, "/cases?status=sleeping").await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_beside(&p.html, "c-status").is_some(), "{}", p.html);
    assert!(p.html.contains(r#"<option value="new,triage">"#));
}

#[tokio::test]
async fn a_member_sees_only_the_moves_the_case_rule_allows_them_and_errors_stay_on_the_forms() {
    let app = spawn_app().await;
    define(&app).await;
    let member = signed_in(&app, "mia@example.com", "member").await;
    let admin = signed_in(&app, "ada@example.com", "admin").await;
    let one = send(&app, "HighErrorRate", "db-1:9100", "a1").await;
    let two = send(&app, "HighErrorRate", "db-1:9100", "a2").await;
    let (c1, c2) = (one["case_id"].clone(), two["case_id"].clone());
    // Case 1 is Ann's: closing and editing it are hers (and admins').
    let r = app
        .patch(
            &format!("/cases/{c1}"),
            json!({"assignee": "ann@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);

    let p = member.get(&app, &format!("/cases/{c1}")).await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.html);
    assert!(p.html.contains("HighErrorRate on db-1:9100"));
    assert!(p.html.contains(r#"<pre class="raw">"#), "the raw payload");
    assert!(
        p.html
            .contains("&#34;alertname&#34;: &#34;HighErrorRate&#34;"),
        "{}",
        p.html
    );
    assert!(p.html.contains("<code>db-1:9100</code>"), "the host entity");
    assert!(
        p.html.contains(&format!(r#"href="/cases/{c2}""#)),
        "related case"
    );
    assert!(p.html.contains("Acknowledge (triage)") && p.html.contains("Escalate"));
    assert!(
        p.html.contains(r#"id="snooze""#),
        "anyone who sees it may snooze"
    );
    assert!(
        !p.html.contains(&format!(r#"action="/cases/{c1}/close""#)),
        "not theirs to close"
    );
    assert!(!p.html.contains(r#"id="assign""#), "not theirs to reassign");
    let p = member
        .post(
            &app,
            &format!("/cases/{c1}/close"),
            &[("resolution_reason", "benign")],
        )
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN, "{}", p.html);
    assert!(p.html.contains("assignee"), "says who may: {}", p.html);
    let p = admin.get(&app, &format!("/cases/{c1}")).await;
    assert!(
        p.html.contains(&format!(r#"action="/cases/{c1}/close""#)),
        "admins may"
    );

    let p = member.post(&app, &format!("/cases/{c1}/triage"), &[]).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let p = member.get(&app, &format!("/cases/{c1}")).await;
    assert!(p.html.contains(r#"id="case-status">triage<"#), "{}", p.html);
    assert!(
        !p.html.contains("Acknowledge (triage)"),
        "no longer offered"
    );

    // Case 2 has no assignee: anyone may close it, and closing needs a reason.
    let p = member
        .post(
            &app,
            &format!("/cases/{c2}/close"),
            &[("resolution", "load test")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(
        error_beside(&p.html, "close-reason").is_some(),
        "{}",
        p.html
    );
    assert!(p.html.contains("load test"), "what was typed is kept");
    let p = member
        .post(
            &app,
            &format!("/cases/{c2}/assign"),
            &[("assignee", "not an address")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.html);
    assert!(
        error_beside(&p.html, "assign-assignee").is_some(),
        "{}",
        p.html
    );
    let p = member
        .post(
            &app,
            &format!("/cases/{c2}/close"),
            &[
                ("resolution_reason", "false_positive"),
                ("resolution", "load test"),
            ],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let shown = app.get(&format!("/cases/{c2}")).await.body;
    assert_eq!(shown["status"], "closed");
    assert_eq!(shown["resolution_reason"], "false_positive");
    // A closed case offers nothing; moving it anyway says why above the page.
    let p = member.get(&app, &format!("/cases/{c2}")).await;
    assert!(!p.html.contains("Acknowledge (triage)") && !p.html.contains(r#"id="snooze""#));
    let p = member.post(&app, &format!("/cases/{c2}/triage"), &[]).await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.html.contains(r#"class="failure""#) && p.html.contains("closed"));

    // Snoozing: a bad duration stays on the form; a good one makes the filter that silences
    // the same alert from then on.
    let p = member
        .post(
            &app,
            &format!("/cases/{c1}/snooze"),
            &[("duration", "a while")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error_beside(&p.html, "snooze-duration").is_some(),
        "{}",
        p.html
    );
    assert!(p.html.contains(r#"value="a while""#));
    let p = member
        .post(&app, &format!("/cases/{c1}/snooze"), &[("duration", "4h")])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    let filters = &app.get("/signal-filters").await.body["items"];
    assert_eq!(filters[0]["kind"], "snooze");
    assert!(filters[0]["expires_at"].is_string());
    let third = send(&app, "HighErrorRate", "db-1:9100", "a3").await;
    assert_eq!(third["outcome"], "snoozed", "{third:#}");

    let p = member
        .post(&app, &format!("/cases/{c1}/escalate"), &[])
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.html);
    app.run_pending_jobs().await;
    let p = member.get(&app, &format!("/cases/{c1}")).await;
    assert!(p.html.contains(r#"id="case-incident""#), "{}", p.html);
    let key = app.get(&format!("/cases/{c1}")).await.body["incident"]
        .as_str()
        .unwrap()
        .to_string();
    let inc = admin.get(&app, &format!("/incidents/{key}")).await;
    assert!(inc.html.contains("Cases and signals"), "{}", inc.html);
    assert!(inc.html.contains(&format!(r#"href="/cases/{c1}""#)));
    assert!(inc.html.contains("1 signal<"), "{}", inc.html);
}

#[tokio::test]
async fn the_case_page_streams_a_new_signal_and_a_status_change_as_they_happen() {
    let app = spawn_app().await;
    define(&app).await;
    let member = signed_in(&app, "mia@example.com", "member").await;
    let first = send(&app, "HighErrorRate", "web-1:9100", "s1").await;
    let case = first["case_id"].clone();
    let page = member.get(&app, &format!("/cases/{case}")).await;
    assert!(page
        .html
        .contains(&format!(r#"data-events="/cases/{case}/events""#)));
    for part in ["header", "signals", "timeline"] {
        assert!(
            page.html.contains(&format!(r#"data-live="{part}""#)),
            "{part}"
        );
    }
    let mut res = reqwest::Client::new()
        .get(format!("{}/cases/{case}/events", app.base))
        .header("cookie", &member.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut seen = String::new();
    wait_for(&mut res, &mut seen, "event: timeline").await;
    seen.clear();
    // The same alert again joins the case: its signals and timeline change, its header does not.
    send(&app, "HighErrorRate", "web-1:9100", "s1").await;
    wait_for(&mut res, &mut seen, "signal_deduplicated").await;
    assert!(seen.contains("event: signals"), "{seen}");
    assert!(!seen.contains("event: header"), "{seen}");
    let r = app.post(&format!("/cases/{case}/triage"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    wait_for(&mut res, &mut seen, "event: header").await;
    wait_for(&mut res, &mut seen, r#"id="case-status">triage<"#).await;
    let gone = reqwest::Client::new()
        .get(format!("{}/cases/999/events", app.base))
        .header("cookie", &member.cookie)
        .send()
        .await
        .unwrap();
    let body = tokio::time::timeout(std::time::Duration::from_secs(10), gone.text())
        .await
        .expect("a stream of no case ends at once")
        .unwrap();
    assert!(!body.contains("event:"), "{body}");
}
