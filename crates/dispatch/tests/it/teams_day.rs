//! The IC's day entirely through Microsoft Teams: activities signed as the Bot Connector signs
//! them, the connector, the identity platform and Graph played by the emulator. Asserts on the
//! calls the emulator received, the dialogs' answers, and the incident in Dispatch.

use crate::common::TestApp;
use dispatch::teams_config::TeamsConfig;
use dispatch_teams::emulator::{Channel, Emulator, KID};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

const APP: &str = "11111111-2222-3333-4444-555555555555";
const PASSWORD: &str = "day-password";
const TENANT: &str = "tenant-1";
const TEAM: &str = "team-1";

fn key() -> &'static [u8] {
    include_bytes!("common/oidc_rsa_key.der")
}

fn other_key() -> ring::signature::RsaKeyPair {
    ring::signature::RsaKeyPair::from_der(include_bytes!("common/oidc_other_rsa_key.der")).unwrap()
}

struct Day {
    app: TestApp,
    emu: Emulator,
    ic: String,
    bob: String,
    n: u32,
}

/// The `[teams]` settings pointing at the emulator.
fn config(emu: &Emulator) -> TeamsConfig {
    TeamsConfig {
        app_id: APP.into(),
        app_password: PASSWORD.into(),
        tenant_id: TENANT.into(),
        team_id: TEAM.into(),
        service_url: emu.service_url(),
        openid_url: emu.openid_url(),
        bot_token_url: format!("{}/botframework.com/oauth2/v2.0/token", emu.login_url()),
        login_url: emu.login_url(),
        graph_url: emu.graph_url(),
    }
}

/// A server whose conversation provider is Teams, taking the Bot Connector's activities.
async fn teams_app(emu: &Emulator) -> TestApp {
    let cfg = config(emu);
    let provider = cfg.clients().unwrap().unwrap();
    let worker = cfg.clients().unwrap().unwrap();
    let web = cfg.clients().unwrap().unwrap();
    TestApp::builder()
        .registry(move |db, registry| {
            registry
                .conversation
                .add(Arc::new(dispatch::server::teams_conversation(
                    db,
                    provider.graph,
                    provider.connector,
                )));
            registry
                .set_default(dispatch_core::Capability::Conversation, "teams")
                .unwrap();
        })
        .web_options(dispatch_web::WebOptions {
            teams: Some(dispatch_teams::transport::TeamsSettings {
                auth: Arc::new(web.auth),
                graph: web.graph,
            }),
            ..Default::default()
        })
        .transport_jobs(dispatch_teams::jobs::handlers(
            dispatch_teams::jobs::TeamsWorker {
                connector: worker.connector,
                graph: worker.graph,
            },
        ))
        .spawn()
        .await
}

async fn start() -> Day {
    let emu = Emulator::new(APP, PASSWORD, TENANT, TEAM, key());
    let ic = emu.add_user("ic@example.com", "Ice Commander");
    let bob = emu.add_user("bob@example.com", "Bob");
    // Channels made before: finding a channel by name takes more than one page.
    for name in ["General", "Random", "Ops"] {
        emu.add_channel(name);
    }
    emu.spawn().await;
    let app = teams_app(&emu).await;
    Day {
        app,
        emu,
        ic,
        bob,
        n: 0,
    }
}

