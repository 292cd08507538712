//! A Confluence Cloud emulator: the parts of the REST API Dispatch uses, as Atlassian documents
//! them. Every call needs basic auth with the account's e-mail and API token (401 otherwise).
//! v2 errors are `{"errors": [{"status", "code", "title", "detail"}]}`, v1 errors
//! `{"statusCode", "message"}`.
//!
//! - `GET /wiki/rest/api/user/current` (v1): the signed-in user with its `accountId`.
//! - `GET /wiki/api/v2/spaces/{id}`: the space (`id`, `key`, `name`, …); 404 for another id.
//! - `GET /wiki/api/v2/pages?space-id=&title=&status=&limit=&cursor=`: the pages, filtered,
//!   `limit` at most 250 (400 above), with `_links.next` (and a `Link` header) while more
//!   remain; the cursor is opaque.
//! - `GET /wiki/api/v2/pages/{id}?body-format=storage`: the page with `body.storage`,
//!   `version` (`number`, `authorId`, …) and `_links` (`webui`, `editui`, `tinyui`, `base`);
//!   without `body-format` the body is left out.
//! - `POST /wiki/api/v2/pages`: `spaceId` (of a known space), `title` (unique among the
//!   space's current pages: 400 otherwise), `body.representation` (`storage`, `wiki` or
//!   `atlas_doc_format`) and `body.value`, `parentId` (a page of that space) optional; 200 with
//!   the page, version 1.
//! - `PUT /wiki/api/v2/pages/{id}`: `id`, `status`, `title`, `body`, `version.number` the
//!   current one plus one (409 otherwise: "Version must be incremented on update. Current
//!   version is: N"); the new version's `authorId` is the caller's.
//! - `PUT` / `DELETE /wiki/rest/api/content/{id}/restriction/byOperation/{operation}/user?accountId=`
//!   (v1): adds or removes a user in the `read` or `update` restriction (200); `GET
//!   /wiki/rest/api/content/{id}/restriction/byOperation/{operation}`: that restriction.
//! - `GET /wiki/rest/api/content/{id}/child/attachment?filename=&start=&limit=` (v1): the
//!   page's attachments (those named `filename` when given) as a content array (`results`,
//!   `start`, `limit`, `size`, `_links`); 404 for an unknown page.
//! - `POST /wiki/rest/api/content/{id}/child/attachment` (v1): `multipart/form-data` with a
//!   `file` part (its `filename` the attachment's title) and optional `comment` and `minorEdit`
//!   fields; needs `X-Atlassian-Token: no-check` (403 "XSRF check failed" otherwise); a name
//!   the page already has is refused (400 "Cannot add a new attachment with same file name as
//!   an existing attachment"); 200 with the content array of the new attachment.
//! - `POST /wiki/rest/api/content/{id}/child/attachment/{attachmentId}/data` (v1): the same
//!   form; a new version of that attachment (404 when the page has no such attachment); 200 with
//!   the attachment.
//! - 429 with `Retry-After` on demand; a conflict on demand (someone saves the page just before
//!   the next update).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine as _;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The account's e-mail.
pub const EMAIL: &str = "bot@example.com";
/// Its API token.
pub const API_TOKEN: &str = "ATATT3xFfGF0-emulated-confluence-token";
/// The bot's account id.
pub const ACCOUNT_ID: &str = "5b10ac8d82e05b22cc7d4ef5";
/// Another person's account id (their edits).
pub const PERSON_ID: &str = "557058:f58131cb-b67d-43c7-b30d-6b58d40bd077";
/// The space's id.
pub const SPACE_ID: &str = "98306";
/// The space's key.
pub const SPACE_KEY: &str = "OPS";

/// A page.
#[derive(Debug, Clone)]
pub struct Page {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its parent page.
    pub parent_id: Option<String>,
    /// Its storage-format body.
    pub body: String,
    /// Its version number.
    pub version: u64,
    /// Who made that version.
    pub author: String,
    /// The account ids in its update restriction.
    pub update_restricted_to: Vec<String>,
}

