//! A case's thread in its conversation target: an alert opens a case, its message goes to the
//! definition's target (the built-in room, or a Slack channel through the emulator), a chat
//! command or a button works the case under the same rule as REST, the message is updated in
//! place, alerts arriving on it are told once per window, and the escalation's incident is
//! linked in the thread.

use crate::common::{urlencode, TestApp};
use crate::signals::{alert, define, errors, notification, send};
use dispatch_slack::emulator::{Channel, Emulator};
use dispatch_slack::signature::sign;
use dispatch_slack::SlackApi;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// What REST answers Bob when he closes Ann's case; chat and buttons answer the same.
const REFUSAL: &str =
    "only an admin or the case's assignee may close case; you are not its assignee";

/// The case room (thread and messages) as the admin reads it.
async fn room(app: &TestApp, case: &Value) -> Value {
    let r = app.get(&format!("/cases/{case}/room")).await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    r.body
}

/// The texts of the replies in the room's thread of the case's message.
fn room_replies(room: &Value) -> Vec<String> {
    let messages = room["messages"].as_array().unwrap();
    messages
        .iter()
        .filter(|m| m["parent_id"] == messages[0]["id"])
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect()
}

/// Posts `text` in the case's room as the holder of `token`; Dispatch's answer.
async fn say(app: &TestApp, token: &str, case: &Value, text: &str) -> String {
    let r = app
        .call_as(
            Some(token),
            Method::POST,
            &format!("/cases/{case}/room/messages"),
            Some(json!({ "text": text })),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    r.body["reply"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The command lines of a message's buttons.
fn buttons(blocks: &Value) -> Vec<String> {
    blocks
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["buttons"].as_array())
        .flatten()
        .map(|b| b[1].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Waits out the current gathering window (alerts on a case are told once per window).
async fn after_window(app: &TestApp) {
    let secs = dispatch_engine::signal::thread::WINDOW_SECONDS as u64;
    tokio::time::sleep(std::time::Duration::from_millis(secs * 1000 + 300)).await;
    app.run_pending_jobs().await;
}

/// How many alerts the thread's replies counted as arriving again.
fn counted_again(texts: &[String]) -> u64 {
    texts
        .iter()
        .flat_map(|t| t.lines())
        .filter(|l| l.contains("arrived (deduplicated)"))
        .filter_map(|l| l.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn host_alert(fingerprint: &str) -> Value {
    alert(
        "firing",
        json!({"alertname": "HighErrorRate", "service": "payments", "instance": "db1:9100"}),
        fingerprint,
    )
}

#[tokio::test]
async fn a_case_is_posted_to_its_room_and_worked_there_by_command_under_the_rest_rule() {
    let app = crate::common::spawn_app().await;
    define(
        &app,
        json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"},
            "case_priority": "high", "conversation_target": "#sec-alerts",
            "entity_types": [{"name": "host", "label": "instance"}]}),
    )
    .await;
    let got = send(&app, notification(vec![host_alert("t1")])).await;
    let case = got[0]["case_id"].clone();
    app.run_pending_jobs().await;

    // The case's message: title, status, assignee, signal count, entities, link and actions.
    let r = room(&app, &case).await;
    assert_eq!(r["thread"]["provider"], "dispatch-room", "{r:#}");
    assert_eq!(r["thread"]["channel"], "sec-alerts");
    let messages = r["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{r:#}");
    let first = &messages[0];
    assert_eq!(r["thread"]["message_ts"], first["id"].to_string());
    let text = first["text"].as_str().unwrap();
    for part in [
        format!("Case {case}"),
        "new".into(),
        "high".into(),
        "host=db1:9100".into(),
        format!("/cases/{case}"),
    ] {
        assert!(text.contains(&part), "{part:?} missing from {text}");
    }
    assert_eq!(
        buttons(&first["blocks"]),
        [
            format!("/dispatch-case-triage #{case}"),
            format!("/dispatch-case-snooze #{case} 1h"),
            format!("/dispatch-case-escalate #{case}"),
            format!("/dispatch-case-resolve #{case}"),
        ]
    );

    // Five alerts again: gathered, told in at most two replies (one per window), counting five.
    for _ in 0..5 {
        send(&app, notification(vec![host_alert("t1")])).await;
    }
    let queued = app.get("/jobs?state=queued").await.body;
    let syncs = queued["jobs"]
        .as_array()
        .or(queued.as_array())
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "sync_case_thread")
        .count();
    assert!((1..=2).contains(&syncs), "{syncs} sync jobs for 5 alerts");
    after_window(&app).await;
    let r = room(&app, &case).await;
    let replies: Vec<String> = r["messages"].as_array().unwrap()[1..]
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert!(replies.len() <= 2, "{replies:?}");
    assert_eq!(counted_again(&replies), 5, "{replies:?}");
    assert!(r["messages"][0]["text"]
        .as_str()
        .unwrap()
        .contains("Signals: 6"));

    // Bob, a member, acknowledges it by command in its room.
    let bob = app.token_for("bob@example.com").await;
    let answer = say(&app, &bob, &case, "/dispatch-case-triage").await;
    assert_eq!(
        answer,
        format!("Case {case} is in triage (bob@example.com acknowledged it).")
    );
    app.run_pending_jobs().await;
    let r = room(&app, &case).await;
    let message = &r["messages"][0];
    assert!(
        message["text"].as_str().unwrap().contains("Status: triage"),
        "{message:#}"
    );
    assert!(
        !buttons(&message["blocks"])
            .iter()
            .any(|b| b.contains("triage")),
        "the message is updated in place: no Triage button once in triage"
    );
    let last = r["messages"].as_array().unwrap().last().unwrap();
    assert_eq!(
        last["parent_id"], message["id"],
        "told as a reply in the thread"
    );
    assert!(
        last["text"]
            .as_str()
            .unwrap()
            .contains("from new to triage"),
        "{last:#}"
    );

    // Assigned to Ann: Bob's resolve is refused, in the room as over REST, and nothing changes.
    let r = app
        .patch(
            &format!("/cases/{case}"),
            json!({"assignee": "ann@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    let answer = say(
        &app,
        &bob,
        &case,
        "/dispatch-case-resolve false_positive \"just noise\"",
    )
    .await;
    assert!(answer.contains(REFUSAL), "{answer}");
    let rest = app
        .call_as(
            Some(&bob),
            Method::POST,
            &format!("/cases/{case}/close"),
            Some(json!({"resolution_reason": "false_positive"})),
        )
        .await;
    assert_eq!(rest.status, StatusCode::FORBIDDEN);
    assert_eq!(rest.body["error"]["message"], REFUSAL);
    assert_eq!(
        app.get(&format!("/cases/{case}")).await.body["status"],
        "triage"
    );
    // A bad or unknown command answers with the usage.
    let answer = say(&app, &bob, &case, "/dispatch-case-resolve sometime").await;
    assert!(answer.contains("is not a resolution reason"), "{answer}");
    assert!(answer.contains("Usage: /dispatch-case-resolve"), "{answer}");
    let answer = say(&app, &bob, &case, "/dispatch-case-frobnicate").await;
    assert!(answer.contains("Unknown command"), "{answer}");

    // Bob escalates: the incident is linked in the thread and on the message.
    let answer = say(&app, &bob, &case, "/dispatch-case-escalate").await;
    let incident = app.get(&format!("/cases/{case}")).await.body["incident"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(answer.contains(&incident), "{answer}");
    app.run_pending_jobs().await;
    let r = room(&app, &case).await;
    let message = &r["messages"][0];
    let text = message["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("Escalated to incident **{incident}**")),
        "{text}"
    );
    assert!(
        room_replies(&r)
            .iter()
            .any(|t| t.contains(&format!("/incidents/{incident}"))),
        "{r:#}"
    );
    // Ann closes it by command (the case is escalated: closing is still hers).
    let ann = app.token_for("ann@example.com").await;
    let answer = say(
        &app,
        &ann,
        &case,
        "/dispatch-case-resolve escalated \"handled as an incident\"",
    )
    .await;
    assert_eq!(answer, format!("Case {case} is closed (escalated)."));
    app.run_pending_jobs().await;
    assert!(buttons(&room(&app, &case).await["messages"][0]["blocks"]).is_empty());
}

/// The snooze filters made from case `case`.
async fn snoozes_of(app: &TestApp, case: &Value) -> Vec<Value> {
    let r = app.get("/signal-filters?project=default").await;
    assert_eq!(r.status, StatusCode::OK, "{:#}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "snooze")
        .filter(|f| {
            f["description"]
                .as_str()
                .is_some_and(|d| d.starts_with(&format!("Snoozed from case {case}:")))
        })
        .cloned()
        .collect()
}

/// How far `at` (RFC 3339) is from now, in minutes.
fn minutes_ahead(at: &Value) -> i64 {
    let at: chrono::DateTime<chrono::Utc> = at.as_str().unwrap().parse().unwrap();
    (at - chrono::Utc::now()).num_minutes()
}

#[tokio::test]
async fn snoozing_a_case_from_its_room_makes_the_filter_and_shows_it_on_the_message() {
    let app = crate::common::spawn_app().await;
    define(
        &app,
        json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"},
            "conversation_target": "sec-alerts"}),
    )
    .await;
    let got = send(&app, notification(vec![errors("z1")])).await;
    let case = got[0]["case_id"].clone();
    app.run_pending_jobs().await;
    let bob = app.token_for("bob@example.com").await;

    // A length it cannot take is answered with the usage, and makes nothing.
    let answer = say(&app, &bob, &case, "/dispatch-case-snooze forever").await;
    assert!(answer.contains("30m"), "{answer}");
    assert!(answer.contains("Usage: /dispatch-case-snooze"), "{answer}");
    assert!(snoozes_of(&app, &case).await.is_empty());

    let answer = say(&app, &bob, &case, "/dispatch-case-snooze 2h").await;
    let filters = snoozes_of(&app, &case).await;
    assert_eq!(filters.len(), 1, "{filters:#?}");
    let f = &filters[0];
    assert_eq!(f["mode"], "active");
    assert!(
        f["expression"]
            .as_str()
            .unwrap()
            .contains("alertname=\"HighErrorRate\""),
        "{f:#}"
    );
    assert!(
        (118..=120).contains(&minutes_ahead(&f["expires_at"])),
        "{f:#}"
    );
    assert!(
        answer.starts_with(&format!("Snoozed case {case}'s signal until"))
            && answer.contains(&format!("(filter {}:", f["id"])),
        "{answer}"
    );
    // The message says until when, and the thread who snoozed it.
    app.run_pending_jobs().await;
    let r = room(&app, &case).await;
    let message = &r["messages"][0];
    assert!(
        message["text"].as_str().unwrap().contains("Snoozed until"),
        "{message:#}"
    );
    assert!(
        room_replies(&r)
            .iter()
            .any(|t| t.contains("bob@example.com snoozed the case's signal")),
        "{r:#}"
    );
    // The same alert under another fingerprint is snoozed by that filter, not a new case.
    let again = send(&app, notification(vec![errors("z2")])).await;
    assert_eq!(again[0]["outcome"], "snoozed", "{again:#?}");
    assert_eq!(again[0]["filter_id"], f["id"]);
}

#[tokio::test]
async fn a_case_without_a_conversation_target_posts_nothing() {
    let app = crate::common::spawn_app().await;
    define(&app, json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"}})).await;
    let got = send(&app, notification(vec![errors("q1")])).await;
    let case = got[0]["case_id"].clone();
    assert_eq!(
        app.run_pending_jobs().await,
        0,
        "no thread job for a case without a target"
    );
    let r = room(&app, &case).await;
    assert_eq!(r["thread"], Value::Null);
    assert_eq!(r["messages"], json!([]));
    // Commands still run in its room, under the same rule.
    let r = app
        .post(
            &format!("/cases/{case}/room/messages"),
            json!({"text": "/dispatch-case-snooze 2h"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:#}", r.body);
    assert!(r.body["reply"]["text"]
        .as_str()
        .unwrap()
        .starts_with(&format!("Snoozed case {case}'s signal")));
    let r = app
        .post(&format!("/cases/{case}/room/messages"), json!({"text": ""}))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

const SECRET: &str = "case-secret";
const BOT: &str = "xoxb-case";

struct Slack {
    app: TestApp,
    emu: Emulator,
    bob: String,
    n: u32,
}

impl Slack {
    async fn start() -> Self {
        let emu = Emulator::new(BOT);
        let bob = emu.add_user("bob@example.com", "Bob");
        let api = emu.spawn().await;
        let slack_api = SlackApi::new(&api, BOT);
        slack_api.create_channel("sec-alerts", false).await.unwrap();
        let app = crate::slack_day::slack_app(slack_api, SECRET).await;
        Slack {
            app,
            emu,
            bob,
            n: 0,
        }
    }

    fn channel(&self) -> Channel {
        self.emu
            .channels()
            .into_iter()
            .find(|c| c.name == "sec-alerts")
            .unwrap()
    }

    /// Sends a signed interaction as Slack does, then runs the jobs it made.
    async fn interact(&mut self, payload: Value) {
        let body = format!("payload={}", urlencode(&payload.to_string()));
        self.post("interactions", body).await;
    }

    /// Sends a signed request to one of Dispatch's Slack endpoints, then runs the jobs it made.
    async fn post(&mut self, path: &str, body: String) {
        self.n += 1;
        let ts = chrono::Utc::now().timestamp().to_string();
        let res = self
            .app
            .http
            .post(format!("{}/api/v1/slack/{path}", self.app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-slack-request-timestamp", &ts)
            .header("x-slack-signature", sign(SECRET, &ts, body.as_bytes()))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        self.app.run_pending_jobs().await;
    }

    /// Bob types a slash command in the case channel, as Slack sends it.
    async fn slash(&mut self, command: &str, text: &str) {
        let c = self.channel();
        let body = [
            ("command", command),
            ("text", text),
            ("user_id", self.bob.as_str()),
            ("channel_id", c.id.as_str()),
            ("trigger_id", &format!("trigger-{}", self.n)),
            ("team_id", "T1"),
            ("response_url", "http://127.0.0.1:9/r"),
        ]
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
        self.post("commands", body).await;
    }

    /// Presses the button of the case message whose command starts with `prefix`.
    async fn press(&mut self, prefix: &str) {
        let c = self.channel();
        let (ts, _, blocks) = c.messages[0].clone();
        let button = blocks
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().unwrap().clone())
            .find(|e| e["value"].as_str().is_some_and(|v| v.starts_with(prefix)))
            .unwrap_or_else(|| panic!("no {prefix} button in {blocks:#}"));
        let trigger = format!("trigger-{}", self.n);
        self.interact(json!({"type": "block_actions", "user": {"id": self.bob},
            "channel": {"id": c.id}, "container": {"type": "message", "message_ts": ts,
            "channel_id": c.id}, "trigger_id": trigger, "actions": [button]}))
            .await;
    }

    /// Bob fills the resolve form just opened with a reason and text, and submits it.
    async fn resolve_in_form(&mut self, reason: &str, text: &str) {
        let view = self.emu.views().last().cloned().expect("the resolve form");
        assert_eq!(view["callback_id"], "dispatch-case-resolve");
        let submitted = json!({"type": "view_submission", "user": {"id": self.bob},
            "trigger_id": "trigger-submit", "view": {"callback_id": "dispatch-case-resolve",
            "private_metadata": view["private_metadata"],
            "state": {"values": {"reason": {"reason": {"selected_option": {"value": reason}}},
                "text": {"text": {"value": text}}}}}});
        self.interact(submitted).await;
    }

    fn last_ephemeral(&self) -> String {
        self.emu
            .calls_of("chat.postEphemeral")
            .last()
            .map(|c| c.args["text"].clone())
            .unwrap_or_default()
    }
}

#[tokio::test]
async fn a_case_thread_in_slack_is_worked_with_buttons_and_updated_in_place() {
    let mut s = Slack::start().await;
    let app = &s.app;
    define(
        app,
        json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"},
            "conversation_target": "sec-alerts"}),
    )
    .await;
    let got = send(app, notification(vec![errors("s1")])).await;
    let case = got[0]["case_id"].clone();
    app.run_pending_jobs().await;
    let c = s.channel();
    assert_eq!(c.messages.len(), 1, "{c:#?}");
    let (ts, text, blocks) = c.messages[0].clone();
    assert!(text.contains(&format!("Case {case}")), "{text}");
    assert_eq!(blocks[0]["type"], "header");
    let r = room(app, &case).await;
    assert_eq!(r["thread"]["provider"], "slack");
    assert_eq!(r["thread"]["channel"], c.id);
    assert_eq!(r["thread"]["message_ts"], ts);

    // Bob presses Triage: the message is updated in place and the move is told in its thread.
    s.press("/dispatch-case-triage").await;
    assert!(
        s.last_ephemeral().contains("is in triage"),
        "{}",
        s.last_ephemeral()
    );
    let c = s.channel();
    assert_eq!(c.edits.get(&ts), Some(&1), "{c:#?}");
    assert!(c.messages[0].1.contains("Status: triage"));
    let replies = thread_replies(&c, &ts);
    assert_eq!(replies.len(), 1, "{c:#?}");
    assert!(replies[0].contains("from new to triage"));
    let update = s.emu.calls_of("chat.update");
    assert_eq!(
        update[0].args["channel"], c.id,
        "chat.update takes the channel's id"
    );

    // Assigned to Ann: Bob's Resolve opens the form; submitting it is refused as over REST.
    let r = s
        .app
        .patch(
            &format!("/cases/{case}"),
            json!({"assignee": "ann@example.com"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    s.press("/dispatch-case-resolve").await;
    s.resolve_in_form("benign", "nothing wrong").await;
    assert!(
        s.last_ephemeral().contains(REFUSAL),
        "{}",
        s.last_ephemeral()
    );
    assert_eq!(
        s.app.get(&format!("/cases/{case}")).await.body["status"],
        "triage"
    );

    // Bob presses Escalate: the incident is linked in the thread.
    s.press("/dispatch-case-escalate").await;
    let incident = s.app.get(&format!("/cases/{case}")).await.body["incident"]
        .as_str()
        .unwrap()
        .to_string();
    let c = s.channel();
    // Updated on triage, on the assignment, and on the escalation.
    assert_eq!(c.edits.get(&ts), Some(&3));
    assert!(c.messages[0].1.contains(&incident), "{}", c.messages[0].1);
    assert!(
        thread_replies(&c, &ts)
            .iter()
            .any(|t| t.contains(&incident)),
        "{c:#?}"
    );
    // Still one case message: nothing was posted twice.
    assert_eq!(
        c.messages
            .iter()
            .filter(|(t, ..)| !c.threads.contains_key(t))
            .count(),
        1
    );
    let r = s
        .app
        .call(Method::GET, &format!("/cases/{case}/room"), None)
        .await;
    assert_eq!(
        r.body["messages"],
        json!([]),
        "Slack's thread is not kept in the built-in room"
    );
}

/// The texts of the replies in the thread of the case message `ts`.
fn thread_replies(c: &Channel, ts: &str) -> Vec<String> {
    c.messages
        .iter()
        .filter(|(t, ..)| c.threads.get(t).map(String::as_str) == Some(ts))
        .map(|(_, text, _)| text.clone())
        .collect()
}

#[tokio::test]
async fn a_case_in_slack_is_acknowledged_snoozed_and_resolved_by_slash_command_and_button() {
    let mut s = Slack::start().await;
    define(
        &s.app,
        json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"},
            "conversation_target": "#sec-alerts"}),
    )
    .await;
    let got = send(&s.app, notification(vec![errors("k1")])).await;
    let case = got[0]["case_id"].clone();
    s.app.run_pending_jobs().await;
    let ts = s.channel().messages[0].0.clone();

    // Slack runs no app's slash command in a thread: typed in the channel without a case, it
    // works the latest case posted there.
    s.slash("/dispatch-case-ack", "").await;
    assert_eq!(
        s.last_ephemeral(),
        format!("Case {case} is in triage (bob@example.com acknowledged it).")
    );
    let c = s.channel();
    assert!(c.messages[0].1.contains("Status: triage"), "{c:#?}");
    assert_eq!(c.edits.get(&ts), Some(&1));

    // A case that does not exist is a clear answer, not silence.
    s.slash("/dispatch-case-escalate", "#9999").await;
    assert!(
        s.last_ephemeral().contains("case 9999"),
        "{}",
        s.last_ephemeral()
    );

    // Alerts arriving meanwhile are told once, counted, in the thread.
    for _ in 0..3 {
        send(&s.app, notification(vec![errors("k1")])).await;
    }
    after_window(&s.app).await;
    let c = s.channel();
    assert_eq!(counted_again(&thread_replies(&c, &ts)), 3, "{c:#?}");
    assert!(
        c.messages[0].1.contains("Signals: 4"),
        "{}",
        c.messages[0].1
    );

    // The Snooze 1h button makes the snooze filter; the message shows it.
    s.press("/dispatch-case-snooze").await;
    assert!(
        s.last_ephemeral()
            .starts_with(&format!("Snoozed case {case}'s signal until")),
        "{}",
        s.last_ephemeral()
    );
    let filters = snoozes_of(&s.app, &case).await;
    assert_eq!(filters.len(), 1, "{filters:#?}");
    assert!((58..=60).contains(&minutes_ahead(&filters[0]["expires_at"])));
    let c = s.channel();
    assert!(
        c.messages[0].1.contains("Snoozed until"),
        "{}",
        c.messages[0].1
    );

    // /dispatch-case-close without a reason opens the resolve form; submitting it closes the
    // case with that reason, and the message keeps no buttons.
    s.slash("/dispatch-case-close", "").await;
    s.resolve_in_form("false_positive", "load test").await;
    assert_eq!(
        s.last_ephemeral(),
        format!("Case {case} is closed (false_positive).")
    );
    let closed = s.app.get(&format!("/cases/{case}")).await.body;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["resolution_reason"], "false_positive");
    assert_eq!(closed["resolution"], "load test");
    let c = s.channel();
    let (_, text, blocks) = &c.messages[0];
    assert!(text.contains("Resolution: false_positive"), "{text}");
    let commands = blocks
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .filter(|e| e["value"].is_string())
        .count();
    assert_eq!(commands, 0, "no action buttons once closed: {blocks:#}");
    assert!(
        thread_replies(&c, &ts)
            .iter()
            .any(|t| t == "bob@example.com moved the case from triage to closed (false_positive)"),
        "{c:#?}"
    );
}
