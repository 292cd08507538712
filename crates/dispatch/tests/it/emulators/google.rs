//! A Google Workspace emulator: the OAuth 2.0 token endpoint for service accounts and the parts
//! of Drive v3, Docs v1 and the Admin SDK Directory API v1 Dispatch uses, as Google documents
//! them.
//!
//! - `POST /token` (form `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=JWT`):
//!   the JWT's RS256 signature is verified with the test key's public half, and its claims:
//!   `iss` the service account, `aud` this endpoint, `iat`/`exp` (at most an hour, not expired),
//!   `scope`, and `sub` (domain-wide delegation: every scope asked must be delegated to the
//!   client). `{"access_token", "expires_in": 3599, "token_type": "Bearer"}`; errors are
//!   `{"error": "invalid_grant" | "unauthorized_client" | …, "error_description"}`.
//! - Every API call needs `Authorization: Bearer` of a live token with a scope the method takes:
//!   401 `UNAUTHENTICATED` or 403 `insufficientPermissions` otherwise, in Google's error body
//!   `{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}`.
//! - Drive (`/drive/v3`): `GET /about`; `files.list` (`q` with `appProperties has { key='k' and
//!   value='v' }`, `'ID' in parents`, `name = '…'`, `mimeType = '…'`, `trashed = false` joined by
//!   `and`; `pageSize`/`pageToken`/`nextPageToken`); `files.create`, `files.get`, `files.update`
//!   (`addParents`/`removeParents`, `name`, `contentRestrictions`), `files.copy` (a file the
//!   subject cannot see is `404 File not found: ID.`); `permissions.list` (paged),
//!   `permissions.create` (`sendNotificationEmail`), `permissions.update`, `permissions.delete`.
//!   Without `fields`, resources carry Drive's default fields only.
//! - Docs (`/v1`): `GET /documents/{id}` (the text as one paragraph) and
//!   `POST /documents/{id}:batchUpdate` with `replaceAllText` requests applied to the stored
//!   text (`occurrencesChanged` in the replies); a read-only (content-restricted) document is 403.
//! - Directory (`/admin/directory/v1`): `groups.list` (`domain`), `groups.insert` (409
//!   `duplicate`), `groups.get`, `groups.delete`, `members.list` (`maxResults`/`pageToken`),
//!   `members.insert` (409 `Member already exists.`), `members.delete` (404 `Resource Not
//!   Found: memberKey`). Only the administrator (the subject given) may use it.
//! - 429 with `Retry-After` on demand.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The test service account's key file (a test-only key).
pub const KEY_FILE: &str = include_str!("../fixtures/google/service-account.json");
/// The service account.
pub const CLIENT_EMAIL: &str = "dispatch@dispatch-test.iam.gserviceaccount.com";
/// The Workspace administrator Dispatch acts as.
pub const SUBJECT: &str = "admin@example.com";
/// The Workspace domain (groups are made in it).
pub const DOMAIN: &str = "example.com";
/// The folder incident folders go in.
pub const PARENT_FOLDER: &str = "0AParentFolder";
/// The archive folder.
pub const ARCHIVE_FOLDER: &str = "0AArchiveFolder";
/// The scopes delegated to the client by default.
pub const DELEGATED: &[&str] = &[
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/documents",
    "https://www.googleapis.com/auth/admin.directory.group",
];

const DOC_MIME: &str = "application/vnd.google-apps.document";
const FOLDER_MIME: &str = "application/vnd.google-apps.folder";

/// A Drive permission.
#[derive(Debug, Clone)]
pub struct Permission {
    /// Its id.
    pub id: String,
    /// `user`, `group`, …
    pub kind: String,
    /// `owner`, `writer`, `commenter`, `reader`, …
    pub role: String,
    /// The e-mail.
    pub email: String,
    /// Whether Drive was told to mail the person.
    pub notified: bool,
}

/// A Drive file (a folder or a Docs document).
#[derive(Debug, Clone)]
pub struct File {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its MIME type.
    pub mime: String,
    /// Its parents.
    pub parents: Vec<String>,
    /// App properties.
    pub app_properties: BTreeMap<String, String>,
    /// A document's text.
    pub text: String,
    /// Its permissions.
    pub permissions: Vec<Permission>,
    /// A content restriction makes it read-only.
    pub read_only: bool,
}

/// A Google Group.
#[derive(Debug, Clone)]
pub struct Group {
    /// Its id.
    pub id: String,
    /// Its address.
    pub email: String,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its members' addresses.
    pub members: Vec<String>,
}

struct Token {
    value: String,
    scopes: Vec<String>,
    subject: String,
    until: std::time::Instant,
}

#[derive(Default)]
struct Data {
    tokens: Vec<Token>,
    files: Vec<File>,
    groups: Vec<Group>,
    delegated: Vec<String>,
    log: Vec<String>,
    next: usize,
}

struct Inner {
    data: Mutex<Data>,
    public_key: Vec<u8>,
    token_url: Mutex<String>,
    page_size: AtomicUsize,
    faults: super::Faults,
}

/// A running emulator (token endpoint and the three APIs on one address).
pub struct Google {
    /// `…/token`.
    pub token_url: String,
    /// `…/drive/v3`.
    pub drive_url: String,
    /// `…/v1`.
    pub docs_url: String,
    /// `…/admin/directory/v1`.
    pub directory_url: String,
    inner: Arc<Inner>,
    _server: super::Server,
}

