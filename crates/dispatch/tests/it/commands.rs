//! The incident commander's day through chat commands only: the API's commands endpoint and the
//! built-in room run the same grammar through the same engine; reports reach the room, the
//! mailbox and the executive document; reminders fire on a controlled clock, once per period.

use crate::common::{at_hour, spawn_app, TestApp};
use chrono::{DateTime, Duration, Utc};
use dispatch_engine::scheduler::{Schedule, Scheduler};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

async fn cmd(app: &TestApp, token: &str, text: &str) -> crate::common::Res {
    app.call_as(
        Some(token),
        Method::POST,
        "/incidents/INC-1/commands",
        Some(json!({ "text": text })),
    )
    .await
}

async fn ok(app: &TestApp, token: &str, text: &str) -> String {
    let r = cmd(app, token, text).await;
    assert_eq!(r.status, StatusCode::OK, "{text}: {}", r.body);
    assert!(r.body["blocks"].is_array(), "{}", r.body);
    r.body["text"].as_str().unwrap_or_default().to_string()
}

async fn say(app: &TestApp, token: &str, text: &str) -> Value {
    let r = app
        .call_as(
            Some(token),
            Method::POST,
            "/incidents/INC-1/room/messages",
            Some(json!({ "text": text })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

async fn room_texts(app: &TestApp) -> Vec<String> {
    let room = app.get("/incidents/INC-1/room").await.body;
    room["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn mails_to(app: &TestApp, who: &str) -> Vec<Value> {
    app.get(&format!("/outbox?to={who}"))
        .await
        .body
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn timeline(app: &TestApp) -> Vec<Value> {
    app.get("/incidents/INC-1/timeline")
        .await
        .body
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn subjects(mails: &[Value]) -> Vec<String> {
    mails
        .iter()
        .map(|m| m["subject"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn reminders(app: &TestApp) -> Scheduler {
    let every_hour = |n: &str| Schedule::parse(n, "0 * * * *").unwrap().unwrap();
    Scheduler::new(
        app.engine.clone(),
        vec![
            every_hour("task_reminders"),
            every_hour("report_reminders"),
            every_hour("close_reminders"),
        ],
    )
}

#[tokio::test]
async fn the_commander_runs_an_incident_from_declaration_to_close_with_commands_only() {
    let app = spawn_app().await;
    let ic = app.token_for("ic@example.com").await;
    let bob = app.token_for("bob@example.com").await;
    let carol = app.token_for("carol@example.com").await;
    let r = app
        .call_as(
            Some(&ic),
            Method::POST,
            "/incidents",
            Some(json!({"title": "Checkout failing", "description": "payments 500"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let declared_at: DateTime<Utc> = serde_json::from_value(r.body["reported_at"].clone()).unwrap();
    app.run_pending_jobs().await;

    // Participants.
    let text = ok(&app, &ic, "/dispatch-list-participants").await;
    assert!(
        text.contains("ic@example.com") && text.contains("incident commander"),
        "{text}"
    );

    // Assign a role from the room: the command runs as the poster, the answer lands in the room.
    let posted = say(&app, &ic, "/dispatch-assign-role @bob@example.com scribe").await;
    let reply = posted["reply"]["text"].as_str().unwrap();
    assert!(
        reply.contains("bob@example.com is now the scribe"),
        "{reply}"
    );
    app.run_pending_jobs().await;
    let room = room_texts(&app).await;
    assert!(room
        .iter()
        .any(|m| m == "/dispatch-assign-role @bob@example.com scribe"));
    assert!(room
        .iter()
        .any(|m| m.contains("bob@example.com is now the scribe")));
    assert!(subjects(&mails_to(&app, "bob@example.com").await)
        .iter()
        .any(|s| s.contains("You were added as scribe")));
    let role = timeline(&app)
        .await
        .into_iter()
        .rev()
        .find(|e| e["type"] == "role_assumed")
        .unwrap();
    assert_eq!(role["transport"], "room", "{role}");
    let text = ok(&app, &ic, "/dispatch-list-participants").await;
    assert!(
        text.contains("bob@example.com") && text.contains("scribe"),
        "{text}"
    );

    // The permission rule: a stranger may not edit, the scribe may not mark stable, anyone reads.
    let r = cmd(&app, &carol, "/dispatch-edit-incident priority=high").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not a participant"));
    let r = cmd(&app, &bob, "/dispatch-mark-stable").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("incident commander"));
    // Reading is for anyone who sees the incident, as over the API (GET …/tasks).
    let r = cmd(&app, &carol, "/dispatch-list-tasks").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    // The scribe edits.
    let text = ok(
        &app,
        &bob,
        "/dispatch-edit-incident priority=high severity=critical",
    )
    .await;
    assert!(text.contains("priority → high"), "{text}");
    let inc = app.get("/incidents/INC-1").await.body;
    assert_eq!(
        (inc["priority"].as_str(), inc["severity"].as_str()),
        (Some("high"), Some("critical"))
    );
    let edit = timeline(&app)
        .await
        .into_iter()
        .rev()
        .find(|e| e["type"] == "incident_updated")
        .unwrap();
    assert_eq!(
        (edit["actor"].as_str(), edit["transport"].as_str()),
        (Some("bob@example.com"), Some("api"))
    );

    // A task, due in a day.
    let text = ok(
        &app,
        &ic,
        "/dispatch-create-task bob@example.com \"Roll back the deploy\"",
    )
    .await;
    assert!(
        text.contains("Roll back the deploy") && text.contains("bob@example.com"),
        "{text}"
    );
    let text = ok(&app, &ic, "/dispatch-list-tasks").await;
    assert!(text.contains("#1 [open] Roll back the deploy"), "{text}");
    let mine = app
        .call_as(Some(&bob), Method::GET, "/tasks?mine=true", None)
        .await
        .body;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(mine[0]["incident"], "INC-1");
    let due: DateTime<Utc> = serde_json::from_value(mine[0]["resolve_by"].clone()).unwrap();
    let created: DateTime<Utc> = serde_json::from_value(mine[0]["created_at"].clone()).unwrap();
    assert_eq!(due - created, Duration::days(1));
    assert!(kinds(&timeline(&app).await).contains(&"task_created".to_string()));
    let dana = app.token_for("dana@example.com").await;
    ok(&app, &ic, "/dispatch-assign-role dana@example.com observer").await;
    let text = ok(&app, &dana, "/dispatch-list-my-tasks").await;
    assert!(
        text.contains("Your tasks in INC-1 (0)"),
        "an observer sees only theirs: {text}"
    );

    // A tactical report: stored, in the room, mailed to the participants, on the incident.
    let text = ok(
        &app,
        &ic,
        r#"/dispatch-status-report conditions="Checkout failing" actions="Rolling back" needs="DB team""#,
    )
    .await;
    assert!(
        text.contains("Tactical report") && text.contains("Needs: DB team"),
        "{text}"
    );
    app.run_pending_jobs().await;
    assert!(room_texts(&app)
        .await
        .iter()
        .any(|m| m.contains("Conditions: Checkout failing")));
    for who in ["ic@example.com", "bob@example.com"] {
        assert!(
            subjects(&mails_to(&app, who).await)
                .iter()
                .any(|s| s.contains("Tactical report")),
            "{who} got no report mail"
        );
    }
    let inc = app.get("/incidents/INC-1").await.body;
    assert_eq!(inc["last_tactical_report"]["details"]["needs"], "DB team");
    assert!(inc["last_executive_report"].is_null());

    // An executive report also becomes the executive document.
    ok(&app, &ic, r#"/dispatch-report-executive "Contained" "Checkout was down 20 minutes" "Review on Friday""#).await;
    app.run_pending_jobs().await;
    let docs = app.get("/incidents/INC-1/documents").await.body;
    let exec = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "executive_document")
        .expect("executive document");
    assert!(
        exec["body"].as_str().unwrap().contains("Review on Friday"),
        "{exec}"
    );
    let inc = app.get("/incidents/INC-1").await.body;
    assert_eq!(
        inc["last_executive_report"]["details"]["current_status"],
        "Contained"
    );

    // Put the tactical reminder off four hours, then let the clock run.
    let text = ok(&app, &ic, "/dispatch-remind-me tactical in 4 hours").await;
    assert!(text.contains("put off"), "{text}");
    let s = reminders(&app);
    s.tick(declared_at).await.unwrap();
    let reported = declared_at; // both reports came within seconds of the declaration
    let before = mails_to(&app, "ic@example.com").await.len();
    assert_eq!(
        s.tick(reported + Duration::hours(3) + Duration::minutes(30))
            .await
            .unwrap(),
        3
    );
    app.run_pending_jobs().await;
    assert_eq!(
        mails_to(&app, "ic@example.com").await.len(),
        before,
        "nothing is due yet: the tactical reminder is put off, the executive one is 6 hours away"
    );
    let day2 = at_hour(reported, 2, 10);
    assert_eq!(s.tick(day2).await.unwrap(), 3);
    app.run_pending_jobs().await;
    let ic_mail = subjects(&mails_to(&app, "ic@example.com").await);
    assert_eq!(
        ic_mail
            .iter()
            .filter(|s| s.contains("tactical report due"))
            .count(),
        1,
        "{ic_mail:?}"
    );
    assert_eq!(
        ic_mail
            .iter()
            .filter(|s| s.contains("executive report due"))
            .count(),
        1,
        "{ic_mail:?}"
    );
    let bob_mail = subjects(&mails_to(&app, "bob@example.com").await);
    assert_eq!(
        bob_mail
            .iter()
            .filter(|s| s.contains("overdue task"))
            .count(),
        1,
        "{bob_mail:?}"
    );
    assert!(room_texts(&app)
        .await
        .iter()
        .any(|m| m.contains("tactical report due for INC-1")));
    assert_eq!(
        kinds(&timeline(&app).await)
            .iter()
            .filter(|k| *k == "reminder_sent")
            .count(),
        2
    );
    // An hour later the same day: the digest is not sent again.
    s.tick(day2 + Duration::hours(1)).await.unwrap();
    app.run_pending_jobs().await;
    let bob_mail = subjects(&mails_to(&app, "bob@example.com").await);
    assert_eq!(
        bob_mail
            .iter()
            .filter(|s| s.contains("overdue task"))
            .count(),
        1,
        "one digest a day"
    );

    // The task is done; stable, then the weekly close reminder, then closed from the room.
    ok(&app, &bob, "/dispatch-resolve-task 1").await;
    let text = ok(&app, &ic, "/dispatch-mark-stable").await;
    assert!(text.contains("INC-1 is now stable"), "{text}");
    assert_eq!(app.get("/incidents/INC-1").await.body["status"], "stable");
    let week = at_hour(dispatch_core::now(), 8, 10);
    s.tick(week).await.unwrap();
    s.tick(week + Duration::hours(1)).await.unwrap();
    app.run_pending_jobs().await;
    let ic_mail = subjects(&mails_to(&app, "ic@example.com").await);
    assert_eq!(
        ic_mail
            .iter()
            .filter(|s| s.contains("has been stable for"))
            .count(),
        1,
        "{ic_mail:?}"
    );
    // A note kept with the ⏱ reaction, then closed from the room.
    let note = say(&app, &ic, "Root cause: an expired certificate").await;
    let react = |token: String, emoji: &'static str| {
        let app = &app;
        let id = note["id"].as_i64().unwrap();
        async move {
            app.call_as(
                Some(&token),
                Method::POST,
                &format!("/incidents/INC-1/room/messages/{id}/reactions"),
                Some(json!({ "emoji": emoji })),
            )
            .await
        }
    };
    assert_eq!(react(bob.clone(), "👍").await.body["imported"], false);
    let r = react(bob.clone(), "⏱").await;
    assert_eq!(
        (r.status, r.body["imported"].clone()),
        (StatusCode::CREATED, json!(true))
    );
    assert_eq!(
        react(ic.clone(), ":stopwatch:").await.body["imported"],
        false,
        "once per message"
    );
    let imported: Vec<Value> = timeline(&app)
        .await
        .into_iter()
        .filter(|e| e["type"] == "imported_message")
        .collect();
    assert_eq!(imported.len(), 1);
    assert!(imported[0]["description"]
        .as_str()
        .unwrap()
        .contains("expired certificate"));
    let posted = say(&app, &ic, "/dispatch-mark-closed").await;
    assert!(
        posted["reply"]["text"].as_str().unwrap().contains("closed"),
        "{posted}"
    );
    assert_eq!(app.get("/incidents/INC-1").await.body["status"], "closed");
    let text = ok(&app, &bob, "/dispatch-list-tasks").await;
    assert!(
        text.contains("[resolved] Roll back the deploy"),
        "participants still read a closed incident: {text}"
    );
    let closed = timeline(&app)
        .await
        .into_iter()
        .rev()
        .find(|e| e["type"] == "status_changed")
        .unwrap();
    assert_eq!(closed["transport"], "room");
    app.run_pending_jobs().await;
    let r = cmd(&app, &bob, "/dispatch-mark-active").await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "the scribe may not re-open"
    );
    let text = ok(&app, &ic, "/dispatch-mark-active").await;
    assert!(text.contains("INC-1 is now active again"), "{text}");
    let v = app.get("/incidents/INC-1/timeline/verify").await.body;
    assert_eq!(v["valid"], true, "{v}");
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn bad_commands_answer_with_usage_help_and_change_nothing() {
    let app = spawn_app().await;
    app.declare("Login outage").await;
    app.run_pending_jobs().await;
    let admin = app.token.clone();
    for (line, expect) in [
        ("/dispatch-frobnicate ]]]", "/dispatch-assign-role"),
        ("hello", "/dispatch-list-tasks"),
        (
            "/dispatch-assign-role bob@example.com chef",
            "Usage: /dispatch-assign-role",
        ),
        (
            "/dispatch-status-report conditions=x",
            "missing: actions, needs",
        ),
        (
            "/dispatch-edit-incident",
            "/dispatch-edit-incident field=value",
        ),
        ("", "/dispatch-"),
    ] {
        let r = cmd(&app, &admin, line).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{line}: {}",
            r.body
        );
        assert_eq!(crate::common::error_fields(&r.body), ["text"]);
        let message = r.body["error"]["fields"][0]["message"].as_str().unwrap();
        assert!(message.contains(expect), "{line}: {message}");
    }
    // Valid syntax, bad value: the engine's own validation names the field.
    let r = cmd(&app, &admin, "/dispatch-edit-incident priority=urgent").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::common::error_fields(&r.body), ["priority"]);
    assert_eq!(app.get("/incidents/INC-1").await.body["priority"], "low");
    // In the room a bad command is answered there with the usage.
    let r = app
        .post(
            "/incidents/INC-1/room/messages",
            json!({"text": "/dispatch-nope"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert!(r.body["reply"]["text"]
        .as_str()
        .unwrap()
        .contains("Unknown command /dispatch-nope"));
    // Help, and commands that need no incident.
    assert!(ok(&app, &admin, "/dispatch-help create-task")
        .await
        .contains("Usage: /dispatch-create-task"));
    let text = ok(
        &app,
        &admin,
        "/dispatch-report-incident \"Queue backlog\" \"consumers stalled\"",
    )
    .await;
    assert!(text.contains("Declared INC-2: Queue backlog"), "{text}");
    let text = ok(&app, &admin, "/dispatch-list-incidents").await;
    assert!(
        text.contains("INC-1: Login outage") && text.contains("INC-2: Queue backlog"),
        "{text}"
    );
    let r = cmd(&app, &admin, "/dispatch-resolve-task 42").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn follow_ups_of_a_stable_incident_are_due_in_a_week_and_excluded_types_get_no_reminders() {
    let app = spawn_app().await;
    let r = app
        .post(
            "/projects/default/incident-types",
            json!({"name": "Drill", "exclude_from_reminders": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .post(
            "/incidents",
            json!({"title": "Game day", "description": "practice", "type": "drill", "priority": "high"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let start = dispatch_core::now();
    ok(
        &app,
        &app.token.clone(),
        "/dispatch-create-task admin@example.com \"Write it up\"",
    )
    .await;
    let s = reminders(&app);
    s.tick(start).await.unwrap();
    s.tick(at_hour(start, 3, 10)).await.unwrap();
    app.run_pending_jobs().await;
    let mail = subjects(&mails_to(&app, "admin@example.com").await);
    assert!(
        !mail
            .iter()
            .any(|s| s.contains("due") || s.contains("overdue")),
        "{mail:?}"
    );
    ok(&app, &app.token.clone(), "/dispatch-mark-stable").await;
    ok(
        &app,
        &app.token.clone(),
        "/dispatch-create-task admin@example.com \"Fix the runbook\"",
    )
    .await;
    let tasks = app.get("/incidents/INC-1/tasks").await.body;
    let t = &tasks[1];
    assert_eq!(t["source"], "review");
    let due: DateTime<Utc> = serde_json::from_value(t["resolve_by"].clone()).unwrap();
    let created: DateTime<Utc> = serde_json::from_value(t["created_at"].clone()).unwrap();
    assert_eq!(due - created, Duration::days(7));
    assert_eq!(tasks[0]["source"], "incident");
    app.run_pending_jobs().await;
}

#[tokio::test]
async fn a_room_message_naming_another_incident_gets_its_status_card_and_a_restricted_one_stays_hidden(
) {
    let app = spawn_app().await;
    let ic = app.token_for("ic@example.com").await;
    let bob = app.token_for("bob@example.com").await;
    for (title, visibility) in [
        ("Checkout failing", "open"),
        ("Login slow", "open"),
        ("Card data exposure", "restricted"),
    ] {
        let r = app
            .call_as(
                Some(&ic),
                Method::POST,
                "/incidents",
                Some(json!({"title": title, "description": title, "visibility": visibility})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    app.run_pending_jobs().await;
    // In INC-1's room: INC-2 unfurls; INC-1 (this room's) and INC-3 (restricted) do not.
    let posted = say(&app, &ic, "is this the same as inc-2? not INC-1 or INC-3").await;
    let card = &posted["reply"];
    assert!(
        card["text"].as_str().unwrap().contains("INC-2: Login slow"),
        "{posted}"
    );
    assert!(card["blocks"].to_string().contains("Priority"), "{card}");
    let room = room_texts(&app).await;
    assert_eq!(
        room.iter()
            .filter(|t| t.contains("INC-2: Login slow"))
            .count(),
        1,
        "{room:?}"
    );
    assert!(
        !room.iter().any(|t| t.contains("Card data exposure")),
        "{room:?}"
    );
    // A message that names no incident gets no answer.
    let plain = say(&app, &bob, "looking at the dashboards").await;
    assert!(plain["reply"].is_null(), "{plain}");
}
