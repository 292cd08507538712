//! A Jira emulator: the parts of the REST API Dispatch uses, as Atlassian documents them, for
//! Jira Cloud (`/rest/api/3`, basic auth with e-mail and API token, rich text in Atlassian
//! Document Format) and Jira Data Center (`/rest/api/2`, a personal access token as bearer,
//! rich text as wiki-markup strings). Errors are `{"errorMessages": [..], "errors": {..}}`.
//!
//! - `GET …/myself`: the signed-in user.
//! - `POST …/issue`: `fields.project` (`key` or `id`), `fields.issuetype` (`name` or `id`),
//!   `fields.summary` required (400 naming the field otherwise); 201 `{"id", "key", "self"}`.
//! - `GET …/issue/{key}` (`fields=` limits the fields), `PUT …/issue/{key}` (204).
//! - `GET /rest/api/3/search/jql` and `GET /rest/api/2/search` with `jql` (the clauses
//!   `project = "X"` and `labels = "Y"` joined by `AND`, and `ORDER BY`; anything else is a 400
//!   as Jira gives for JQL it cannot read), `fields`, `maxResults`.
//! - `GET …/issue/{key}/transitions`: the workflow's transitions from the issue's status, each
//!   with its `to` status; `POST …/issue/{key}/transitions` (204; 400 for a transition not
//!   offered), with `update.comment[].add.body` adding a comment.
//! - `GET /rest/api/3/user/search?query=` (Cloud: users matched by e-mail or name, each with its
//!   `accountId`) and `GET /rest/api/2/user/search?username=` (Data Center: each with its `name`);
//!   the parameter is required (400 without it).
//! - Custom fields on create and update: `customfield_10010` is a user picker (`{"accountId"}`
//!   on Cloud, `{"name"}` on Data Center, of a known user), `customfield_10020` a select list
//!   (`{"value"}` one of its options); any other custom field is a 400 ("cannot be set").
//! - 429 with `Retry-After` on demand; a flaky mode where half the calls fail, before or after
//!   doing their work (the answer lost, or not given within the client's timeout).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The Cloud account's e-mail.
pub const EMAIL: &str = "bot@example.com";
/// Its API token.
pub const API_TOKEN: &str = "ATATT3xFfGF0-emulated-token";
/// A Data Center personal access token.
pub const PAT: &str = "NjEwOTg0MjU2NDM5OkVtdWxhdGVkUEFU";

/// An issue.
#[derive(Debug, Clone)]
pub struct Issue {
    /// Its id.
    pub id: String,
    /// Its key, e.g. `OPS-1`.
    pub key: String,
    /// Its fields as created and updated (`status` apart).
    pub fields: Value,
    /// Its status's name.
    pub status: String,
    /// The transitions made, by name, in order.
    pub moves: Vec<String>,
    /// The comments' bodies.
    pub comments: Vec<Value>,
}

/// A workflow status: name and category key (`new`, `indeterminate`, `done`).
const STATUSES: &[(&str, &str, &str)] = &[
    ("10000", "To Do", "new"),
    ("3", "In Progress", "indeterminate"),
    ("10001", "Done", "done"),
    ("10002", "Stable", "indeterminate"),
];

/// The user-picker custom field.
pub const COMMANDER_FIELD: &str = "customfield_10010";
/// The select-list custom field, with its options.
pub const PRIORITY_FIELD: &str = "customfield_10020";
const PRIORITY_OPTIONS: &[&str] = &["Low", "Medium", "High", "Critical"];

/// A Jira user: account id (Cloud), e-mail, display name, user name (Data Center).
#[derive(Debug, Clone)]
struct User {
    account_id: String,
    email: String,
    display: String,
    name: String,
}

#[derive(Default)]
struct Data {
    issues: Vec<Issue>,
    log: Vec<String>,
    users: Vec<User>,
}

