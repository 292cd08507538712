//! Engagement and notification rules end to end: a declared incident pulls in the people, the
//! on-call and the team its rules name, suggests their runbooks, welcomes everyone by mail and
//! in the room, and reaches the notification targets — while a restricted incident engages
//! no one and reaches only restricted-safe targets, digests included. Joining, subscribing,
//! removing participants and observer promotion follow the project's rules.

use crate::common::{error_fields, spawn_app, TestApp};
use axum::http::StatusCode as AxumStatus;
use dispatch_engine::scheduler::{Schedule, Scheduler};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn list(v: &Value) -> &Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a JSON array: {v}"))
}

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "POST {path}: {:?}", r.body);
    r.body
}

/// Mails in the outbox to `to`.
async fn mails_to(app: &TestApp, to: &str) -> Vec<Value> {
    list(&app.get(&format!("/outbox?to={to}")).await.body).clone()
}

/// The texts of the messages in an incident's room.
async fn room_texts(app: &TestApp, incident: &str) -> Vec<String> {
    let room = app.get(&format!("/incidents/{incident}/room")).await.body;
    list(&room["messages"])
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A webhook receiver that answers 204 to everything.
async fn receiver() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(|| async { AxumStatus::NO_CONTENT }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn participant<'a>(incident: &'a Value, email: &str) -> Option<&'a Value> {
    list(&incident["participants"])
        .iter()
        .find(|p| p["email"] == email)
}

