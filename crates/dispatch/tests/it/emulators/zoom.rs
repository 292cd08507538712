//! A Zoom emulator: Server-to-Server OAuth and the parts of the REST API v2 Dispatch uses, as
//! Zoom documents them.
//!
//! - `POST /oauth/token?grant_type=account_credentials&account_id=…` with basic auth (client id
//!   and secret): `{"access_token", "token_type": "bearer", "expires_in", "scope"}`; bad
//!   credentials 400 `{"reason", "error": "invalid_client"}`.
//! - Every `/v2` call needs `Authorization: Bearer <token>` of a token issued and not expired:
//!   401 `{"code": 124, "message": "Invalid access token."}` otherwise.
//! - `GET /v2/users/me`.
//! - `POST /v2/users/me/meetings`: 201 with the meeting (`id` a number, `join_url`,
//!   `password`, …); a topic over 200 characters or an unknown type is 400 with
//!   `{"code": 300, "message", "errors": [{"field", "message"}]}`.
//! - `GET /v2/users/me/meetings?type=scheduled&page_size=&next_page_token=`: pages of
//!   meetings with `next_page_token` ("" on the last page).
//! - `GET /v2/meetings/{meetingId}`: the meeting (with its `password`); `PATCH
//!   /v2/meetings/{meetingId}`: 204, the given fields changed (a topic over 200 characters is a
//!   400 as on create).
//! - `DELETE /v2/meetings/{meetingId}`: 204; 404 `{"code": 3001, "message": "Meeting does not
//!   exist: …"}`.
//! - 429 with `Retry-After` on demand; a flaky mode where half the meeting writes fail (before
//!   or after their work).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The account id.
pub const ACCOUNT_ID: &str = "lAAAAAAAAAAAAA";
/// The app's client id.
pub const CLIENT_ID: &str = "Ar8kPjGxQ6i0dlW7vXyZ";
/// The app's client secret.
pub const CLIENT_SECRET: &str = "emulated-client-secret-0123456789";

/// A meeting.
#[derive(Debug, Clone)]
pub struct Meeting {
    /// Its id.
    pub id: u64,
    /// Its body as Zoom shows it.
    pub body: Value,
    /// Deleted.
    pub deleted: bool,
}

#[derive(Default)]
struct Data {
    tokens: Vec<(String, std::time::Instant)>,
    meetings: Vec<Meeting>,
    log: Vec<String>,
}

struct Inner {
    data: Mutex<Data>,
    expires_in: AtomicU64,
    page_size: AtomicUsize,
    faults: super::Faults,
}

/// A running emulator (the OAuth server and the API on one address).
pub struct Zoom {
    /// `http://127.0.0.1:PORT` (the OAuth server).
    pub url: String,
    /// `http://127.0.0.1:PORT/v2` (the API).
    pub api_url: String,
    inner: Arc<Inner>,
    _server: super::Server,
}

fn api_error(status: StatusCode, code: u32, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

impl Inner {
    fn log(&self, what: String) {
        self.data.lock().unwrap().log.push(what);
    }

    /// 401 without a live token, 429 when told to: the answer to give instead.
    fn gate(&self, headers: &HeaderMap, what: String) -> Option<Response> {
        self.log(what);
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let now = std::time::Instant::now();
        let live = auth.strip_prefix("Bearer ").is_some_and(|t| {
            self.data
                .lock()
                .unwrap()
                .tokens
                .iter()
                .any(|(k, until)| k == t && *until > now)
        });
        if !live {
            return Some(api_error(
                StatusCode::UNAUTHORIZED,
                124,
                "Invalid access token.",
            ));
        }
        if self.faults.limited() {
            let mut r = api_error(
                StatusCode::TOO_MANY_REQUESTS,
                429,
                "You have reached the maximum per-second rate limit for this API. Try again later.",
            );
            r.headers_mut().insert("retry-after", "1".parse().unwrap());
            return Some(r);
        }
        None
    }

    /// Of every four writes in flaky mode, the first does its work and loses the answer, the
    /// second fails before doing anything.
    fn fate(&self) -> Option<bool> {
        match self.faults.place() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        }
    }
}

