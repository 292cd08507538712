//! An emulator of the Slack Web API for tests: the methods Dispatch calls, kept in memory, with
//! every call recorded. It checks the bot token (`invalid_auth` otherwise), answers `ok: false`
//! the way Slack does, and can be told to answer 429 with `Retry-After` or to be slow.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One recorded call: the method and its arguments.
#[derive(Debug, Clone)]
pub struct Call {
    /// e.g. `chat.postMessage`.
    pub method: String,
    /// The form arguments.
    pub args: BTreeMap<String, String>,
}

/// A channel as the emulator keeps it.
#[derive(Debug, Clone, Default)]
pub struct Channel {
    /// `C…` (public) or `G…` (private).
    pub id: String,
    /// The name.
    pub name: String,
    /// Private channel.
    pub private: bool,
    /// The topic.
    pub topic: String,
    /// Archived.
    pub archived: bool,
    /// Member user ids.
    pub members: Vec<String>,
    /// (id, title, link).
    pub bookmarks: Vec<(String, String, String)>,
    /// Posted messages: (ts, text, blocks).
    pub messages: Vec<(String, String, Value)>,
    /// Pinned message timestamps.
    pub pins: Vec<String>,
    /// Who wrote each message people posted (by ts); Dispatch's own have no entry.
    pub authors: HashMap<String, String>,
    /// The thread each reply is in: its ts → the parent message's `thread_ts`.
    pub threads: HashMap<String, String>,
    /// How many times each message was updated (`chat.update`), by ts.
    pub edits: HashMap<String, u32>,
}

#[derive(Default)]
struct Inner {
    users: Vec<(String, String, String)>,
    channels: Vec<Channel>,
    calls: Vec<Call>,
    views: Vec<Value>,
    rate_limit: u32,
    delay_ms: u64,
    next: u64,
    base: String,
    app_token: String,
    socket_out: Vec<Value>,
    socket_acks: Vec<Value>,
    socket_connections: u32,
}

/// The emulator's state, shared with the test that drives it.
#[derive(Clone)]
pub struct Emulator {
    token: String,
    inner: Arc<Mutex<Inner>>,
}

impl Emulator {
    /// An emulator that accepts `token` as the bot token.
    pub fn new(token: &str) -> Self {
        Self {
            token: token.into(),
            inner: Default::default(),
        }
    }

    /// Adds a workspace user; its id.
    pub fn add_user(&self, email: &str, name: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        let id = format!("U{:04}", inner.next);
        inner.users.push((id.clone(), email.into(), name.into()));
        id
    }

    /// Accepts `token` as the app-level token (`apps.connections.open`, Socket Mode).
    pub fn set_app_token(&self, token: &str) {
        self.inner.lock().unwrap().app_token = token.into();
    }

    /// Sends an envelope (`events_api`, `slash_commands`, `interactive`) to the connected
    /// Socket Mode client (or the next one to connect); its envelope id.
    pub fn socket_send(&self, kind: &str, payload: Value) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        let id = format!("env-{}", inner.next);
        inner
            .socket_out
            .push(json!({"envelope_id": id, "type": kind, "payload": payload,
            "accepts_response_payload": kind != "events_api"}));
        id
    }

    /// Asks the connected client to reconnect, as Slack does before it rotates a socket.
    pub fn socket_disconnect(&self) {
        self.inner
            .lock()
            .unwrap()
            .socket_out
            .push(json!({"type": "disconnect", "reason": "refresh_requested"}));
    }

    /// The acknowledgements received over Socket Mode.
    pub fn socket_acks(&self) -> Vec<Value> {
        self.inner.lock().unwrap().socket_acks.clone()
    }

    /// How many Socket Mode connections were opened.
    pub fn socket_connections(&self) -> u32 {
        self.inner.lock().unwrap().socket_connections
    }

    /// A person posts `text` in a channel (as Slack users do); the message's ts.
    pub fn user_message(&self, channel: &str, user: &str, text: &str) -> String {
        let mut inner = self.inner.lock().unwrap();
        inner.next += 1;
        let ts = format!("1700000000.{:06}", inner.next);
        if let Some(c) = inner.channels.iter_mut().find(|c| c.id == channel) {
            c.messages.push((ts.clone(), text.into(), Value::Null));
            c.authors.insert(ts.clone(), user.into());
        }
        ts
    }

    /// The next `n` calls answer 429 with `Retry-After: 1`.
    pub fn rate_limit_next(&self, n: u32) {
        self.inner.lock().unwrap().rate_limit = n;
    }

    /// Every call waits this long before answering.
    pub fn set_delay(&self, delay: Duration) {
        self.inner.lock().unwrap().delay_ms = delay.as_millis() as u64;
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }

    /// The calls of one method.
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.method == method)
            .collect()
    }

    /// Every channel.
    pub fn channels(&self) -> Vec<Channel> {
        self.inner.lock().unwrap().channels.clone()
    }

    /// The modals opened so far.
    pub fn views(&self) -> Vec<Value> {
        self.inner.lock().unwrap().views.clone()
    }

    /// The HTTP app; serve it and point the client at `http://ADDR/api`.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/api/{method}", post(handle))
            .route("/socket", get(socket))
            .with_state(self.clone())
    }

    /// Serves the emulator on 127.0.0.1 (an ephemeral port); its API base URL.
    pub async fn spawn(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the Slack emulator");
        let addr = listener.local_addr().expect("emulator address");
        self.inner.lock().unwrap().base = format!("{addr}");
        let app = self.router();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/api")
    }
}