/// Why a custom field's value is refused, if it is.
fn custom_field_error(data: &Data, v: &str, field: &str, value: &Value) -> Option<String> {
    match field {
        COMMANDER_FIELD => {
            let known = data.users.iter().any(|u| {
                if v == "3" {
                    value["accountId"].as_str() == Some(u.account_id.as_str())
                } else {
                    value["name"].as_str() == Some(u.name.as_str())
                }
            });
            (!known && !value.is_null()).then(|| {
                if v == "3" {
                    "Specify a valid 'accountId' for the user".to_string()
                } else {
                    format!(
                        "User '{}' does not exist.",
                        value["name"].as_str().unwrap_or_default()
                    )
                }
            })
        }
        PRIORITY_FIELD => {
            let ok = value.is_null()
                || value["value"]
                    .as_str()
                    .is_some_and(|o| PRIORITY_OPTIONS.contains(&o));
            (!ok).then(|| {
                format!(
                    "Option value '{}' is not valid",
                    value["value"].as_str().unwrap_or_default()
                )
            })
        }
        f if f.starts_with("customfield_") => Some(format!(
            "Field '{f}' cannot be set. It is not on the appropriate screen, or unknown."
        )),
        _ => None,
    }
}

/// Every custom field error of a `fields` object.
fn custom_errors(data: &Data, v: &str, fields: &Value) -> serde_json::Map<String, Value> {
    fields
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, val)| custom_field_error(data, v, k, val).map(|m| (k.clone(), json!(m))))
        .collect()
}

struct Inner {
    data: Mutex<Data>,
    faults: super::Faults,
    stable: AtomicBool,
    stall: Mutex<Duration>,
}

/// A running emulator.
pub struct Jira {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    inner: Arc<Inner>,
    _server: super::Server,
}

fn error(status: StatusCode, messages: &[&str], fields: Value) -> Response {
    (
        status,
        Json(json!({"errorMessages": messages, "errors": fields})),
    )
        .into_response()
}

fn status_json(name: &str) -> Value {
    let (id, _, cat) = STATUSES
        .iter()
        .find(|(_, n, _)| *n == name)
        .copied()
        .unwrap_or(("1", name, "new"));
    json!({"id": id, "name": name, "statusCategory": {"key": cat}})
}

/// What a flaky call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Fine,
    FailBefore,
    LoseAnswer,
    Stall,
}

impl Inner {
    /// 401 without good credentials for the API version, 429 when told to: the answer to
    /// give instead.
    fn gate(&self, headers: &HeaderMap, version: &str, what: String) -> Option<Response> {
        self.data.lock().unwrap().log.push(what);
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{API_TOKEN}"))
        );
        let ok = match version {
            "3" => auth == basic,
            "2" => auth == basic || auth == format!("Bearer {PAT}"),
            _ => false,
        };
        if !ok {
            return Some(error(
                StatusCode::UNAUTHORIZED,
                &["You are not authenticated. Authentication required to perform this operation."],
                json!({}),
            ));
        }
        if self.faults.limited() {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                &["Rate limit exceeded."],
                json!({}),
            );
            r.headers_mut().insert("retry-after", "1".parse().unwrap());
            return Some(r);
        }
        None
    }

    /// Of every four calls in flaky mode: one fails before its work, one does it and loses the
    /// answer, one does it and answers after the client gave up; the fourth goes through.
    fn fate(&self) -> Fate {
        match self.faults.place() {
            Some(0) => Fate::FailBefore,
            Some(1) => Fate::LoseAnswer,
            Some(2) => Fate::Stall,
            _ => Fate::Fine,
        }
    }

    fn workflow(&self) -> Vec<(&'static str, &'static str)> {
        let mut t = vec![("11", "To Do"), ("21", "In Progress"), ("31", "Done")];
        if self.stable.load(Ordering::SeqCst) {
            t.push(("41", "Stable"));
        }
        t
    }

    /// The transitions offered from `status`: every one leading elsewhere.
    fn offered(&self, status: &str) -> Vec<Value> {
        self.workflow()
            .into_iter()
            .filter(|(_, to)| *to != status)
            .map(|(id, name)| {
                json!({"id": id, "name": name, "to": status_json(name), "hasScreen": false,
                       "isGlobal": true, "isInitial": false, "isConditional": false})
            })
            .collect()
    }
}