async fn token(State(s): State<Arc<Inner>>, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let q = q.unwrap_or_default();
    s.log(format!("POST /oauth/token?{q}"));
    let pairs = super::query_pairs(&q);
    let one = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != basic {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"reason": "Invalid client_id or client_secret", "error": "invalid_client"}),
            ),
        )
            .into_response();
    }
    if one("grant_type").as_deref() != Some("account_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"reason": "Unsupported grant type", "error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    if one("account_id").as_deref() != Some(ACCOUNT_ID) {
        return (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"reason": "Invalid request : Bad account_id.", "error": "invalid_request"}),
            ),
        )
            .into_response();
    }
    let expires = s.expires_in.load(Ordering::SeqCst);
    let mut data = s.data.lock().unwrap();
    let t = format!(
        "eyJzdiI6IjAwMDAwMSIsImFsZyI6IkhTNTEyIiwidiI6IjIuMCJ9.{}",
        data.tokens.len()
    );
    data.tokens.push((
        t.clone(),
        std::time::Instant::now() + std::time::Duration::from_secs(expires),
    ));
    Json(json!({"access_token": t, "token_type": "bearer", "expires_in": expires,
                "scope": "meeting:write:meeting:admin meeting:read:list_meetings:admin user:read:user:admin",
                "api_url": "https://api.zoom.us"}))
    .into_response()
}

async fn me(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if let Some(r) = s.gate(&headers, "GET /v2/users/me".into()) {
        return r;
    }
    Json(
        json!({"id": "KDcuGIm1QgePTO8WbOqwIQ", "first_name": "Jill", "last_name": "Chill",
                "display_name": "Jill Chill", "email": "jchill@example.com", "type": 1,
                "account_id": ACCOUNT_ID, "status": "active"}),
    )
    .into_response()
}

async fn create_meeting(State(s): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = s.gate(&headers, "POST /v2/users/me/meetings".into()) {
        return r;
    }
    let fate = s.fate();
    if fate == Some(true) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            300,
            "Request Body should be a valid JSON object.",
        );
    };
    let topic = body["topic"].as_str().unwrap_or("Zoom Meeting");
    let kind = body["type"].as_u64().unwrap_or(2);
    let mut errors = Vec::new();
    if topic.chars().count() > 200 {
        errors.push(json!({"field": "topic", "message": "Topic can be at most 200 characters."}));
    }
    if ![1, 2, 3, 8, 10].contains(&kind) {
        errors.push(json!({"field": "type", "message": "Invalid meeting type."}));
    }
    if !errors.is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": 300, "message": "Validation Failed.", "errors": errors})),
        )
            .into_response();
    }
    let meeting = {
        let mut data = s.data.lock().unwrap();
        let id = 85746065432 + data.meetings.len() as u64;
        let m = json!({
            "uuid": format!("aDYlohsHRtCd4ii1uC2+hA{id}=="), "id": id,
            "host_id": "KDcuGIm1QgePTO8WbOqwIQ", "host_email": "jchill@example.com",
            "topic": topic, "type": kind, "status": "waiting",
            "start_time": body["start_time"].as_str().unwrap_or("2026-12-03T07:00:00Z"),
            "duration": body["duration"].as_u64().unwrap_or(60), "timezone": body["timezone"].as_str().unwrap_or("UTC"),
            "agenda": body["agenda"].as_str().unwrap_or(""), "created_at": "2026-12-03T07:00:00Z",
            "start_url": format!("https://example.zoom.us/s/{id}?zak=eyJ6bV9za20iOiJ6bV9vMm0ifQ"),
            "join_url": format!("https://example.zoom.us/j/{id}?pwd=Zm9vYmFyMTIz"),
            "password": "dispat", "h323_password": "123456", "pstn_password": "123456",
            "encrypted_password": "Zm9vYmFyMTIz",
            "settings": body["settings"].clone(), "pre_schedule": false
        });
        data.meetings.push(Meeting {
            id,
            body: m.clone(),
            deleted: false,
        });
        m
    };
    if fate == Some(false) {
        return StatusCode::BAD_GATEWAY.into_response();
    }
    (StatusCode::CREATED, Json(meeting)).into_response()
}

