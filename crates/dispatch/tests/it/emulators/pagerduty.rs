//! A PagerDuty emulator: the parts of the REST API v2 and the Events API v2 Dispatch uses, as
//! PagerDuty documents them.
//!
//! - REST (`Authorization: Token token=…`, `Accept: application/vnd.pagerduty+json;version=2`):
//!   `GET /oncalls` (`escalation_policy_ids[]`, `schedule_ids[]`, `earliest`, `since`/`until`,
//!   `include[]=users`, `offset`/`limit` pagination with `more`; `limit` capped at 100, or lower
//!   to force pages), `GET /users/{id}`, `GET /abilities`. Errors are
//!   `{"error": {"message", "code"}}` (2006 for a bad token, 2100 not found).
//! - Events API v2: `POST /v2/enqueue` (`routing_key`, `event_action` trigger/acknowledge/
//!   resolve, `dedup_key`, `payload.summary/source/severity`), answering 202
//!   `{"status": "success", "message": "Event processed", "dedup_key"}` and 400
//!   `{"status": "invalid event", "message", "errors"}`. Alerts with the same `dedup_key` join
//!   the open incident instead of opening another.
//! - 429 with `Retry-After` on demand ([`PagerDuty::rate_limit_next`]), and a flaky mode
//!   ([`PagerDuty::flaky`]) where half the Events API calls fail: of every four, the first does
//!   its work and then fails (the answer is lost), the second fails before doing anything.
//! - v3 webhooks: [`acknowledged_webhook`] builds an `incident.acknowledged` event and
//!   [`PagerDuty::sign`] its `X-PagerDuty-Signature`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The emulator's API token.
pub const TOKEN: &str = "u+emulated-token";

/// An incident the Events API opened.
#[derive(Debug, Clone)]
pub struct Incident {
    /// The `dedup_key` (`incident_key`).
    pub key: String,
    /// `triggered`, `acknowledged` or `resolved`.
    pub status: String,
    /// How many trigger events joined it.
    pub alerts: usize,
    /// The routing key it came through.
    pub routing_key: String,
}

#[derive(Default)]
struct Data {
    users: BTreeMap<String, (String, String)>,
    oncalls: Vec<Value>,
    incidents: Vec<Incident>,
    events: Vec<Value>,
    requests: Vec<String>,
}

struct Inner {
    data: Mutex<Data>,
    routing_keys: Vec<String>,
    max_limit: AtomicUsize,
    rate_limit_next: AtomicUsize,
    flaky: AtomicBool,
    calls: AtomicUsize,
}

/// A running emulator.
pub struct PagerDuty {
    /// `http://127.0.0.1:PORT`, the REST API and the Events API alike.
    pub url: String,
    inner: Arc<Inner>,
    _server: super::Server,
}

fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"message": message, "code": code}})),
    )
        .into_response()
}

fn throttled() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [("retry-after", "1")],
        Json(json!({"error": {"message": "Rate Limit Exceeded", "code": 2020}})),
    )
        .into_response()
}

/// What a flaky call does: fail before, fail after, or succeed.
enum Fate {
    FailBefore,
    FailAfter,
    Succeed,
}