/// The DER of the fixture key's private half.
pub fn private_key_der() -> Vec<u8> {
    let v: Value = serde_json::from_str(KEY_FILE).unwrap();
    let body: String = v["private_key"]
        .as_str()
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// Google's error body.
pub fn google_error(status: StatusCode, message: &str, reason: &str) -> Response {
    let code = status.as_u16();
    let status_name = match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ALREADY_EXISTS",
        429 => "RESOURCE_EXHAUSTED",
        _ => "UNKNOWN",
    };
    (
        status,
        Json(json!({"error": {"code": code, "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": status_name}})),
    )
        .into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
}

impl Inner {
    /// The subject of a live token with one of `scopes`, or the answer to give instead (401,
    /// 403, or a 429 when told to).
    fn gate(&self, headers: &HeaderMap, scopes: &[&str]) -> Result<String, Box<Response>> {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let now = std::time::Instant::now();
        let found = {
            let data = self.data.lock().unwrap();
            auth.strip_prefix("Bearer ").and_then(|t| {
                data.tokens
                    .iter()
                    .find(|k| k.value == t && k.until > now)
                    .map(|k| (k.subject.clone(), k.scopes.clone()))
            })
        };
        let Some((subject, have)) = found else {
            return Err(Box::new(google_error(
                StatusCode::UNAUTHORIZED,
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                "authError",
            )));
        };
        if !scopes.iter().any(|s| have.iter().any(|h| h == s)) {
            return Err(Box::new(google_error(
                StatusCode::FORBIDDEN,
                "Request had insufficient authentication scopes.",
                "insufficientPermissions",
            )));
        }
        if self.faults.limited() {
            let mut r = google_error(
                StatusCode::TOO_MANY_REQUESTS,
                "Rate Limit Exceeded",
                "rateLimitExceeded",
            );
            r.headers_mut().insert("retry-after", "1".parse().unwrap());
            return Err(Box::new(r));
        }
        Ok(subject)
    }

    fn new_id(&self, data: &mut Data, prefix: &str) -> String {
        data.next += 1;
        format!("{prefix}{:06}", data.next)
    }

    fn page(&self, asked: Option<usize>) -> usize {
        asked
            .unwrap_or(100)
            .min(self.page_size.load(Ordering::SeqCst))
            .max(1)
    }
}

fn one(pairs: &[(String, String)], k: &str) -> Option<String> {
    pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
}

fn offset(pairs: &[(String, String)]) -> usize {
    one(pairs, "pageToken")
        .and_then(|t| t.strip_prefix("page-").and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

async fn token(State(s): State<Arc<Inner>>, body: Bytes) -> Response {
    use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
    let pairs = super::query_pairs(&String::from_utf8_lossy(&body));
    if one(&pairs, "grant_type").as_deref() != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Invalid grant_type: ",
        );
    }
    let assertion = one(&pairs, "assertion").unwrap_or_default();
    let parts: Vec<&str> = assertion.split('.').collect();
    let invalid = |d: &str| oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", d);
    if parts.len() != 3 {
        return invalid("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.");
    }
    let (Some(header), Some(claims), Some(sig)) =
        (b64url(parts[0]), b64url(parts[1]), b64url(parts[2]))
    else {
        return invalid("Invalid JWT Signature.");
    };
    let header: Value = serde_json::from_slice(&header).unwrap_or(Value::Null);
    if header["alg"] != "RS256" {
        return invalid("Invalid JWT Signature.");
    }
    let signed = format!("{}.{}", parts[0], parts[1]);
    if UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &s.public_key)
        .verify(signed.as_bytes(), &sig)
        .is_err()
    {
        return invalid("Invalid JWT Signature.");
    }
    let claims: Value = serde_json::from_slice(&claims).unwrap_or(Value::Null);
    if claims["iss"] != CLIENT_EMAIL {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    }
    if claims["aud"].as_str() != Some(s.token_url.lock().unwrap().as_str()) {
        return invalid("Invalid JWT: Failed audience check.");
    }
    let now = chrono::Utc::now().timestamp();
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap_or(0),
        claims["exp"].as_i64().unwrap_or(0),
    );
    if exp <= now || iat > now + 60 || exp - iat > 3600 {
        return invalid("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.");
    }
    let scopes: Vec<String> = claims["scope"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if scopes.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        );
    }
    let subject = claims["sub"].as_str().unwrap_or_default().to_string();
    let mut data = s.data.lock().unwrap();
    if !subject.is_empty() && !scopes.iter().all(|sc| data.delegated.contains(sc)) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        );
    }
    let value = format!("ya29.c.emulated-{}", data.tokens.len());
    data.tokens.push(Token {
        value: value.clone(),
        scopes,
        subject: if subject.is_empty() {
            CLIENT_EMAIL.into()
        } else {
            subject
        },
        until: std::time::Instant::now() + std::time::Duration::from_secs(3599),
    });
    Json(json!({"access_token": value, "expires_in": 3599, "token_type": "Bearer"})).into_response()
}

// ---- Drive ----

const DRIVE: &[&str] = &["https://www.googleapis.com/auth/drive"];

fn web_link(f: &File) -> String {
    if f.mime == FOLDER_MIME {
        format!("https://drive.google.com/drive/folders/{}", f.id)
    } else {
        format!("https://docs.google.com/document/d/{}/edit", f.id)
    }
}

/// A file as Drive shows it: the default fields, and those `fields` names.
fn file_json(f: &File, fields: Option<&str>) -> Value {
    let mut v = json!({"kind": "drive#file", "id": f.id, "name": f.name, "mimeType": f.mime});
    let Some(fields) = fields else { return v };
    if fields.contains("parents") {
        v["parents"] = json!(f.parents);
    }
    if fields.contains("appProperties") {
        v["appProperties"] = json!(f.app_properties);
    }
    if fields.contains("webViewLink") {
        v["webViewLink"] = json!(web_link(f));
    }
    if fields.contains("contentRestrictions") {
        v["contentRestrictions"] = json!([{"readOnly": f.read_only}]);
    }
    v
}