async fn list_meetings(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    if let Some(r) = s.gate(&headers, format!("GET /v2/users/me/meetings?{q}")) {
        return r;
    }
    let pairs = super::query_pairs(&q);
    let one = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let asked: usize = one("page_size").and_then(|p| p.parse().ok()).unwrap_or(30);
    if asked > 300 {
        return api_error(
            StatusCode::BAD_REQUEST,
            300,
            "The page size cannot be more than 300.",
        );
    }
    let size = asked.min(s.page_size.load(Ordering::SeqCst)).max(1);
    let start: usize = one("next_page_token")
        .and_then(|t| t.strip_prefix("page-").and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    let data = s.data.lock().unwrap();
    let live: Vec<Value> = data
        .meetings
        .iter()
        .filter(|m| !m.deleted)
        .map(|m| {
            let b = &m.body;
            json!({"uuid": b["uuid"], "id": b["id"], "host_id": b["host_id"], "topic": b["topic"],
                   "type": b["type"], "start_time": b["start_time"], "duration": b["duration"],
                   "timezone": b["timezone"], "created_at": b["created_at"], "join_url": b["join_url"]})
        })
        .collect();
    let page: Vec<Value> = live.iter().skip(start).take(size).cloned().collect();
    let next = if start + size < live.len() {
        format!("page-{}", start + size)
    } else {
        String::new()
    };
    Json(json!({"page_size": size, "total_records": live.len(), "next_page_token": next, "meetings": page}))
        .into_response()
}

/// The meeting with this id, not deleted: its index.
fn live_meeting(data: &Data, id: &str) -> Option<usize> {
    data.meetings
        .iter()
        .position(|m| m.id.to_string() == id && !m.deleted)
}

fn no_meeting(id: &str) -> Response {
    api_error(
        StatusCode::NOT_FOUND,
        3001,
        &format!("Meeting does not exist: {id}."),
    )
}

async fn get_meeting(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = s.gate(&headers, format!("GET /v2/meetings/{id}")) {
        return r;
    }
    let data = s.data.lock().unwrap();
    match live_meeting(&data, &id) {
        Some(i) => Json(data.meetings[i].body.clone()).into_response(),
        None => no_meeting(&id),
    }
}

async fn update_meeting(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(r) = s.gate(&headers, format!("PATCH /v2/meetings/{id}")) {
        return r;
    }
    let Ok(change) = serde_json::from_slice::<Value>(&body) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            300,
            "Request Body should be a valid JSON object.",
        );
    };
    if change["topic"]
        .as_str()
        .is_some_and(|t| t.chars().count() > 200)
    {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": 300, "message": "Validation Failed.",
                "errors": [{"field": "topic", "message": "Topic can be at most 200 characters."}]})),
        )
            .into_response();
    }
    let mut data = s.data.lock().unwrap();
    let Some(i) = live_meeting(&data, &id) else {
        return no_meeting(&id);
    };
    for (k, v) in change.as_object().into_iter().flatten() {
        data.meetings[i].body[k] = v.clone();
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn delete_meeting(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = s.gate(&headers, format!("DELETE /v2/meetings/{id}")) {
        return r;
    }
    let mut data = s.data.lock().unwrap();
    match live_meeting(&data, &id) {
        Some(i) => {
            data.meetings[i].deleted = true;
            StatusCode::NO_CONTENT.into_response()
        }
        None => no_meeting(&id),
    }
}

impl Zoom {
    /// Starts an emulator.
    pub async fn start() -> Self {
        let inner = Arc::new(Inner {
            data: Mutex::new(Data::default()),
            expires_in: AtomicU64::new(3599),
            page_size: AtomicUsize::new(300),
            faults: super::Faults::default(),
        });
        let app = Router::new()
            .route("/oauth/token", post(token))
            .route("/v2/users/me", get(me))
            .route(
                "/v2/users/me/meetings",
                post(create_meeting).get(list_meetings),
            )
            .route(
                "/v2/meetings/{id}",
                get(get_meeting)
                    .patch(update_meeting)
                    .delete(delete_meeting),
            )
            .with_state(inner.clone());
        let server = super::Server::start(app).await;
        let url = server.url.clone();
        Self {
            api_url: format!("{url}/v2"),
            url,
            inner,
            _server: server,
        }
    }

    /// How long the tokens it issues last, in seconds.
    pub fn token_lifetime(&self, seconds: u64) {
        self.inner.expires_in.store(seconds, Ordering::SeqCst);
    }

    /// The largest page of meetings it answers with.
    pub fn page_size(&self, n: usize) {
        self.inner.page_size.store(n, Ordering::SeqCst);
    }

    /// 429s on demand, and the flaky mode in which half the meeting creations fail (see
    /// [`Inner::fate`]).
    pub fn faults(&self) -> &super::Faults {
        &self.inner.faults
    }

    /// The meetings, deleted ones too.
    pub fn meetings(&self) -> Vec<Meeting> {
        self.inner.data.lock().unwrap().meetings.clone()
    }

    /// Every request, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.inner.data.lock().unwrap().log.clone()
    }
}

