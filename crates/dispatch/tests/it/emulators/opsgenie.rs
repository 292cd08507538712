//! An Opsgenie emulator: the parts of the REST API v2 Dispatch uses, as Opsgenie documents
//! them. Every call needs `Authorization: GenieKey <key>` (401 `Could not authenticate`
//! otherwise); errors are `{"message", "took", "requestId"}` (with `errors` for 422).
//!
//! - `GET /v2/schedules/{identifier}/on-calls` (`scheduleIdentifierType` id/name, `flat`,
//!   `date`): `onCallRecipients` when flat, `onCallParticipants` otherwise.
//! - `POST /v2/alerts` and `POST /v2/alerts/{identifier}/close?identifierType=…` are
//!   asynchronous: 202 `{"result": "Request will be processed", "took", "requestId"}`; the
//!   request is processed after [`Opsgenie::processing_polls`] reads of
//!   `GET /v2/alerts/requests/{requestId}` (404 until then), which then tells
//!   `isSuccess`, `status`, `alertId` and `alias`. An open alert with the same `alias` is
//!   deduplicated (its count goes up) instead of opening another.
//! - `GET /v2/account`.
//! - 429 with `Retry-After` on demand, and a flaky mode where half the alert calls fail.

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

/// The emulator's API key.
pub const KEY: &str = "eb243592-faa2-4ba2-a551q-1afdf565c889";

/// An alert.
#[derive(Debug, Clone)]
pub struct Alert {
    /// Its id.
    pub id: String,
    /// Its alias.
    pub alias: String,
    /// `open` or `closed`.
    pub status: String,
    /// How many create requests it took (1 + deduplicated ones).
    pub count: usize,
    /// The create request's body.
    pub body: Value,
}

struct Pending {
    polls_left: usize,
    result: Value,
}

#[derive(Default)]
struct Data {
    schedules: BTreeMap<String, (String, Vec<String>)>,
    alerts: Vec<Alert>,
    requests: BTreeMap<String, Pending>,
    log: Vec<String>,
}

struct Inner {
    data: Mutex<Data>,
    polls: AtomicUsize,
    rate_limit_next: AtomicUsize,
    flaky: AtomicBool,
    calls: AtomicUsize,
    ids: AtomicUsize,
}

/// A running emulator.
pub struct Opsgenie {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    inner: Arc<Inner>,
    _server: super::Server,
}

impl Inner {
    fn id(&self) -> String {
        let n = self.ids.fetch_add(1, Ordering::SeqCst);
        format!("43a29c5c-3dbf-4fa4-9c26-{n:012x}")
    }

    fn error(&self, status: StatusCode, message: &str) -> Response {
        (
            status,
            Json(json!({"message": message, "took": 0.001, "requestId": self.id()})),
        )
            .into_response()
    }

    /// 401 without the key, 429 when told to: the answer to give instead.
    fn gate(&self, headers: &HeaderMap, what: String) -> Option<Response> {
        self.data.lock().unwrap().log.push(what);
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if auth != format!("GenieKey {KEY}") {
            return Some(self.error(StatusCode::UNAUTHORIZED, "Could not authenticate"));
        }
        if super::take_one(&self.rate_limit_next) {
            let mut r = self.error(
                StatusCode::TOO_MANY_REQUESTS,
                "You are making too many requests! To avoid errors, we recommend you limit requests.",
            );
            r.headers_mut().insert("retry-after", "1".parse().unwrap());
            return Some(r);
        }
        None
    }

