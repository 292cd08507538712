//! The incident commander's day from the seed documents, end to end through chat commands only
//! (issue 5, "Done when"): a fresh server with the built-in providers, mail going to a real SMTP
//! server and incident events to a webhook receiver. The IC reports the incident from the
//! stakeholders' standing incident, the rules pull in the right people, then the IC lists the
//! participants, assigns a scribe, raises the priority, hands out a task, posts a status report,
//! is reminded on a controlled clock, marks the incident stable and closes it. After each step the
//! room, the mailbox, the receiver and the timeline say what happened.

use crate::common::receiver::Receiver;
use crate::common::smtp::{mailing_to, SmtpSink};
use crate::common::{at_hour, Res, TestApp};
use chrono::{DateTime, Duration, Utc};
use dispatch_engine::scheduler::{Schedule, Scheduler};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const INC: &str = "INC-2";
const IC: &str = "ic@example.com";
const SCRIBE: &str = "bob@example.com";
const EXPERT: &str = "dana@example.com";
const ON_CALL: &str = "ann@example.com";
const TEAM: &str = "payments-team@example.com";
const STAKEHOLDERS: &str = "stakeholders@example.com";
const SUBJECT: &str = "Checkout failing";

/// The day's world: the server, the SMTP server, the receiver, and how much of what they got
/// the test has looked at already.
struct Day {
    app: TestApp,
    sink: SmtpSink,
    rx: Receiver,
    ic: String,
    mails_seen: usize,
    events_seen: usize,
}

impl Day {
    /// Posts `text` as the IC to `/api/v1{path}`.
    async fn post(&self, path: &str, text: &str) -> Res {
        self.app
            .call_as(
                Some(&self.ic),
                Method::POST,
                path,
                Some(json!({ "text": text })),
            )
            .await
    }

    /// Runs a command through the commands endpoint of `incident`; returns the reply's text.
    async fn command(&self, incident: &str, text: &str) -> String {
        let r = self
            .post(&format!("/incidents/{incident}/commands"), text)
            .await;
        assert_eq!(r.status, StatusCode::OK, "{text}: {}", r.body);
        r.body["text"].as_str().expect("a text reply").to_string()
    }

    /// Posts a command in the incident's room as the IC; returns the reply posted there.
    async fn say(&self, text: &str) -> String {
        let r = self
            .post(&format!("/incidents/{INC}/room/messages"), text)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{text}: {}", r.body);
        r.body["reply"]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{text}: no reply in {}", r.body))
            .to_string()
    }

    /// The texts of the messages in an incident's room.
    async fn room(&self, incident: &str) -> Vec<String> {
        let room = self.app.get(&format!("/incidents/{incident}/room")).await;
        assert_eq!(room.status, StatusCode::OK, "{}", room.body);
        room.body["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["text"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Asserts that some message in the incident's room contains each of `needles`.
    async fn room_shows(&self, needles: &[&str]) {
        let room = self.room(INC).await;
        for n in needles {
            assert!(
                room.iter().any(|m| m.contains(n)),
                "the room lacks {n:?}: {room:#?}"
            );
        }
    }

    /// The mails the SMTP server accepted since the last call.
    fn new_mails(&mut self) -> Vec<Value> {
        let all = self.sink.received();
        let new = all[self.mails_seen..].to_vec();
        self.mails_seen = all.len();
        new
    }

    /// The types of the events about the incident the receiver got since the last call.
    fn new_events(&mut self) -> Vec<String> {
        let all = self.delivered("");
        let new = all[self.events_seen..]
            .iter()
            .map(|b| b["type"].as_str().unwrap_or_default().to_string())
            .collect();
        self.events_seen = all.len();
        new
    }

    /// The bodies of the messages about the incident the receiver got, of `kind` (every kind
    /// when empty).
    fn delivered(&self, kind: &str) -> Vec<Value> {
        self.rx
            .requests()
            .iter()
            .map(|r| r.json())
            .filter(|b| b["data"]["incident"]["name"] == INC)
            .filter(|b| kind.is_empty() || b["type"] == kind)
            .collect()
    }

    /// The incident's timeline events.
    async fn timeline(&self) -> Vec<Value> {
        let r = self.app.get(&format!("/incidents/{INC}/timeline")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.body.as_array().expect("events").clone()
    }

    /// Asserts that the timeline holds an event of each kind, and the receiver got each.
    async fn recorded(&mut self, kinds: &[&str]) {
        let timeline: Vec<String> = self
            .timeline()
            .await
            .iter()
            .map(|e| e["type"].as_str().unwrap_or_default().to_string())
            .collect();
        let delivered = self.new_events();
        for k in kinds {
            assert!(
                timeline.iter().any(|t| t == k),
                "{k} is not on the timeline: {timeline:?}"
            );
            let t = format!("incident.{k}");
            assert!(
                delivered.contains(&t),
                "the receiver did not get {t}: {delivered:?}"
            );
        }
    }

    async fn incident(&self) -> Value {
        self.app.get(&format!("/incidents/{INC}")).await.body
    }
}

/// The mails among `mails` whose envelope names `to`.
fn to<'a>(mails: &'a [Value], who: &str) -> Vec<&'a Value> {
    mails
        .iter()
        .filter(|m| {
            m["rcpt_tos"]
                .as_array()
                .is_some_and(|r| r.iter().any(|a| a == who))
        })
        .collect()
}

/// The one mail among `mails` to `who` whose subject is `subject`.
fn one<'a>(mails: &'a [Value], who: &str, subject: &str) -> &'a Value {
    let found: Vec<&Value> = to(mails, who)
        .into_iter()
        .filter(|m| m["subject"] == subject)
        .collect();
    assert_eq!(found.len(), 1, "one {subject:?} to {who}: {mails:#?}");
    found[0]
}