/// The emulator against the documentation's own samples.
mod tests {
    use super::*;

    async fn access_token(z: &Zoom) -> String {
        let r = reqwest::Client::new()
            .post(format!(
                "{}/oauth/token?grant_type=account_credentials&account_id={ACCOUNT_ID}",
                z.url
            ))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let t: Value = r.json().await.unwrap();
        assert_eq!(t["token_type"], "bearer");
        assert_eq!(t["expires_in"], 3599);
        t["access_token"].as_str().unwrap().to_string()
    }

    #[tokio::test]
    async fn the_emulator_answers_the_docs_token_and_create_meeting_samples() {
        let z = Zoom::start().await;
        let bad = reqwest::Client::new()
            .post(format!(
                "{}/oauth/token?grant_type=account_credentials&account_id={ACCOUNT_ID}",
                z.url
            ))
            .basic_auth(CLIENT_ID, Some("wrong"))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        assert_eq!(
            bad.json::<Value>().await.unwrap()["error"],
            "invalid_client"
        );
        let token = access_token(&z).await;
        let api = |m: reqwest::Method, path: &str| {
            reqwest::Client::new()
                .request(m, format!("{}{path}", z.api_url))
                .bearer_auth(&token)
        };
        // The "Create a meeting" reference's sample request (its fields that apply here).
        let sample = json!({"agenda": "My Meeting", "default_password": false, "duration": 60,
            "password": "123456", "pre_schedule": false,
            "settings": {"host_video": true, "join_before_host": false, "waiting_room": false},
            "start_time": "2022-03-25T07:32:55Z", "template_id": "Dv4YdINdTk+Z5RToadh5ug==",
            "timezone": "America/Los_Angeles", "topic": "My Meeting", "type": 2});
        let r = api(reqwest::Method::POST, "/users/me/meetings")
            .json(&sample)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let m: Value = r.json().await.unwrap();
        assert!(m["id"].is_u64(), "a meeting id is a number: {m}");
        assert!(m["join_url"]
            .as_str()
            .unwrap()
            .contains(&m["id"].to_string()));
        assert!(m["password"].is_string());
        let mut long = sample.clone();
        long["topic"] = json!("x".repeat(201));
        let r = api(reqwest::Method::POST, "/users/me/meetings")
            .json(&long)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(
            r.json::<Value>().await.unwrap()["errors"][0]["field"],
            "topic"
        );
        // Listing pages through next_page_token.
        api(reqwest::Method::POST, "/users/me/meetings")
            .json(&sample)
            .send()
            .await
            .unwrap();
        z.page_size(1);
        let first: Value = api(
            reqwest::Method::GET,
            "/users/me/meetings?type=scheduled&page_size=300",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(first["meetings"].as_array().unwrap().len(), 1);
        assert_eq!(first["total_records"], 2);
        let next = first["next_page_token"].as_str().unwrap();
        assert!(!next.is_empty());
        let second: Value = api(
            reqwest::Method::GET,
            &format!("/users/me/meetings?type=scheduled&page_size=300&next_page_token={next}"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(second["next_page_token"], "");
        // Delete, then the meeting is gone.
        let path = format!("/meetings/{}", m["id"]);
        assert_eq!(
            api(reqwest::Method::DELETE, &path)
                .send()
                .await
                .unwrap()
                .status(),
            204
        );
        let gone = api(reqwest::Method::DELETE, &path).send().await.unwrap();
        assert_eq!(gone.status(), 404);
        assert_eq!(gone.json::<Value>().await.unwrap()["code"], 3001);
        // No or a made-up token is refused; 429 on demand.
        let r = reqwest::Client::new()
            .get(format!("{}/users/me", z.api_url))
            .bearer_auth("made-up")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], 124);
        z.faults().rate_limit_next(1);
        let limited = api(reqwest::Method::GET, "/users/me").send().await.unwrap();
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()["retry-after"], "1");
    }
}