    /// Whether this flaky call fails before (`Some(true)`) or after (`Some(false)`) its work.
    fn fate(&self) -> Option<bool> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if !self.flaky.load(Ordering::SeqCst) {
            return None;
        }
        match n % 4 {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn accepted(&self, result: Value) -> Response {
        let id = self.id();
        self.data.lock().unwrap().requests.insert(
            id.clone(),
            Pending {
                polls_left: self.polls.load(Ordering::SeqCst),
                result,
            },
        );
        (
            StatusCode::ACCEPTED,
            Json(json!({"result": "Request will be processed", "took": 0.302, "requestId": id})),
        )
            .into_response()
    }
}

async fn on_calls(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(identifier): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    if let Some(r) = s.gate(
        &headers,
        format!("GET /v2/schedules/{identifier}/on-calls?{q}"),
    ) {
        return r;
    }
    let pairs = super::query_pairs(&q);
    let one = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let by_name = match one("scheduleIdentifierType").as_deref() {
        None | Some("id") => false,
        Some("name") => true,
        Some(_) => {
            return s.error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Schedule identifier type is not valid",
            )
        }
    };
    let found = {
        let data = s.data.lock().unwrap();
        data.schedules
            .iter()
            .find(|(id, (name, _))| {
                if by_name {
                    **name == identifier
                } else {
                    **id == identifier
                }
            })
            .map(|(id, (name, who))| (id.clone(), name.clone(), who.clone()))
    };
    let Some((id, name, who)) = found else {
        return s.error(
            StatusCode::NOT_FOUND,
            &format!("Schedule with identifier [{identifier}] does not exist"),
        );
    };
    let parent = json!({"id": id, "name": name, "enabled": true});
    let data = if one("flat").as_deref() == Some("true") {
        json!({"_parent": parent, "onCallRecipients": who})
    } else {
        json!({"_parent": parent, "onCallParticipants": who.iter().map(|w| json!({"id": format!("u-{w}"), "name": w, "type": "user"})).collect::<Vec<_>>()})
    };
    Json(json!({"data": data, "took": 0.101, "requestId": s.id()})).into_response()
}

async fn create_alert(State(s): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = s.gate(&headers, "POST /v2/alerts".into()) {
        return r;
    }
    let fate = s.fate();
    if fate == Some(true) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return s.error(StatusCode::BAD_REQUEST, "Could not parse the request body");
    };
    let message = body["message"].as_str().unwrap_or_default();
    if message.trim().is_empty() || message.chars().count() > 130 {
        let mut r = s.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Request body is not processable. Please check the errors.",
        );
        *r.body_mut() = axum::body::Body::from(
            json!({"message": "Request body is not processable. Please check the errors.",
                   "errors": {"message": "Message can not be empty and can have at most 130 characters."},
                   "took": 0.001, "requestId": s.id()})
            .to_string(),
        );
        return r;
    }
    let alias = body["alias"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| s.id());
    let result = {
        let mut data = s.data.lock().unwrap();
        match data
            .alerts
            .iter_mut()
            .find(|a| a.alias == alias && a.status == "open")
        {
            Some(a) => {
                a.count += 1;
                json!({"success": true, "action": "Create", "isSuccess": true,
                       "status": "Alert is deduplicated", "alertId": a.id, "alias": alias})
            }
            None => {
                let id = format!("8418d193-2dab-4490-b331-8c02cdd196b7-{}", data.alerts.len());
                data.alerts.push(Alert {
                    id: id.clone(),
                    alias: alias.clone(),
                    status: "open".into(),
                    count: 1,
                    body: body.clone(),
                });
                json!({"success": true, "action": "Create", "isSuccess": true,
                       "status": "Created alert", "alertId": id, "alias": alias})
            }
        }
    };
    let answer = s.accepted(result);
    if fate == Some(false) {
        return StatusCode::BAD_GATEWAY.into_response();
    }
    answer
}

async fn close_alert(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(identifier): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    if let Some(r) = s.gate(&headers, format!("POST /v2/alerts/{identifier}/close?{q}")) {
        return r;
    }
    let kind = super::query_pairs(&q)
        .into_iter()
        .find(|(k, _)| k == "identifierType")
        .map(|(_, v)| v)
        .unwrap_or_else(|| "id".into());
    if !matches!(kind.as_str(), "id" | "alias" | "tiny") {
        return s.error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Identifier type is not valid",
        );
    }
    let result = {
        let mut data = s.data.lock().unwrap();
        match data.alerts.iter_mut().find(|a| {
            a.status == "open"
                && if kind == "alias" {
                    a.alias == identifier
                } else {
                    a.id == identifier
                }
        }) {
            Some(a) => {
                a.status = "closed".into();
                json!({"success": true, "action": "Close", "isSuccess": true,
                       "status": "Closed alert", "alertId": a.id, "alias": a.alias})
            }
            None => json!({"success": false, "action": "Close", "isSuccess": false,
                           "status": "Alert does not exist", "alertId": "", "alias": identifier}),
        }
    };
    s.accepted(result)
}