fn fail(code: &str) -> Value {
    json!({"ok": false, "error": code})
}

async fn handle(
    State(emu): State<Emulator>,
    Path(method): Path<String>,
    headers: HeaderMap,
    Form(args): Form<BTreeMap<String, String>>,
) -> Response {
    let delay = emu.inner.lock().unwrap().delay_ms;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let mut inner = emu.inner.lock().unwrap();
    inner.calls.push(Call {
        method: method.clone(),
        args: args.clone(),
    });
    if inner.rate_limit > 0 {
        inner.rate_limit -= 1;
        return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "").into_response();
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if method == "apps.connections.open" {
        if inner.app_token.is_empty() || bearer != Some(inner.app_token.as_str()) {
            return Json(fail("invalid_auth")).into_response();
        }
        let url = format!("ws://{}/socket", inner.base);
        return Json(json!({"ok": true, "url": url})).into_response();
    }
    if bearer != Some(emu.token.as_str()) {
        return Json(fail("invalid_auth")).into_response();
    }
    Json(answer(&mut inner, &method, &args)).into_response()
}

async fn socket(State(emu): State<Emulator>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |ws| serve_socket(emu, ws))
}

/// One Socket Mode connection: hello, then the queued envelopes; acknowledgements are recorded.
/// A `disconnect` ends the connection after it is sent.
async fn serve_socket(emu: Emulator, mut ws: WebSocket) {
    emu.inner.lock().unwrap().socket_connections += 1;
    let hello = json!({"type": "hello", "num_connections": 1}).to_string();
    if ws.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    loop {
        loop {
            let next = {
                let mut inner = emu.inner.lock().unwrap();
                (!inner.socket_out.is_empty()).then(|| inner.socket_out.remove(0))
            };
            let Some(m) = next else { break };
            let last = m["type"] == "disconnect";
            if ws.send(Message::Text(m.to_string().into())).await.is_err() {
                return;
            }
            if last {
                // Keep reading until the client closes, as Slack does; what is still queued
                // goes to the next connection.
                while let Some(Ok(msg)) = ws.recv().await {
                    if matches!(msg, Message::Close(_)) {
                        break;
                    }
                }
                return;
            }
        }
        match tokio::time::timeout(Duration::from_millis(10), ws.recv()).await {
            Ok(Some(Ok(Message::Text(t)))) => {
                if let Ok(v) = serde_json::from_str::<Value>(&t) {
                    emu.inner.lock().unwrap().socket_acks.push(v);
                }
            }
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return,
            Ok(Some(Ok(_))) | Err(_) => {}
        }
    }
}