impl Day {
    /// Posts an activity with `token` as the Bot Connector would; the answer.
    async fn post_with(&self, token: Option<&str>, activity: &Value) -> (StatusCode, Value) {
        let mut req = self
            .app
            .http
            .post(format!("{}/api/v1/teams/messages", self.app.base))
            .json(activity);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Posts an activity with a good token, runs the jobs it made; the answer's body.
    async fn send(&mut self, activity: Value) -> Value {
        let (status, body) = self.post_with(Some(&self.emu.bot_token()), &activity).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        self.app.run_pending_jobs().await;
        body
    }

    /// An activity from `user` in `conversation` (a channel's id, or a personal chat).
    fn activity(&mut self, user: &str, conversation: &str, kind: &str) -> Value {
        self.n += 1;
        let mut a = json!({
            "type": kind,
            "id": format!("act-{}", self.n),
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "serviceUrl": self.emu.service_url(),
            "channelId": "msteams",
            "from": {"id": format!("29:{user}"), "aadObjectId": user, "name": "someone"},
            "recipient": {"id": format!("28:{APP}"), "name": "Dispatch"},
            "conversation": {"id": conversation},
            "channelData": {"tenant": {"id": TENANT}},
        });
        if conversation.starts_with("19:") {
            a["conversation"]["conversationType"] = json!("channel");
            a["channelData"]["channel"] = json!({"id": conversation});
            a["channelData"]["team"] = json!({"id": TEAM});
        } else {
            a["conversation"]["conversationType"] = json!("personal");
        }
        a
    }

    /// `@Dispatch {text}` typed by `user` in `conversation`; `mentions` are other people
    /// mentioned as `<at>name</at>` (name, AAD object id).
    async fn say(&mut self, user: &str, conversation: &str, text: &str, mentions: &[(&str, &str)]) {
        let mut a = self.activity(user, conversation, "message");
        a["text"] = json!(format!("<at>Dispatch</at> {text}"));
        let mut entities = vec![json!({"type": "mention", "text": "<at>Dispatch</at>",
            "mentioned": {"id": format!("28:{APP}"), "name": "Dispatch"}})];
        for (name, id) in mentions {
            entities.push(
                json!({"type": "mention", "text": format!("<at>{name}</at>"),
                "mentioned": {"id": format!("29:{id}"), "name": name}}),
            );
        }
        a["entities"] = json!(entities);
        self.send(a).await;
    }

    /// A task module invoke (`task/fetch` or `task/submit`) with `data`; the answer.
    async fn invoke(&mut self, user: &str, conversation: &str, name: &str, data: Value) -> Value {
        let mut a = self.activity(user, conversation, "invoke");
        a["name"] = json!(name);
        a["value"] = json!({"data": data, "context": {"theme": "default"}});
        self.send(a).await
    }

    fn channel(&self) -> Channel {
        let made: Vec<Channel> = self
            .emu
            .channels()
            .into_iter()
            .filter(|c| c.name.starts_with("inc-"))
            .collect();
        assert_eq!(made.len(), 1, "one incident channel: {made:?}");
        made[0].clone()
    }

    /// The last reply the bot sent in `conversation`.
    fn last_reply(&self, conversation: &str) -> Value {
        self.emu
            .sent()
            .into_iter()
            .rev()
            .find(|(c, reply_to, _)| c == conversation && reply_to.is_some())
            .map(|(_, _, a)| a)
            .unwrap_or_else(|| panic!("no reply in {conversation}: {:?}", self.emu.sent()))
    }

    /// The text of every TextBlock and fact of the last reply's card.
    fn last_reply_text(&self, conversation: &str) -> String {
        self.last_reply(conversation)["attachments"][0]["content"].to_string()
    }
}

/// The inputs of a dialog answer's card, by id.
fn inputs(answer: &Value) -> serde_json::Map<String, Value> {
    assert_eq!(answer["task"]["type"], "continue", "{answer}");
    answer["task"]["value"]["card"]["content"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap_or("").starts_with("Input."))
        .map(|e| (e["id"].as_str().unwrap().to_string(), e.clone()))
        .collect()
}

/// The data of the button in the last reply that opens a form.
fn open_button(reply: &Value) -> Value {
    let actions = &reply["attachments"][0]["content"]["actions"];
    let a = actions[0].clone();
    assert_eq!(a["data"]["msteams"]["type"], "task/fetch", "{reply}");
    a["data"].clone()
}

#[tokio::test]
async fn the_ics_day_through_teams() {
    let mut day = start().await;
    let (ic, bob) = (day.ic.clone(), day.bob.clone());
    let personal = day.emu.personal_conversation(&ic);

    // Report: the command without arguments answers with a button that opens the form.
    day.say(&ic, &personal, "report-incident", &[]).await;
    let data = open_button(&day.last_reply(&personal));
    assert_eq!(data["dispatch_form"], "dispatch-report-incident");
    let form = day.invoke(&ic, &personal, "task/fetch", data.clone()).await;
    let fields = inputs(&form);
    assert_eq!(fields["title"]["isRequired"], true);
    assert!(
        fields["title"].get("value").is_none(),
        "a new report is blank"
    );

    // A missing title is answered in the dialog, and nothing is declared.
    let mut submit = data.clone();
    submit["description"] = json!("5xx on checkout");
    let again = day
        .invoke(&ic, &personal, "task/submit", submit.clone())
        .await;
    assert!(again.to_string().contains("Title is required"), "{again}");
    assert_eq!(inputs(&again)["description"]["value"], "5xx on checkout");
    assert_eq!(day.app.get("/incidents").await.body["total"], 0);

    submit["title"] = json!("Payments failing");
    let done = day.invoke(&ic, &personal, "task/submit", submit).await;
    assert_eq!(done["task"]["type"], "message", "{done}");
    let list = day.app.get("/incidents").await.body;
    assert_eq!(list["total"], 1, "{list}");
    let name = list["items"][0]["name"].as_str().unwrap().to_string();
    let inc = day.app.get(&format!("/incidents/{name}")).await.body;
    assert_eq!(inc["commander"]["email"], "ic@example.com", "{inc}");

    // The channel: named after the incident, its description the topic, the IC in the team,
    // a website tab per resource, the welcome posted as an Adaptive Card.
    let ch = day.channel();
    assert!(ch.name.starts_with(&name.to_lowercase()), "{}", ch.name);
    assert!(
        ch.description.to_lowercase().contains("active"),
        "{}",
        ch.description
    );
    assert_eq!(ch.membership, "standard");
    assert!(
        day.emu.team_members().contains(&ic),
        "the IC is in the team"
    );
    assert!(!ch.tabs.is_empty(), "tabs for the resources");
    let welcome = &ch.posts.first().expect("the welcome").1;
    let card = &welcome["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["body"][0]["weight"], "Bolder", "{card}");
    assert!(
        card["content"].to_string().contains("Action.OpenUrl"),
        "{card}"
    );
    let conv = inc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "conversation")
        .cloned()
        .unwrap();
    assert_eq!(conv["provider"], "teams");
    assert_eq!(conv["status"], "ready");
    assert_eq!(conv["external_id"].as_str(), Some(ch.id.as_str()), "{conv}");
    // Finding the channel by name followed Graph's next page.
    assert!(
        day.emu
            .calls()
            .iter()
            .any(|c| c.path.contains("$skiptoken")),
        "the channel list was paged"
    );
    let c = ch.id.clone();

    // Someone added to the channel joins the incident; removed, they leave it.
    let carol = day.emu.add_user("carol@example.com", "Carol");
    for (list, n) in [("membersAdded", 0), ("membersRemoved", 1)] {
        let mut a = day.activity(&ic, &c, "conversationUpdate");
        a[list] = json!([{"id": format!("29:{carol}"), "aadObjectId": carol},
                         {"id": format!("28:{APP}")}]);
        day.send(a).await;
        let parts = day
            .app
            .get(&format!("/incidents/{name}/participants"))
            .await
            .body;
        let carols = parts
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["email"] == "carol@example.com")
            .unwrap_or_else(|| panic!("carol joined: {parts}"))
            .clone();
        let roles = carols["roles"].as_array().unwrap().len();
        if n == 0 {
            assert!(roles > 0, "added: {carols}");
        } else {
            assert_eq!(roles, 0, "removed: {carols}");
        }
    }

