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
//! - Docs (`/v1`): `GET /documents/{id}` (the text one paragraph a line, with Google's indexes,
//!   and the named ranges) and `POST /documents/{id}:batchUpdate` with `replaceAllText`,
//!   `deleteContentRange`, `insertText`, `createNamedRange` and `deleteNamedRange` requests
//!   applied in order, all or nothing (see [`docs`]); a read-only (content-restricted) document
//!   is 403.
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

mod directory;
mod docs;
mod drive;
mod tests;

use directory::*;
pub use docs::NamedRange;
use docs::*;
use drive::*;

/// The test service account's key file (a test-only key).
pub const KEY_FILE: &str = include_str!("../../fixtures/google/service-account.json");
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
    /// Each document's named ranges.
    ranges: BTreeMap<String, Vec<NamedRange>>,
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

fn owner(email: &str) -> Permission {
    Permission {
        id: "00000000000000000001".into(),
        kind: "user".into(),
        role: "owner".into(),
        email: email.into(),
        notified: false,
    }
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
        let google = Self {
            token_url: format!("{url}/token"),
            drive_url: format!("{url}/drive/v3"),
            docs_url: format!("{url}/v1"),
            directory_url: format!("{url}/admin/directory/v1"),
            inner,
            _server: server,
        };
        google.add_folder(PARENT_FOLDER, "Incidents");
        google.add_folder(ARCHIVE_FOLDER, "Archive");
        google
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
        self.add_file(id, name, DOC_MIME, text, permissions);
    }

    /// A folder owned by the administrator, in their My Drive.
    pub fn add_folder(&self, id: &str, name: &str) {
        self.add_file(id, name, FOLDER_MIME, "", vec![owner(SUBJECT)]);
    }

    fn add_file(&self, id: &str, name: &str, mime: &str, text: &str, permissions: Vec<Permission>) {
        self.inner.data.lock().unwrap().files.push(File {
            id: id.into(),
            name: name.into(),
            mime: mime.into(),
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

    /// The named ranges of a document.
    pub fn named_ranges(&self, id: &str) -> Vec<NamedRange> {
        self.inner
            .data
            .lock()
            .unwrap()
            .ranges
            .get(id)
            .cloned()
            .unwrap_or_default()
    }

    /// The group with this address.
    pub fn group(&self, email: &str) -> Option<Group> {
        self.groups().into_iter().find(|g| g.email == email)
    }

    /// Every request, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.inner.data.lock().unwrap().log.clone()
    }
}