async fn request_status(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = s.gate(&headers, format!("GET /v2/alerts/requests/{id}")) {
        return r;
    }
    let result = {
        let mut data = s.data.lock().unwrap();
        match data.requests.get_mut(&id) {
            None => None,
            Some(p) if p.polls_left > 0 => {
                p.polls_left -= 1;
                None
            }
            Some(p) => Some(p.result.clone()),
        }
    };
    match result {
        None => s.error(
            StatusCode::NOT_FOUND,
            "Request not found. It might not be processed, yet.",
        ),
        Some(mut data) => {
            data["processedAt"] = json!("2017-05-24T14:24:20.844Z");
            data["integrationId"] = json!("c9cec2cb-e782-4ebb-bc1d-1b2fa703cf03");
            Json(json!({"data": data, "took": 0.022, "requestId": id})).into_response()
        }
    }
}

async fn account(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if let Some(r) = s.gate(&headers, "GET /v2/account".into()) {
        return r;
    }
    Json(json!({"data": {"name": "opsgenie", "plan": {"maxUserCount": 1500, "name": "Enterprise", "isYearly": true}},
                "took": 0.0, "requestId": s.id()}))
    .into_response()
}

impl Opsgenie {
    /// Starts an emulator.
    pub async fn start() -> Self {
        let inner = Arc::new(Inner {
            data: Mutex::new(Data::default()),
            polls: AtomicUsize::new(1),
            rate_limit_next: AtomicUsize::new(0),
            flaky: AtomicBool::new(false),
            calls: AtomicUsize::new(0),
            ids: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/v2/schedules/{identifier}/on-calls", get(on_calls))
            .route("/v2/alerts", post(create_alert))
            .route("/v2/alerts/{identifier}/close", post(close_alert))
            .route("/v2/alerts/requests/{id}", get(request_status))
            .route("/v2/account", get(account))
            .with_state(inner.clone());
        let server = super::Server::start(app).await;
        let url = server.url.clone();
        Self {
            url,
            inner,
            _server: server,
        }
    }

    /// Adds a schedule with these people on call (Opsgenie usernames: e-mails).
    pub fn schedule(&self, id: &str, name: &str, on_call: &[&str]) {
        self.inner.data.lock().unwrap().schedules.insert(
            id.into(),
            (name.into(), on_call.iter().map(|s| s.to_string()).collect()),
        );
    }

    /// How many status reads answer 404 before a request counts as processed.
    pub fn processing_polls(&self, n: usize) {
        self.inner.polls.store(n, Ordering::SeqCst);
    }

    /// Answers the next `n` requests with 429 and `Retry-After: 1`.
    pub fn rate_limit_next(&self, n: usize) {
        self.inner.rate_limit_next.store(n, Ordering::SeqCst);
    }

    /// Makes half the alert creations fail: of every four, the first creates the alert and then
    /// fails (the answer is lost), the second fails before doing anything.
    pub fn flaky(&self, on: bool) {
        self.inner.calls.store(0, Ordering::SeqCst);
        self.inner.flaky.store(on, Ordering::SeqCst);
    }

    /// The alerts.
    pub fn alerts(&self) -> Vec<Alert> {
        self.inner.data.lock().unwrap().alerts.clone()
    }

    /// Every request, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.inner.data.lock().unwrap().log.clone()
    }
}

/// The emulator against the documentation's own samples.
mod tests {
    use super::*;

    fn call(og: &Opsgenie, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .request(method, format!("{}{path}", og.url))
            .header("Authorization", format!("GenieKey {KEY}"))
    }