fn issue_json(base: &str, version: &str, i: &Issue, only: Option<&[String]>) -> Value {
    let mut fields = i.fields.clone();
    fields["status"] = status_json(&i.status);
    if let Some(only) = only {
        let keep: serde_json::Map<String, Value> = fields
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| only.iter().any(|o| o == *k || o == "*all"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        fields = Value::Object(keep);
    }
    json!({"id": i.id, "key": i.key, "self": format!("{base}/rest/api/{version}/issue/{}", i.id),
           "fields": fields})
}

/// Reads the JQL Dispatch sends: `project = "X" AND labels = "Y"`, then `ORDER BY …`.
fn parse_jql(jql: &str) -> Result<Vec<(String, String)>, String> {
    let head = jql.split(" ORDER BY ").next().unwrap_or_default();
    head.split(" AND ")
        .map(|clause| {
            let (field, value) = clause.split_once('=').ok_or_else(|| {
                format!("Error in the JQL Query: Expecting operator but got '{clause}'.")
            })?;
            let field = field.trim().to_ascii_lowercase();
            if field != "project" && field != "labels" {
                return Err(format!(
                    "Field '{field}' does not exist or you do not have permission to view it."
                ));
            }
            Ok((field, value.trim().trim_matches('"').to_string()))
        })
        .collect()
}

struct Req {
    version: String,
    rest: Vec<String>,
    query: Vec<(String, String)>,
    body: Value,
}

async fn route(
    State(s): State<Arc<Inner>>,
    method: Method,
    headers: HeaderMap,
    Path((version, path)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let q = q.unwrap_or_default();
    let what = format!(
        "{method} /rest/api/{version}/{path}{}",
        if q.is_empty() {
            String::new()
        } else {
            format!("?{q}")
        }
    );
    if let Some(r) = s.gate(&headers, &version, what) {
        return r;
    }
    let body = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &["Unexpected character in the request body."],
                    json!({}),
                )
            }
        }
    };
    let req = Req {
        version,
        rest: path.split('/').map(str::to_string).collect(),
        query: super::query_pairs(&q),
        body,
    };
    let writes = method != Method::GET;
    let fate = if writes { s.fate() } else { Fate::Fine };
    if fate == Fate::FailBefore {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            &["Service unavailable."],
            json!({}),
        );
    }
    let answer = handle(&s, &method, &req);
    match fate {
        Fate::LoseAnswer => StatusCode::BAD_GATEWAY.into_response(),
        Fate::Stall => {
            let wait = *s.stall.lock().unwrap();
            tokio::time::sleep(wait).await;
            answer
        }
        _ => answer,
    }
}