impl Inner {
    fn fate(&self) -> Fate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if !self.flaky.load(Ordering::SeqCst) {
            return Fate::Succeed;
        }
        match n % 4 {
            0 => Fate::FailAfter,
            1 => Fate::FailBefore,
            _ => Fate::Succeed,
        }
    }

    fn limited(&self) -> bool {
        super::take_one(&self.rate_limit_next)
    }

    /// Checks the REST API's headers: a 401/406 answer when they are wrong.
    fn rest_auth(&self, headers: &HeaderMap) -> Option<Response> {
        let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or("");
        if h("authorization") != format!("Token token={TOKEN}") {
            return Some(error(
                StatusCode::UNAUTHORIZED,
                2006,
                "Authentication failed",
            ));
        }
        if h("accept") != "application/vnd.pagerduty+json;version=2" {
            return Some(error(
                StatusCode::NOT_ACCEPTABLE,
                2001,
                "Invalid Input Provided: Accept must be application/vnd.pagerduty+json;version=2",
            ));
        }
        None
    }

    fn user_reference(&self, id: &str) -> Value {
        let data = self.data.lock().unwrap();
        let name = data.users.get(id).map(|u| u.0.clone()).unwrap_or_default();
        json!({"id": id, "type": "user_reference", "summary": name,
               "self": format!("https://api.pagerduty.com/users/{id}"),
               "html_url": format!("https://subdomain.pagerduty.com/users/{id}")})
    }

    fn user(&self, id: &str) -> Option<Value> {
        let data = self.data.lock().unwrap();
        data.users.get(id).map(|(name, email)| {
            json!({"id": id, "type": "user", "name": name, "summary": name, "email": email,
                   "time_zone": "Etc/UTC", "role": "user",
                   "self": format!("https://api.pagerduty.com/users/{id}"),
                   "html_url": format!("https://subdomain.pagerduty.com/users/{id}")})
        })
    }
}

async fn oncalls(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    s.data
        .lock()
        .unwrap()
        .requests
        .push(format!("GET /oncalls?{q}"));
    if let Some(r) = s.rest_auth(&headers) {
        return r;
    }
    if s.limited() {
        return throttled();
    }
    let pairs = super::query_pairs(&q);
    let all = |k: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let one = |k: &str| all(k).into_iter().next();
    // PagerDuty answers 400 for a paging parameter that is not a number.
    let number = |k: &str, default: usize| -> Result<usize, String> {
        match one(k) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| format!("Invalid Input Provided: {k} must be a number")),
        }
    };
    let (offset, limit) = match (number("offset", 0), number("limit", 25)) {
        (Ok(o), Ok(l)) => (o, l.min(s.max_limit.load(Ordering::SeqCst)).max(1)),
        (Err(m), _) | (_, Err(m)) => return error(StatusCode::BAD_REQUEST, 2001, &m),
    };
    let policies = all("escalation_policy_ids[]");
    let schedules = all("schedule_ids[]");
    let with_users = all("include[]").iter().any(|i| i == "users");
    let entries: Vec<Value> = s
        .data
        .lock()
        .unwrap()
        .oncalls
        .iter()
        .filter(|e| {
            (policies.is_empty() || policies.iter().any(|p| e["escalation_policy"]["id"] == **p))
                && (schedules.is_empty() || schedules.iter().any(|p| e["schedule"]["id"] == **p))
        })
        .cloned()
        .collect();
    let page: Vec<Value> = entries
        .iter()
        .skip(offset)
        .take(limit)
        .map(|e| {
            let mut e = e.clone();
            let id = e["user"]["id"].as_str().unwrap_or_default().to_string();
            e["user"] = if with_users {
                s.user(&id).unwrap_or(Value::Null)
            } else {
                s.user_reference(&id)
            };
            e
        })
        .collect();
    Json(json!({
        "oncalls": page,
        "limit": limit,
        "offset": offset,
        "more": offset + limit < entries.len(),
        "total": null,
    }))
    .into_response()
}

async fn user(State(s): State<Arc<Inner>>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    s.data
        .lock()
        .unwrap()
        .requests
        .push(format!("GET /users/{id}"));
    if let Some(r) = s.rest_auth(&headers) {
        return r;
    }
    match s.user(&id) {
        Some(u) => Json(json!({"user": u})).into_response(),
        None => error(StatusCode::NOT_FOUND, 2100, "Not Found"),
    }
}

async fn abilities(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if let Some(r) = s.rest_auth(&headers) {
        return r;
    }
    Json(json!({"abilities": ["sso", "teams", "urgencies"]})).into_response()
}

fn invalid(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"status": "invalid event", "message": "Event object is invalid", "errors": [message]})),
    )
        .into_response()
}