fn answer(inner: &mut Inner, method: &str, args: &BTreeMap<String, String>) -> Value {
    let arg = |k: &str| args.get(k).cloned().unwrap_or_default();
    let channel_index = |inner: &Inner, id: &str| inner.channels.iter().position(|c| c.id == id);
    match method {
        "conversations.create" => {
            let name = arg("name");
            let valid = !name.is_empty()
                && name.len() <= 80
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
            if !valid {
                return fail("invalid_name_specials");
            }
            if inner.channels.iter().any(|c| c.name == name) {
                return fail("name_taken");
            }
            inner.next += 1;
            let private = arg("is_private") == "true";
            let id = format!("{}{:04}", if private { "G" } else { "C" }, inner.next);
            inner.channels.push(Channel {
                id: id.clone(),
                name: name.clone(),
                private,
                ..Default::default()
            });
            json!({"ok": true, "channel": {"id": id, "name": name, "is_private": private}})
        }
        "conversations.list" => {
            let channels: Vec<Value> = inner
                .channels
                .iter()
                .map(|c| json!({"id": c.id, "name": c.name, "is_archived": c.archived}))
                .collect();
            json!({"ok": true, "channels": channels, "response_metadata": {"next_cursor": ""}})
        }
        "conversations.setTopic" => match channel_index(inner, &arg("channel")) {
            Some(i) => {
                inner.channels[i].topic = arg("topic");
                json!({"ok": true})
            }
            None => fail("channel_not_found"),
        },
        "conversations.invite" => match channel_index(inner, &arg("channel")) {
            Some(i) => {
                let users: Vec<String> = arg("users").split(',').map(String::from).collect();
                if users
                    .iter()
                    .any(|u| !inner.users.iter().any(|(id, ..)| id == u))
                {
                    return fail("user_not_found");
                }
                let c = &mut inner.channels[i];
                let fresh: Vec<String> = users
                    .into_iter()
                    .filter(|u| !c.members.contains(u))
                    .collect();
                if fresh.is_empty() {
                    return fail("already_in_channel");
                }
                c.members.extend(fresh);
                json!({"ok": true})
            }
            None => fail("channel_not_found"),
        },
        "conversations.archive" | "conversations.unarchive" => {
            match channel_index(inner, &arg("channel")) {
                Some(i) => {
                    let archive = method == "conversations.archive";
                    let c = &mut inner.channels[i];
                    if c.archived == archive {
                        return fail(if archive {
                            "already_archived"
                        } else {
                            "not_archived"
                        });
                    }
                    c.archived = archive;
                    json!({"ok": true})
                }
                None => fail("channel_not_found"),
            }
        }
        "conversations.history" => match channel_index(inner, &arg("channel")) {
            Some(i) => {
                let c = &inner.channels[i];
                let latest = arg("latest");
                let limit: usize = arg("limit").parse().unwrap_or(100);
                let messages: Vec<Value> = c
                    .messages
                    .iter()
                    .rev()
                    .filter(|(ts, ..)| latest.is_empty() || ts.as_str() <= latest.as_str())
                    .take(limit)
                    .map(|(ts, text, _)| match c.authors.get(ts) {
                        Some(u) => json!({"type": "message", "ts": ts, "text": text, "user": u}),
                        None => json!({"type": "message", "ts": ts, "text": text, "bot_id": "BDISPATCH"}),
                    })
                    .collect();
                json!({"ok": true, "messages": messages})
            }
            None => fail("channel_not_found"),
        },
        "conversations.open" => {
            json!({"ok": true, "channel": {"id": format!("D{}", arg("users"))}})
        }
        "bookmarks.list" => match channel_index(inner, &arg("channel_id")) {
            Some(i) => {
                let list: Vec<Value> = inner.channels[i]
                    .bookmarks
                    .iter()
                    .map(|(id, title, link)| json!({"id": id, "title": title, "link": link}))
                    .collect();
                json!({"ok": true, "bookmarks": list})
            }
            None => fail("channel_not_found"),
        },
        "bookmarks.add" => match channel_index(inner, &arg("channel_id")) {
            Some(i) => {
                inner.next += 1;
                let id = format!("Bk{:04}", inner.next);
                inner.channels[i]
                    .bookmarks
                    .push((id.clone(), arg("title"), arg("link")));
                json!({"ok": true, "bookmark": {"id": id}})
            }
            None => fail("channel_not_found"),
        },
        "bookmarks.edit" => match channel_index(inner, &arg("channel_id")) {
            Some(i) => {
                let id = arg("bookmark_id");
                match inner.channels[i].bookmarks.iter_mut().find(|b| b.0 == id) {
                    Some(b) => {
                        b.2 = arg("link");
                        json!({"ok": true})
                    }
                    None => fail("not_found"),
                }
            }
            None => fail("channel_not_found"),
        },
        "users.lookupByEmail" => {
            let email = arg("email").to_lowercase();
            match inner
                .users
                .iter()
                .find(|(_, e, _)| e.to_lowercase() == email)
            {
                Some((id, e, n)) => json!({"ok": true, "user": {"id": id, "name": n,
                    "profile": {"email": e, "real_name": n}}}),
                None => fail("users_not_found"),
            }
        }
        "users.info" => match inner.users.iter().find(|(id, ..)| *id == arg("user")) {
            Some((id, e, n)) => json!({"ok": true, "user": {"id": id, "name": n,
                "profile": {"email": e, "real_name": n}}}),
            None => fail("user_not_found"),
        },
        "chat.postMessage" => {
            let channel = arg("channel");
            inner.next += 1;
            let ts = format!("1700000000.{:06}", inner.next);
            let blocks: Value = serde_json::from_str(&arg("blocks")).unwrap_or(Value::Null);
            // `channel` is "an encoded ID or channel name".
            let found = channel_index(inner, &channel).or_else(|| {
                let name = channel.trim_start_matches('#');
                inner.channels.iter().position(|c| c.name == name)
            });
            match found {
                Some(i) if inner.channels[i].archived => fail("is_archived"),
                Some(i) => {
                    let thread_ts = arg("thread_ts");
                    let c = &mut inner.channels[i];
                    if !thread_ts.is_empty() {
                        c.threads.insert(ts.clone(), thread_ts);
                    }
                    c.messages.push((ts.clone(), arg("text"), blocks));
                    json!({"ok": true, "channel": c.id, "ts": ts})
                }
                // Direct messages (D…) are accepted and only recorded as calls.
                None if channel.starts_with('D') => {
                    json!({"ok": true, "channel": channel, "ts": ts})
                }
                None => fail("channel_not_found"),
            }
        }
        "chat.update" => match channel_index(inner, &arg("channel")) {
            Some(i) if inner.channels[i].archived => fail("is_archived"),
            Some(i) => {
                let ts = arg("ts");
                let c = &mut inner.channels[i];
                if c.authors.contains_key(&ts) {
                    return fail("cant_update_message");
                }
                let Some(m) = c.messages.iter_mut().find(|m| m.0 == ts) else {
                    return fail("message_not_found");
                };
                if arg("text").is_empty() && !args.contains_key("blocks") {
                    return fail("no_text");
                }
                if !arg("text").is_empty() {
                    m.1 = arg("text");
                }
                // Without `blocks` the previous blocks stay only when no text is given.
                match args.get("blocks") {
                    Some(b) => m.2 = serde_json::from_str(b).unwrap_or(Value::Null),
                    None => m.2 = Value::Null,
                }
                *c.edits.entry(ts.clone()).or_default() += 1;
                let text = m.1.clone();
                json!({"ok": true, "channel": c.id, "ts": ts, "text": text})
            }
            None => fail("channel_not_found"),
        },
        "chat.postEphemeral" => json!({"ok": true, "message_ts": "1700000000.000000"}),
        "pins.add" => match channel_index(inner, &arg("channel")) {
            Some(i) => {
                let ts = arg("timestamp");
                if inner.channels[i].pins.contains(&ts) {
                    return fail("already_pinned");
                }
                inner.channels[i].pins.push(ts);
                json!({"ok": true})
            }
            None => fail("channel_not_found"),
        },
        "views.open" => match serde_json::from_str::<Value>(&arg("view")) {
            Ok(view) => {
                inner.views.push(view);
                json!({"ok": true, "view": {"id": "V1"}})
            }
            Err(_) => fail("invalid_arguments"),
        },
        "auth.test" => json!({"ok": true, "user_id": "UBOT", "team_id": "T1"}),
        _ => fail("unknown_method"),
    }
}

/// A map of the channels by name, for assertions.
pub fn by_name(channels: &[Channel]) -> HashMap<String, Channel> {
    channels
        .iter()
        .map(|c| (c.name.clone(), c.clone()))
        .collect()
}