    // The message action puts a channel message on the timeline, once (Teams tells a bot of
    // reactions only on its own messages).
    for attempt in 0..2 {
        let mut a = day.activity(&ic, &c, "invoke");
        a["name"] = json!("composeExtension/submitAction");
        a["value"] = json!({"commandId": "addToTimeline", "commandContext": "message",
            "messagePayload": {"id": "1700000300000", "createdDateTime": "2026-12-03T10:05:00Z",
                "body": {"contentType": "html", "content": "<p>Deploy <b>42</b> rolled back</p>"},
                "from": {"user": {"id": format!("29:{bob}"), "displayName": "Bob", "aadObjectId": bob}}}});
        let answer = day.send(a).await;
        let said = answer["task"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let want = if attempt == 0 { "Added" } else { "already" };
        assert!(said.contains(want), "{answer}");
    }
    let timeline = day
        .app
        .get(&format!("/incidents/{name}/timeline"))
        .await
        .body;
    let imported: Vec<&Value> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "imported_message")
        .collect();
    assert_eq!(imported.len(), 1, "{timeline}");
    assert!(
        imported[0].to_string().contains("Deploy 42 rolled back"),
        "{}",
        imported[0]
    );

    // Commands typed to the bot in the channel, people mentioned by name.
    day.say(&ic, &c, "assign-role <at>Bob</at> scribe", &[("Bob", &bob)])
        .await;
    let parts = day
        .app
        .get(&format!("/incidents/{name}/participants"))
        .await
        .body;
    let bobs = parts
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["email"] == "bob@example.com")
        .unwrap_or_else(|| panic!("bob takes part: {parts}"));
    assert_eq!(bobs["roles"], json!(["scribe"]), "{parts}");
    assert!(day.emu.team_members().contains(&bob), "bob is added");

    day.say(&ic, &c, "edit-incident priority=high", &[]).await;
    let inc = day.app.get(&format!("/incidents/{name}")).await.body;
    assert_eq!(inc["priority"], "high", "{inc}");

    // A message naming the incident, in the personal chat: its status card.
    day.say(
        &ic,
        &personal,
        &format!("is {} still going?", name.to_lowercase()),
        &[],
    )
    .await;
    let card = day.last_reply_text(&personal);
    assert!(card.contains(&format!("{name}: ")), "{card}");
    assert!(card.contains("High"), "{card}");

    // The answer is an Adaptive Card rendered from the rich message.
    day.say(&bob, &c, "list-participants", &[]).await;
    let reply = day.last_reply(&c);
    assert_eq!(
        reply["attachments"][0]["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert!(
        day.last_reply_text(&c).contains("bob@example.com"),
        "{reply}"
    );

    // A task list carries a Resolve button; pressing it runs its command as the presser.
    day.say(
        &ic,
        &c,
        "create-task bob@example.com \"Roll back the deploy\"",
        &[],
    )
    .await;
    day.say(&bob, &c, "list-tasks", &[]).await;
    let list = day.last_reply(&c);
    let button = list["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "ActionSet")
        .flat_map(|e| e["actions"].as_array().unwrap().clone())
        .find(|a| a["type"] == "Action.Submit")
        .unwrap_or_else(|| panic!("a Resolve button: {list}"));
    let status = |tasks: &Value| {
        let items = tasks["items"].as_array().or(tasks.as_array()).cloned();
        items
            .unwrap_or_default()
            .iter()
            .find(|t| t["description"] == "Roll back the deploy")
            .map(|t| t["status"].clone())
            .unwrap_or_else(|| panic!("the task: {tasks}"))
    };
    let tasks = day.app.get(&format!("/incidents/{name}/tasks")).await.body;
    assert_eq!(status(&tasks), "open", "{tasks}");
    let mut pressed = day.activity(&bob, &c, "message");
    pressed["value"] = button["data"].clone();
    day.send(pressed).await;
    let tasks = day.app.get(&format!("/incidents/{name}/tasks")).await.body;
    assert_eq!(status(&tasks), "resolved", "{tasks}");

    // The edit form opens prefilled with the current values.
    day.say(&ic, &c, "edit-incident", &[]).await;
    let data = open_button(&day.last_reply(&c));
    let form = day.invoke(&ic, &c, "task/fetch", data.clone()).await;
    let fields = inputs(&form);
    assert_eq!(fields["title"]["value"], "Payments failing");
    assert_eq!(fields["description"]["value"], "5xx on checkout");
    assert_eq!(fields["priority"]["value"], "high");
    assert_eq!(fields["status"]["value"], "active");
    let mut edit = data.clone();
    edit["title"] = json!("Payments failing in EU");
    let done = day.invoke(&ic, &c, "task/submit", edit).await;
    assert_eq!(done["task"]["type"], "message", "{done}");
    let inc = day.app.get(&format!("/incidents/{name}")).await.body;
    assert_eq!(inc["title"], "Payments failing in EU");

    // A tactical report through its form: a missing field is answered in the dialog.
    let data = json!({"msteams": {"type": "task/fetch"}, "dispatch_form": "dispatch-status-report",
        "dispatch_context": c});
    let mut report = data.clone();
    report["conditions"] = json!("Checkout failing");
    report["actions"] = json!("Rolling back");
    let again = day.invoke(&ic, &c, "task/submit", report.clone()).await;
    assert!(again.to_string().contains("Needs is required"), "{again}");
    report["needs"] = json!("DB team");
    day.invoke(&ic, &c, "task/submit", report).await;
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
        day.channel()
            .posts
            .iter()
            .any(|(_, a)| a.to_string().contains("Checkout failing")),
        "the report is posted in the channel"
    );
    // The next report's form opens with the last one's values.
    let form = day.invoke(&ic, &c, "task/fetch", data).await;
    assert_eq!(inputs(&form)["needs"]["value"], "DB team");

    // Someone who is not the IC is refused, and told so.
    day.say(&bob, &c, "mark-closed", &[]).await;
    assert!(
        day.last_reply_text(&c).contains("incident commander"),
        "{}",
        day.last_reply_text(&c)
    );

    // Someone Dispatch cannot map is told how to link.
    let ghost = "99999999-0000-0000-0000-000000000000";
    day.say(ghost, &c, "list-tasks", &[]).await;
    assert!(
        day.last_reply_text(&c).contains("Teams id"),
        "{}",
        day.last_reply_text(&c)
    );

    day.say(&ic, &c, "mark-stable", &[]).await;
    assert_eq!(
        day.app.get(&format!("/incidents/{name}")).await.body["status"],
        "stable"
    );
    day.say(&ic, &c, "mark-closed", &[]).await;
    assert_eq!(
        day.app.get(&format!("/incidents/{name}")).await.body["status"],
        "closed"
    );
    assert!(day.channel().archived, "the channel is archived on close");

    // One channel was made, and no job failed.
    let creates = day
        .emu
        .calls()
        .iter()
        .filter(|c| c.method == "POST" && c.path.ends_with(&format!("/teams/{TEAM}/channels")))
        .count();
    assert_eq!(creates, 1);
    let failed = day.app.get("/jobs?state=failed").await.body;
    assert!(!failed.to_string().contains("teams"), "{failed}");
}