async fn enqueue(State(s): State<Arc<Inner>>, body: Bytes) -> Response {
    s.data
        .lock()
        .unwrap()
        .requests
        .push("POST /v2/enqueue".into());
    if s.limited() {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            Json(json!({"status": "throttle event", "message": "Requests for this service are arriving too quickly.  Please retry later."})),
        )
            .into_response();
    }
    let fate = s.fate();
    if matches!(fate, Fate::FailBefore) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let Ok(event) = serde_json::from_slice::<Value>(&body) else {
        return invalid("Body is not JSON");
    };
    let routing_key = event["routing_key"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if routing_key.len() != 32 || !s.routing_keys.contains(&routing_key) {
        return invalid("'routing_key' is invalid");
    }
    let action = event["event_action"].as_str().unwrap_or_default();
    let mut key = event["dedup_key"].as_str().unwrap_or_default().to_string();
    match action {
        "trigger" => {
            let p = &event["payload"];
            if p["summary"].as_str().is_none_or(str::is_empty) {
                return invalid("'payload.summary' is missing or blank");
            }
            if p["source"].as_str().is_none_or(str::is_empty) {
                return invalid("'payload.source' is missing or blank");
            }
            if !matches!(
                p["severity"].as_str(),
                Some("critical" | "error" | "warning" | "info")
            ) {
                return invalid("'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')");
            }
            if key.is_empty() {
                key = format!("{:032x}", s.calls.load(Ordering::SeqCst));
            }
        }
        "acknowledge" | "resolve" if key.is_empty() => {
            return invalid("'dedup_key' is required for acknowledge and resolve events");
        }
        "acknowledge" | "resolve" => {}
        _ => return invalid("'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"),
    }
    {
        let mut data = s.data.lock().unwrap();
        data.events.push(event.clone());
        let open = data
            .incidents
            .iter_mut()
            .find(|i| i.key == key && i.status != "resolved");
        match (action, open) {
            ("trigger", Some(i)) => i.alerts += 1,
            ("trigger", None) => data.incidents.push(Incident {
                key: key.clone(),
                status: "triggered".into(),
                alerts: 1,
                routing_key: routing_key.clone(),
            }),
            ("acknowledge", Some(i)) => i.status = "acknowledged".into(),
            ("resolve", Some(i)) => i.status = "resolved".into(),
            _ => {}
        }
    }
    if matches!(fate, Fate::FailAfter) {
        return StatusCode::BAD_GATEWAY.into_response();
    }
    (
        StatusCode::ACCEPTED,
        Json(json!({"status": "success", "message": "Event processed", "dedup_key": key})),
    )
        .into_response()
}