fn handle(s: &Inner, method: &Method, req: &Req) -> Response {
    let base = "https://example.atlassian.net";
    let v = req.version.as_str();
    let rest: Vec<&str> = req.rest.iter().map(String::as_str).collect();
    let one = |k: &str| {
        req.query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    let fields_param: Option<Vec<String>> =
        one("fields").map(|f| f.split(',').map(|x| x.trim().to_string()).collect());
    match (method.as_str(), rest.as_slice()) {
        ("GET", ["myself"]) => Json(json!({
            "self": format!("{base}/rest/api/{v}/user?accountId=5b10a2844c20165700ede21g"),
            "accountId": "5b10a2844c20165700ede21g", "emailAddress": EMAIL,
            "displayName": "Dispatch Bot", "active": true, "timeZone": "Etc/UTC"
        }))
        .into_response(),
        ("POST", ["issue"]) => create(s, v, &req.body),
        ("GET", ["user", "search"]) => {
            let param = if v == "3" { "query" } else { "username" };
            let Some(q) = one(param).filter(|q| !q.trim().is_empty()) else {
                let m = format!("The '{param}' query parameter is required.");
                return error(StatusCode::BAD_REQUEST, &[m.as_str()], json!({}));
            };
            let q = q.to_lowercase();
            let data = s.data.lock().unwrap();
            let found: Vec<Value> = data
                .users
                .iter()
                .filter(|u| {
                    u.email.to_lowercase().starts_with(&q)
                        || u.display.to_lowercase().starts_with(&q)
                        || (v == "2" && u.name.to_lowercase().starts_with(&q))
                })
                .map(|u| {
                    if v == "3" {
                        json!({"accountId": u.account_id, "accountType": "atlassian",
                               "emailAddress": u.email, "displayName": u.display, "active": true})
                    } else {
                        json!({"name": u.name, "key": u.name, "emailAddress": u.email,
                               "displayName": u.display, "active": true})
                    }
                })
                .collect();
            Json(Value::Array(found)).into_response()
        }
        ("GET", ["search", "jql"]) if v == "3" => search(s, v, &one, fields_param.as_deref()),
        ("GET", ["search"]) if v == "2" => search(s, v, &one, fields_param.as_deref()),
        (_, ["issue", key, tail @ ..]) => {
            let mut data = s.data.lock().unwrap();
            // Custom field values an update would set, checked before the issue is borrowed.
            let refused = custom_errors(&data, v, &req.body["fields"]);
            let Some(issue) = data
                .issues
                .iter_mut()
                .find(|i| i.key == *key || i.id == *key)
            else {
                return error(
                    StatusCode::NOT_FOUND,
                    &["Issue does not exist or you do not have permission to see it."],
                    json!({}),
                );
            };
            match (method.as_str(), tail) {
                ("GET", []) => {
                    Json(issue_json(base, v, issue, fields_param.as_deref())).into_response()
                }
                ("PUT", []) => {
                    if let Some(f) = req.body["fields"].as_object() {
                        if v == "3"
                            && f.get("description")
                                .is_some_and(|d| !d.is_null() && d["type"] != "doc")
                        {
                            return error(
                                StatusCode::BAD_REQUEST,
                                &[],
                                json!({"description": "Operation value must be an Atlassian Document (see the Atlassian Document Format)"}),
                            );
                        }
                        if !refused.is_empty() {
                            return error(StatusCode::BAD_REQUEST, &[], Value::Object(refused));
                        }
                        for (k, val) in f {
                            issue.fields[k] = val.clone();
                        }
                    }
                    StatusCode::NO_CONTENT.into_response()
                }
                ("GET", ["transitions"]) => {
                    Json(json!({"expand": "transitions", "transitions": s.offered(&issue.status)}))
                        .into_response()
                }
                ("POST", ["transitions"]) => {
                    let id = match &req.body["transition"]["id"] {
                        Value::String(x) => x.clone(),
                        Value::Number(n) => n.to_string(),
                        _ => String::new(),
                    };
                    let offered = s.offered(&issue.status);
                    let Some(t) = offered.iter().find(|t| t["id"] == id.as_str()) else {
                        let m = format!("Transition id '{id}' is not valid for this issue.");
                        return error(StatusCode::BAD_REQUEST, &[m.as_str()], json!({}));
                    };
                    for c in req.body["update"]["comment"]
                        .as_array()
                        .into_iter()
                        .flatten()
                    {
                        issue.comments.push(c["add"]["body"].clone());
                    }
                    issue.status = t["to"]["name"].as_str().unwrap().to_string();
                    issue.moves.push(t["name"].as_str().unwrap().to_string());
                    StatusCode::NO_CONTENT.into_response()
                }
                ("POST", ["comment"]) => {
                    issue.comments.push(req.body["body"].clone());
                    (
                        StatusCode::CREATED,
                        Json(json!({"id": "10000", "body": req.body["body"]})),
                    )
                        .into_response()
                }
                _ => error(StatusCode::NOT_FOUND, &["No such operation."], json!({})),
            }
        }
        _ => error(StatusCode::NOT_FOUND, &["No such operation."], json!({})),
    }
}

fn create(s: &Inner, v: &str, body: &Value) -> Response {
    let f = &body["fields"];
    let mut errors = serde_json::Map::new();
    let project = match (&f["project"]["key"], &f["project"]["id"]) {
        (Value::String(k), _) if k == "OPS" || k == "SEC" => Some(k.clone()),
        (_, Value::String(id)) if id == "10000" => Some("OPS".to_string()),
        _ => None,
    };
    if project.is_none() {
        errors.insert("project".into(), json!("valid project is required"));
    }
    let known_type = match (&f["issuetype"]["name"], &f["issuetype"]["id"]) {
        (Value::String(n), _) => ["Task", "Bug", "Incident"].contains(&n.as_str()),
        (_, Value::String(id)) => ["10000", "10001", "10002"].contains(&id.as_str()),
        _ => false,
    };
    if !known_type {
        errors.insert("issuetype".into(), json!("valid issue type is required"));
    }
    if f["summary"].as_str().is_none_or(|t| t.trim().is_empty()) {
        errors.insert(
            "summary".into(),
            json!("You must specify a summary of the issue."),
        );
    } else if f["summary"]
        .as_str()
        .is_some_and(|t| t.contains('\n') || t.chars().count() > 255)
    {
        errors.insert(
            "summary".into(),
            json!("Summary must be less than 255 characters and on one line."),
        );
    }
    let d = &f["description"];
    let description_ok = match v {
        "3" => d.is_null() || (d["type"] == "doc" && d["version"] == 1 && d["content"].is_array()),
        _ => d.is_null() || d.is_string(),
    };
    if !description_ok {
        errors.insert(
            "description".into(),
            json!(
                "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
            ),
        );
    }
    if f["labels"]
        .as_array()
        .is_some_and(|l| l.iter().any(|x| x.as_str().is_none_or(|x| x.contains(' '))))
    {
        errors.insert("labels".into(), json!("The label must not contain spaces."));
    }
    let mut data = s.data.lock().unwrap();
    errors.extend(custom_errors(&data, v, f));
    if !errors.is_empty() {
        return error(StatusCode::BAD_REQUEST, &[], Value::Object(errors));
    }
    let project = project.unwrap();
    let n = data
        .issues
        .iter()
        .filter(|i| i.key.starts_with(&format!("{project}-")))
        .count()
        + 1;
    let id = (10000 + data.issues.len() + 1).to_string();
    let key = format!("{project}-{n}");
    let mut fields = f.clone();
    fields["project"] = json!({"key": project});
    data.issues.push(Issue {
        id: id.clone(),
        key: key.clone(),
        fields,
        status: "To Do".into(),
        moves: vec![],
        comments: vec![],
    });
    (
        StatusCode::CREATED,
        Json(json!({"id": id, "key": key, "self": format!("https://example.atlassian.net/rest/api/{v}/issue/{id}")})),
    )
        .into_response()
}

fn search(
    s: &Inner,
    v: &str,
    one: &dyn Fn(&str) -> Option<String>,
    fields: Option<&[String]>,
) -> Response {
    let Some(jql) = one("jql") else {
        return error(
            StatusCode::BAD_REQUEST,
            &["The JQL query is required (unbounded queries are not allowed)."],
            json!({}),
        );
    };
    let clauses = match parse_jql(&jql) {
        Ok(c) => c,
        Err(e) => return error(StatusCode::BAD_REQUEST, &[e.as_str()], json!({})),
    };
    let max: usize = one("maxResults").and_then(|m| m.parse().ok()).unwrap_or(50);
    let data = s.data.lock().unwrap();
    let found: Vec<Value> = data
        .issues
        .iter()
        .filter(|i| {
            clauses.iter().all(|(f, val)| match f.as_str() {
                "project" => i.fields["project"]["key"] == val.as_str(),
                _ => i.fields["labels"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x == val.as_str())),
            })
        })
        .take(max)
        .map(|i| issue_json("https://example.atlassian.net", v, i, fields))
        .collect();
    if v == "3" {
        Json(json!({"issues": found, "isLast": true})).into_response()
    } else {
        let total = found.len();
        Json(json!({"expand": "schema,names", "startAt": 0, "maxResults": max, "total": total, "issues": found}))
            .into_response()
    }
}

