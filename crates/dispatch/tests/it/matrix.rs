//! Matrix against a real homeserver (Synapse, started per test): the bot logs in with its
//! password, the conversation provider makes a room per incident, responders are real Matrix
//! users typing `!dispatch …` in it through the client-server API, and the /sync loop hands
//! their messages to the job queue. Asserts on what the users see in their rooms (answers, room
//! name, topic, power levels) and on the incident in Dispatch.

use crate::common::synapse::{MatrixUser, Synapse};
use crate::common::{error_fields, TestApp};
use dispatch_matrix::sync::SyncOptions;
use dispatch_matrix::{Credentials, MatrixApi};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The bot's API client, signing in with its password (as `DISPATCH_MATRIX_USER` and
/// `DISPATCH_MATRIX_PASSWORD` configure it).
fn bot_api(synapse: &Synapse) -> MatrixApi {
    MatrixApi::new(
        &synapse.url,
        Credentials::Password {
            user: "dispatch".into(),
            password: crate::common::synapse::password("dispatch"),
        },
    )
}

/// A server whose conversation provider is Matrix, running the Matrix jobs.
async fn matrix_app(api: MatrixApi) -> TestApp {
    let conversation = api.clone();
    TestApp::builder()
        .registry(move |db, registry| {
            registry
                .conversation
                .add(Arc::new(dispatch::server::matrix_conversation(
                    db,
                    conversation,
                )));
            registry
                .set_default(dispatch_core::Capability::Conversation, "matrix")
                .unwrap();
        })
        .transport_jobs(dispatch_matrix::jobs::handlers(
            dispatch_matrix::jobs::MatrixWorker {
                api,
                reaction: "⏱".into(),
            },
        ))
        .spawn()
        .await
}

/// A running /sync loop; stopped (and awaited) by [`Loop::stop`].
struct Loop {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Loop {
    fn start(api: MatrixApi, app: &TestApp) -> Loop {
        let (stop, stopped) = watch::channel(false);
        let options = SyncOptions {
            poll: Duration::from_millis(500),
            ..Default::default()
        };
        let task = tokio::spawn(dispatch_matrix::sync::run(
            api,
            app.engine.clone(),
            options,
            stopped,
        ));
        Loop { stop, task }
    }

