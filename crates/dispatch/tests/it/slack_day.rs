//! The IC's day from the seed documents, entirely through Slack: requests signed as Slack signs
//! them (or envelopes over Socket Mode), the Slack Web API played by the emulator. Asserts on the
//! calls the emulator received and on the incident and its timeline in Dispatch.

use crate::common::urlencode;

use crate::common::TestApp;
use dispatch_slack::emulator::{Channel, Emulator};
use dispatch_slack::signature::sign;
use dispatch_slack::SlackApi;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

const SECRET: &str = "day-secret";
const BOT: &str = "xoxb-day";
const APP: &str = "xapp-day";

/// How Slack's requests reach Dispatch in a run.
#[derive(Clone, Copy, PartialEq)]
enum Via {
    Http,
    Socket,
}

struct Day {
    app: TestApp,
    emu: Emulator,
    via: Via,
    ic: String,
    bob: String,
    n: u32,
    _socket: Option<(
        tokio::sync::watch::Sender<bool>,
        tokio::task::JoinHandle<()>,
    )>,
}

/// A server whose conversation provider is Slack (through `slack_api`), taking Slack's requests
/// signed with `secret` and running them as jobs.
pub(crate) async fn slack_app(slack_api: SlackApi, secret: &str) -> TestApp {
    let conversation_api = slack_api.clone();
    TestApp::builder()
        .registry(move |db, registry| {
            registry
                .conversation
                .add(Arc::new(dispatch::server::slack_conversation(
                    db,
                    conversation_api,
                )));
            registry
                .set_default(dispatch_core::Capability::Conversation, "slack")
                .unwrap();
        })
        .web_options(dispatch_web::WebOptions {
            slack: Some(dispatch_slack::transport::SlackSettings {
                signing_secret: secret.into(),
            }),
            ..Default::default()
        })
        .transport_jobs(dispatch_slack::jobs::handlers(
            dispatch_slack::jobs::SlackWorker {
                api: slack_api,
                reaction: "stopwatch".into(),
            },
        ))
        .spawn()
        .await
}