    #[tokio::test]
    async fn the_emulator_answers_the_docs_sample_alert_and_its_request_status() {
        let og = Opsgenie::start().await;
        // The Alert API documentation's sample create request.
        let sample = json!({
            "message": "An example alert message",
            "alias": "Life is too short for no alias",
            "description": "Every alert needs a description",
            "responders": [{"id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c", "type": "team"},
                           {"name": "NOC", "type": "team"},
                           {"username": "trinity@opsgenie.com", "type": "user"}],
            "visibleTo": [{"id": "4513b7ea-3b91-438f-b7e4-e3e54af9147c", "type": "team"}],
            "actions": ["Restart", "AnExampleAction"],
            "tags": ["OverwriteQuietHours", "Critical"],
            "details": {"key1": "value1", "key2": "value2"},
            "entity": "An example entity",
            "priority": "P1"
        });
        let r = call(&og, reqwest::Method::POST, "/v2/alerts")
            .json(&sample)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let accepted: Value = r.json().await.unwrap();
        assert_eq!(accepted["result"], "Request will be processed");
        let id = accepted["requestId"].as_str().unwrap().to_string();
        let status = |id: String| {
            call(
                &og,
                reqwest::Method::GET,
                &format!("/v2/alerts/requests/{id}"),
            )
            .send()
        };
        assert_eq!(
            status(id.clone()).await.unwrap().status(),
            404,
            "not processed yet"
        );
        let done: Value = status(id.clone()).await.unwrap().json().await.unwrap();
        assert_eq!(done["data"]["isSuccess"], true);
        assert_eq!(done["data"]["status"], "Created alert");
        assert_eq!(done["data"]["alias"], "Life is too short for no alias");
        // The same alias again is deduplicated into the open alert.
        call(&og, reqwest::Method::POST, "/v2/alerts")
            .json(&sample)
            .send()
            .await
            .unwrap();
        assert_eq!(og.alerts().len(), 1);
        assert_eq!(og.alerts()[0].count, 2);
        let r = call(&og, reqwest::Method::POST, "/v2/alerts/Life%20is%20too%20short%20for%20no%20alias/close?identifierType=alias")
            .json(&json!({"user": "Monitoring Script", "source": "AWS Lambda", "note": "Action executed via Alert API"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        assert_eq!(og.alerts()[0].status, "closed");
        let empty = call(&og, reqwest::Method::POST, "/v2/alerts")
            .json(&json!({"message": ""}))
            .send()
            .await
            .unwrap();
        assert_eq!(empty.status(), 422);
        let unauthorized = reqwest::Client::new()
            .get(format!("{}/v2/account", og.url))
            .header("Authorization", "GenieKey wrong")
            .send()
            .await
            .unwrap();
        assert_eq!(unauthorized.status(), 401);
        assert_eq!(
            unauthorized.json::<Value>().await.unwrap()["message"],
            "Could not authenticate"
        );
        og.rate_limit_next(1);
        let limited = call(&og, reqwest::Method::GET, "/v2/account")
            .send()
            .await
            .unwrap();
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()["retry-after"], "1");
    }

    #[tokio::test]
    async fn the_emulator_tells_who_is_on_call_flat_or_not() {
        let og = Opsgenie::start().await;
        og.schedule(
            "d875alp4-9b4e-4219-alp3-0c26936d18de",
            "ScheduleName",
            &["john@opsgenie.com"],
        );
        let flat: Value = call(&og, reqwest::Method::GET, "/v2/schedules/ScheduleName/on-calls?scheduleIdentifierType=name&flat=true&date=2017-01-15T08:00:00%2B02:00")
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(
            flat["data"]["onCallRecipients"],
            json!(["john@opsgenie.com"])
        );
        assert_eq!(flat["data"]["_parent"]["name"], "ScheduleName");
        let nested: Value = call(
            &og,
            reqwest::Method::GET,
            "/v2/schedules/d875alp4-9b4e-4219-alp3-0c26936d18de/on-calls",
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(nested["data"]["onCallParticipants"][0]["type"], "user");
        let missing = call(&og, reqwest::Method::GET, "/v2/schedules/nope/on-calls")
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);
    }
}
