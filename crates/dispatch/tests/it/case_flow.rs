//! Working a case: who may do what (the one permission rule, the same over REST and chat),
//! snoozing a case's signal, escalating in one transaction, the case's thread in its
//! conversation, and the outgoing webhooks of case events.

use crate::common::{error_fields, spawn_app, TestApp};
use crate::signals::{define, errors, notification, send};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A case opened by a HighErrorRate alert with this fingerprint; its id.
async fn open_case(app: &TestApp, fingerprint: &str) -> Value {
    let got = send(app, notification(vec![errors(fingerprint)])).await;
    assert_eq!(got[0]["outcome"], "new_case", "{got:#?}");
    got[0]["case_id"].clone()
}

#[tokio::test]
async fn any_member_triages_a_case_but_only_its_assignee_or_an_admin_closes_it() {
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let case = open_case(&app, "p1").await;
    let bob = app.token_for("bob@example.com").await;
    let ann = app.token_for("ann@example.com").await;
    let as_bob = |m: Method, path: String, body: Value| {
        let bob = bob.clone();
        let app = &app;
        async move { app.call_as(Some(&bob), m, &path, Some(body)).await }
    };
    // Assigned to no one: any member works it, and may assign it.
    let r = as_bob(Method::POST, format!("/cases/{case}/triage"), json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let r = as_bob(
        Method::PATCH,
        format!("/cases/{case}"),
        json!({"assignee": "ann@example.com"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["assignee"], "ann@example.com");
    // Now it is Ann's: Bob may still look, escalate-able actions stay open, closing is hers.
    let close = json!({"resolution_reason": "benign"});
    let r = as_bob(Method::POST, format!("/cases/{case}/close"), close.clone()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:#}", r.body);
    assert_eq!(
        r.body["error"]["message"],
        "only an admin or the case's assignee may close case; you are not its assignee"
    );
    let r = as_bob(
        Method::PATCH,
        format!("/cases/{case}"),
        json!({"title": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:#}", r.body);
    let r = app
        .call_as(Some(&bob), Method::GET, &format!("/cases/{case}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        r.body["status"], "triage",
        "the refused close changed nothing"
    );
    let r = app
        .call_as(
            Some(&ann),
            Method::POST,
            &format!("/cases/{case}/close"),
            Some(close),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    assert_eq!(r.body["status"], "closed");
    let kinds: Vec<String> = app.get(&format!("/cases/{case}")).await.body["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.contains(&"case_edited".to_string()), "{kinds:?}");
    // A bad assignee is a 422 naming the field; a missing case is 404.
    let r = app
        .patch(
            &format!("/cases/{case}"),
            json!({"assignee": "not an address"}),
        )
        .await;
    assert_eq!(error_fields(&r.body), ["assignee"]);
    assert_eq!(app.get("/cases/99999").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn snoozing_a_case_makes_a_filter_that_snoozes_its_alert_until_it_expires() {
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let case = open_case(&app, "z1").await;
    let bob = app.token_for("bob@example.com").await;
    let bad = app
        .call_as(
            Some(&bob),
            Method::POST,
            &format!("/cases/{case}/snooze"),
            Some(json!({"duration": "forever"})),
        )
        .await;
    assert_eq!(error_fields(&bad.body), ["duration"]);
    let r = app
        .call_as(
            Some(&bob),
            Method::POST,
            &format!("/cases/{case}/snooze"),
            Some(json!({"duration": "2h"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let filter = r.body["filter_id"].clone();
    assert!(r.body["expression"]
        .as_str()
        .unwrap()
        .contains("alertname=\"HighErrorRate\""));
    // The same alert under another fingerprint is snoozed by that filter, not a new case.
    let got = send(&app, notification(vec![errors("z2")])).await;
    assert_eq!(got[0]["outcome"], "snoozed", "{got:#?}");
    assert_eq!(got[0]["filter_id"], filter);
    let f = app.get(&format!("/signal-filters/{filter}")).await.body;
    assert_eq!(f["mode"], "active");
    assert_eq!(f["kind"], "snooze");
}

#[tokio::test]
async fn an_escalation_that_fails_midway_leaves_no_incident_and_the_case_as_it_was() {
    use dispatch_store::testing::{count, execute};
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let case = open_case(&app, "f1").await;
    let db = app.db.open().await;
    let jobs_before = count(&db, "jobs").await;
    // The case's timeline cannot be read once the incident is written: the write must fail
    // as a whole.
    execute(&db, "ALTER TABLE case_events RENAME TO case_events_away").await;
    let r = app
        .post(&format!("/cases/{case}/escalate"), json!({}))
        .await;
    execute(&db, "ALTER TABLE case_events_away RENAME TO case_events").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{:#}", r.body);
    assert_eq!(count(&db, "incidents").await, 0, "no incident left behind");
    assert_eq!(count(&db, "events").await, 0, "no incident timeline");
    assert_eq!(count(&db, "jobs").await, jobs_before, "no job queued");
    let c = app.get(&format!("/cases/{case}")).await.body;
    assert_eq!(c["status"], "new");
    assert!(c["incident_id"].is_null());

    // Once the fault is gone it escalates, with the declare flow queued in the same write.
    let r = app
        .post(&format!("/cases/{case}/escalate"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    assert_eq!(count(&db, "incidents").await, 1);
    assert!(
        count(&db, "jobs").await > jobs_before,
        "the declare flow's jobs"
    );
    let c = app.get(&format!("/cases/{case}")).await.body;
    assert_eq!(c["incident_id"], r.body["incident"]["id"]);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_subscriber_of_case_events_gets_each_signed_with_the_case_s_tags_from_opened_to_closed() {
    use crate::common::receiver::Receiver;
    use crate::webhooks::{subscribe, verifies};
    let app = spawn_app().await;
    let rx = Receiver::start().await;
    let hook = subscribe(
        &app,
        json!({"url": rx.url, "event_types": ["case.created", "case.status_changed",
            "case.escalated", "case.closed", "case.updated", "signal.resolved"]}),
    )
    .await;
    let bad = app
        .post(
            "/webhooks",
            json!({"url": rx.url, "event_types": ["case.lost"]}),
        )
        .await;
    assert_eq!(error_fields(&bad.body), ["event_types"]);
    let secret = hook["secret"].as_str().unwrap();
    // A typed tag the definition gives its cases, and a plain one added to case one later.
    for (path, body) in [
        ("/projects/default/tag-types", json!({"name": "team"})),
        (
            "/projects/default/tags",
            json!({"name": "payments", "tag_type": "team"}),
        ),
        ("/projects/default/tags", json!({"name": "db"})),
    ] {
        let r = app.post(path, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{path}: {:#}", r.body);
    }
    define(
        &app,
        json!({"name": "Errors", "source": "alertmanager",
        "match": {"alertname": "HighErrorRate"}, "tags": ["team:payments"]}),
    )
    .await;
    let one = open_case(&app, "w1").await;
    let two = open_case(&app, "w2").await;
    app.post(&format!("/cases/{one}/triage"), json!({})).await;
    let r = app
        .patch(
            &format!("/cases/{one}"),
            json!({"tags": ["team:payments", "db"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let mut resolved = errors("w1");
    resolved["status"] = json!("resolved");
    send(&app, notification(vec![resolved])).await;
    let r = app
        .post(
            &format!("/cases/{one}/close"),
            json!({"resolution_reason": "mitigated"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app.post(&format!("/cases/{two}/escalate"), json!({})).await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.run_pending_jobs().await;

    let got = rx.requests();
    let seen: Vec<(String, Value)> = got
        .iter()
        .map(|r| {
            assert!(verifies(secret, r), "signed: {r:?}");
            let b = r.json();
            (
                b["type"].as_str().unwrap().to_string(),
                b["data"]["case"]["id"].clone(),
            )
        })
        .collect();
    let want = [
        ("case.created", &one),
        ("case.created", &two),
        ("case.status_changed", &one),
        ("case.updated", &one),
        ("signal.resolved", &one),
        ("case.closed", &one),
        ("case.escalated", &two),
    ];
    assert_eq!(seen.len(), want.len(), "{seen:#?}");
    for (t, id) in want {
        assert!(
            seen.iter().any(|(st, sid)| st == t && sid == id),
            "{t} for case {id}: {seen:#?}"
        );
    }
    // Each carries the case's tags as the case API shows them (`type:name` for a typed one),
    // as they stand at that event.
    let of = |t: &str, id: &Value| {
        got.iter()
            .map(|r| r.json())
            .find(|b| b["type"] == t && &b["data"]["case"]["id"] == id)
            .unwrap_or_else(|| panic!("{t} for case {id}"))
    };
    for (t, id) in [("case.created", &one), ("case.escalated", &two)] {
        assert_eq!(
            of(t, id)["data"]["case"]["tags"],
            json!(["team:payments"]),
            "{t}"
        );
    }
    let updated = of("case.updated", &one);
    assert_eq!(
        updated["data"]["case"]["tags"],
        json!(["db", "team:payments"]),
        "{updated:#}"
    );
    assert_eq!(
        updated["data"]["case"]["tags"],
        app.get(&format!("/cases/{one}")).await.body["tags"],
        "the same shape as the case API"
    );
    assert_eq!(
        updated["data"]["event"]["details"]["tags"],
        json!(["db", "team:payments"]),
        "the change names the new set in the same shape"
    );
    let closed = of("case.closed", &one);
    assert_eq!(
        closed["data"]["case"]["tags"],
        json!(["db", "team:payments"])
    );
    assert_eq!(closed["data"]["case"]["status"], "closed");
    assert_eq!(closed["data"]["case"]["resolution_reason"], "mitigated");
    assert_eq!(closed["data"]["case"]["title"], "HighErrorRate on payments");
    let d = app
        .get(&format!("/webhooks/{}/deliveries", hook["id"]))
        .await
        .body;
    assert_eq!(d["total"], 7, "each is a durable delivery: {d:#}");
    assert!(d["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["status"] == "delivered"));
}

/// Makes the person with this e-mail a member of the default project.
async fn join_default_project(app: &TestApp, email: &str) {
    let id = app.user_id(email).await;
    let r = app
        .call(
            Method::PUT,
            &format!("/projects/default/members/{id}"),
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
}

#[tokio::test]
async fn the_case_list_keeps_a_members_only_project_s_cases_to_its_members() {
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let case = open_case(&app, "m1").await;
    let bob = app.token_for("bob@example.com").await;
    let listed = |token: Option<String>| {
        let app = &app;
        async move {
            let r = match token {
                Some(t) => app.call_as(Some(&t), Method::GET, "/cases", None).await,
                None => app.call(Method::GET, "/cases", None).await,
            };
            assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
            (
                r.body["total"].as_u64().unwrap(),
                r.body["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["id"].clone())
                    .collect::<Vec<_>>(),
            )
        }
    };
    assert_eq!(listed(Some(bob.clone())).await, (1, vec![case.clone()]));
    let r = app
        .patch("/projects/default", json!({"members_only": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    // Not a member: neither listed (nor counted) nor shown.
    assert_eq!(listed(Some(bob.clone())).await, (0, vec![]));
    let r = app
        .call_as(Some(&bob), Method::GET, &format!("/cases/{case}"), None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // An admin sees it; so does Bob once he is a member.
    assert_eq!(listed(None).await, (1, vec![case.clone()]));
    join_default_project(&app, "bob@example.com").await;
    assert_eq!(listed(Some(bob)).await, (1, vec![case]));
}

#[tokio::test]
async fn a_members_only_project_s_signals_definitions_and_filters_are_shown_to_its_members_only() {
    let app = spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let case = open_case(&app, "s1").await;
    let r = app
        .patch("/projects/default", json!({"members_only": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let bob = app.token_for("bob@example.com").await;
    // Bob, not a member, may not see the case, so neither its signals.
    for path in [
        "/signal-instances".to_string(),
        format!("/signal-instances?case={case}"),
        "/signal-instances?project=default".to_string(),
    ] {
        let r = app.call_as(Some(&bob), Method::GET, &path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
        assert_eq!(r.body["total"], 0, "{path}: {:#}", r.body);
        assert_eq!(r.body["items"], json!([]), "{path}");
    }
    // Nor the project's definitions and filters: what a members-only project watches (and
    // silences) is its members'.
    let defs = app.get("/projects/default/signal-definitions").await.body;
    let id = defs[0]["id"].clone();
    let r = app
        .post(
            "/signal-filters",
            json!({"name": "Quiet pay-1", "expression": "host=\"pay-1\"", "mode": "active"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    let filter = r.body["id"].clone();
    for path in [
        "/projects/default/signal-definitions".to_string(),
        format!("/projects/default/signal-definitions/{id}"),
        format!("/signal-filters/{filter}"),
    ] {
        let r = app.call_as(Some(&bob), Method::GET, &path, None).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {:#}", r.body);
    }
    for path in ["/signal-definitions", "/signal-filters"] {
        let r = app.call_as(Some(&bob), Method::GET, path, None).await;
        assert_eq!(
            (r.body["total"].clone(), r.body["items"].clone()),
            (json!(0), json!([])),
            "{path}"
        );
    }
    let mia = crate::common::pages::signed_in(&app, "mia@example.com", "member").await;
    let page = mia.get(&app, "/signal-filters").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains(r#"id="members-only""#), "{}", page.html);
    assert!(
        !page.html.contains("Quiet pay-1"),
        "the filter is not listed"
    );
    let page = mia.get(&app, "/signals").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains(r#"id="members-only""#), "{}", page.html);
    assert!(
        !page.html.contains("Errors"),
        "the definition is not listed"
    );
    assert!(
        !page.html.contains(&format!("/cases/{case}")),
        "the Signals page lists no alert of the project: {}",
        page.html
    );
    // An admin sees them; so does Bob once he is a member.
    let r = app.get(&format!("/signal-instances?case={case}")).await;
    assert_eq!(r.body["total"], 1, "{:#}", r.body);
    join_default_project(&app, "bob@example.com").await;
    for path in ["/signal-definitions", "/signal-filters"] {
        let r = app.call_as(Some(&bob), Method::GET, path, None).await;
        assert_eq!(r.body["total"], 1, "{path}: {:#}", r.body);
    }
    let r = app
        .call_as(
            Some(&bob),
            Method::GET,
            &format!("/projects/default/signal-definitions/{id}"),
            None,
        )
        .await;
    assert_eq!(r.body["name"], "Errors", "{:#}", r.body);
}