impl Jira {
    /// Starts an emulator.
    pub async fn start() -> Self {
        let inner = Arc::new(Inner {
            data: Mutex::new(Data::default()),
            faults: super::Faults::default(),
            stable: AtomicBool::new(false),
            stall: Mutex::new(Duration::from_secs(2)),
        });
        let app = Router::new()
            .route("/rest/api/{version}/{*path}", any(route))
            .route("/", get(|| async { "Jira emulator" }))
            .with_state(inner.clone());
        let server = super::Server::start(app).await;
        let url = server.url.clone();
        Self {
            url,
            inner,
            _server: server,
        }
    }

    /// Gives the workflow a `Stable` status and transition.
    pub fn with_stable_transition(&self) {
        self.inner.stable.store(true, Ordering::SeqCst);
    }

    /// Adds a user Jira knows (found by `user/search`); returns its account id.
    pub fn add_user(&self, email: &str, display: &str) -> String {
        let mut data = self.inner.data.lock().unwrap();
        let account_id = format!("5b10ac8d82e05b22cc7d4e{:02}", data.users.len());
        data.users.push(User {
            account_id: account_id.clone(),
            email: email.into(),
            display: display.into(),
            name: email.split('@').next().unwrap_or_default().into(),
        });
        account_id
    }

    /// 429s on demand, and the flaky mode in which half of the writing calls fail (see
    /// [`Inner::fate`]).
    pub fn faults(&self) -> &super::Faults {
        &self.inner.faults
    }