/// An attachment of a page.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// Its id (`att…`).
    pub id: String,
    /// The page it is attached to.
    pub page_id: String,
    /// Its file name.
    pub title: String,
    /// Its media type.
    pub media_type: String,
    /// The latest version's bytes.
    pub data: Vec<u8>,
    /// Its version number.
    pub version: u64,
}

#[derive(Default)]
struct Data {
    pages: Vec<Page>,
    attachments: Vec<Attachment>,
    log: Vec<String>,
}

struct Inner {
    url: Mutex<String>,
    data: Mutex<Data>,
    page_size: AtomicUsize,
    conflicts: AtomicUsize,
    faults: super::Faults,
}

/// A running emulator.
pub struct Confluence {
    /// `http://127.0.0.1:PORT` (the site; the API is under `/wiki`).
    pub url: String,
    inner: Arc<Inner>,
    _server: super::Server,
}

fn v2_error(status: StatusCode, code: &str, title: &str) -> Response {
    (
        status,
        Json(json!({"errors": [{"status": status.as_u16(), "code": code, "title": title, "detail": null}]})),
    )
        .into_response()
}

/// 400 `INVALID_REQUEST_PARAMETER` with this title.
fn bad_request(title: &str) -> Response {
    v2_error(StatusCode::BAD_REQUEST, "INVALID_REQUEST_PARAMETER", title)
}

fn v1_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"statusCode": status.as_u16(), "message": message})),
    )
        .into_response()
}

impl Inner {
    fn log(&self, what: String) {
        self.data.lock().unwrap().log.push(what);
    }

    /// 401 without the account's basic auth, 429 when told to: the answer to give instead.
    fn gate(&self, headers: &HeaderMap, what: String) -> Option<Response> {
        self.log(what);
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{EMAIL}:{API_TOKEN}"))
        );
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if auth != basic {
            return Some(v1_error(
                StatusCode::UNAUTHORIZED,
                "Client must be authenticated to access this resource.",
            ));
        }
        if self.faults.limited() {
            let mut r = v2_error(
                StatusCode::TOO_MANY_REQUESTS,
                "TOO_MANY_REQUESTS",
                "Rate limit exceeded",
            );
            r.headers_mut().insert("retry-after", "1".parse().unwrap());
            return Some(r);
        }
        None
    }

    fn base(&self) -> String {
        format!("{}/wiki", self.url.lock().unwrap())
    }

    /// A page as v2 shows it (with its storage body when asked).
    fn show(&self, p: &Page, body: bool) -> Value {
        let slug: String = p
            .title
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '+' })
            .collect();
        let mut v = json!({
            "id": p.id, "status": "current", "title": p.title, "spaceId": SPACE_ID,
            "parentId": p.parent_id, "parentType": p.parent_id.as_ref().map(|_| "page"),
            "authorId": ACCOUNT_ID, "ownerId": ACCOUNT_ID, "createdAt": "2026-12-03T12:00:00.000Z",
            "version": {"createdAt": "2026-12-03T12:00:00.000Z", "message": "", "number": p.version,
                        "minorEdit": false, "authorId": p.author},
            "_links": {"webui": format!("/spaces/{SPACE_KEY}/pages/{}/{slug}", p.id),
                       "editui": format!("/pages/resumedraft.action?draftId={}", p.id),
                       "tinyui": format!("/x/{}", p.id), "base": self.base()}
        });
        if body {
            v["body"] = json!({"storage": {"representation": "storage", "value": p.body}});
        }
        v
    }
}

async fn current_user(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if let Some(r) = s.gate(&headers, "GET /wiki/rest/api/user/current".into()) {
        return r;
    }
    Json(
        json!({"type": "known", "accountId": ACCOUNT_ID, "accountType": "atlassian",
        "email": EMAIL, "publicName": "Dispatch Bot", "displayName": "Dispatch Bot",
        "isExternalCollaborator": false}),
    )
    .into_response()
}

async fn space(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(r) = s.gate(&headers, format!("GET /wiki/api/v2/spaces/{id}")) {
        return r;
    }
    if id != SPACE_ID {
        return v2_error(StatusCode::NOT_FOUND, "NOT_FOUND", "Space not found");
    }
    Json(
        json!({"id": SPACE_ID, "key": SPACE_KEY, "name": "Operations", "type": "global",
        "status": "current", "homepageId": "65538", "authorId": ACCOUNT_ID}),
    )
    .into_response()
}