#[tokio::test]
async fn the_messaging_endpoint_refuses_tokens_not_issued_for_this_bot() {
    let mut day = start().await;
    let ic = day.ic.clone();
    let personal = day.emu.personal_conversation(&ic);
    let mut a = day.activity(&ic, &personal, "message");
    a["text"] = json!("list-incidents");
    let good = day.emu.claims(&day.emu.service_url());
    let now = chrono::Utc::now().timestamp();
    let mut expired = good.clone();
    expired["exp"] = json!(now - 600);
    expired["nbf"] = json!(now - 4000);
    let mut audience = good.clone();
    audience["aud"] = json!("someone-elses-bot");
    let mut issuer = good.clone();
    issuer["iss"] = json!("https://sts.windows.net/evil/");
    let mut service = good.clone();
    service["serviceUrl"] = json!("https://evil.example/");
    let refused = [
        ("no token", None),
        (
            "a key the Bot Framework does not publish",
            Some(Emulator::sign_with(&other_key(), KID, &good)),
        ),
        ("expired", Some(day.emu.sign(&expired))),
        ("another bot's", Some(day.emu.sign(&audience))),
        ("another issuer's", Some(day.emu.sign(&issuer))),
        ("another service URL's", Some(day.emu.sign(&service))),
        ("not a JWT", Some("abc.def".to_string())),
    ];
    for (why, token) in refused {
        let (status, body) = day.post_with(token.as_deref(), &a).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}: {body}");
    }
    assert_eq!(day.app.run_pending_jobs().await, 0, "nothing was enqueued");
    assert!(day.emu.sent().is_empty());
    // Within the five minutes of skew, an expired token still passes; the good one does.
    let mut late = good.clone();
    late["exp"] = json!(now - 120);
    let (status, _) = day.post_with(Some(&day.emu.sign(&late)), &a).await;
    assert_eq!(status, StatusCode::OK);
    day.send(a).await;
    assert!(!day.emu.sent().is_empty(), "the command was answered");
    // The keys were fetched once for all of that.
    let fetched = day
        .emu
        .calls()
        .iter()
        .filter(|c| c.path == "/botframework/keys")
        .count();
    assert_eq!(fetched, 1, "the signing keys are cached");
}