    /// How long a stalled answer takes in the flaky mode.
    pub fn stall(&self, wait: Duration) {
        *self.inner.stall.lock().unwrap() = wait;
    }

    /// The issues.
    pub fn issues(&self) -> Vec<Issue> {
        self.inner.data.lock().unwrap().issues.clone()
    }

    /// Every request, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.inner.data.lock().unwrap().log.clone()
    }
}

/// The emulator against the documentation's own samples.
mod tests {
    use super::*;

    fn cloud(j: &Jira, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .request(method, format!("{}{path}", j.url))
            .basic_auth(EMAIL, Some(API_TOKEN))
    }

    /// A Cloud `GET`'s JSON answer.
    async fn get_json(j: &Jira, path: &str) -> Value {
        cloud(j, reqwest::Method::GET, path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_emulator_answers_the_docs_create_issue_and_transition_samples() {
        let j = Jira::start().await;
        // The "Create issue" sample of the REST API v3 reference (its fields that apply here).
        let sample = json!({"fields": {
            "description": {"content": [{"content": [{"text": "Order entry fails when selecting supplier.", "type": "text"}],
                                         "type": "paragraph"}],
                            "type": "doc", "version": 1},
            "issuetype": {"id": "10000"},
            "labels": ["bugfix", "blitz_test"],
            "project": {"id": "10000"},
            "summary": "Main order flow broken"
        }, "update": {}});
        let r = cloud(&j, reqwest::Method::POST, "/rest/api/3/issue")
            .json(&sample)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let created: Value = r.json().await.unwrap();
        assert_eq!(created["key"], "OPS-1");
        assert!(created["self"]
            .as_str()
            .unwrap()
            .ends_with("/rest/api/3/issue/10001"));
        // A plain string description is not a document on v3.
        let mut plain = sample.clone();
        plain["fields"]["description"] = json!("text");
        plain["fields"]["summary"] = json!("");
        let r = cloud(&j, reqwest::Method::POST, "/rest/api/3/issue")
            .json(&plain)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["errorMessages"], json!([]));
        assert_eq!(
            e["errors"]["summary"],
            "You must specify a summary of the issue."
        );
        assert!(e["errors"]["description"].is_string());
        // "Get transitions", then the "Transition issue" sample with its comment.
        let t: Value = get_json(&j, "/rest/api/3/issue/OPS-1/transitions").await;
        let done = t["transitions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "Done")
            .unwrap()
            .clone();
        assert_eq!(done["to"]["statusCategory"]["key"], "done");
        let r = cloud(&j, reqwest::Method::POST, "/rest/api/3/issue/OPS-1/transitions")
            .json(&json!({"transition": {"id": done["id"]},
                          "update": {"comment": [{"add": {"body": {"type": "doc", "version": 1,
                              "content": [{"type": "paragraph", "content": [{"text": "Bug has been fixed", "type": "text"}]}]}}}]}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let issue = &j.issues()[0];
        assert_eq!(
            (issue.status.as_str(), issue.moves.as_slice()),
            ("Done", &["Done".to_string()][..])
        );
        assert_eq!(issue.comments.len(), 1);
        let again = cloud(
            &j,
            reqwest::Method::POST,
            "/rest/api/3/issue/OPS-1/transitions",
        )
        .json(&json!({"transition": {"id": done["id"]}}))
        .send()
        .await
        .unwrap();
        assert_eq!(again.status(), 400, "Done is not offered from Done");
        // JQL search by label, the issue with only the fields asked for.
        let found: Value = get_json(&j, "/rest/api/3/search/jql?jql=project%20%3D%20%22OPS%22%20AND%20labels%20%3D%20%22blitz_test%22&fields=summary,status").await;
        assert_eq!(found["issues"][0]["key"], "OPS-1");
        assert_eq!(
            found["issues"][0]["fields"]["summary"],
            "Main order flow broken"
        );
        assert!(found["issues"][0]["fields"]["labels"].is_null());
        let bad = cloud(
            &j,
            reqwest::Method::GET,
            "/rest/api/3/search/jql?jql=assignee%20%3D%20me",
        )
        .send()
        .await
        .unwrap();
        assert_eq!(bad.status(), 400);
    }

    #[tokio::test]
    async fn the_emulator_checks_credentials_per_api_and_limits_on_demand() {
        let j = Jira::start().await;
        let wrong = reqwest::Client::new()
            .get(format!("{}/rest/api/3/myself", j.url))
            .basic_auth(EMAIL, Some("wrong"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
        assert!(wrong.json::<Value>().await.unwrap()["errorMessages"][0]
            .as_str()
            .unwrap()
            .contains("not authenticated"));
        let bearer = |v: &str| {
            reqwest::Client::new()
                .get(format!("{}/rest/api/{v}/myself", j.url))
                .bearer_auth(PAT)
                .send()
        };
        assert_eq!(
            bearer("2").await.unwrap().status(),
            200,
            "Data Center takes the PAT"
        );
        assert_eq!(bearer("3").await.unwrap().status(), 401, "Cloud does not");
        j.faults().rate_limit_next(1);
        let limited = cloud(&j, reqwest::Method::GET, "/rest/api/3/myself")
            .send()
            .await
            .unwrap();
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()["retry-after"], "1");
        let me: Value = get_json(&j, "/rest/api/3/myself").await;
        assert_eq!(me["emailAddress"], EMAIL);
    }

    #[tokio::test]
    async fn the_emulator_finds_users_and_checks_custom_fields() {
        let j = Jira::start().await;
        let id = j.add_user("ida@example.com", "Ida Commander");
        // "Find users" (Cloud): `query` matches e-mail or display name; it is required.
        let found: Value = get_json(&j, "/rest/api/3/user/search?query=ida%40example.com").await;
        assert_eq!(found[0]["accountId"], id.as_str());
        assert_eq!(found[0]["accountType"], "atlassian");
        let r = cloud(&j, reqwest::Method::GET, "/rest/api/3/user/search")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        // A user picker takes a known account; a select one of its options; other custom
        // fields cannot be set.
        let issue = |extra: Value| {
            let mut b = json!({"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"},
                "summary": "s"}});
            for (k, v) in extra.as_object().unwrap() {
                b["fields"][k] = v.clone();
            }
            b
        };
        let r = cloud(&j, reqwest::Method::POST, "/rest/api/3/issue")
            .json(&issue(json!({COMMANDER_FIELD: {"accountId": "nobody"},
                PRIORITY_FIELD: {"value": "Urgent"}, "customfield_99999": "x"})))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let e: Value = r.json().await.unwrap();
        for f in [COMMANDER_FIELD, PRIORITY_FIELD, "customfield_99999"] {
            assert!(e["errors"][f].is_string(), "{f}: {e}");
        }
        assert!(j.issues().is_empty());
        let r = cloud(&j, reqwest::Method::POST, "/rest/api/3/issue")
            .json(&issue(json!({COMMANDER_FIELD: {"accountId": id},
                PRIORITY_FIELD: {"value": "High"}})))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        assert_eq!(j.issues()[0].fields[PRIORITY_FIELD]["value"], "High");
    }
}