async fn list_pages(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    if let Some(r) = s.gate(&headers, format!("GET /wiki/api/v2/pages?{q}")) {
        return r;
    }
    let pairs = super::query_pairs(&q);
    let one = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let limit: usize = one("limit").and_then(|l| l.parse().ok()).unwrap_or(25);
    if limit == 0 || limit > 250 {
        return bad_request("limit must be between 1 and 250");
    }
    if one("status")
        .is_some_and(|st| !["current", "archived", "deleted", "trashed"].contains(&st.as_str()))
    {
        return bad_request("Invalid status");
    }
    let size = limit.min(s.page_size.load(Ordering::SeqCst)).max(1);
    let start: usize = one("cursor")
        .and_then(|c| c.strip_prefix("eyJpZCI6").and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    let data = s.data.lock().unwrap();
    let found: Vec<&Page> = data
        .pages
        .iter()
        .filter(|_| one("space-id").is_none_or(|sp| sp == SPACE_ID))
        .filter(|p| one("title").is_none_or(|t| t == p.title))
        .collect();
    let results: Vec<Value> = found
        .iter()
        .skip(start)
        .take(size)
        .map(|p| s.show(p, false))
        .collect();
    let mut links = json!({"base": s.base()});
    let mut response_headers = HeaderMap::new();
    if start + size < found.len() {
        let kept: Vec<String> = pairs
            .iter()
            .filter(|(k, _)| k != "cursor")
            .map(|(k, v)| format!("{k}={}", crate::common::urlencode(v)))
            .collect();
        let next = format!(
            "/wiki/api/v2/pages?{}&cursor=eyJpZCI6{}",
            kept.join("&"),
            start + size
        );
        response_headers.insert(
            "link",
            format!("<{next}>; rel=\"next\", <{}>; rel=\"base\"", s.base())
                .parse()
                .unwrap(),
        );
        links["next"] = json!(next);
    }
    (
        response_headers,
        Json(json!({"results": results, "_links": links})),
    )
        .into_response()
}

fn no_page(id: &str) -> Response {
    v2_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        &format!("Page {id} not found"),
    )
}

async fn get_page(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    if let Some(r) = s.gate(&headers, format!("GET /wiki/api/v2/pages/{id}?{q}")) {
        return r;
    }
    let pairs = super::query_pairs(&q);
    let format = pairs
        .iter()
        .find(|(k, _)| k == "body-format")
        .map(|(_, v)| v.as_str());
    let data = s.data.lock().unwrap();
    match data.pages.iter().find(|p| p.id == id) {
        Some(p) => Json(s.show(p, format == Some("storage"))).into_response(),
        None => no_page(&id),
    }
}

/// The body's checks shared by create and update: title and storage body, or what is wrong.
fn check_body(body: &Value) -> Result<(String, String), &'static str> {
    let title = body["title"].as_str().unwrap_or("").trim().to_string();
    if title.is_empty() || title.chars().count() > 255 {
        return Err("Title must be between 1 and 255 characters");
    }
    let representation = body["body"]["representation"].as_str().unwrap_or("");
    if !["storage", "wiki", "atlas_doc_format"].contains(&representation) {
        return Err("body.representation must be one of storage, wiki, atlas_doc_format");
    }
    Ok((title, body["body"]["value"].as_str().unwrap_or("").into()))
}

async fn create_page(State(s): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(r) = s.gate(&headers, "POST /wiki/api/v2/pages".into()) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("Request body is not valid JSON");
    };
    if body["spaceId"].as_str() != Some(SPACE_ID) {
        return bad_request("spaceId: no space with this id");
    }
    let (title, value) = match check_body(&body) {
        Ok(t) => t,
        Err(e) => return bad_request(e),
    };
    let mut data = s.data.lock().unwrap();
    let parent = body["parentId"].as_str().map(str::to_string);
    if let Some(p) = &parent {
        if !data.pages.iter().any(|x| &x.id == p) {
            return bad_request("parentId: no page with this id in the space");
        }
    }
    if data.pages.iter().any(|p| p.title == title) {
        return bad_request("A page with this title already exists: A page already exists with the same TITLE in this space",
        );
    }
    let page = Page {
        id: (65868 + data.pages.len() * 3).to_string(),
        title,
        parent_id: parent,
        body: value,
        version: 1,
        author: ACCOUNT_ID.into(),
        update_restricted_to: vec![],
    };
    data.pages.push(page.clone());
    Json(s.show(&page, true)).into_response()
}