impl PagerDuty {
    /// Starts an emulator that accepts these Events API routing keys (32 characters each).
    pub async fn start(routing_keys: &[&str]) -> Self {
        let inner = Arc::new(Inner {
            data: Mutex::new(Data::default()),
            routing_keys: routing_keys.iter().map(|k| k.to_string()).collect(),
            max_limit: AtomicUsize::new(100),
            rate_limit_next: AtomicUsize::new(0),
            flaky: AtomicBool::new(false),
            calls: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/oncalls", get(oncalls))
            .route("/users/{id}", get(user))
            .route("/abilities", get(abilities))
            .route("/v2/enqueue", post(enqueue))
            .with_state(inner.clone());
        let server = super::Server::start(app).await;
        let url = server.url.clone();
        Self {
            url,
            inner,
            _server: server,
        }
    }

    /// Adds a user.
    pub fn user(&self, id: &str, name: &str, email: &str) {
        self.inner
            .data
            .lock()
            .unwrap()
            .users
            .insert(id.into(), (name.into(), email.into()));
    }

    /// Puts `user` on call for `policy` at `level`, from `start` to `end` (RFC 3339).
    pub fn on_call(&self, policy: &str, level: u32, user: &str, start: &str, end: &str) {
        self.inner.data.lock().unwrap().oncalls.push(json!({
            "escalation_policy": {"id": policy, "type": "escalation_policy_reference",
                                  "summary": "Engineering Escalation Policy"},
            "escalation_level": level,
            "schedule": {"id": format!("S{policy}"), "type": "schedule_reference"},
            "user": {"id": user},
            "start": start,
            "end": end,
        }));
    }

    /// The most on-call entries one page returns.
    pub fn max_limit(&self, n: usize) {
        self.inner.max_limit.store(n, Ordering::SeqCst);
    }

    /// Answers the next `n` requests with 429 and `Retry-After: 1`.
    pub fn rate_limit_next(&self, n: usize) {
        self.inner.rate_limit_next.store(n, Ordering::SeqCst);
    }

    /// Makes half the Events API calls fail (see the module's doc).
    pub fn flaky(&self, on: bool) {
        self.inner.calls.store(0, Ordering::SeqCst);
        self.inner.flaky.store(on, Ordering::SeqCst);
    }

    /// The incidents the Events API opened.
    pub fn incidents(&self) -> Vec<Incident> {
        self.inner.data.lock().unwrap().incidents.clone()
    }

    /// The events it accepted.
    pub fn events(&self) -> Vec<Value> {
        self.inner.data.lock().unwrap().events.clone()
    }

    /// Every request, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.inner.data.lock().unwrap().requests.clone()
    }
}

/// A v3 webhook event saying the incident triggered with `incident_key` was acknowledged, in
/// the shape of PagerDuty's documented sample.
pub fn acknowledged_webhook(incident_key: &str) -> Value {
    json!({
        "event": {
            "id": "01DEN4HPBQAJTWWEZ2XRXKUKQZ",
            "event_type": "incident.acknowledged",
            "resource_type": "incident",
            "occurred_at": "2020-10-02T18:45:22.169Z",
            "agent": {"html_url": "https://acme.pagerduty.com/users/PLH1HKV", "id": "PLH1HKV",
                      "self": "https://api.pagerduty.com/users/PLH1HKV", "summary": "Tenex Engineer",
                      "type": "user_reference"},
            "client": null,
            "data": {
                "id": "PGR0VU2", "type": "incident",
                "self": "https://api.pagerduty.com/incidents/PGR0VU2",
                "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
                "number": 2, "status": "acknowledged", "incident_key": incident_key,
                "created_at": "2020-04-09T15:16:27Z", "title": "A little bump in the road",
                "service": {"html_url": "https://acme.pagerduty.com/services/PF9KMXH", "id": "PF9KMXH",
                            "self": "https://api.pagerduty.com/services/PF9KMXH",
                            "summary": "API Service", "type": "service_reference"},
                "assignees": [], "escalation_policy": {"id": "PMDQMRF", "type": "escalation_policy_reference"},
                "teams": [], "priority": null, "urgency": "high", "conference_bridge": null,
                "resolve_reason": null
            }
        }
    })
}

/// The `X-PagerDuty-Signature` PagerDuty sends with `body`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("v1={}", hex_encode(&mac.finalize().into_bytes()))
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The emulator against the documentation's own samples.
mod tests {
    use super::*;

    const KEY: &str = "samplekeyhere0123456789abcdefghi";

    fn rest(pd: &PagerDuty, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .get(format!("{}{path}", pd.url))
            .header("Authorization", format!("Token token={TOKEN}"))
            .header("Accept", "application/vnd.pagerduty+json;version=2")
    }