    async fn stop(self) {
        self.stop.send(true).unwrap();
        self.task.await.unwrap();
    }
}

struct World {
    synapse: Synapse,
    app: TestApp,
    sync: Option<Loop>,
    ic: MatrixUser,
    bob: MatrixUser,
}

/// Synapse with the bot, Ida (the IC) and Bob registered; Dispatch knows Ida and Bob by their
/// Matrix IDs; the /sync loop runs.
async fn world() -> World {
    let synapse = Synapse::start().await;
    let bot = synapse.register("dispatch").await;
    // The bot's own session is its password login; this one is not used.
    drop(bot);
    let ic = synapse.register("ida").await;
    let bob = synapse.register("bob").await;
    let app = matrix_app(bot_api(&synapse)).await;
    for (email, name, user) in [
        ("ic@example.com", "Ida", &ic),
        ("bob@example.com", "Bob", &bob),
    ] {
        let r = app
            .post(
                "/individuals",
                json!({"email": email, "name": name, "matrix_id": user.id}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        assert_eq!(r.body["matrix_id"], user.id.as_str());
    }
    let sync = Some(Loop::start(bot_api(&synapse), &app));
    World {
        synapse,
        app,
        sync,
        ic,
        bob,
    }
}

impl World {
    /// Runs the queued jobs until `check` answers, for up to 30 s.
    async fn until<T, F, Fut>(&self, what: &str, check: F) -> T
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.app.run_pending_jobs().await;
            if let Some(v) = check().await {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; jobs: {}; Synapse's log ends:\n{}",
                self.app.get("/jobs?state=failed").await.body,
                tail(&self.synapse.log())
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Declares an incident commanded by Ida and waits until its room is ready; the room id.
    async fn declare(&self, title: &str, visibility: &str) -> (String, String) {
        let r = self
            .app
            .post(
                "/incidents",
                json!({"title": title, "description": "details", "commander": "ic@example.com",
                       "visibility": visibility}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let name = r.body["name"].as_str().unwrap().to_string();
        let room = self
            .until("the incident's room", || async {
                let res = self.app.resource(&name, "conversation").await;
                assert_ne!(res["status"], "failed", "{res}");
                (res["status"] == "ready").then(|| res["external_id"].as_str().unwrap().to_string())
            })
            .await;
        (name, room)
    }

    /// `user` says `text` in `room` and waits for the bot's answer to it.
    async fn ask(&self, user: &MatrixUser, room: &str, text: &str) -> Value {
        let asked = user.say(room, text).await;
        self.until(&format!("the answer to {text:?}"), || async {
            answers_to(&user.messages(room).await, &asked)
                .into_iter()
                .next()
        })
        .await
    }

    /// Ida invites the bot to her room `room`; waits until it has joined. The bot's id.
    async fn invite_bot(&self, room: &str) -> String {
        let bot = bot_api(&self.synapse).user_id().await.unwrap();
        self.ic.invite(room, &bot).await;
        self.until("the bot in the room", || async {
            let path = format!(
                "/rooms/{}/joined_members",
                dispatch_matrix::api::segment(room)
            );
            let members = self.ic.call(reqwest::Method::GET, &path, None).await;
            members["joined"].get(&bot).is_some().then_some(())
        })
        .await;
        bot
    }

    async fn finish(mut self) {
        if let Some(sync) = self.sync.take() {
            sync.stop().await;
        }
        self.app.run_pending_jobs().await;
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

/// The bot's replies to the event `to`.
fn answers_to(messages: &[Value], to: &str) -> Vec<Value> {
    messages
        .iter()
        .filter(|m| m["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == to)
        .cloned()
        .collect()
}

fn body(m: &Value) -> &str {
    m["content"]["body"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn the_ic_runs_an_incident_from_its_matrix_room_from_declaration_to_the_archived_room() {
    let w = world().await;
    let (name, room) = w.declare("Checkout is down", "open").await;

    // The room: named after the incident, with a topic, Ida invited as a moderator.
    w.until("Ida's invitation", || async {
        w.ic.invites().await.contains(&room).then_some(())
    })
    .await;
    w.ic.join(&room).await;
    let room_name = w.ic.state(&room, "m.room.name").await;
    assert_eq!(
        room_name["name"],
        format!("{name}: Checkout is down"),
        "{room_name}"
    );
    let topic = w.ic.state(&room, "m.room.topic").await;
    assert!(
        topic["topic"].as_str().is_some_and(|t| !t.is_empty()),
        "{topic}"
    );
    let power = w.ic.state(&room, "m.room.power_levels").await;
    assert_eq!(power["users"][&w.ic.id], 50, "{power}");
    // The bookmarks: one pinned message listing the incident's resources.
    let pinned = w.ic.state(&room, "m.room.pinned_events").await;
    let bookmarks = w.ic.state(&room, "org.dispatch.bookmarks").await;
    assert_eq!(
        pinned["pinned"][0], bookmarks["event_id"],
        "{pinned} {bookmarks}"
    );
    assert!(
        bookmarks.to_string().contains("Incident document"),
        "{bookmarks}"
    );

    // Commands typed in the room run as Ida; the answers come back as formatted replies.
    let summary = w.ask(&w.ic, &room, "!dispatch summary").await;
    assert!(body(&summary).contains(&name), "{summary}");
    assert_eq!(summary["content"]["format"], "org.matrix.custom.html");
    assert_eq!(summary["content"]["msgtype"], "m.notice");

    // Matrix has no forms: a form's command alone answers with the command and the current
    // values, to change and send back.
    let form = w.ask(&w.ic, &room, "!dispatch edit-incident").await;
    assert!(
        body(&form).contains(r#"!dispatch edit-incident"#)
            && body(&form).contains(r#"title="Checkout is down""#)
            && body(&form).contains(r#"status="active""#),
        "{form}"
    );

    let assigned = w
        .ask(
            &w.ic,
            &room,
            &format!("!dispatch assign-role {} scribe", w.bob.id),
        )
        .await;
    assert!(!body(&assigned).contains("Unknown"), "{assigned}");
    let people = w
        .app
        .get(&format!("/incidents/{name}/participants"))
        .await
        .body;
    let bob = people
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["email"] == "bob@example.com")
        .unwrap_or_else(|| panic!("Bob is a participant: {people}"));
    assert!(bob.to_string().contains("scribe"), "{bob}");

    // Bob is invited to the room as a participant, joins, and talks.
    w.until("Bob's invitation", || async {
        w.bob.invites().await.contains(&room).then_some(())
    })
    .await;
    w.bob.join(&room).await;

    let task = w
        .ask(
            &w.ic,
            &room,
            &format!("/dispatch add-task {} \"Check the replicas\"", w.bob.id),
        )
        .await;
    assert!(!body(&task).contains("Unknown"), "{task}");
    let tasks = w.app.get(&format!("/incidents/{name}/tasks")).await.body;
    assert!(tasks.to_string().contains("Check the replicas"), "{tasks}");

    let report = w
        .ask(
            &w.ic,
            &room,
            "!dispatch status-report conditions=\"Checkout fails\" actions=\"Failing over\" needs=\"DB team\"",
        )
        .await;
    assert!(!body(&report).contains("Unknown"), "{report}");
    let reports = w.app.get(&format!("/incidents/{name}/reports")).await.body;
    assert!(reports.to_string().contains("Failing over"), "{reports}");

    // Ida reacts ⏱ to Bob's message: it goes on the timeline.
    let said = w.bob.say(&room, "Replica lag is five minutes").await;
    w.ic.react(&room, &said, "⏱️").await;
    w.until("Bob's message on the timeline", || async {
        let timeline = w.app.get(&format!("/incidents/{name}/timeline")).await.body;
        timeline
            .to_string()
            .contains("Replica lag is five minutes")
            .then_some(())
    })
    .await;

    let stable = w.ask(&w.ic, &room, "!dispatch mark-stable").await;
    assert!(body(&stable).contains("stable"), "{stable}");
    let closed = w.ask(&w.ic, &room, "!dispatch mark-closed").await;
    assert!(body(&closed).contains("closed"), "{closed}");
    let incident = w.app.get(&format!("/incidents/{name}")).await.body;
    assert_eq!(incident["status"], "closed");

    // The room is archived: renamed and read-only.
    w.until("the archived room", || async {
        let n = w.ic.state(&room, "m.room.name").await;
        n["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("[closed] "))
            .then_some(())
    })
    .await;
    let power = w.ic.state(&room, "m.room.power_levels").await;
    assert_eq!(power["events_default"], 100, "{power}");

    // Re-opened (from the API: the room is read-only), the room takes its name back and people
    // may write again.
    let r = w
        .app
        .patch(&format!("/incidents/{name}"), json!({"status": "active"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    w.until("the room opened again", || async {
        let n = w.ic.state(&room, "m.room.name").await;
        (n["name"] == format!("{name}: Checkout is down")).then_some(())
    })
    .await;
    let power = w.ic.state(&room, "m.room.power_levels").await;
    assert_eq!(power["events_default"], 0, "{power}");
    let summary = w.ask(&w.ic, &room, "!dispatch summary").await;
    assert!(body(&summary).contains(&name), "{summary}");

    // The command moves to Bob: he becomes a moderator of the room too.
    let handed = w
        .ask(
            &w.ic,
            &room,
            &format!("!dispatch assign-role {} incident_commander", w.bob.id),
        )
        .await;
    assert!(!body(&handed).contains("Unknown"), "{handed}");
    w.until(
        &format!("Bob's power level after {}", body(&handed)),
        || async {
            let power = w.ic.state(&room, "m.room.power_levels").await;
            (power["users"][&w.bob.id] == 50).then_some(())
        },
    )
    .await;

    w.finish().await;
}

#[tokio::test]
async fn a_restarted_sync_loop_answers_what_came_while_it_was_down_and_nothing_twice() {
    let mut w = world().await;
    let (_, room) = w.declare("Search is slow", "open").await;
    w.until("Ida's invitation", || async {
        w.ic.invites().await.contains(&room).then_some(())
    })
    .await;
    w.ic.join(&room).await;
    let first = w.ic.say(&room, "!dispatch list-tasks").await;
    w.until("the first answer", || async {
        let m = w.ic.messages(&room).await;
        (!answers_to(&m, &first).is_empty()).then_some(())
    })
    .await;

    // Stopped: the position is in the database.
    w.sync.take().unwrap().stop().await;
    let bot = bot_api(&w.synapse).user_id().await.unwrap();
    let saved = w
        .app
        .engine
        .chat()
        .cursor(&dispatch_matrix::sync::cursor_name(&bot))
        .await
        .unwrap();
    assert!(saved.is_some(), "the /sync position is saved");

    // A command while it is down, then a restart with a new session.
    let while_down = w.ic.say(&room, "!dispatch list-participants").await;
    w.app.run_pending_jobs().await;
    w.sync = Some(Loop::start(bot_api(&w.synapse), &w.app));
    w.until(
        "the answer to the command sent while it was down",
        || async {
            let m = w.ic.messages(&room).await;
            (!answers_to(&m, &while_down).is_empty()).then_some(())
        },
    )
    .await;
    let later = w.ask(&w.ic, &room, "!dispatch help").await;
    assert!(body(&later).contains("/dispatch-"), "{later}");
    let messages = w.ic.messages(&room).await;
    assert_eq!(answers_to(&messages, &first).len(), 1, "answered once");
    assert_eq!(answers_to(&messages, &while_down).len(), 1, "answered once");
    w.finish().await;
}

#[tokio::test]
async fn a_matrix_user_dispatch_does_not_know_is_told_how_to_link_their_matrix_id() {
    let w = world().await;
    let eve = w.synapse.register("eve").await;
    let (_, room) = w.declare("Login fails", "open").await;
    // An open incident's room is public on the homeserver: anyone may join.
    eve.join(&room).await;
    let answer = w.ask(&eve, &room, "!dispatch summary").await;
    let text = body(&answer);
    assert!(text.contains(&eve.id), "{text}");
    assert!(text.contains("Matrix ID"), "{text}");
    assert!(text.contains("matrix_id"), "{text}");
    w.finish().await;
}

#[tokio::test]
async fn a_stakeholder_room_the_bot_is_invited_to_hears_of_status_changes() {
    let w = world().await;
    let stakeholders = w.ic.create_room("Stakeholders").await;
    w.invite_bot(&stakeholders).await;
    let rule = w
        .app
        .post(
            "/notification-rules",
            json!({"name": "stakeholders", "filter": "all", "target_kind": "conversation",
                   "target": format!("channel:{stakeholders}")}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.body);
    let (name, _) = w.declare("Payments are failing", "open").await;
    let r = w
        .app
        .patch(&format!("/incidents/{name}"), json!({"status": "stable"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    w.until("the status change in the stakeholder room", || async {
        let m = w.ic.messages(&stakeholders).await;
        m.iter()
            .any(|m| body(m).contains(&name) && body(m).contains("stable"))
            .then_some(())
    })
    .await;
    // Naming the incident in the room (any case) gets its status card as a reply.
    let card = w
        .ask(
            &w.ic,
            &stakeholders,
            &format!("is {} over?", name.to_lowercase()),
        )
        .await;
    assert!(
        body(&card).contains(&format!("{name}: Payments are failing")),
        "{card}"
    );
    assert!(body(&card).contains("stable"), "{card}");
    w.finish().await;
}

#[tokio::test]
async fn a_matrix_id_must_read_as_one_and_is_shown_changed_and_cleared() {
    let app = crate::common::spawn_app().await;
    let bad = app
        .post(
            "/individuals",
            json!({"email": "m@example.com", "matrix_id": "m@example.com"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&bad.body), vec!["matrix_id"]);
    let made = app
        .post(
            "/individuals",
            json!({"email": "m@example.com", "matrix_id": "@m:example.org"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let id = made.body["id"].as_i64().unwrap();
    let twice = app
        .post(
            "/individuals",
            json!({"email": "n@example.com", "matrix_id": "@m:example.org"}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    let shown = app.get(&format!("/individuals/{id}")).await;
    assert_eq!(shown.body["matrix_id"], "@m:example.org");
    let changed = app
        .patch(
            &format!("/individuals/{id}"),
            json!({"matrix_id": "@mm:example.org"}),
        )
        .await;
    assert_eq!(changed.body["matrix_id"], "@mm:example.org");
    let cleared = app
        .patch(&format!("/individuals/{id}"), json!({"matrix_id": null}))
        .await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.body["matrix_id"], Value::Null);
}

#[tokio::test]
async fn a_case_posted_to_a_matrix_room_is_acknowledged_there_and_its_message_updated_in_place() {
    let w = world().await;
    let alerts = w.ic.create_room("Security alerts").await;
    let bot = w.invite_bot(&alerts).await;
    crate::signals::define(
        &w.app,
        json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"},
               "conversation_target": alerts}),
    )
    .await;
    let got = crate::signals::send(
        &w.app,
        crate::signals::notification(vec![crate::signals::errors("k1")]),
    )
    .await;
    let case = got[0]["case_id"].clone();
    let posted = w
        .until("the case's message", || async {
            w.ic.messages(&alerts)
                .await
                .into_iter()
                .find(|m| m["sender"] == bot.as_str() && body(m).contains("Status: new"))
        })
        .await;

    let acked = w.ask(&w.ic, &alerts, "!dispatch case-ack").await;
    assert_eq!(
        body(&acked),
        format!("Case {case} is in triage (ic@example.com acknowledged it).")
    );
    // The case's message is edited in place (`m.replace`) to show the new status.
    let posted_id = posted["event_id"].as_str().unwrap().to_string();
    w.until("the edit of the case's message", || async {
        w.ic.messages(&alerts).await.into_iter().find(|m| {
            m["content"]["m.relates_to"]["rel_type"] == "m.replace"
                && m["content"]["m.relates_to"]["event_id"] == posted_id.as_str()
                && m["content"]["m.new_content"]["body"]
                    .as_str()
                    .is_some_and(|b| b.contains("Status: triage"))
        })
    })
    .await;
    w.finish().await;
}