fn text(mail: &Value) -> &str {
    mail["text"].as_str().unwrap_or_default()
}

fn participant<'a>(incident: &'a Value, email: &str) -> Option<&'a Value> {
    incident["participants"]
        .as_array()
        .expect("participants")
        .iter()
        .find(|p| p["email"] == email)
}

async fn created(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, body).await;
    assert_eq!(r.status, StatusCode::CREATED, "POST {path}: {}", r.body);
    r.body
}

/// The directory and the rules: an expert, a team with an address, an on-call rotation of two,
/// and the stakeholders' address and room.
async fn rules(app: &TestApp) {
    let team = created(
        app,
        "/projects/default/teams",
        json!({"name": "Payments", "email": TEAM}),
    )
    .await;
    let service = created(
        app,
        "/projects/default/services",
        json!({"name": "payments-oncall"}),
    )
    .await;
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let r = app
        .call(
            Method::PUT,
            &format!("/services/{}/rotation", service["id"]),
            Some(json!({
                "members": [ON_CALL, "carl@example.com"], "shift_hours": 168,
                "handoff_time": "00:00", "start_date": today, "time_zone": "UTC"
            })),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    created(
        app,
        "/engagement-rules",
        json!({
            "name": "checkout experts", "filter": "title ~ checkout", "individuals": [EXPERT],
            "documents": [{"title": "Checkout runbook", "link": "https://wiki.example.com/checkout"}]
        }),
    )
    .await;
    created(
        app,
        "/engagement-rules",
        json!({"name": "payments team", "filter": "text ~ payments", "teams": [team["id"]]}),
    )
    .await;
    created(
        app,
        "/engagement-rules",
        json!({"name": "payments on call", "filter": "title ~ checkout and status = active",
            "services": [service["id"]]}),
    )
    .await;
    created(
        app,
        "/engagement-rules",
        json!({"name": "security", "filter": "type = security", "individuals": ["nobody@example.com"]}),
    )
    .await;
    created(
        app,
        "/notification-rules",
        json!({"name": "stakeholders", "filter": "title ~ checkout",
            "target_kind": "email", "target": STAKEHOLDERS}),
    )
    .await;
    created(
        app,
        "/notification-rules",
        json!({"name": "updates room", "filter": "title ~ checkout",
            "target_kind": "conversation", "target": "INC-1"}),
    )
    .await;
}

#[tokio::test]
async fn the_commander_s_day_from_report_to_close_through_commands_only() {
    let sink = SmtpSink::start();
    let app = crate::common::TestApp::builder()
        .providers(mailing_to(&sink))
        .spawn()
        .await;
    let rx = Receiver::start().await;
    created(&app, "/webhooks", json!({"url": rx.url})).await;
    // The stakeholders' standing incident, whose room the IC reports from.
    app.declare("Stakeholder updates").await;
    app.run_pending_jobs().await;
    rules(&app).await;
    let ic = app.token_for(IC).await;
    let mut day = Day {
        app,
        sink,
        rx,
        ic,
        mails_seen: 0,
        events_seen: 0,
    };
    assert!(day.new_mails().is_empty(), "no rule matches INC-1");

    // Report: the IC reports and commands the incident; engagement runs as jobs.
    let reply = day
        .command(
            "INC-1",
            &format!("/dispatch-report-incident \"{SUBJECT}\" \"Card payments time out\""),
        )
        .await;
    assert!(
        reply.contains(&format!("Declared {INC}: {SUBJECT}")) && reply.contains(IC),
        "{reply}"
    );
    let declared_at: DateTime<Utc> =
        serde_json::from_value(day.incident().await["reported_at"].clone()).unwrap();
    day.app.run_pending_jobs().await;

    let inc = day.incident().await;
    assert_eq!(inc["commander"]["email"], IC, "{inc}");
    let dana = participant(&inc, EXPERT).expect("the expert was engaged");
    assert_eq!(dana["roles"], json!(["observer"]));
    assert_eq!(dana["added_reason"], "engagement rule checkout experts");
    let ann = participant(&inc, ON_CALL).expect("the on-call was engaged");
    assert_eq!(ann["roles"], json!(["observer"]));
    assert!(
        participant(&inc, "carl@example.com").is_none(),
        "one per service"
    );
    assert!(participant(&inc, "nobody@example.com").is_none());
    let mut engaged: Vec<String> = day
        .app
        .get(&format!("/incidents/{INC}/engagements"))
        .await
        .body
        .as_array()
        .expect("engagements")
        .iter()
        .map(|e| {
            format!(
                "{} by {}",
                e["kind"].as_str().unwrap(),
                e["rule"].as_str().unwrap()
            )
        })
        .collect();
    engaged.sort();
    assert_eq!(
        engaged,
        [
            "document by checkout experts",
            "individual by checkout experts",
            "service by payments on call",
            "team by payments team",
        ]
    );

    let mails = day.new_mails();
    for who in [EXPERT, ON_CALL] {
        let welcome = one(
            &mails,
            who,
            &format!("[{INC}] You were added as observer: {SUBJECT}"),
        );
        assert_eq!(welcome["mail_from"], "dispatch@example.org");
        for needle in [
            "Your role: observer",
            "Status: active",
            "Checkout runbook: https://wiki.example.com/checkout",
        ] {
            assert!(
                text(welcome).contains(needle),
                "{who}: {needle:?} in {welcome}"
            );
        }
    }
    let card = one(
        &mails,
        TEAM,
        &format!("[{INC}] Your team was engaged: {SUBJECT}"),
    );
    assert!(text(card).contains("Card payments time out"), "{card}");
    let card = one(
        &mails,
        STAKEHOLDERS,
        &format!("[{INC}] New incident: {SUBJECT}"),
    );
    assert!(text(card).contains(&format!("Commander: {IC}")), "{card}");
    assert!(
        to(&mails, IC).is_empty(),
        "the reporter needs no welcome: {mails:#?}"
    );
    assert_eq!(mails.len(), 4, "{mails:#?}");

    day.room_shows(&[
        &format!("{EXPERT}: observer"),
        &format!("{ON_CALL}: observer"),
        "Checkout runbook",
    ])
    .await;
    let room1 = day.room("INC-1").await;
    assert!(
        room1
            .iter()
            .any(|t| t.contains(&format!("{INC}: {SUBJECT}"))),
        "the stakeholders' room shows the card: {room1:#?}"
    );
    day.recorded(&[
        "incident_declared",
        "participant_engaged",
        "oncall_engaged",
        "team_engaged",
        "runbook_suggested",
        "notification_sent",
        "email_sent",
    ])
    .await;

    // Who is here.
    let reply = day.command(INC, "/dispatch-list-participants").await;
    for needle in [IC, "incident commander", EXPERT, ON_CALL, "observer"] {
        assert!(reply.contains(needle), "{needle:?} in {reply}");
    }

    // A scribe, from the room: the answer and the announcement are there, the scribe is mailed.
    let reply = day
        .say(&format!("/dispatch-assign-role @{SCRIBE} scribe"))
        .await;
    assert!(
        reply.contains(&format!("{SCRIBE} is now the scribe")),
        "{reply}"
    );
    day.app.run_pending_jobs().await;
    day.room_shows(&[
        &format!("/dispatch-assign-role @{SCRIBE} scribe"),
        &format!("{SCRIBE} is now the scribe"),
    ])
    .await;
    let mails = day.new_mails();
    let welcome = one(
        &mails,
        SCRIBE,
        &format!("[{INC}] You were added as scribe: {SUBJECT}"),
    );
    assert!(text(welcome).contains("Your role: scribe"), "{welcome}");
    assert_eq!(mails.len(), 1, "{mails:#?}");
    day.recorded(&["role_assumed", "participant_added"]).await;
    let scribe = participant(&day.incident().await, SCRIBE).cloned().unwrap();
    assert_eq!(scribe["roles"], json!(["scribe"]));

    // Higher priority: stakeholders hear the change, engagement adds no one twice.
    let reply = day
        .command(INC, "/dispatch-edit-incident priority=high")
        .await;
    assert!(reply.contains("priority → high"), "{reply}");
    day.app.run_pending_jobs().await;
    assert_eq!(day.incident().await["priority"], "high");
    let mails = day.new_mails();
    let summary = one(&mails, STAKEHOLDERS, &format!("[{INC}] Updated: {SUBJECT}"));
    assert!(text(summary).contains("priority: low → high"), "{summary}");
    assert_eq!(mails.len(), 1, "no second welcome or card: {mails:#?}");
    day.recorded(&["incident_updated", "notification_sent"])
        .await;
    let room1 = day.room("INC-1").await;
    assert!(
        room1.iter().any(|t| t.contains(&format!("{INC} updated"))),
        "{room1:#?}"
    );

    // A task for the scribe.
    let reply = day
        .say(&format!(
            "/dispatch-create-task {SCRIBE} \"Roll back the deploy\""
        ))
        .await;
    assert!(
        reply.contains("Roll back the deploy") && reply.contains(SCRIBE),
        "{reply}"
    );
    day.app.run_pending_jobs().await;
    day.room_shows(&["/dispatch-create-task", "Roll back the deploy"])
        .await;
    let tasks = day.app.get(&format!("/incidents/{INC}/tasks")).await.body;
    assert_eq!(tasks.as_array().map(Vec::len), Some(1), "{tasks}");
    assert_eq!(tasks[0]["status"], "open");
    let task_id = tasks[0]["id"].as_i64().unwrap();
    day.recorded(&["task_created"]).await;

    // The tactical report: in the room, mailed to the participant group, on the incident.
    let reply = day
        .say(r#"/dispatch-status-report conditions="Checkout failing in the EU" actions="Rolling back" needs="A DBA""#)
        .await;
    assert!(
        reply.contains("Tactical report") && reply.contains("Needs: A DBA"),
        "{reply}"
    );
    day.app.run_pending_jobs().await;
    let room = day.room(INC).await;
    let shown: Vec<&String> = room.iter().filter(|m| m.contains("Conditions:")).collect();
    assert_eq!(shown.len(), 1, "the report once in the room: {room:#?}");
    assert!(
        shown[0].contains("Conditions: Checkout failing in the EU")
            && shown[0].contains("Actions: Rolling back"),
        "{}",
        shown[0]
    );
    let mails = day.new_mails();
    let report = to(&mails, IC);
    assert_eq!(report.len(), 1, "{mails:#?}");
    let report = report[0];
    assert_eq!(
        report["subject"],
        format!("[{INC}] Tactical report: {SUBJECT}")
    );
    assert!(text(report).contains("Needs: A DBA"), "{report}");
    let mut group: Vec<&str> = report["rcpt_tos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    group.sort();
    assert_eq!(group, [ON_CALL, SCRIBE, EXPERT, IC]);
    assert_eq!(
        day.incident().await["last_tactical_report"]["details"]["needs"],
        "A DBA"
    );
    day.recorded(&["report_created"]).await;

    // The clock runs to the morning of the day after tomorrow: the high priority's report
    // reminders are due, the task is overdue.
    let hourly = |n: &str| Schedule::parse(n, "0 * * * *").unwrap().unwrap();
    let scheduler = Scheduler::new(
        day.app.engine.clone(),
        vec![
            hourly("task_reminders"),
            hourly("report_reminders"),
            hourly("close_reminders"),
        ],
    );
    scheduler.tick(declared_at).await.unwrap();
    let morning = at_hour(declared_at, 2, 9);
    assert_eq!(scheduler.tick(morning).await.unwrap(), 3);
    day.app.run_pending_jobs().await;
    let mails = day.new_mails();
    for kind in ["tactical", "executive"] {
        let m = one(&mails, IC, &format!("[{INC}] {kind} report due for {INC}"));
        assert!(
            text(m).contains(&format!("/dispatch-remind-me {kind} in 2 hours")),
            "{m}"
        );
    }
    let overdue = one(&mails, SCRIBE, "Dispatch: 1 overdue task(s)");
    assert!(text(overdue).contains("Roll back the deploy"), "{overdue}");
    day.room_shows(&[
        &format!("tactical report due for {INC}"),
        &format!("executive report due for {INC}"),
    ])
    .await;
    day.recorded(&["reminder_sent"]).await;
    // An hour later the same day: the overdue-task digest is daily, so it is not sent again.
    scheduler.tick(morning + Duration::hours(1)).await.unwrap();
    day.app.run_pending_jobs().await;
    let mails = day.new_mails();
    assert!(
        to(&mails, SCRIBE).is_empty(),
        "one digest a day: {mails:#?}"
    );

    // The scribe finishes the task; the IC marks the incident stable.
    let r = day
        .app
        .call_as(
            Some(&day.app.token_for(SCRIBE).await),
            Method::POST,
            &format!("/incidents/{INC}/commands"),
            Some(json!({"text": format!("/dispatch-resolve-task {task_id}")})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let reply = day.say("/dispatch-mark-stable").await;
    assert!(reply.contains(&format!("{INC} is now stable")), "{reply}");
    day.app.run_pending_jobs().await;
    assert_eq!(day.incident().await["status"], "stable");
    day.room_shows(&["/dispatch-mark-stable", "is now stable"])
        .await;
    let mails = day.new_mails();
    let summary = one(&mails, STAKEHOLDERS, &format!("[{INC}] Updated: {SUBJECT}"));
    assert!(
        text(summary).contains("status: active → stable"),
        "{summary}"
    );
    day.recorded(&["status_changed", "notification_sent"]).await;
    let status = day.delivered("incident.status_changed");
    assert_eq!(status.len(), 1, "{status:#?}");
    assert_eq!(
        status[0]["data"]["event"]["details"]["status"],
        json!({"before": "active", "after": "stable"})
    );
    assert_eq!(status[0]["data"]["event"]["actor"], IC);

    // Closed, from the room.
    let reply = day.say("/dispatch-mark-closed").await;
    assert!(reply.contains(&format!("{INC} is now closed")), "{reply}");
    day.app.run_pending_jobs().await;
    assert_eq!(day.incident().await["status"], "closed");
    day.room_shows(&[&format!("{INC} is closed. Thank you all")])
        .await;
    let mails = day.new_mails();
    let summary = one(&mails, STAKEHOLDERS, &format!("[{INC}] Updated: {SUBJECT}"));
    assert!(
        text(summary).contains("status: stable → closed"),
        "{summary}"
    );
    day.recorded(&["status_changed", "conversation_archived"])
        .await;
    let closed = day.delivered("incident.status_changed");
    assert_eq!(closed.len(), 2, "{closed:#?}");
    assert_eq!(
        closed[1]["data"]["event"]["details"]["status"],
        json!({"before": "stable", "after": "closed"})
    );
    let events = day.timeline().await;
    let changes: Vec<(&str, &str)> = events
        .iter()
        .filter(|e| e["type"] == "status_changed")
        .map(|e| {
            (
                e["details"]["status"]["after"].as_str().unwrap_or_default(),
                e["transport"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(changes, [("stable", "room"), ("closed", "room")]);

    // Every event of the day reached the receiver, once each, and the chain holds.
    let mut delivered: Vec<i64> = day
        .delivered("")
        .iter()
        .map(|b| b["data"]["event"]["seq"].as_i64().expect("seq"))
        .collect();
    delivered.sort();
    let n = events.len() as i64;
    assert_eq!(
        delivered,
        (1..=n).collect::<Vec<_>>(),
        "one delivery per event"
    );
    let v = day
        .app
        .get(&format!("/incidents/{INC}/timeline/verify"))
        .await
        .body;
    assert_eq!(v["valid"], true, "{v}");
}