async fn update_page(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Some(r) = s.gate(&headers, format!("PUT /wiki/api/v2/pages/{id}")) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad_request("Request body is not valid JSON");
    };
    if body["id"].as_str() != Some(id.as_str()) {
        return bad_request("id in the body must match the path");
    }
    if body["status"].as_str().is_none() {
        return bad_request("status is required");
    }
    let (title, value) = match check_body(&body) {
        Ok(t) => t,
        Err(e) => return bad_request(e),
    };
    let conflict = super::take_one(&s.conflicts);
    let mut data = s.data.lock().unwrap();
    let Some(i) = data.pages.iter().position(|p| p.id == id) else {
        return no_page(&id);
    };
    if conflict {
        // Someone saved just before this request.
        data.pages[i].version += 1;
    }
    let current = data.pages[i].version;
    if body["version"]["number"].as_u64() != Some(current + 1) {
        return v2_error(
            StatusCode::CONFLICT,
            "CONFLICT",
            &format!("Version must be incremented on update. Current version is: {current}"),
        );
    }
    if data.pages.iter().any(|p| p.id != id && p.title == title) {
        return bad_request("A page with this title already exists");
    }
    let p = &mut data.pages[i];
    if !p.update_restricted_to.is_empty() && !p.update_restricted_to.iter().any(|a| a == ACCOUNT_ID)
    {
        return v2_error(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            "Not permitted to update this page",
        );
    }
    p.title = title;
    p.body = value;
    p.version = current + 1;
    p.author = ACCOUNT_ID.into();
    let shown = p.clone();
    Json(s.show(&shown, true)).into_response()
}