async fn start(via: Via) -> Day {
    let emu = Emulator::new(BOT);
    emu.set_app_token(APP);
    let ic = emu.add_user("ic@example.com", "Ice Commander");
    let bob = emu.add_user("bob@example.com", "Bob");
    let api = emu.spawn().await;
    let app = slack_app(SlackApi::new(&api, BOT), SECRET).await;
    let socket = (via == Via::Socket).then(|| {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let engine = app.engine.clone();
        let task = tokio::spawn(dispatch_slack::socket::run(
            SlackApi::new(&api, APP),
            move |e| {
                let engine = engine.clone();
                async move { dispatch_slack::transport::take_envelope(&engine, e).await }
            },
            stopped,
        ));
        (stop, task)
    });
    Day {
        app,
        emu,
        via,
        ic,
        bob,
        n: 0,
        _socket: socket,
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Day {
    async fn post(&self, path: &str, content_type: &str, body: &str) {
        let ts = chrono::Utc::now().timestamp().to_string();
        let res = self
            .app
            .http
            .post(format!("{}/api/v1/slack/{path}", self.app.base))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", &ts)
            .header("x-slack-signature", sign(SECRET, &ts, body.as_bytes()))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::OK,
            "{path}: {}",
            res.text().await.unwrap()
        );
    }

    /// Sends one Slack request (HTTP or a Socket Mode envelope), then runs the jobs it made.
    async fn send(&mut self, kind: &str, payload: Value) {
        self.n += 1;
        match self.via {
            Via::Http => match kind {
                "slash_commands" => {
                    let pairs: Vec<(String, String)> = payload
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect();
                    let pairs: Vec<(&str, &str)> = pairs
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    self.post(
                        "commands",
                        "application/x-www-form-urlencoded",
                        &form(&pairs),
                    )
                    .await
                }
                "interactive" => {
                    let body = form(&[("payload", &payload.to_string())]);
                    self.post("interactions", "application/x-www-form-urlencoded", &body)
                        .await
                }
                _ => {
                    self.post("events", "application/json", &payload.to_string())
                        .await
                }
            },
            Via::Socket => {
                let before = self.emu.socket_acks().len();
                self.emu.socket_send(kind, payload);
                for _ in 0..300 {
                    if self.emu.socket_acks().len() > before {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
                assert!(
                    self.emu.socket_acks().len() > before,
                    "envelope not acknowledged"
                );
            }
        }
        self.app.run_pending_jobs().await;
    }

    async fn command(&mut self, user: &str, channel: &str, command: &str, text: &str) {
        let trigger = format!("trigger-{}", self.n);
        self.send(
            "slash_commands",
            json!({"command": command, "text": text, "user_id": user, "channel_id": channel,
                "trigger_id": trigger, "team_id": "T1", "response_url": "http://127.0.0.1:9/r"}),
        )
        .await;
    }

    fn channel(&self) -> Channel {
        let channels = self.emu.channels();
        assert_eq!(channels.len(), 1, "one channel: {channels:?}");
        channels[0].clone()
    }

    /// The last message only `user` was shown.
    fn last_ephemeral(&self, user: &str) -> String {
        self.emu
            .calls_of("chat.postEphemeral")
            .iter()
            .rev()
            .find(|c| c.args.get("user").map(String::as_str) == Some(user))
            .map(|c| c.args["text"].clone())
            .unwrap_or_default()
    }
}

async fn play(via: Via) {
    let mut day = start(via).await;
    let (ic, bob) = (day.ic.clone(), day.bob.clone());

    // Report: the command without arguments opens the modal; its submission declares.
    day.command(&ic, "CGENERAL", "/dispatch-report-incident", "")
        .await;
    let views = day.emu.views();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0]["callback_id"], "dispatch-report-incident");
    day.send(
        "interactive",
        json!({"type": "view_submission", "trigger_id": format!("sub-{}", day.n),
        "user": {"id": ic},
        "view": {"callback_id": "dispatch-report-incident", "private_metadata": "CGENERAL",
            "state": {"values": {
                "title": {"title": {"value": "Payments failing"}},
                "description": {"description": {"value": "5xx on checkout"}},
            }}}}),
    )
    .await;
    let list = day.app.get("/incidents").await.body;
    assert_eq!(list["total"], 1, "{list}");
    let name = list["items"][0]["name"].as_str().unwrap().to_string();
    let inc = day.app.get(&format!("/incidents/{name}")).await.body;
    assert_eq!(inc["commander"]["email"], "ic@example.com", "{inc}");
    let ch = day.channel();
    assert!(ch.name.starts_with(&name.to_lowercase()), "{}", ch.name);
    assert!(
        ch.topic.contains("active") || ch.topic.contains("Active"),
        "{}",
        ch.topic
    );
    assert!(!ch.bookmarks.is_empty(), "bookmarks to the resources");
    assert!(ch.members.contains(&ic), "the IC and reporter are invited");
    assert!(!ch.messages.is_empty(), "the welcome is posted");
    // The welcome's Block Kit opens with a header and offers the resources as link buttons.
    let welcome = &ch.messages[0].2;
    assert_eq!(welcome[0]["type"], "header", "{welcome}");
    assert!(
        welcome
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["type"] == "actions" && b["elements"][0]["url"].as_str().is_some()),
        "{welcome}"
    );
    let conv = inc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "conversation")
        .cloned()
        .unwrap();
    assert_eq!(conv["provider"], "slack");
    assert_eq!(conv["status"], "ready");
    let c = ch.id.clone();

    // Assign a role, edit, create a task — in the incident's channel.
    day.command(
        &ic,
        &c,
        "/dispatch-assign-role",
        &format!("<@{bob}|bob> scribe"),
    )
    .await;
    let parts = day
        .app
        .get(&format!("/incidents/{name}/participants"))
        .await
        .body;
    assert!(parts.to_string().contains("bob@example.com"), "{parts}");
    assert!(parts.to_string().contains("scribe"), "{parts}");
    assert!(day.channel().members.contains(&bob), "bob is invited");

    day.command(&ic, &c, "/dispatch-edit-incident", "priority=high")
        .await;
    let inc = day.app.get(&format!("/incidents/{name}")).await.body;
    assert_eq!(inc["priority"], "high", "{inc}");

    day.command(
        &ic,
        &c,
        "/dispatch-create-task",
        &format!("<@{bob}> \"Roll back the deploy\""),
    )
    .await;
    let tasks = day.app.get(&format!("/incidents/{name}/tasks")).await.body;
    assert!(
        tasks.to_string().contains("Roll back the deploy"),
        "{tasks}"
    );

    // The task list carries a Resolve button; pressing it resolves the task.
    day.command(&bob, &c, "/dispatch-list-tasks", "").await;
    let list = day
        .emu
        .calls_of("chat.postEphemeral")
        .into_iter()
        .rev()
        .find(|c| c.args.get("user") == Some(&bob))
        .expect("the task list, shown to bob");
    let blocks: Value = serde_json::from_str(&list.args["blocks"]).unwrap();
    // Its Block Kit: the title, the tasks side by side, how to act, the buttons.
    let kinds: Vec<&str> = blocks
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["header", "section", "context", "actions"]);
    let button = blocks
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .find(|e| {
            e["value"]
                .as_str()
                .unwrap_or("")
                .starts_with("/dispatch-resolve-task")
        })
        .expect("a Resolve button");
    day.send(
        "interactive",
        json!({"type": "block_actions", "trigger_id": format!("btn-{}", day.n),
            "user": {"id": bob}, "channel": {"id": c},
            "actions": [{"action_id": button["action_id"], "value": button["value"]}]}),
    )
    .await;
    let tasks = day.app.get(&format!("/incidents/{name}/tasks")).await.body;
    assert!(tasks.to_string().contains("resolved"), "{tasks}");

    // Someone who joins the channel joins the incident; an observer who talks is promoted.
    let carol = day.emu.add_user("carol@example.com", "Carol");
    day.send(
        "events_api",
        json!({"type": "event_callback", "event_id": format!("EvJ{}", day.n),
            "event": {"type": "member_joined_channel", "user": carol, "channel": c}}),
    )
    .await;
    let parts = day
        .app
        .get(&format!("/incidents/{name}/participants"))
        .await
        .body;
    assert!(parts.to_string().contains("carol@example.com"), "{parts}");
    let dave = day.emu.add_user("dave@example.com", "Dave");
    day.command(
        &ic,
        &c,
        "/dispatch-assign-role",
        &format!("<@{dave}> observer"),
    )
    .await;
    for n in 0..3 {
        day.send(
            "events_api",
            json!({"type": "event_callback", "event_id": format!("EvM{n}-{}", day.n),
                "event": {"type": "message", "user": dave, "channel": c, "text": "looking", "ts": format!("1700000100.00000{n}")}}),
        )
        .await;
    }
    let timeline = day
        .app
        .get(&format!("/incidents/{name}/timeline"))
        .await
        .body;
    assert!(
        timeline.to_string().contains("participant_promoted"),
        "the talking observer is promoted: {timeline}"
    );

    // The stopwatch reaction puts a message on the timeline, once.
    let ts = day.emu.user_message(&c, &bob, "Deploy 42 rolled back");
    for n in 0..2 {
        day.send(
            "events_api",
            json!({"type": "event_callback", "event_id": format!("EvR{n}"),
                "event": {"type": "reaction_added", "user": ic, "reaction": "stopwatch",
                    "item": {"type": "message", "channel": c, "ts": ts}}}),
        )
        .await;
    }
    let timeline = day
        .app
        .get(&format!("/incidents/{name}/timeline"))
        .await
        .body;
    let imported = timeline
        .to_string()
        .matches("Deploy 42 rolled back")
        .count();
    assert!(imported >= 1, "{timeline}");
    let events: Vec<Value> = timeline["items"]
        .as_array()
        .or(timeline.as_array())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        events
            .iter()
            .filter(|e| e["type"] == "imported_message")
            .count(),
        1,
        "the message is imported once"
    );

    // A tactical report, then stable and closed.
    let before = day.channel().messages.len();
    day.command(
        &ic,
        &c,
        "/dispatch-status-report",
        "conditions=\"Checkout failing\" actions=\"Rolling back\" needs=\"DB team\"",
    )
    .await;
    let reports = day
        .app
        .get(&format!("/incidents/{name}/reports"))
        .await
        .body;
    assert!(
        reports.to_string().contains("Checkout failing"),
        "{reports}"
    );
    assert!(
        day.channel().messages.len() > before,
        "the report is posted in the channel"
    );
    // The forms that edit something open with what is there now: the next report with the
    // latest one, the edit form with the incident's fields.
    let opened = day.emu.views().len();
    day.command(&ic, &c, "/dispatch-status-report", "").await;
    day.command(&ic, &c, "/dispatch-edit-incident", "").await;
    let views = day.emu.views();
    assert_eq!(views.len(), opened + 2, "both forms open");
    let initial = |view: &Value, key: &str| {
        let e = &view["blocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["block_id"] == key)
            .unwrap_or_else(|| panic!("no {key} in {view}"))["element"];
        e["initial_value"]
            .as_str()
            .or(e["initial_option"]["value"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(initial(&views[opened], "conditions"), "Checkout failing");
    assert_eq!(initial(&views[opened], "needs"), "DB team");
    assert_eq!(initial(&views[opened + 1], "priority"), "high");
    assert_eq!(initial(&views[opened + 1], "status"), "active");
    let ch = day.channel();
    let report = ch
        .messages
        .iter()
        .find(|(_, text, _)| text.contains("Checkout failing"))
        .expect("the report in the channel");
    assert!(ch.pins.contains(&report.0), "the report is pinned");
    // Its Block Kit: a header, the report's fields side by side, who posted it.
    let kinds: Vec<&str> = report
        .2
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["header", "section", "context"]);
    assert_eq!(report.2[1]["fields"].as_array().unwrap().len(), 3);

    // Someone who is not the IC is refused, and told so privately.
    day.command(&bob, &c, "/dispatch-mark-closed", "").await;
    assert!(
        day.last_ephemeral(&bob).contains("incident commander"),
        "{}",
        day.last_ephemeral(&bob)
    );

    day.command(&ic, &c, "/dispatch-mark-stable", "").await;
    assert_eq!(
        day.app.get(&format!("/incidents/{name}")).await.body["status"],
        "stable"
    );
    day.command(&ic, &c, "/dispatch-mark-closed", "").await;
    assert_eq!(
        day.app.get(&format!("/incidents/{name}")).await.body["status"],
        "closed"
    );
    assert!(day.channel().archived, "the channel is archived on close");

    // Exactly one channel was made, and nothing failed.
    assert_eq!(day.emu.calls_of("conversations.create").len(), 1);
    let failed = day.app.get("/jobs?state=failed").await.body;
    assert!(!failed.to_string().contains("slack_"), "{failed}");

    // A message naming an incident gets its status card in the message's thread, in another
    // incident's channel too; naming the channel's own incident gets none.
    let next = day
        .app
        .post(
            "/incidents",
            json!({"title": "Checkout failing again", "description": "500s"}),
        )
        .await
        .body;
    day.app.run_pending_jobs().await;
    let next_name = next["name"].as_str().unwrap().to_string();
    let channels = day.emu.channels();
    let c2 = channels
        .iter()
        .find(|ch| ch.id != c)
        .expect("the second channel");
    for (n, text) in [
        (0, format!("this is {next_name} again")),
        (1, format!("same cause as {}?", name.to_lowercase())),
    ] {
        day.send(
            "events_api",
            json!({"type": "event_callback", "event_id": format!("EvU{n}"),
                "event": {"type": "message", "user": ic, "channel": c2.id, "text": text,
                    "ts": format!("1700000200.00000{n}")}}),
        )
        .await;
    }
    let c2 = day
        .emu
        .channels()
        .into_iter()
        .find(|ch| ch.id == c2.id)
        .unwrap();
    let cards: Vec<_> = c2
        .messages
        .iter()
        .filter(|(_, text, _)| text.starts_with(&format!("*{name}: ")))
        .collect();
    assert_eq!(cards.len(), 1, "one card, of {name}: {:?}", c2.messages);
    assert!(cards[0].1.contains("Status: closed"), "{:?}", cards[0]);
    let own = c2
        .messages
        .iter()
        .filter(|(_, t, _)| t.starts_with(&format!("*{next_name}: ")))
        .count();
    assert_eq!(
        own, 1,
        "the welcome only: the channel's own incident is not unfurled"
    );
    assert_eq!(
        c2.threads.get(&cards[0].0).map(String::as_str),
        Some("1700000200.000001"),
        "the card answers in the message's thread"
    );
}

#[tokio::test]
async fn a_429_storm_ends_with_one_channel_and_each_message_once() {
    let mut day = start(Via::Http).await;
    let ic = day.ic.clone();
    day.emu.rate_limit_next(5);
    day.command(
        &ic,
        "CGENERAL",
        "/dispatch-report-incident",
        "\"Storm\" \"under rate limits\"",
    )
    .await;
    // Jobs that met a 429 are retried until the queue is idle.
    for _ in 0..5 {
        day.app.run_pending_jobs().await;
    }
    let ch = day.channel();
    assert_eq!(day.emu.channels().len(), 1, "exactly one channel");
    let mut texts: Vec<&String> = ch.messages.iter().map(|(_, t, _)| t).collect();
    let n = texts.len();
    texts.sort();
    texts.dedup();
    assert_eq!(
        texts.len(),
        n,
        "no message was posted twice: {:?}",
        ch.messages
    );
    assert!(n >= 1, "the welcome was posted");
    assert!(
        day.emu.calls().len() > 5,
        "the storm was met and waited out"
    );
}

#[tokio::test]
async fn the_ics_day_through_slack_over_http() {
    play(Via::Http).await;
}

#[tokio::test]
async fn the_ics_day_through_slack_over_socket_mode() {
    play(Via::Socket).await;
}