fn permission_json(p: &Permission, fields: Option<&str>) -> Value {
    let mut v = json!({"kind": "drive#permission", "id": p.id, "type": p.kind, "role": p.role});
    if fields.is_some_and(|f| f.contains("emailAddress")) {
        v["emailAddress"] = json!(p.email);
    }
    v
}

fn not_found(id: &str) -> Response {
    google_error(
        StatusCode::NOT_FOUND,
        &format!("File not found: {id}."),
        "notFound",
    )
}

/// Whether `subject` can see the file: they own it or hold a permission on it or on a folder
/// above it.
fn visible(data: &Data, id: &str, subject: &str, depth: usize) -> bool {
    let Some(f) = data.files.iter().find(|f| f.id == id) else {
        return false;
    };
    f.permissions.iter().any(|p| p.email == subject)
        || (depth < 10
            && f.parents
                .iter()
                .any(|p| visible(data, p, subject, depth + 1)))
}

/// One clause of a `files.list` query.
#[derive(Debug, PartialEq)]
enum Clause {
    Property(String, String),
    InParents(String),
    Trashed(bool),
    Name(String),
    Mime(String),
}

/// A quoted string at the start of `s` (`'…'`, with `\'` and `\\`): it and the rest.
fn quoted(s: &str) -> Option<(String, &str)> {
    let rest = s.strip_prefix('\'')?;
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '\'' => return Some((out, &rest[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

/// Parses the query terms Dispatch uses; anything else is an error (Drive's 400 `invalid`).
fn parse_q(q: &str) -> Option<Vec<Clause>> {
    let mut out = Vec::new();
    let mut s = q.trim();
    loop {
        if let Some(rest) = s.strip_prefix("appProperties has {") {
            let end = rest.find('}')?;
            let inner = rest[..end].trim();
            let (k, after) = quoted(inner.strip_prefix("key=")?.trim_start())?;
            let after = after.trim_start().strip_prefix("and")?.trim_start();
            let (v, after) = quoted(after.strip_prefix("value=")?.trim_start())?;
            if !after.trim().is_empty() {
                return None;
            }
            out.push(Clause::Property(k, v));
            s = rest[end + 1..].trim_start();
        } else if s.starts_with('\'') {
            let (id, rest) = quoted(s)?;
            s = rest.trim_start().strip_prefix("in parents")?.trim_start();
            out.push(Clause::InParents(id));
        } else if let Some(rest) = s.strip_prefix("trashed") {
            let rest = rest.trim_start().strip_prefix('=')?.trim_start();
            let (b, rest) = if let Some(r) = rest.strip_prefix("false") {
                (false, r)
            } else {
                (true, rest.strip_prefix("true")?)
            };
            out.push(Clause::Trashed(b));
            s = rest.trim_start();
        } else if let Some(rest) = s.strip_prefix("name") {
            let (v, rest) = quoted(rest.trim_start().strip_prefix('=')?.trim_start())?;
            out.push(Clause::Name(v));
            s = rest.trim_start();
        } else if let Some(rest) = s.strip_prefix("mimeType") {
            let (v, rest) = quoted(rest.trim_start().strip_prefix('=')?.trim_start())?;
            out.push(Clause::Mime(v));
            s = rest.trim_start();
        } else {
            return None;
        }
        if s.is_empty() {
            return Some(out);
        }
        s = s.strip_prefix("and ")?.trim_start();
    }
}

fn matches(f: &File, clauses: &[Clause]) -> bool {
    clauses.iter().all(|c| match c {
        Clause::Property(k, v) => f.app_properties.get(k) == Some(v),
        Clause::InParents(p) => f.parents.contains(p),
        Clause::Trashed(t) => !*t,
        Clause::Name(n) => f.name == *n,
        Clause::Mime(m) => f.mime == *m,
    })
}

async fn about(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    Json(
        json!({"kind": "drive#about", "user": {"kind": "drive#user", "displayName": "Admin",
        "emailAddress": subject, "me": true}}),
    )
    .into_response()
}

async fn list_files(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::query_pairs(&q.unwrap_or_default());
    let Some(clauses) = parse_q(&one(&pairs, "q").unwrap_or_default()) else {
        return google_error(StatusCode::BAD_REQUEST, "Invalid Value", "invalid");
    };
    let data = s.data.lock().unwrap();
    let all: Vec<&File> = data
        .files
        .iter()
        .filter(|f| matches(f, &clauses) && visible(&data, &f.id, &subject, 0))
        .collect();
    let size = s.page(one(&pairs, "pageSize").and_then(|n| n.parse().ok()));
    let from = offset(&pairs);
    let fields = one(&pairs, "fields");
    let files: Vec<Value> = all
        .iter()
        .skip(from)
        .take(size)
        .map(|f| file_json(f, fields.as_deref()))
        .collect();
    let mut body = json!({"kind": "drive#fileList", "incompleteSearch": false, "files": files});
    if from + size < all.len() {
        body["nextPageToken"] = json!(format!("page-{}", from + size));
    }
    Json(body).into_response()
}

async fn create_file(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::query_pairs(&q.unwrap_or_default());
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let mut data = s.data.lock().unwrap();
    let parents: Vec<String> = v["parents"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| vec!["root".into()]);
    for p in &parents {
        if p != "root" && !visible(&data, p, &subject, 0) {
            return not_found(p);
        }
    }
    let id = s.new_id(&mut data, "1F");
    let f = File {
        id: id.clone(),
        name: v["name"].as_str().unwrap_or("Untitled").into(),
        mime: v["mimeType"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .into(),
        parents,
        app_properties: props(&v["appProperties"]),
        text: String::new(),
        permissions: vec![owner(&subject)],
        read_only: false,
    };
    let out = file_json(&f, one(&pairs, "fields").as_deref());
    data.files.push(f);
    Json(out).into_response()
}

fn props(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn owner(email: &str) -> Permission {
    Permission {
        id: "00000000000000000001".into(),
        kind: "user".into(),
        role: "owner".into(),
        email: email.into(),
        notified: false,
    }
}

async fn get_file(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::query_pairs(&q.unwrap_or_default());
    let data = s.data.lock().unwrap();
    match data.files.iter().find(|f| f.id == id) {
        Some(f) if visible(&data, &id, &subject, 0) => {
            Json(file_json(f, one(&pairs, "fields").as_deref())).into_response()
        }
        _ => not_found(&id),
    }
}

async fn update_file(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::query_pairs(&q.unwrap_or_default());
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let mut data = s.data.lock().unwrap();
    if !visible(&data, &id, &subject, 0) {
        return not_found(&id);
    }
    let add: Vec<String> = one(&pairs, "addParents")
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    for p in &add {
        if !visible(&data, p, &subject, 0) {
            return not_found(p);
        }
    }
    let remove = one(&pairs, "removeParents").unwrap_or_default();
    let f = data.files.iter_mut().find(|f| f.id == id).unwrap();
    if let Some(n) = v["name"].as_str() {
        f.name = n.into();
    }
    if let Some(r) = v["contentRestrictions"].as_array() {
        f.read_only = r.iter().any(|r| r["readOnly"] == true);
    }
    f.parents.retain(|p| !remove.split(',').any(|r| r == p));
    for p in add {
        if !f.parents.contains(&p) {
            f.parents.push(p);
        }
    }
    Json(file_json(f, one(&pairs, "fields").as_deref())).into_response()
}

async fn copy_file(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::query_pairs(&q.unwrap_or_default());
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let mut data = s.data.lock().unwrap();
    if !visible(&data, &id, &subject, 0) {
        return not_found(&id);
    }
    let template = data.files.iter().find(|f| f.id == id).unwrap().clone();
    if template.mime == FOLDER_MIME {
        return google_error(
            StatusCode::FORBIDDEN,
            "This file cannot be copied by the user.",
            "cannotCopyFile",
        );
    }
    let parents: Vec<String> = v["parents"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| vec!["root".into()]);
    for p in &parents {
        if p != "root" && !visible(&data, p, &subject, 0) {
            return not_found(p);
        }
    }
    let new = s.new_id(&mut data, "1D");
    let f = File {
        id: new,
        name: v["name"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("Copy of {}", template.name)),
        mime: template.mime.clone(),
        parents,
        app_properties: props(&v["appProperties"]),
        text: template.text.clone(),
        permissions: vec![owner(&subject)],
        read_only: false,
    };
    let out = file_json(&f, one(&pairs, "fields").as_deref());
    data.files.push(f);
    Json(out).into_response()
}

async fn list_permissions(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::query_pairs(&q.unwrap_or_default());
    let data = s.data.lock().unwrap();
    if !visible(&data, &id, &subject, 0) {
        return not_found(&id);
    }
    let f = data.files.iter().find(|f| f.id == id).unwrap();
    let size = s.page(one(&pairs, "pageSize").and_then(|n| n.parse().ok()));
    let from = offset(&pairs);
    let fields = one(&pairs, "fields");
    let list: Vec<Value> = f
        .permissions
        .iter()
        .skip(from)
        .take(size)
        .map(|p| permission_json(p, fields.as_deref()))
        .collect();
    let mut body = json!({"kind": "drive#permissionList", "permissions": list});
    if from + size < f.permissions.len() {
        body["nextPageToken"] = json!(format!("page-{}", from + size));
    }
    Json(body).into_response()
}

const ROLES: &[&str] = &[
    "owner",
    "organizer",
    "fileOrganizer",
    "writer",
    "commenter",
    "reader",
];

async fn create_permission(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let pairs = super::query_pairs(&q.unwrap_or_default());
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let role = v["role"].as_str().unwrap_or_default();
    let kind = v["type"].as_str().unwrap_or_default();
    if !ROLES.contains(&role) {
        return google_error(
            StatusCode::BAD_REQUEST,
            "The permission role field is required.",
            "required",
        );
    }
    let email = v["emailAddress"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    if matches!(kind, "user" | "group") && !email.contains('@') {
        return google_error(
            StatusCode::BAD_REQUEST,
            "The permission emailAddress field is required.",
            "required",
        );
    }
    let mut data = s.data.lock().unwrap();
    if !visible(&data, &id, &subject, 0) {
        return not_found(&id);
    }
    let pid = s.new_id(&mut data, "0");
    let f = data.files.iter_mut().find(|f| f.id == id).unwrap();
    let p = Permission {
        id: pid,
        kind: kind.into(),
        role: role.into(),
        email,
        notified: one(&pairs, "sendNotificationEmail").as_deref() != Some("false"),
    };
    let out = permission_json(&p, one(&pairs, "fields").as_deref());
    f.permissions.push(p);
    Json(out).into_response()
}

async fn update_permission(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path((id, pid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let mut data = s.data.lock().unwrap();
    if !visible(&data, &id, &subject, 0) {
        return not_found(&id);
    }
    let f = data.files.iter_mut().find(|f| f.id == id).unwrap();
    let Some(p) = f.permissions.iter_mut().find(|p| p.id == pid) else {
        return google_error(
            StatusCode::NOT_FOUND,
            &format!("Permission not found: {pid}."),
            "notFound",
        );
    };
    if let Some(r) = v["role"].as_str().filter(|r| ROLES.contains(r)) {
        p.role = r.into();
    }
    Json(permission_json(p, None)).into_response()
}

async fn delete_permission(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path((id, pid)): Path<(String, String)>,
) -> Response {
    let subject = match s.gate(&headers, DRIVE) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let mut data = s.data.lock().unwrap();
    if !visible(&data, &id, &subject, 0) {
        return not_found(&id);
    }
    let f = data.files.iter_mut().find(|f| f.id == id).unwrap();
    let before = f.permissions.len();
    f.permissions.retain(|p| p.id != pid);
    if f.permissions.len() == before {
        return google_error(
            StatusCode::NOT_FOUND,
            &format!("Permission not found: {pid}."),
            "notFound",
        );
    }
    StatusCode::NO_CONTENT.into_response()
}

// ---- Docs ----

const DOCS: &[&str] = &[
    "https://www.googleapis.com/auth/documents",
    "https://www.googleapis.com/auth/drive",
];

fn docs_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(
            json!({"error": {"code": 404, "message": "Requested entity was not found.",
            "status": "NOT_FOUND"}}),
        ),
    )
        .into_response()
}

async fn get_document(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let subject = match s.gate(&headers, DOCS) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let data = s.data.lock().unwrap();
    match data.files.iter().find(|f| f.id == id && f.mime == DOC_MIME) {
        Some(f) if visible(&data, &id, &subject, 0) => Json(json!({
            "documentId": f.id, "title": f.name, "revisionId": "rev",
            "body": {"content": [{"startIndex": 1, "endIndex": f.text.chars().count() + 1,
                "paragraph": {"elements": [{"textRun": {"content": f.text}}]}}]}
        }))
        .into_response(),
        _ => docs_not_found(),
    }
}

async fn batch_update(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(target): Path<String>,
    body: Bytes,
) -> Response {
    let subject = match s.gate(&headers, DOCS) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Some(id) = target.strip_suffix(":batchUpdate") else {
        return docs_not_found();
    };
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let Some(requests) = v["requests"].as_array() else {
        return google_error(
            StatusCode::BAD_REQUEST,
            "Invalid requests: must not be empty.",
            "badRequest",
        );
    };
    let mut data = s.data.lock().unwrap();
    if !visible(&data, id, &subject, 0) {
        return docs_not_found();
    }
    let f = data
        .files
        .iter_mut()
        .find(|f| f.id == id && f.mime == DOC_MIME);
    let Some(f) = f else {
        return docs_not_found();
    };
    if f.read_only {
        return google_error(
            StatusCode::FORBIDDEN,
            "The caller does not have permission",
            "forbidden",
        );
    }
    let mut replies = Vec::new();
    let mut text = f.text.clone();
    for (i, r) in requests.iter().enumerate() {
        let Some(rep) = r.get("replaceAllText") else {
            return google_error(
                StatusCode::BAD_REQUEST,
                &format!("Invalid requests[{i}]: only replaceAllText is emulated"),
                "badRequest",
            );
        };
        let find = rep["containsText"]["text"].as_str().unwrap_or_default();
        if find.is_empty() {
            return google_error(
                StatusCode::BAD_REQUEST,
                &format!("Invalid requests[{i}].replaceAllText: The text must not be empty."),
                "badRequest",
            );
        }
        let with = rep["replaceText"].as_str().unwrap_or_default();
        let n = text.matches(find).count();
        text = text.replace(find, with);
        replies.push(if n == 0 {
            json!({"replaceAllText": {}})
        } else {
            json!({"replaceAllText": {"occurrencesChanged": n}})
        });
    }
    f.text = text;
    Json(json!({"documentId": id, "replies": replies,
        "writeControl": {"requiredRevisionId": "rev"}}))
    .into_response()
}

// ---- Directory ----

const GROUPS: &[&str] = &["https://www.googleapis.com/auth/admin.directory.group"];

fn group_json(g: &Group) -> Value {
    json!({"kind": "admin#directory#group", "id": g.id, "email": g.email, "name": g.name,
        "description": g.description, "directMembersCount": g.members.len().to_string(),
        "adminCreated": true})
}

fn group_not_found(what: &str) -> Response {
    google_error(
        StatusCode::NOT_FOUND,
        &format!("Resource Not Found: {what}"),
        "notFound",
    )
}

/// The administrator's token, or the answer (a non-admin is 403 `Not Authorized …`).
fn admin(s: &Inner, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let subject = s.gate(headers, GROUPS)?;
    if subject != SUBJECT {
        return Err(Box::new(google_error(
            StatusCode::FORBIDDEN,
            "Not Authorized to access this resource/api",
            "forbidden",
        )));
    }
    Ok(())
}

async fn list_groups(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let pairs = super::query_pairs(&q.unwrap_or_default());
    let domain = one(&pairs, "domain").unwrap_or_default();
    if domain != DOMAIN {
        return google_error(
            StatusCode::FORBIDDEN,
            "Not Authorized to access this resource/api",
            "forbidden",
        );
    }
    let data = s.data.lock().unwrap();
    let size = s.page(one(&pairs, "maxResults").and_then(|n| n.parse().ok()));
    let from = offset(&pairs);
    let list: Vec<Value> = data
        .groups
        .iter()
        .skip(from)
        .take(size)
        .map(group_json)
        .collect();
    let mut body = json!({"kind": "admin#directory#groups", "groups": list});
    if from + size < data.groups.len() {
        body["nextPageToken"] = json!(format!("page-{}", from + size));
    }
    Json(body).into_response()
}

async fn insert_group(State(s): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let email = v["email"].as_str().unwrap_or_default().to_lowercase();
    if email.split('@').nth(1) != Some(DOMAIN) {
        return google_error(StatusCode::BAD_REQUEST, "Invalid Input: email", "invalid");
    }
    let mut data = s.data.lock().unwrap();
    if data.groups.iter().any(|g| g.email == email) {
        return google_error(StatusCode::CONFLICT, "Entity already exists.", "duplicate");
    }
    let id = s.new_id(&mut data, "03");
    let g = Group {
        id,
        email,
        name: v["name"].as_str().unwrap_or_default().into(),
        description: v["description"].as_str().unwrap_or_default().into(),
        members: Vec::new(),
    };
    let out = group_json(&g);
    data.groups.push(g);
    Json(out).into_response()
}

fn find_group<'a>(data: &'a mut Data, key: &str) -> Option<&'a mut Group> {
    let key = key.to_lowercase();
    data.groups
        .iter_mut()
        .find(|g| g.email == key || g.id == key)
}

async fn get_group(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let mut data = s.data.lock().unwrap();
    match find_group(&mut data, &key) {
        Some(g) => Json(group_json(g)).into_response(),
        None => group_not_found("groupKey"),
    }
}

async fn delete_group(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let mut data = s.data.lock().unwrap();
    let key = key.to_lowercase();
    let before = data.groups.len();
    data.groups.retain(|g| g.email != key && g.id != key);
    if data.groups.len() == before {
        return group_not_found("groupKey");
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn list_members(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let pairs = super::query_pairs(&q.unwrap_or_default());
    let asked = one(&pairs, "maxResults").and_then(|n| n.parse::<usize>().ok());
    if asked.is_some_and(|n| n > 200) {
        return google_error(
            StatusCode::BAD_REQUEST,
            "Invalid Input: maxResults",
            "invalid",
        );
    }
    let size = s.page(asked.or(Some(200)));
    let from = offset(&pairs);
    let mut data = s.data.lock().unwrap();
    let Some(g) = find_group(&mut data, &key) else {
        return group_not_found("groupKey");
    };
    let list: Vec<Value> = g
        .members
        .iter()
        .skip(from)
        .take(size)
        .map(|m| {
            json!({"kind": "admin#directory#member", "email": m, "role": "MEMBER",
                        "type": "USER", "status": "ACTIVE"})
        })
        .collect();
    let mut body = json!({"kind": "admin#directory#members"});
    if !list.is_empty() {
        body["members"] = json!(list);
    }
    if from + size < g.members.len() {
        body["nextPageToken"] = json!(format!("page-{}", from + size));
    }
    Json(body).into_response()
}

async fn insert_member(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let v: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    let email = v["email"].as_str().unwrap_or_default().to_lowercase();
    if !email.contains('@') {
        return google_error(
            StatusCode::BAD_REQUEST,
            "Missing required field: memberKey",
            "required",
        );
    }
    let mut data = s.data.lock().unwrap();
    let Some(g) = find_group(&mut data, &key) else {
        return group_not_found("groupKey");
    };
    if g.members.contains(&email) {
        return google_error(StatusCode::CONFLICT, "Member already exists.", "duplicate");
    }
    g.members.push(email.clone());
    Json(json!({"kind": "admin#directory#member", "email": email,
        "role": v["role"].as_str().unwrap_or("MEMBER"), "type": "USER", "status": "ACTIVE"}))
    .into_response()
}

async fn delete_member(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path((key, member)): Path<(String, String)>,
) -> Response {
    if let Err(r) = admin(&s, &headers) {
        return *r;
    }
    let mut data = s.data.lock().unwrap();
    let Some(g) = find_group(&mut data, &key) else {
        return group_not_found("groupKey");
    };
    let member = member.to_lowercase();
    let before = g.members.len();
    g.members.retain(|m| *m != member);
    if g.members.len() == before {
        return group_not_found("memberKey");
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn log_requests(
    State(s): State<Arc<Inner>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let line = format!(
        "{} {}",
        req.method(),
        req.uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/")
    );
    s.data.lock().unwrap().log.push(line);
    next.run(req).await
}

impl Google {
    /// Starts the emulator, with the parent and archive folders owned by the administrator.
    pub async fn start() -> Self {
        let key = ring::signature::RsaKeyPair::from_pkcs8(&private_key_der()).unwrap();
        let inner = Arc::new(Inner {
            data: Mutex::new(Data {
                delegated: DELEGATED.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            }),
            public_key: key.public().as_ref().to_vec(),
            token_url: Mutex::new(String::new()),
            page_size: AtomicUsize::new(1000),
            faults: super::Faults::default(),
        });
        for (id, name) in [(PARENT_FOLDER, "Incidents"), (ARCHIVE_FOLDER, "Archive")] {
            inner.data.lock().unwrap().files.push(File {
                id: id.into(),
                name: name.into(),
                mime: FOLDER_MIME.into(),
                parents: vec!["root".into()],
                app_properties: BTreeMap::new(),
                text: String::new(),
                permissions: vec![owner(SUBJECT)],
                read_only: false,
            });
        }
        let app = Router::new()
            .route("/token", post(token))
            .route("/drive/v3/about", get(about))
            .route("/drive/v3/files", get(list_files).post(create_file))
            .route("/drive/v3/files/{id}", get(get_file).patch(update_file))
            .route("/drive/v3/files/{id}/copy", post(copy_file))
            .route(
                "/drive/v3/files/{id}/permissions",
                get(list_permissions).post(create_permission),
            )
            .route(
                "/drive/v3/files/{id}/permissions/{pid}",
                patch(update_permission).delete(delete_permission),
            )
            .route(
                "/v1/documents/{target}",
                get(get_document).post(batch_update),
            )
            .route(
                "/admin/directory/v1/groups",
                get(list_groups).post(insert_group),
            )
            .route(
                "/admin/directory/v1/groups/{key}",
                get(get_group).delete(delete_group),
            )
            .route(
                "/admin/directory/v1/groups/{key}/members",
                get(list_members).post(insert_member),
            )
            .route(
                "/admin/directory/v1/groups/{key}/members/{member}",
                delete(delete_member),
            )
            .layer(axum::middleware::from_fn_with_state(
                inner.clone(),
                log_requests,
            ))
            .with_state(inner.clone());
        let server = super::Server::start(app).await;
        let url = server.url.clone();
        *inner.token_url.lock().unwrap() = format!("{url}/token");
        Self {
            token_url: format!("{url}/token"),
            drive_url: format!("{url}/drive/v3"),
            docs_url: format!("{url}/v1"),
            directory_url: format!("{url}/admin/directory/v1"),
            inner,
            _server: server,
        }
    }

    /// A Docs document with `text`, owned by someone else; shared with the administrator as
    /// reader when `shared`.
    pub fn add_template(&self, id: &str, name: &str, text: &str, shared: bool) {
        let mut permissions = vec![owner("templates@example.com")];
        if shared {
            permissions.push(Permission {
                id: format!("0{id}"),
                kind: "user".into(),
                role: "reader".into(),
                email: SUBJECT.into(),
                notified: false,
            });
        }
        self.inner.data.lock().unwrap().files.push(File {
            id: id.into(),
            name: name.into(),
            mime: DOC_MIME.into(),
            parents: vec!["root".into()],
            app_properties: BTreeMap::new(),
            text: text.into(),
            permissions,
            read_only: false,
        });
    }

    /// Only these scopes are delegated to the client from now on.
    pub fn delegate(&self, scopes: &[&str]) {
        self.inner.data.lock().unwrap().delegated = scopes.iter().map(|s| s.to_string()).collect();
    }

    /// The largest page any listing answers with.
    pub fn page_size(&self, n: usize) {
        self.inner.page_size.store(n, Ordering::SeqCst);
    }

    /// 429s on demand.
    pub fn faults(&self) -> &super::Faults {
        &self.inner.faults
    }

    /// Every file.
    pub fn files(&self) -> Vec<File> {
        self.inner.data.lock().unwrap().files.clone()
    }

    /// The file made for an incident's `kind` (by its app properties).
    pub fn file_of(&self, kind: &str) -> Option<File> {
        self.files()
            .into_iter()
            .find(|f| f.app_properties.get("dispatchKind").map(String::as_str) == Some(kind))
    }

    /// Every group.
    pub fn groups(&self) -> Vec<Group> {
        self.inner.data.lock().unwrap().groups.clone()
    }

    /// Every request, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.inner.data.lock().unwrap().log.clone()
    }
}

/// The emulator against the documentation's own samples.
mod tests {
    use super::*;
    use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};

    /// A JWT signed with the fixture key, as the "Preparing to make an authorized API call"
    /// guide builds it (header `{"alg":"RS256","typ":"JWT"}`, claims iss/sub/scope/aud/exp/iat).
    fn jwt(claims: &Value) -> String {
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let input = format!(
            "{}.{}",
            b64(br#"{"alg":"RS256","typ":"JWT"}"#),
            b64(claims.to_string().as_bytes())
        );
        let key = RsaKeyPair::from_pkcs8(&private_key_der()).unwrap();
        let mut sig = vec![0; key.public().modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .unwrap();
        format!("{input}.{}", b64(&sig))
    }

    async fn grant(g: &Google, assertion: &str) -> (u16, Value) {
        let r = reqwest::Client::new()
            .post(&g.token_url)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", assertion),
            ])
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    #[tokio::test]
    async fn the_emulator_checks_the_jwt_and_answers_the_docs_samples() {
        let g = Google::start().await;
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"iss": CLIENT_EMAIL, "sub": SUBJECT,
            "scope": DELEGATED.join(" "), "aud": g.token_url, "exp": now + 3600, "iat": now});
        // A signature by another key, a wrong audience, an expired assertion: invalid_grant.
        let mut forged = jwt(&claims);
        forged.truncate(forged.len() - 4);
        forged.push_str("AAAA");
        assert_eq!(grant(&g, &forged).await.1["error"], "invalid_grant");
        let mut wrong_aud = claims.clone();
        wrong_aud["aud"] = json!("https://oauth2.googleapis.com/token");
        let (status, body) = grant(&g, &jwt(&wrong_aud)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant"))
        );
        let mut old = claims.clone();
        old["iat"] = json!(now - 7200);
        old["exp"] = json!(now - 3600);
        assert_eq!(grant(&g, &jwt(&old)).await.1["error"], "invalid_grant");
        // A scope not delegated: unauthorized_client.
        g.delegate(&DELEGATED[..1]);
        let (status, body) = grant(&g, &jwt(&claims)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unauthorized_client"))
        );
        g.delegate(DELEGATED);
        let (status, body) = grant(&g, &jwt(&claims)).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3599);
        let token = body["access_token"].as_str().unwrap().to_string();
        let c = reqwest::Client::new();
        let call = |m: reqwest::Method, url: String| c.request(m, url).bearer_auth(&token);

        // Drive: a folder (the "Create and populate folders" sample), a copy of a template
        // document, permissions listed without and with `fields`.
        let folder: Value = call(reqwest::Method::POST, format!("{}/files", g.drive_url))
            .json(&json!({"name": "Invoices", "mimeType": FOLDER_MIME,
                          "parents": [PARENT_FOLDER], "appProperties": {"k": "v"}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(folder["kind"], "drive#file");
        assert_eq!(folder["mimeType"], FOLDER_MIME);
        assert!(
            folder.get("parents").is_none(),
            "default fields only: {folder}"
        );
        let fid = folder["id"].as_str().unwrap();
        let q = format!("appProperties has {{ key='k' and value='v' }} and '{PARENT_FOLDER}' in parents and trashed = false");
        let found: Value = call(reqwest::Method::GET, format!("{}/files", g.drive_url))
            .query(&[("q", q.as_str()), ("fields", "files(id,parents)")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(found["files"][0]["id"], fid);
        assert_eq!(found["files"][0]["parents"][0], PARENT_FOLDER);
        let bad = call(reqwest::Method::GET, format!("{}/files", g.drive_url))
            .query(&[("q", "fullText contains 'x' or")])
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 400);
        g.add_template("tpl", "Template", "# {{name}} · {{name}} · {{title}}", true);
        g.add_template("secret", "Not shared", "x", false);
        let missing = call(
            reqwest::Method::POST,
            format!("{}/files/secret/copy", g.drive_url),
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
        assert_eq!(missing.status(), 404);
        let e: Value = missing.json().await.unwrap();
        assert_eq!(e["error"]["message"], "File not found: secret.");
        assert_eq!(e["error"]["errors"][0]["reason"], "notFound");
        let copy: Value = call(
            reqwest::Method::POST,
            format!("{}/files/tpl/copy", g.drive_url),
        )
        .json(&json!({"name": "INC-1 document", "parents": [fid]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let doc = copy["id"].as_str().unwrap();
        // Docs: the "Merge text into a document" sample's replaceAllText requests.
        let r: Value = call(
            reqwest::Method::POST,
            format!("{}/documents/{doc}:batchUpdate", g.docs_url),
        )
        .json(&json!({"requests": [
            {"replaceAllText": {"containsText": {"text": "{{name}}", "matchCase": true},
                                "replaceText": "INC-1"}},
            {"replaceAllText": {"containsText": {"text": "{{nothing}}", "matchCase": true},
                                "replaceText": "x"}}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(r["documentId"], doc);
        assert_eq!(r["replies"][0]["replaceAllText"]["occurrencesChanged"], 2);
        assert_eq!(r["replies"][1]["replaceAllText"], json!({}));
        let read: Value = call(
            reqwest::Method::GET,
            format!("{}/documents/{doc}", g.docs_url),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(
            read["body"]["content"][0]["paragraph"]["elements"][0]["textRun"]["content"],
            "# INC-1 · INC-1 · {{title}}"
        );
        let gone = call(
            reqwest::Method::POST,
            format!("{}/documents/nope:batchUpdate", g.docs_url),
        )
        .json(&json!({"requests": []}))
        .send()
        .await
        .unwrap();
        assert_eq!(gone.status(), 404);
        assert_eq!(
            gone.json::<Value>().await.unwrap()["error"]["status"],
            "NOT_FOUND"
        );
        // Permissions: created without mail, listed in pages, emailAddress only when asked.
        g.page_size(1);
        for who in ["a@example.com", "b@example.com"] {
            let r = call(
                reqwest::Method::POST,
                format!("{}/files/{fid}/permissions", g.drive_url),
            )
            .query(&[("sendNotificationEmail", "false")])
            .json(&json!({"type": "user", "role": "writer", "emailAddress": who}))
            .send()
            .await
            .unwrap();
            assert_eq!(r.status(), 200);
        }
        let page: Value = call(
            reqwest::Method::GET,
            format!("{}/files/{fid}/permissions", g.drive_url),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(page["permissions"].as_array().unwrap().len(), 1);
        assert!(page["permissions"][0].get("emailAddress").is_none());
        assert_eq!(page["nextPageToken"], "page-1");
        let f = g.files().into_iter().find(|f| f.id == fid).unwrap();
        assert!(f.permissions.iter().skip(1).all(|p| !p.notified));

        // Directory: the groups.insert sample, members paged, duplicates and missing members.
        let group: Value = call(reqwest::Method::POST, format!("{}/groups", g.directory_url))
            .json(
                &json!({"email": "sales_group@example.com", "name": "Sales Group",
                      "description": "This is the Sales group."}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(group["kind"], "admin#directory#group");
        let again = call(reqwest::Method::POST, format!("{}/groups", g.directory_url))
            .json(&json!({"email": "sales_group@example.com"}))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 409);
        let members = format!("{}/groups/sales_group@example.com/members", g.directory_url);
        for m in ["liz@example.com", "sam@example.com"] {
            let r = call(reqwest::Method::POST, members.clone())
                .json(&json!({"email": m, "role": "MEMBER"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
        let dup = call(reqwest::Method::POST, members.clone())
            .json(&json!({"email": "liz@example.com", "role": "MEMBER"}))
            .send()
            .await
            .unwrap();
        assert_eq!(dup.status(), 409);
        assert_eq!(
            dup.json::<Value>().await.unwrap()["error"]["message"],
            "Member already exists."
        );
        let first: Value = call(reqwest::Method::GET, members.clone())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(first["members"][0]["email"], "liz@example.com");
        let next = first["nextPageToken"].as_str().unwrap();
        let second: Value = call(reqwest::Method::GET, members.clone())
            .query(&[("pageToken", next)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(second["members"][0]["email"], "sam@example.com");
        assert!(second.get("nextPageToken").is_none());
        let r = call(
            reqwest::Method::DELETE,
            format!("{members}/nobody@example.com"),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 404);
        // A made-up token is refused; 429 with Retry-After on demand.
        let r = c
            .get(format!("{}/about", g.drive_url))
            .bearer_auth("made-up")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.json::<Value>().await.unwrap()["error"]["status"],
            "UNAUTHENTICATED"
        );
        g.faults().rate_limit_next(1);
        let limited = call(reqwest::Method::GET, format!("{}/about", g.drive_url))
            .send()
            .await
            .unwrap();
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()["retry-after"], "1");
    }
}