#[tokio::test]
async fn graph_429s_are_waited_out_and_the_channel_is_made_once() {
    let day = start().await;
    day.emu.rate_limit_next(2);
    let inc = day.app.declare("Storm under rate limits").await;
    for _ in 0..3 {
        day.app.run_pending_jobs().await;
    }
    let ch = day.channel();
    assert!(ch.name.contains("storm"), "{}", ch.name);
    let name = inc["name"].as_str().unwrap();
    let conv = day.app.resource(name, "conversation").await;
    assert_eq!(conv["status"], "ready", "{conv}");
    assert_eq!(ch.posts.len(), 1, "the welcome, once: {:?}", ch.posts);
}

#[tokio::test]
async fn a_person_linked_by_teams_id_is_who_their_messages_run_as() {
    let mut day = start().await;
    // Graph knows this user by another address; the profile's Teams id decides.
    let alias = day.emu.add_user("ice.alias@example.org", "Ice");
    let created = day
        .app
        .post(
            "/individuals",
            json!({"email": "ic@example.com", "name": "Ice"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let me = created.body["id"].as_i64().unwrap();
    let bad = day
        .app
        .patch(
            &format!("/individuals/{me}"),
            json!({"teams_id": "not-a-guid"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::common::error_fields(&bad.body), ["teams_id"]);
    let ok = day
        .app
        .patch(
            &format!("/individuals/{me}"),
            json!({"teams_id": alias.to_uppercase()}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["teams_id"], alias);
    let personal = day.emu.personal_conversation(&alias);
    let mut a = day.activity(&alias, &personal, "message");
    a["text"] = json!("report-incident \"Linked\"");
    day.send(a).await;
    let list = day.app.get("/incidents").await.body;
    let name = list["items"][0]["name"].as_str().unwrap();
    let inc = day.app.get(&format!("/incidents/{name}")).await.body;
    assert_eq!(inc["reporter"]["email"], "ic@example.com", "{inc}");
    // A Teams user found through Graph is linked by their id from then on.
    let bob = day.bob.clone();
    let mut a = day.activity(&bob, &personal, "message");
    a["text"] = json!("list-incidents");
    day.send(a).await;
    let people = day.app.get("/individuals?q=bob").await.body;
    assert_eq!(people["items"][0]["teams_id"], bob, "{people}");
}

#[tokio::test]
async fn a_restricted_incident_gets_a_private_channel_its_commander_owns() {
    let day = start().await;
    let admin = day.emu.add_user("admin@example.com", "Admin");
    let r = day
        .app
        .post(
            "/incidents",
            json!({"title": "Leaked keys", "description": "rotate", "visibility": "restricted"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let name = r.body["name"].as_str().unwrap().to_string();
    day.app.run_pending_jobs().await;
    let ch = day.channel();
    assert_eq!(ch.membership, "private");
    assert_eq!(ch.members.first(), Some(&admin), "the commander owns it");
    // People joining a private channel are its members, not merely the team's.
    let bob = day.bob.clone();
    let added = day
        .app
        .post(
            &format!("/incidents/{name}/commands"),
            json!({"text": "/dispatch-assign-role bob@example.com scribe"}),
        )
        .await;
    assert!(added.status.is_success(), "{}", added.body);
    day.app.run_pending_jobs().await;
    assert!(day.channel().members.contains(&bob), "{:?}", day.channel());
    assert!(!day.emu.team_members().contains(&bob));
    // The tokens were fetched once per client, not once per call.
    let tokens = day
        .emu
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/oauth2/v2.0/token"))
        .count();
    let graph = day
        .emu
        .calls()
        .iter()
        .filter(|c| c.path.starts_with("/graph/"))
        .count();
    assert!(
        tokens <= 3 && graph > 6,
        "{tokens} tokens for {graph} Graph calls"
    );
}

#[tokio::test]
async fn a_rotated_signing_key_is_fetched_again_but_at_most_once_per_interval() {
    let emu = Emulator::new(APP, PASSWORD, TENANT, TEAM, key());
    emu.spawn().await;
    let service = emu.service_url();
    let now = chrono::Utc::now().timestamp();
    let keys_fetched = || {
        emu.calls()
            .iter()
            .filter(|c| c.path == "/botframework/keys")
            .count()
    };
    let patient = dispatch_teams::auth::BotAuth::new(APP, &emu.openid_url());
    let eager = dispatch_teams::auth::BotAuth::new(APP, &emu.openid_url())
        .refetch_every(std::time::Duration::ZERO);
    let old = emu.bot_token();
    let auth = |t: &str| format!("Bearer {t}");
    patient
        .verify(Some(&auth(&old)), &service, now)
        .await
        .unwrap();
    eager
        .verify(Some(&auth(&old)), &service, now)
        .await
        .unwrap();
    assert_eq!(keys_fetched(), 2);

    emu.rotate_key(include_bytes!("common/oidc_other_rsa_key.der"), "emu-key-2");
    let new = emu.bot_token();
    // Fetched moments ago: an unknown kid does not fetch again, and is refused.
    let refused = patient.verify(Some(&auth(&new)), &service, now).await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(keys_fetched(), 2, "no fetch within the interval");
    // Once the interval has passed, the unknown kid fetches the keys again and is accepted.
    eager
        .verify(Some(&auth(&new)), &service, now)
        .await
        .unwrap();
    assert_eq!(keys_fetched(), 3);
    // The retired key is no longer published.
    assert!(eager
        .verify(Some(&auth(&old)), &service, now)
        .await
        .is_err());
}

#[tokio::test]
async fn a_case_is_posted_to_its_teams_channel_updated_in_place_and_told_in_its_thread() {
    let day = start().await;
    day.emu.add_channel("sec-alerts");
    crate::signals::define(
        &day.app,
        json!({"name": "Errors", "source": "alertmanager", "match": {"alertname": "HighErrorRate"},
            "conversation_target": "#sec-alerts"}),
    )
    .await;
    let got = crate::signals::send(
        &day.app,
        crate::signals::notification(vec![crate::signals::errors("t1")]),
    )
    .await;
    let case = got[0]["case_id"].clone();
    day.app.run_pending_jobs().await;
    let channel = || {
        day.emu
            .channels()
            .into_iter()
            .find(|c| c.name == "sec-alerts")
            .unwrap()
    };
    let posts = channel().posts;
    assert_eq!(posts.len(), 1, "{posts:?}");
    let (id, first) = posts[0].clone();
    assert!(
        first.to_string().contains(&format!("Case {case}")),
        "{first}"
    );
    assert!(first.to_string().contains("new"), "{first}");

    // Triaged over the API: the message is replaced in place, the move told in its thread.
    let r = day
        .app
        .post(&format!("/cases/{case}/triage"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    day.app.run_pending_jobs().await;
    let posts = channel().posts;
    let (_, now) = posts
        .iter()
        .find(|(p, _)| *p == id)
        .expect("the case's message");
    assert!(now.to_string().contains("triage"), "{now}");
    let thread: Vec<Value> = day
        .emu
        .sent()
        .into_iter()
        .filter(|(_, reply_to, _)| reply_to.as_deref() == Some(id.as_str()))
        .map(|(_, _, a)| a)
        .collect();
    assert!(
        thread.iter().any(|a| a.to_string().contains("triage")),
        "{thread:?}"
    );
    let failed = day.app.get("/jobs?state=failed").await.body;
    assert!(!failed.to_string().contains("case"), "{failed}");
}

#[tokio::test]
async fn a_stakeholder_channel_hears_of_new_incidents_and_status_changes() {
    let day = start().await;
    day.emu.add_channel("stakeholders");
    let id = day
        .emu
        .channels()
        .into_iter()
        .find(|c| c.name == "stakeholders")
        .unwrap()
        .id;
    let rule = day
        .app
        .post(
            "/notification-rules",
            json!({"name": "stakeholders", "filter": "all", "target_kind": "conversation",
                   "target": format!("channel:{id}")}),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.body);
    let r = day
        .app
        .post(
            "/incidents",
            json!({"title": "Payments are failing", "description": "5xx"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let name = r.body["name"].as_str().unwrap().to_string();
    day.app.run_pending_jobs().await;
    let r = day
        .app
        .patch(&format!("/incidents/{name}"), json!({"status": "stable"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    day.app.run_pending_jobs().await;
    let said: Vec<String> = day
        .emu
        .channels()
        .into_iter()
        .find(|c| c.id == id)
        .unwrap()
        .posts
        .iter()
        .map(|(_, a)| a.to_string())
        .collect();
    assert!(said.iter().any(|p| p.contains(&name)), "{said:?}");
    assert!(
        said.iter()
            .any(|p| p.contains(&name) && p.contains("stable")),
        "{said:?}"
    );
}