    #[tokio::test]
    async fn the_emulator_lists_on_calls_as_the_docs_sample_with_offset_pagination() {
        let pd = PagerDuty::start(&[KEY]).await;
        pd.user("PT4KHLK", "Earline Greenholt", "earline@example.com");
        pd.user("PXPGF42", "Other Person", "other@example.com");
        pd.on_call(
            "PT20YPA",
            1,
            "PT4KHLK",
            "2015-03-06T15:28:51-05:00",
            "2015-03-07T15:28:51-05:00",
        );
        pd.on_call(
            "PT20YPA",
            2,
            "PXPGF42",
            "2015-03-06T15:28:51-05:00",
            "2015-03-07T15:28:51-05:00",
        );
        pd.on_call(
            "POTHER1",
            1,
            "PXPGF42",
            "2015-03-06T15:28:51-05:00",
            "2015-03-07T15:28:51-05:00",
        );
        pd.max_limit(1);
        // The docs' query: `GET /oncalls?escalation_policy_ids[]=PT20YPA&earliest=true`.
        let first: Value = rest(
            &pd,
            "/oncalls?escalation_policy_ids%5B%5D=PT20YPA&earliest=true",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(first["oncalls"].as_array().unwrap().len(), 1);
        assert_eq!(first["oncalls"][0]["user"]["type"], "user_reference");
        assert_eq!(first["oncalls"][0]["escalation_level"], 1);
        assert_eq!(
            (
                first["offset"].clone(),
                first["limit"].clone(),
                first["more"].clone()
            ),
            (json!(0), json!(1), json!(true))
        );
        let second: Value = rest(
            &pd,
            "/oncalls?escalation_policy_ids[]=PT20YPA&offset=1&limit=1&include[]=users",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(second["oncalls"][0]["user"]["email"], "other@example.com");
        assert_eq!(second["more"], false);
        let bad = rest(&pd, "/oncalls?offset=x").send().await.unwrap();
        assert_eq!(bad.status(), 400);
        let unauthorized = reqwest::Client::new()
            .get(format!("{}/oncalls", pd.url))
            .header("Authorization", "Token token=wrong")
            .header("Accept", "application/vnd.pagerduty+json;version=2")
            .send()
            .await
            .unwrap();
        assert_eq!(unauthorized.status(), 401);
        let body: Value = unauthorized.json().await.unwrap();
        assert_eq!(body["error"]["code"], 2006);
        let user: Value = rest(&pd, "/users/PT4KHLK")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(user["user"]["email"], "earline@example.com");
        assert_eq!(rest(&pd, "/users/NOPE").send().await.unwrap().status(), 404);
    }

    #[tokio::test]
    async fn the_emulator_takes_the_docs_sample_event_and_deduplicates_by_key() {
        let pd = PagerDuty::start(&[KEY]).await;
        // The Events API v2 documentation's sample trigger.
        let sample = json!({
            "payload": {
                "summary": "Example alert on host1.example.com",
                "timestamp": "2015-07-17T08:42:58.315+0000",
                "severity": "info",
                "source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
                "component": "postgres", "group": "prod-datapipe", "class": "deploy",
                "custom_details": {"ping time": "1500ms", "load avg": 0.75}
            },
            "routing_key": KEY,
            "dedup_key": "samplekeyhere",
            "links": [{"href": "https://example.com/", "text": "Link text"}],
            "event_action": "trigger",
            "client": "Sample Monitoring Service",
            "client_url": "https://monitoring.service.com"
        });
        let post = |body: Value| {
            reqwest::Client::new()
                .post(format!("{}/v2/enqueue", pd.url))
                .json(&body)
                .send()
        };
        let r = post(sample.clone()).await.unwrap();
        assert_eq!(r.status(), 202);
        let body: Value = r.json().await.unwrap();
        assert_eq!(
            body,
            json!({"status": "success", "message": "Event processed", "dedup_key": "samplekeyhere"})
        );
        post(sample.clone()).await.unwrap();
        assert_eq!(pd.incidents().len(), 1, "one incident per dedup_key");
        assert_eq!(pd.incidents()[0].alerts, 2);
        let mut bad = sample.clone();
        bad["payload"]["severity"] = json!("fatal");
        let r = post(bad).await.unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(r.json::<Value>().await.unwrap()["status"], "invalid event");
        let resolve =
            json!({"routing_key": KEY, "event_action": "resolve", "dedup_key": "samplekeyhere"});
        assert_eq!(post(resolve).await.unwrap().status(), 202);
        assert_eq!(pd.incidents()[0].status, "resolved");
        pd.rate_limit_next(1);
        let r = post(sample).await.unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "1");
    }
}