async fn restriction_user(
    State(s): State<Arc<Inner>>,
    method: axum::http::Method,
    headers: HeaderMap,
    Path((id, operation)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    if let Some(r) = s.gate(
        &headers,
        format!(
            "{method} /wiki/rest/api/content/{id}/restriction/byOperation/{operation}/user?{q}"
        ),
    ) {
        return r;
    }
    if operation != "update" && operation != "read" {
        return v1_error(
            StatusCode::BAD_REQUEST,
            "operationKey must be read or update",
        );
    }
    let pairs = super::query_pairs(&q);
    let Some(account) = pairs
        .iter()
        .find(|(k, _)| k == "accountId")
        .map(|(_, v)| v.clone())
    else {
        return v1_error(StatusCode::BAD_REQUEST, "accountId is required");
    };
    let mut data = s.data.lock().unwrap();
    let Some(p) = data.pages.iter_mut().find(|p| p.id == id) else {
        return no_content(&id);
    };
    // The emulator keeps the update restriction (the one Dispatch uses).
    if operation == "update" {
        if method == axum::http::Method::PUT {
            if !p.update_restricted_to.contains(&account) {
                p.update_restricted_to.push(account);
            }
        } else {
            p.update_restricted_to.retain(|a| *a != account);
        }
    }
    StatusCode::OK.into_response()
}

async fn restriction(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path((id, operation)): Path<(String, String)>,
) -> Response {
    if let Some(r) = s.gate(
        &headers,
        format!("GET /wiki/rest/api/content/{id}/restriction/byOperation/{operation}"),
    ) {
        return r;
    }
    let data = s.data.lock().unwrap();
    let Some(p) = data.pages.iter().find(|p| p.id == id) else {
        return v1_error(StatusCode::NOT_FOUND, "No content found");
    };
    let users: Vec<Value> = if operation == "update" {
        p.update_restricted_to
            .iter()
            .map(|a| json!({"type": "known", "accountId": a}))
            .collect()
    } else {
        vec![]
    };
    Json(json!({"operation": operation, "restrictions": {
        "user": {"results": users, "start": 0, "limit": 200, "size": users.len()},
        "group": {"results": [], "start": 0, "limit": 200, "size": 0}}}))
    .into_response()
}

/// An attachment as v1 shows it.
fn show_attachment(base: &str, a: &Attachment) -> Value {
    json!({
        "id": a.id, "type": "attachment", "status": "current", "title": a.title,
        "metadata": {"mediaType": a.media_type, "comment": ""},
        "extensions": {"mediaType": a.media_type, "fileSize": a.data.len(), "comment": ""},
        "version": {"number": a.version, "minorEdit": true, "by": {"accountId": ACCOUNT_ID}},
        "container": {"id": a.page_id, "type": "page"},
        "_links": {
            "webui": format!("/pages/viewpageattachments.action?pageId={}&preview=%2F{}%2F{}", a.page_id, a.page_id, a.title),
            "download": format!("/download/attachments/{}/{}?version={}&api=v2", a.page_id, a.title, a.version),
            "self": format!("{base}/rest/api/content/{}", a.id),
        }
    })
}

/// A form's parts: `(name, filename, content type, bytes)`; `None` when the body is not
/// `multipart/form-data` with a boundary.
#[allow(clippy::type_complexity)]
fn form_parts(
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Vec<(String, Option<String>, Option<String>, Vec<u8>)>> {
    let content_type = headers.get("content-type")?.to_str().ok()?;
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    let boundary = params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim_matches('"').to_string())?;
    let delimiter = format!("--{boundary}").into_bytes();
    let find = |from: usize, what: &[u8]| {
        body[from..]
            .windows(what.len())
            .position(|w| w == what)
            .map(|i| i + from)
    };
    let mut parts = vec![];
    let mut at = find(0, &delimiter)? + delimiter.len();
    loop {
        if body[at..].starts_with(b"--") {
            return Some(parts);
        }
        at += 2; // CRLF after the delimiter
        let head_end = find(at, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&body[at..head_end]).to_string();
        let content_start = head_end + 4;
        let mut next_delim = b"\r\n".to_vec();
        next_delim.extend_from_slice(&delimiter);
        let end = find(content_start, &next_delim)?;
        let (mut name, mut filename, mut ctype) = (String::new(), None, None);
        for line in head.split("\r\n") {
            let (k, v) = line.split_once(':')?;
            if k.eq_ignore_ascii_case("content-disposition") {
                for p in v.split(';').skip(1) {
                    if let Some((pk, pv)) = p.trim().split_once('=') {
                        let pv = pv.trim_matches('"').to_string();
                        match pk {
                            "name" => name = pv,
                            "filename" => filename = Some(pv.replace("%22", "\"")),
                            _ => {}
                        }
                    }
                }
            } else if k.eq_ignore_ascii_case("content-type") {
                ctype = Some(v.trim().to_string());
            }
        }
        parts.push((name, filename, ctype, body[content_start..end].to_vec()));
        at = end + next_delim.len();
    }
}

/// The form's `file` part as (file name, media type, bytes), or the error's status and message.
fn file_part(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(String, String, Vec<u8>), (StatusCode, &'static str)> {
    if headers
        .get("x-atlassian-token")
        .and_then(|v| v.to_str().ok())
        != Some("no-check")
    {
        return Err((StatusCode::FORBIDDEN, "XSRF check failed"));
    }
    let parts = form_parts(headers, body).ok_or((
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Attachments must be sent as multipart/form-data",
    ))?;
    parts
        .into_iter()
        .find(|p| p.0 == "file")
        .and_then(|(_, filename, ctype, data)| {
            Some((
                filename.filter(|f| !f.is_empty())?,
                ctype.unwrap_or_else(|| "application/octet-stream".into()),
                data,
            ))
        })
        .ok_or((
            StatusCode::BAD_REQUEST,
            "At least one attachment file must be included (a form part named file with a filename)",
        ))
}

impl Inner {
    /// An upload's `file` part, after the gate (auth, 429); else the answer to give.
    fn upload(
        &self,
        headers: &HeaderMap,
        what: String,
        body: &[u8],
    ) -> Result<(String, String, Vec<u8>), Box<Response>> {
        if let Some(r) = self.gate(headers, what) {
            return Err(Box::new(r));
        }
        file_part(headers, body).map_err(|(status, message)| Box::new(v1_error(status, message)))
    }
}

fn no_content(id: &str) -> Response {
    v1_error(
        StatusCode::NOT_FOUND,
        &format!("No content found with id: ContentId{{id={id}}}"),
    )
}

async fn list_attachments(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    if let Some(r) = s.gate(
        &headers,
        format!("GET /wiki/rest/api/content/{id}/child/attachment?{q}"),
    ) {
        return r;
    }
    let pairs = super::query_pairs(&q);
    let arg = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let start: usize = arg("start").and_then(|v| v.parse().ok()).unwrap_or(0);
    let limit: usize = arg("limit").and_then(|v| v.parse().ok()).unwrap_or(50);
    let filename = arg("filename");
    let data = s.data.lock().unwrap();
    if !data.pages.iter().any(|p| p.id == id) {
        return no_content(&id);
    }
    let base = s.base();
    let results: Vec<Value> = data
        .attachments
        .iter()
        .filter(|a| a.page_id == id && filename.as_ref().is_none_or(|f| *f == a.title))
        .skip(start)
        .take(limit)
        .map(|a| show_attachment(&base, a))
        .collect();
    Json(
        json!({"results": results, "start": start, "limit": limit, "size": results.len(),
        "_links": {"base": base, "context": "/wiki",
                   "self": format!("{base}/rest/api/content/{id}/child/attachment")}}),
    )
    .into_response()
}

async fn create_attachment(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (name, media_type, bytes) = match s.upload(
        &headers,
        format!("POST /wiki/rest/api/content/{id}/child/attachment"),
        &body,
    ) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let mut data = s.data.lock().unwrap();
    if !data.pages.iter().any(|p| p.id == id) {
        return no_content(&id);
    }
    if data
        .attachments
        .iter()
        .any(|a| a.page_id == id && a.title == name)
    {
        return v1_error(
            StatusCode::BAD_REQUEST,
            &format!(
                "Cannot add a new attachment with same file name as an existing attachment: {name}"
            ),
        );
    }
    let a = Attachment {
        id: format!("att{}", 720897 + data.attachments.len()),
        page_id: id,
        title: name,
        media_type,
        data: bytes,
        version: 1,
    };
    data.attachments.push(a.clone());
    let base = s.base();
    Json(
        json!({"results": [show_attachment(&base, &a)], "start": 0, "limit": 1, "size": 1,
        "_links": {"base": base, "context": "/wiki"}}),
    )
    .into_response()
}

async fn update_attachment_data(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Path((id, attachment)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (name, media_type, bytes) = match s.upload(
        &headers,
        format!("POST /wiki/rest/api/content/{id}/child/attachment/{attachment}/data"),
        &body,
    ) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let mut data = s.data.lock().unwrap();
    let Some(a) = data
        .attachments
        .iter_mut()
        .find(|a| a.page_id == id && a.id == attachment)
    else {
        return no_content(&attachment);
    };
    a.title = name;
    a.media_type = media_type;
    a.data = bytes;
    a.version += 1;
    let shown = a.clone();
    Json(show_attachment(&s.base(), &shown)).into_response()
}

impl Confluence {
    /// Starts an emulator.
    pub async fn start() -> Self {
        let inner = Arc::new(Inner {
            url: Mutex::new(String::new()),
            data: Mutex::new(Data::default()),
            page_size: AtomicUsize::new(250),
            conflicts: AtomicUsize::new(0),
            faults: super::Faults::default(),
        });
        let app = Router::new()
            .route("/wiki/rest/api/user/current", get(current_user))
            .route("/wiki/api/v2/spaces/{id}", get(space))
            .route("/wiki/api/v2/pages", get(list_pages).post(create_page))
            .route("/wiki/api/v2/pages/{id}", get(get_page).put(update_page))
            .route(
                "/wiki/rest/api/content/{id}/restriction/byOperation/{operation}/user",
                axum::routing::put(restriction_user).delete(restriction_user),
            )
            .route(
                "/wiki/rest/api/content/{id}/restriction/byOperation/{operation}",
                get(restriction),
            )
            .route(
                "/wiki/rest/api/content/{id}/child/attachment",
                get(list_attachments).post(create_attachment),
            )
            .route(
                "/wiki/rest/api/content/{id}/child/attachment/{attachment}/data",
                axum::routing::post(update_attachment_data),
            )
            .with_state(inner.clone());
        let server = super::Server::start(app).await;
        *inner.url.lock().unwrap() = server.url.clone();
        Self {
            url: server.url.clone(),
            inner,
            _server: server,
        }
    }

    /// Adds a page (a template, or a parent) as a person made it; its id.
    pub fn add_page(&self, title: &str, body: &str) -> String {
        let mut data = self.inner.data.lock().unwrap();
        let id = (65868 + data.pages.len() * 3).to_string();
        data.pages.push(Page {
            id: id.clone(),
            title: title.into(),
            parent_id: None,
            body: body.into(),
            version: 1,
            author: PERSON_ID.into(),
            update_restricted_to: vec![],
        });
        id
    }

    /// A person edits page `id`: a new version by them.
    pub fn edit_as_person(&self, id: &str, body: &str) {
        let mut data = self.inner.data.lock().unwrap();
        let p = data.pages.iter_mut().find(|p| p.id == id).unwrap();
        p.body = body.into();
        p.version += 1;
        p.author = PERSON_ID.into();
    }

    /// The next `n` updates find the page saved once more just before them (409 if they
    /// carried the version they read).
    pub fn conflict_next(&self, n: usize) {
        self.inner.conflicts.store(n, Ordering::SeqCst);
    }

    /// The largest page of results it answers with.
    pub fn page_size(&self, n: usize) {
        self.inner.page_size.store(n, Ordering::SeqCst);
    }

    /// 429s on demand.
    pub fn faults(&self) -> &super::Faults {
        &self.inner.faults
    }

    /// The pages.
    pub fn pages(&self) -> Vec<Page> {
        self.inner.data.lock().unwrap().pages.clone()
    }

    /// The page with this title.
    pub fn page_titled(&self, prefix: &str) -> Option<Page> {
        self.pages()
            .into_iter()
            .find(|p| p.title.starts_with(prefix))
    }

    /// The attachments of every page.
    pub fn attachments(&self) -> Vec<Attachment> {
        self.inner.data.lock().unwrap().attachments.clone()
    }

    /// Every request, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.inner.data.lock().unwrap().log.clone()
    }
}

/// The emulator against the documentation's own samples.
mod tests {
    use super::*;

    async fn get_json(c: &Confluence, path: &str) -> Value {
        reqwest::Client::new()
            .get(format!("{}{path}", c.url))
            .basic_auth(EMAIL, Some(API_TOKEN))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn the_emulator_answers_the_docs_create_update_and_list_samples() {
        let c = Confluence::start().await;
        let api = |m: reqwest::Method, path: &str| {
            reqwest::Client::new()
                .request(m, format!("{}{path}", c.url))
                .basic_auth(EMAIL, Some(API_TOKEN))
        };
        // Wrong credentials: 401.
        let r = reqwest::Client::new()
            .get(format!("{}/wiki/rest/api/user/current", c.url))
            .basic_auth(EMAIL, Some("wrong"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let me: Value = get_json(&c, "/wiki/rest/api/user/current").await;
        assert_eq!(me["accountId"], ACCOUNT_ID);
        // The "Create page" reference's sample body.
        let sample = json!({"spaceId": SPACE_ID, "status": "current", "title": "My page",
            "body": {"representation": "storage", "value": "<p>Hello</p>"}});
        let r = api(reqwest::Method::POST, "/wiki/api/v2/pages")
            .json(&sample)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let page: Value = r.json().await.unwrap();
        assert_eq!(page["version"]["number"], 1);
        assert_eq!(page["body"]["storage"]["value"], "<p>Hello</p>");
        let id = page["id"].as_str().unwrap().to_string();
        assert!(page["_links"]["webui"].as_str().unwrap().contains(&id));
        // The same title again: 400 in the v2 error shape.
        let r = api(reqwest::Method::POST, "/wiki/api/v2/pages")
            .json(&sample)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let e: Value = r.json().await.unwrap();
        assert!(e["errors"][0]["title"]
            .as_str()
            .unwrap()
            .contains("already exists"));
        // Update: the version must be the next one.
        let mut update = json!({"id": id, "status": "current", "title": "My page",
            "body": {"representation": "storage", "value": "<p>Bye</p>"},
            "version": {"number": 1, "message": "stale"}});
        let r = api(reqwest::Method::PUT, &format!("/wiki/api/v2/pages/{id}"))
            .json(&update)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["errors"][0]["code"], "CONFLICT");
        update["version"]["number"] = json!(2);
        let r = api(reqwest::Method::PUT, &format!("/wiki/api/v2/pages/{id}"))
            .json(&update)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let read: Value =
            get_json(&c, &format!("/wiki/api/v2/pages/{id}?body-format=storage")).await;
        assert_eq!(read["body"]["storage"]["value"], "<p>Bye</p>");
        assert_eq!(read["version"]["number"], 2);
        // Listing in pages of one, following _links.next.
        c.add_page("Other", "<p/>");
        c.page_size(1);
        let first: Value = get_json(
            &c,
            &format!("/wiki/api/v2/pages?space-id={SPACE_ID}&limit=25"),
        )
        .await;
        assert_eq!(first["results"].as_array().unwrap().len(), 1);
        let next = first["_links"]["next"].as_str().unwrap();
        assert!(next.starts_with("/wiki/api/v2/pages?") && next.contains("cursor="));
        let second: Value = get_json(&c, next).await;
        assert_eq!(second["results"][0]["title"], "Other");
        assert!(second["_links"]["next"].is_null());
        // The update restriction, for one user.
        let path = format!(
            "/wiki/rest/api/content/{id}/restriction/byOperation/update/user?accountId={ACCOUNT_ID}"
        );
        assert_eq!(
            api(reqwest::Method::PUT, &path)
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        let r: Value = get_json(
            &c,
            &format!("/wiki/rest/api/content/{id}/restriction/byOperation/update"),
        )
        .await;
        assert_eq!(
            r["restrictions"]["user"]["results"][0]["accountId"],
            ACCOUNT_ID
        );
        // Attachments: multipart with a `file` part, behind the XSRF header.
        let (form, form_type) =
            dispatch_providers::confluence::attachment_form("a.txt", "text/plain", b"one");
        let attach = |path: &str, xsrf: bool| {
            let mut r = api(reqwest::Method::POST, path)
                .header("content-type", form_type.as_str())
                .body(form.clone());
            if xsrf {
                r = r.header("X-Atlassian-Token", "no-check");
            }
            r.send()
        };
        let attachments = format!("/wiki/rest/api/content/{id}/child/attachment");
        let r = attach(&attachments, false).await.unwrap();
        assert_eq!(r.status(), 403);
        let r = attach(&attachments, true).await.unwrap();
        assert_eq!(r.status(), 200);
        let made: Value = r.json().await.unwrap();
        assert_eq!(made["results"][0]["title"], "a.txt");
        assert_eq!(made["results"][0]["extensions"]["fileSize"], 3);
        let att = made["results"][0]["id"].as_str().unwrap().to_string();
        let r = attach(&attachments, true).await.unwrap();
        assert_eq!(r.status(), 400, "the same name twice");
        let found: Value = get_json(&c, &format!("{attachments}?filename=a.txt")).await;
        assert_eq!(found["results"][0]["id"], att.as_str());
        let none: Value = get_json(&c, &format!("{attachments}?filename=b.txt")).await;
        assert_eq!(none["size"], 0);
        let r = attach(&format!("{attachments}/{att}/data"), true)
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let updated: Value = r.json().await.unwrap();
        assert_eq!(updated["version"]["number"], 2);
        let r = api(reqwest::Method::POST, &attachments)
            .header("X-Atlassian-Token", "no-check")
            .header("content-type", "multipart/form-data; boundary=x")
            .body("--x\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nhi\r\n--x--\r\n")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "no file part");
        assert_eq!(c.attachments()[0].data, b"one");
        // 429 on demand, with Retry-After.
        c.faults().rate_limit_next(1);
        let limited = api(reqwest::Method::GET, "/wiki/rest/api/user/current")
            .send()
            .await
            .unwrap();
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()["retry-after"], "1");
    }
}