#[tokio::test]
async fn a_matching_incident_engages_people_on_call_and_team_and_reaches_every_target() {
    let app = spawn_app().await;
    // The directory: a team, an on-call rotation, a region tag type.
    let team = created(
        &app,
        "/projects/default/teams",
        json!({"name": "Payments", "email": "payments-team@example.com"}),
    )
    .await;
    let service = created(
        &app,
        "/projects/default/services",
        json!({"name": "payments-oncall"}),
    )
    .await;
    let sid = service["id"].as_i64().unwrap();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let r = app
        .call(
            Method::PUT,
            &format!("/services/{sid}/rotation"),
            Some(json!({
                "members": ["ann@example.com", "bob@example.com"], "shift_hours": 168,
                "handoff_time": "00:00", "start_date": today, "time_zone": "UTC"
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    created(
        &app,
        "/projects/default/tag-types",
        json!({"name": "region"}),
    )
    .await;
    let hook = created(
        &app,
        "/webhooks",
        json!({"url": receiver().await, "event_types": ["incident.custom"]}),
    )
    .await;
    // The stakeholders' room: the room of a standing incident.
    app.declare("Stakeholder updates").await;
    app.run_pending_jobs().await;

    // Rules: three that match, one that does not.
    created(&app, "/engagement-rules", json!({
        "name": "checkout experts", "filter": "title ~ checkout",
        "individuals": ["dana@example.com"],
        "documents": [{"title": "Checkout runbook", "link": "https://wiki.example.com/checkout"}]
    })).await;
    created(
        &app,
        "/engagement-rules",
        json!({
            "name": "eu payments", "filter": "tag:region = eu and not status = closed",
            "teams": [team["id"]]
        }),
    )
    .await;
    created(&app, "/engagement-rules", json!({
        "name": "high needs on-call", "filter": {"field": "priority", "op": "=", "value": "high"},
        "services": [sid]
    }))
    .await;
    created(&app, "/engagement-rules", json!({
        "name": "security only", "filter": "type = security", "individuals": ["nobody@example.com"]
    }))
    .await;
    created(
        &app,
        "/notification-rules",
        json!({
            "name": "stakeholders", "filter": "priority in (high, critical)",
            "target_kind": "email", "target": "stakeholders@example.com"
        }),
    )
    .await;
    created(&app, "/notification-rules", json!({
        "name": "updates room", "filter": "all", "target_kind": "conversation", "target": "INC-1"
    }))
    .await;
    created(
        &app,
        "/notification-rules",
        json!({
            "name": "checkout hook", "filter": "text ~ checkout", "target_kind": "webhook",
            "target": hook["id"].to_string()
        }),
    )
    .await;

    let declared = created(
        &app,
        "/incidents",
        json!({
            "title": "Checkout failing", "description": "Card payments time out in the EU",
            "priority": "high", "tags": ["region:eu"]
        }),
    )
    .await;
    assert_eq!(
        list(&declared["participants"]).len(),
        1,
        "engagement is a job, not part of the declaration: {declared}"
    );
    app.run_pending_jobs().await;

    let inc = app.get("/incidents/INC-2").await.body;
    let dana = participant(&inc, "dana@example.com").expect("dana was engaged");
    assert_eq!(dana["roles"], json!(["observer"]));
    assert_eq!(dana["added_reason"], "engagement rule checkout experts");
    let ann = participant(&inc, "ann@example.com").expect("the on-call was engaged");
    assert_eq!(ann["roles"], json!(["observer"]));
    assert!(ann["added_reason"]
        .as_str()
        .unwrap()
        .contains("on call for payments-oncall"));
    assert!(
        participant(&inc, "bob@example.com").is_none(),
        "one person per service"
    );
    assert!(participant(&inc, "nobody@example.com").is_none());
    assert_eq!(
        inc["runbooks"],
        json!([{"title": "Checkout runbook", "link": "https://wiki.example.com/checkout"}])
    );

    let engaged = app.get("/incidents/INC-2/engagements").await.body;
    let mut seen: Vec<(String, String)> = list(&engaged)
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("document", "checkout experts"),
            ("individual", "checkout experts"),
            ("service", "high needs on-call"),
            ("team", "eu payments"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let timeline = app.get("/incidents/INC-2/timeline").await.body;
    let kinds: Vec<&str> = list(&timeline)
        .iter()
        .map(|e| {
            e["type"]
                .as_str()
                .or(e["kind"].as_str())
                .unwrap_or_default()
        })
        .collect();
    for k in [
        "participant_engaged",
        "oncall_engaged",
        "team_engaged",
        "runbook_suggested",
        "notification_sent",
    ] {
        assert!(kinds.contains(&k), "{k} is not on the timeline: {kinds:?}");
    }

    // Welcome mails: role, status, links and the runbook; one each.
    for who in ["dana@example.com", "ann@example.com"] {
        let mails = mails_to(&app, who).await;
        assert_eq!(mails.len(), 1, "{who}: {mails:?}");
        assert_eq!(
            mails[0]["subject"],
            "[INC-2] You were added as observer: Checkout failing"
        );
        let text = mails[0]["text"].as_str().unwrap();
        for needle in [
            "Your role: observer",
            "Status: active",
            "Checkout runbook: https://wiki.example.com/checkout",
            "Incident document:",
            "Open the incident: http://127.0.0.1:8080/incidents/INC-2",
        ] {
            assert!(
                text.contains(needle),
                "{who}'s welcome lacks {needle:?}: {text}"
            );
        }
    }
    // The room's welcome, then one announcement of everyone the rules brought in, with the
    // runbook (engagement runs once the room is set up).
    let texts = room_texts(&app, "INC-2").await;
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[0].starts_with("*INC-2"), "{}", texts[0]);
    assert!(
        texts[1].contains("dana@example.com: observer"),
        "{}",
        texts[1]
    );
    assert!(
        texts[1].contains("ann@example.com: observer"),
        "{}",
        texts[1]
    );
    assert!(texts[1].contains("Checkout runbook"), "{}", texts[1]);
    // The team's address heard, and the targets got the card.
    let team_mail = mails_to(&app, "payments-team@example.com").await;
    assert_eq!(team_mail.len(), 1);
    let card = mails_to(&app, "stakeholders@example.com").await;
    assert_eq!(card.len(), 1, "{card:?}");
    assert_eq!(card[0]["subject"], "[INC-2] New incident: Checkout failing");
    let text = card[0]["text"].as_str().unwrap();
    for needle in [
        "Card payments time out in the EU",
        "Priority: High",
        "Commander: admin@example.com",
        "Join or subscribe: http://127.0.0.1:8080/incidents/INC-2#participants-h",
    ] {
        assert!(text.contains(needle), "the card lacks {needle:?}: {text}");
    }
    let room1 = room_texts(&app, "INC-1").await;
    assert!(
        room1.iter().any(|t| t.contains("INC-2: Checkout failing")),
        "{room1:?}"
    );
    let deliveries = app
        .get(&format!("/webhooks/{}/deliveries", hook["id"]))
        .await
        .body;
    let items = deliveries["items"]
        .as_array()
        .unwrap_or_else(|| list(&deliveries));
    assert_eq!(items.len(), 1, "{deliveries}");
    assert_eq!(items[0]["event_type"], "incident.notification");
    assert_eq!(items[0]["status"], "delivered");

    // A subscriber and the targets hear of a significant change; engagement adds nothing new.
    let carl = app.token_for("carl@example.com").await;
    let r = app
        .call_as(
            Some(&carl),
            Method::POST,
            "/incidents/INC-2/subscribe",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = app
        .patch("/incidents/INC-2", json!({"severity": "critical"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.run_pending_jobs().await;
    let summary = mails_to(&app, "carl@example.com").await;
    assert_eq!(summary.len(), 1, "{summary:?}");
    assert_eq!(summary[0]["subject"], "[INC-2] Updated: Checkout failing");
    assert!(summary[0]["text"]
        .as_str()
        .unwrap()
        .contains("severity: undetermined → critical"));
    assert_eq!(mails_to(&app, "stakeholders@example.com").await.len(), 2);
    assert_eq!(
        list(&app.get("/incidents/INC-2/engagements").await.body).len(),
        4,
        "re-evaluation records each match once"
    );
    assert_eq!(mails_to(&app, "dana@example.com").await.len(), 1);
}

#[tokio::test]
async fn a_restricted_incident_engages_no_one_and_reaches_only_restricted_safe_targets() {
    let app = spawn_app().await;
    created(
        &app,
        "/engagement-rules",
        json!({
            "name": "everyone", "filter": "all", "individuals": ["dana@example.com"]
        }),
    )
    .await;
    created(&app, "/notification-rules", json!({
        "name": "all staff", "filter": "all", "target_kind": "email", "target": "staff@example.com"
    }))
    .await;
    created(
        &app,
        "/notification-rules",
        json!({
            "name": "security team", "filter": "all", "target_kind": "email",
            "target": "security@example.com", "restricted_safe": true
        }),
    )
    .await;
    created(&app, "/incidents", json!({
        "title": "Credential leak", "description": "Keys on a paste site", "visibility": "restricted"
    }))
    .await;
    app.declare("Disk full").await;
    app.run_pending_jobs().await;

    let leak = app.get("/incidents/INC-1").await.body;
    assert!(participant(&leak, "dana@example.com").is_none());
    assert!(list(&app.get("/incidents/INC-1/engagements").await.body).is_empty());
    let open = app.get("/incidents/INC-2").await.body;
    assert!(
        participant(&open, "dana@example.com").is_some(),
        "the rule works on open incidents"
    );
    let staff = mails_to(&app, "staff@example.com").await;
    assert_eq!(staff.len(), 1, "only the open incident's card: {staff:?}");
    assert!(!staff[0].to_string().contains("Credential"));
    let security = mails_to(&app, "security@example.com").await;
    assert_eq!(security.len(), 2, "{security:?}");

    // The daily digest: the restricted incident is absent from what staff get.
    let daily = || {
        vec![Schedule::parse("daily_digest", "* * * * * *")
            .unwrap()
            .unwrap()]
    };
    let s = Scheduler::new(app.engine.clone(), daily());
    let t0 = dispatch_core::now();
    s.tick(t0).await.unwrap();
    assert_eq!(s.tick(t0 + chrono::Duration::seconds(2)).await.unwrap(), 1);
    app.run_pending_jobs().await;
    let staff = mails_to(&app, "staff@example.com").await;
    let digest = staff
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .unwrap()
                .starts_with("Incident digest")
        })
        .expect("staff got a digest");
    let text = digest["text"].as_str().unwrap();
    assert!(text.contains("INC-2: Disk full"), "{text}");
    assert!(
        !text.contains("INC-1") && !text.contains("Credential"),
        "{text}"
    );
    let security = mails_to(&app, "security@example.com").await;
    let digest = security
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .unwrap()
                .starts_with("Incident digest")
        })
        .expect("the restricted-safe target got a digest");
    assert!(digest["text"]
        .as_str()
        .unwrap()
        .contains("INC-1: Credential leak"));
    // The same period does not send twice.
    s.tick(t0 + chrono::Duration::seconds(2)).await.unwrap();
    app.run_pending_jobs().await;
    assert_eq!(mails_to(&app, "staff@example.com").await.len(), 2);

    // Only admins join or subscribe to it; to anyone else it does not exist.
    let member = app.token_for("eve@example.com").await;
    for action in ["join", "subscribe"] {
        let r = app
            .call_as(
                Some(&member),
                Method::POST,
                &format!("/incidents/INC-1/{action}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}: {:?}", r.body);
    }
    let r = app.post("/incidents/INC-1/join", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "an owner may join: {:?}", r.body);
}

#[tokio::test]
async fn joining_removing_and_talking_follow_the_projects_rules() {
    let app = spawn_app().await;
    app.declare("Search slow").await;
    app.run_pending_jobs().await;
    let fay = app.token_for("fay@example.com").await;
    let r = app
        .call_as(Some(&fay), Method::POST, "/incidents/INC-1/join", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let me = participant(&r.body, "fay@example.com").unwrap();
    assert_eq!(me["roles"], json!(["participant"]));
    app.run_pending_jobs().await;
    let room = app.get("/incidents/INC-1/room").await.body;
    assert!(list(&room["members"]).contains(&json!("fay@example.com")));
    assert_eq!(mails_to(&app, "fay@example.com").await.len(), 1);

    // The commander and people with open tasks stay.
    let r = app
        .call(
            Method::DELETE,
            "/incidents/INC-1/participants/admin@example.com",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("incident commander"));
    let t = created(
        &app,
        "/incidents/INC-1/tasks",
        json!({
            "description": "Rebuild the index", "assignees": ["fay@example.com"]
        }),
    )
    .await;
    let r = app
        .call(
            Method::DELETE,
            "/incidents/INC-1/participants/fay@example.com",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{:?}", r.body);
    let msg = r.body["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("1 open task") && msg.contains(&format!("#{}", t["id"])),
        "{msg}"
    );
    let r = app
        .call(
            Method::DELETE,
            "/incidents/INC-1/participants/not-an-email",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), vec!["email"]);

    // An observer who talks becomes a participant (two messages in this project).
    let r = app
        .patch(
            "/projects/default",
            json!({"observer_promotion_messages": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.post(
        "/incidents/INC-1/roles",
        json!({"email": "gus@example.com", "role": "observer"}),
    )
    .await;
    let gus = app.token_for("gus@example.com").await;
    for n in 1..=2 {
        let r = app
            .call_as(
                Some(&gus),
                Method::POST,
                "/incidents/INC-1/room/messages",
                Some(json!({"text": format!("looking ({n})")})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        let inc = app.get("/incidents/INC-1").await.body;
        let roles = participant(&inc, "gus@example.com").unwrap()["roles"].clone();
        let expected = if n == 1 { "observer" } else { "participant" };
        assert_eq!(roles, json!([expected]), "after {n} message(s)");
    }
    let r = app
        .call(
            Method::DELETE,
            "/incidents/INC-1/participants/gus@example.com",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        participant(&r.body, "gus@example.com").unwrap()["roles"],
        json!([])
    );

    // A project that disallows self-join refuses members, not admins.
    let r = app
        .patch("/projects/default", json!({"allow_self_join": false}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let hal = app.token_for("hal@example.com").await;
    let r = app
        .call_as(Some(&hal), Method::POST, "/incidents/INC-1/subscribe", None)
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("does not allow"));
    let r = app.post("/incidents/INC-1/subscribe", json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn rules_are_validated_field_by_field_and_written_by_admins_only() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/engagement-rules",
            json!({
                "filter": "priority = high and", "teams": [999],
                "documents": [{"title": "", "link": "not a link"}]
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let fields = error_fields(&r.body);
    for f in ["name", "filter", "documents"] {
        assert!(fields.contains(&f.to_string()), "{f} not named: {fields:?}");
    }
    assert!(r.body.to_string().contains("at position 20"), "{}", r.body);
    let r = app
        .post(
            "/engagement-rules",
            json!({"name": "x", "filter": "all", "teams": [999]}),
        )
        .await;
    assert_eq!(error_fields(&r.body), vec!["teams"]);
    let r = app
        .post(
            "/notification-rules",
            json!({
                "name": "n", "filter": {"field": "colour", "value": "red"},
                "target_kind": "pigeon", "target": "x"
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), vec!["filter"]);
    let r = app
        .post("/notification-rules", json!({
            "name": "n", "filter": "all", "target_kind": "email", "target": "a@example.com, nope"
        }))
        .await;
    assert_eq!(error_fields(&r.body), vec!["target"]);

    let ok = created(&app, "/notification-rules", json!({
        "name": "n", "filter": "severity = high", "target_kind": "email", "target": "a@example.com"
    }))
    .await;
    assert_eq!(ok["filter_text"], "severity = high");
    let r = app
        .patch(
            &format!("/notification-rules/{}", ok["id"]),
            json!({"filter": "not status = closed", "enabled": false}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["filter_text"], "not status = closed");
    assert_eq!(r.body["enabled"], false);
    assert_eq!(r.body["target"], "a@example.com");
    let dup = app
        .post(
            "/notification-rules",
            json!({
                "name": "n", "filter": "all", "target_kind": "email", "target": "b@example.com"
            }),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);

    let member = app.token_for("mo@example.com").await;
    let r = app
        .call_as(
            Some(&member),
            Method::POST,
            "/engagement-rules",
            Some(json!({
                "name": "m", "filter": "all", "individuals": ["a@example.com"]
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .call_as(Some(&member), Method::GET, "/notification-rules", None)
        .await;
    assert_eq!(list(&r.body).len(), 1);
    let r = app
        .call(
            Method::DELETE,
            &format!("/notification-rules/{}", ok["id"]),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    // The list takes a filter too, with the position of a mistake.
    app.declare("Cache cold").await;
    let r = app.get("/incidents?filter=title%20~%20cache").await;
    assert_eq!(r.body["total"], 1);
    let r = app
        .get("/incidents?filter=title%20~%20cache%20and%20status%20%3D%20closed")
        .await;
    assert_eq!(r.body["total"], 0);
    let r = app.get("/incidents?filter=title%20%3D").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&r.body), vec!["filter"]);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn rule_filters_beyond_the_bounds_are_a_422_naming_the_filter_with_its_position_or_path() {
    let app = spawn_app().await;
    let deep_text = json!(format!(
        "{}status = active{}",
        "(".repeat(3000),
        ")".repeat(3000)
    ));
    let deep_json = (0..40).fold(
        json!({"field": "status", "value": "active"}),
        |f, _| json!({ "not": f }),
    );
    let wide_json = json!({"or": vec![json!("status = active"); 201]});
    let bodies = |filter: &Value| {
        [
            (
                "/engagement-rules",
                json!({"name": "deep", "filter": filter, "individuals": ["a@example.com"]}),
            ),
            (
                "/notification-rules",
                json!({"name": "deep", "filter": filter, "target_kind": "email",
                       "target": "stakeholders@example.com"}),
            ),
        ]
    };
    for (filter, start) in [
        (&deep_text, "at position 33: "),
        (&deep_json, "$.not.not.not"),
        (&wide_json, "$.or[200]: "),
    ] {
        for (path, body) in bodies(filter) {
            let r = app.post(path, body).await;
            assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
            assert_eq!(error_fields(&r.body), vec!["filter"], "{path}");
            let m = r.body["error"]["fields"][0]["message"].as_str().unwrap();
            assert!(m.starts_with(start), "{path}: {m}");
        }
    }
    // Nothing was saved, and a rule at the bounds is.
    let r = app.get("/engagement-rules").await;
    assert!(list(&r.body).is_empty());
    let at_bound = json!(vec!["status = active"; 200].join(" or "));
    for (path, body) in bodies(&at_bound) {
        let r = app.post(path, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{path}: {:?}", r.body);
    }
}
